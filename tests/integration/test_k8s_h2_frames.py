#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Kubernetes requests over HTTP/2 decoded from frames and HPACK, where the
plaintext's size is known: OpenSSL both ways, and what a Go client writes.

1. The kubeapi fixture (Go, golang.org/x/net/http2) with curl --http2
   (OpenSSL) clients, several streams on one connection, and hey -h2 (a Go
   client, whose responses are not seen): on the client side, requests per
   verb, resource and code and the response bytes equal the server's log
   (hey's per verb and resource, with code "unknown").
2. nginx serving HTTP/2 over OpenSSL, files at Kubernetes paths, and curl
   --http2 clients: both sides, server and client, equal nginx's log
   ($status, $body_bytes_sent)."""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ralib import (Agent, KubeLog, harness, k8s_expected, k8s_rows, kubeapi_fixture, make_cert,  # noqa: E402
                   require, require_root, start_nginx, tmpdir, value, wait_port)

PORT, NGINX_PORT, AGENT_PORT = 18490, 18491, 19520


def compare(chk, what, got, want):
    chk.true(f"{what}: {sum(v[0] for v in want.values())} requests, {sum(v[1] for v in want.values())} "
             "bytes, per verb, resource and code, equal the log", want and got == want,
             f"\n    log:     {sorted(want.items())}\n    metrics: {sorted(got.items())}")


def go_server(chk, procs, cg, d):
    print("-- the kubeapi fixture (Go), curl --http2 and hey -h2 clients")
    key, crt = make_cert(d)
    url = f"https://127.0.0.1:{PORT}"
    srv = os.path.join(d, "apisrv")
    shutil.copy(kubeapi_fixture(), srv)
    logp = os.path.join(d, "srv.log")
    procs.start([srv, f"127.0.0.1:{PORT}", crt, key, logp, "500"], cg.path("srv"))
    wait_port(PORT)
    agent = Agent(procs, ["--port", str(PORT), "--k8s-port", str(PORT), "--tls", "on"], AGENT_PORT,
                  os.path.join(d, "agent.log"), cg.base)
    log = KubeLog(logp)
    # hey's file gets probed at its first run; the second is measured
    procs.run(["hey", "-h2", "-n", "1", "-c", "1", url + "/healthz"], cg.path("hey"), stdout=subprocess.DEVNULL)
    log.entries(want=1)
    log.mark()
    urls = [url + p for p in ("/api/v1/pods?limit=500", "/api/v1/namespaces/ns-1/pods/pod-1",
                              "/api/v1/namespaces/ns-1/pods/missing", "/apis/coordination.k8s.io/v1",
                              "/api/v1/nodes?watch=true&timeoutSeconds=1")]
    p = procs.run(["curl", "-sSk", "--http2"] + sum((["-o", "/dev/null", u] for u in urls), []), cg.path("curl"))
    chk.eq("curl --http2, five streams on one connection", p.returncode, 0)
    for method, path, data in [("DELETE", "/api/v1/namespaces/ns-2/pods/pod-2", None),
                               ("POST", "/api/v1/namespaces/default/configmaps", '{"metadata":{"name":"c"}}'),
                               ("PATCH", "/api/v1/nodes/node-3", '{"spec":{}}')]:
        procs.run(["curl", "-sSk", "--http2", "-X", method, "-o", "/dev/null"] + (["-d", data] if data else []) +
                  [url + path], cg.path("curl"))
    p = procs.run(["hey", "-h2", "-n", "20", "-c", "2", url + "/api/v1/namespaces/ns-3/pods"], cg.path("hey"),
                  stdout=subprocess.DEVNULL)
    chk.eq("hey -h2 ran", p.returncode, 0)
    time.sleep(0.5)
    entries = log.entries(want=28)
    s = agent.samples()
    for product, c, comm in [("curl", "curl", "curl"), ("hey", "hey", "hey")]:
        reqs = [(m, code, size, uri) for ua, m, code, size, uri in entries if ua.split("/")[0] == product]
        got = k8s_rows(s, role="client", cgroup=cg.label(c), comm=comm)
        if product == "hey":	# a Go client: what it reads is not seen
            got = {k: v for k, v in got.items() if len(k) > 3}
            compare(chk, "hey -h2 (Go client)", got, k8s_expected(reqs, code="unknown", sizes=False))
        else:
            compare(chk, "curl --http2 (OpenSSL client)", got, k8s_expected(reqs))
    chk.eq("no frames given up", value(s, "reqacct_h2_frame_drops_total"), 0)
    procs.stop(agent.p)


def nginx_server(chk, procs, cg, d):
    print("-- nginx, HTTP/2 over OpenSSL, and curl --http2 clients")
    files = {"api/v1/namespaces/ns-1/pods/pod-1": 3000, "api/v1/nodes/node-1": 40000,
             "apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1": 500}
    for path, size in files.items():
        os.makedirs(os.path.dirname(os.path.join(d, "www", path)), exist_ok=True)
        with open(os.path.join(d, "www", path), "wb") as f:
            f.write(os.urandom(size))
    start_nginx(procs, d, NGINX_PORT, cg.path("nginx"), tls=True, keepalive=60, http2=True)
    agent = Agent(procs, ["--port", str(NGINX_PORT), "--k8s-port", str(NGINX_PORT), "--tls", "openssl"],
                  AGENT_PORT, os.path.join(d, "agent.log"), cg.base)
    url = f"https://127.0.0.1:{NGINX_PORT}/"
    for i in range(3):
        p = procs.run(["curl", "-sSk", "--http2"] + sum((["-o", "/dev/null", url + p] for p in
                                                           list(files) + ["api/v1/namespaces/ns-1/pods/nope"]), []),
                      cg.path("curl"))
        chk.eq(f"curl --http2 run {i + 1}: four streams on one connection", p.returncode, 0)
    time.sleep(0.5)
    with open(os.path.join(d, "requests.log")) as f:
        reqs = [(m, int(st), int(size), uri) for m, st, size, uri, proto, *_ in (l.split(" ") for l in f)
                if proto == "HTTP/2.0"]
    chk.eq("nginx logged the requests over HTTP/2", len(reqs), 12)
    s = agent.samples()
    want = k8s_expected(reqs)
    compare(chk, "nginx (OpenSSL server)", k8s_rows(s, role="server", comm="nginx"), want)
    compare(chk, "curl (OpenSSL client)", k8s_rows(s, role="client", cgroup=cg.label("curl"), comm="curl"), want)
    chk.eq("no frames given up", value(s, "reqacct_h2_frame_drops_total"), 0)
    procs.stop(agent.p)


def main():
    require_root()
    require("hey", "curl", "nginx")
    with harness("srv", "nginx", "curl", "hey") as (chk, procs, cg):
        with tmpdir() as d:
            go_server(chk, procs, cg, d)
        with tmpdir() as d:
            nginx_server(chk, procs, cg, d)


if __name__ == "__main__":
    main()
