#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Kubernetes API requests by verb and resource, HTTP/1.1 over TLS: the Go
fixture server (tests/fixtures/gotls `serve`, standing in for an apiserver
on a k8s port, logging every request's method, status and target) and
clients in their own cgroups: hey (Go) as an informer (lists, watches) and a
controller (lease updates, deletecollection, creates), curl (OpenSSL) for
health checks, discovery, a log subresource, an exec (CONNECT) and a status
patch, and a kubectl build where present. For every request the server
logged, the expected verb, group, version, resource, subresource and scope
(or the non-resource path class) come from a table written from the
apiserver's rules; the server side must match the log exactly, with codes;
each client's must match per verb and resource, a Go client's code being
the log's or "unknown" (at most one per connection)."""
import collections
import glob
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ralib import (Agent, check_promtool, gotls_fixture, harness, make_cert, require,  # noqa: E402
                   require_root, tmpdir, value, wait_port)

PORT, AGENT_PORT = 18460, 19490
KUBECTL = (sorted(glob.glob("/usr/lib/google-cloud-sdk/bin/kubectl.1.*")) or [None])[-1]

# (method, target) -> (verb, group, version, resource, subresource, scope) or
# (verb, path) for non-resource requests
EXPECT = {
    ("GET", "/api/v1/namespaces/default/pods?limit=500"): ("list", "", "v1", "pods", "", "namespace"),
    ("GET", "/api/v1/pods?allowWatchBookmarks=true&watch=true"): ("watch", "", "v1", "pods", "", "cluster"),
    ("PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1"):
        ("update", "coordination.k8s.io", "v1", "leases", "", "namespace"),
    ("DELETE", "/apis/apps/v1/namespaces/test/deployments?code=404"):
        ("deletecollection", "apps", "v1", "deployments", "", "namespace"),
    ("POST", "/api/v1/namespaces/default/configmaps?code=201"):
        ("create", "", "v1", "configmaps", "", "namespace"),
    ("GET", "/healthz"): ("get", "/healthz"),
    ("GET", "/readyz/etcd"): ("get", "/readyz/..."),
    ("GET", "/apis/apps/v1"): ("get", "/apis/{group}/{version}"),
    ("GET", "/api/v1/namespaces/kube-system/pods/p1/log?container=c"):
        ("get", "", "v1", "pods", "log", "namespace"),
    ("POST", "/api/v1/namespaces/default/pods/p1/exec?command=sh&code=400"):
        ("connect", "", "v1", "pods", "exec", "namespace"),
    ("PATCH", "/api/v1/nodes/n1/status"): ("patch", "", "v1", "nodes", "status", "cluster"),
    ("GET", "/api/v1/nodes?limit=5"): ("list", "", "v1", "nodes", "", "cluster"),
}
LABELS = ("verb", "group", "version", "resource", "subresource", "scope")


def read_log(path, pos, want, conns):
    """Requests [(method, code, target)] and the bytes the server wrote on
    its connections, logged after byte pos, once want requests and conns
    connections are."""
    end = time.time() + 10
    while True:
        with open(path) as f:
            f.seek(pos)
            lines = [l.split() for l in f.read().splitlines()]
        reqs = [(w[0], w[1], w[2]) for w in lines if w and w[0] != "CONN"]
        closed = [int(w[3]) for w in lines if w and w[0] == "CONN"]
        if (len(reqs) >= want and len(closed) >= conns) or time.time() > end:
            return reqs, sum(closed)
        time.sleep(0.1)


def expected(reqs):
    """{(labels..., code): n} for resource and non-resource requests."""
    res, nonres = collections.Counter(), collections.Counter()
    for method, code, target in reqs:
        e = EXPECT[(method, target)]
        if len(e) == 2:
            nonres[(*e, code)] += 1
        else:
            res[(*e, code)] += 1
    return res, nonres


def check_side(chk, s, what, lab, res, nonres, client_conns=None):
    """Server side (client_conns None): exact with codes. Client side: exact
    per labels, codes the log's or "unknown" (at most one per connection)."""
    total_unknown = 0
    by_labels = collections.Counter()
    for key, n in res.items():
        by_labels[key[:-1]] += n
    for labels, n in sorted(by_labels.items()):
        l = dict(lab, **dict(zip(LABELS, labels)))
        got = value(s, "reqacct_k8s_requests_total", **l)
        chk.eq(f"{what}: {' '.join(x for x in labels if x)}", got, n)
        if client_conns is None:
            for key, m in res.items():
                if key[:-1] == labels:
                    chk.eq(f"{what}: ... code {key[-1]}", value(s, "reqacct_k8s_requests_total",
                                                                 code=key[-1], **l), m)
        else:
            total_unknown += value(s, "reqacct_k8s_requests_total", code="unknown", **l)
    for (verb, path, code), n in sorted(nonres.items()):
        chk.eq(f"{what}: non-resource {verb} {path} {code}",
               value(s, "reqacct_k8s_nonresource_requests_total", verb=verb, path=path, code=code, **lab), n)
    chk.eq(f"{what}: no other resource requests", value(s, "reqacct_k8s_requests_total", **lab),
           sum(res.values()))
    if client_conns is not None:
        chk.true(f"{what}: codes not seen ({total_unknown:g}) at most one per connection ({client_conns})",
                 total_unknown <= client_conns)


def main():
    require_root()
    require("hey", "curl", "openssl", "promtool")
    static = gotls_fixture()
    with harness("srv", "informer", "ctrl", "curl", "kubectl") as (chk, procs, cg):
        with tmpdir() as d:
            key, crt = make_cert(d)
            url = f"https://127.0.0.1:{PORT}"
            apisrv = os.path.join(d, "apisrv")
            shutil.copy(static, apisrv)
            log = os.path.join(d, "srv.log")
            procs.start([apisrv, "serve", f"127.0.0.1:{PORT}", crt, key, log], cg.path("srv"))
            wait_port(PORT)
            agent = Agent(procs, ["--port", str(PORT), "--k8s-port", str(PORT), "--tls", "go,openssl"],
                          AGENT_PORT, os.path.join(d, "agent.log"), cg.base)
            # hey's file is probed once it runs; a first run makes sure it is
            procs.run(["hey", "-n", "1", "-c", "1", url + "/healthz"], cg.path("srv"), stdout=subprocess.DEVNULL)
            time.sleep(0.5)
            server_reqs, server_written = read_log(log, 0, 1, 1)
            pos = os.path.getsize(log)

            def hey(c, n, conc, method, target, data=None):
                args = ["hey", "-n", str(n), "-c", str(conc), "-m", method] + (["-d", data] if data else [])
                p = procs.run(args + [url + target], cg.path(c), stdout=subprocess.DEVNULL)
                chk.true(f"hey {method} {target[:40]} ran", p.returncode == 0)
                return conc

            clients = {}
            runs = [("informer", [(40, 2, "GET", "/api/v1/namespaces/default/pods?limit=500", None),
                                  (10, 1, "GET", "/api/v1/pods?allowWatchBookmarks=true&watch=true", None)]),
                    ("ctrl", [(30, 1, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1",
                               '{"spec":{}}'),
                              (12, 2, "DELETE", "/apis/apps/v1/namespaces/test/deployments?code=404", None),
                              (9, 3, "POST", "/api/v1/namespaces/default/configmaps?code=201", '{"data":{}}')])]
            for c, steps in runs:
                conns = sum(hey(c, *step) for step in steps)
                reqs, written = read_log(log, pos, sum(step[0] for step in steps), conns)
                pos = os.path.getsize(log)
                clients[c] = (reqs, conns, "hey", written)
            curl_targets = [("GET", "/healthz"), ("GET", "/readyz/etcd"), ("GET", "/apis/apps/v1"),
                            ("GET", "/api/v1/namespaces/kube-system/pods/p1/log?container=c"),
                            ("POST", "/api/v1/namespaces/default/pods/p1/exec?command=sh&code=400"),
                            ("PATCH", "/api/v1/nodes/n1/status")]
            for method, target in curl_targets:
                procs.run(["curl", "-sSk", "--http1.1", "-X", method, "-o", "/dev/null", url + target],
                          cg.path("curl"))
            reqs, written = read_log(log, pos, len(curl_targets), len(curl_targets))
            clients["curl"] = (reqs, None, "curl", written)
            pos = os.path.getsize(log)
            if KUBECTL:
                for _ in range(2):
                    procs.run([KUBECTL, "--server", url, "--insecure-skip-tls-verify", "--token=not-read",
                               "get", "--raw", "/api/v1/nodes?limit=5"], cg.path("kubectl"),
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
                reqs, written = read_log(log, pos, 2, 2)
                clients["kubectl"] = (reqs, 2, os.path.basename(KUBECTL)[:15], written)
            time.sleep(0.5)
            s = agent.samples()
            for c, (reqs, conns, comm, written) in clients.items():
                chk.eq(f"{c}: the server logged its requests", len(reqs) > 0, True)
                res, nonres = expected(reqs)
                lab = dict(role="client", cgroup=cg.label(c), comm=comm)
                check_side(chk, s, c, lab, res, nonres, conns if conns is not None else 0)
                if comm == "curl":	# OpenSSL: the response size a client read is known
                    chk.true(f"{c}: response bytes <= what the server wrote",
                             0 < value(s, "reqacct_k8s_response_bytes_total", **lab) <= written)
                server_reqs += reqs
                server_written += written
            res, nonres = expected(server_reqs)
            srv = dict(role="server", cgroup=cg.label("srv"), comm="apisrv")
            check_side(chk, s, "server", srv, res, nonres)
            nonres_bytes = value(s, "reqacct_http_response_bytes_total", **srv) - \
                value(s, "reqacct_k8s_response_bytes_total", **srv)
            chk.true("server: response bytes of resource requests + non-resource ones = what it wrote",
                     value(s, "reqacct_http_response_bytes_total", **srv) == server_written and
                     0 < nonres_bytes < server_written, f"({server_written} written)")
            chk.eq("server: a duration for every resource request",
                   value(s, "reqacct_k8s_request_duration_seconds_count", **srv), sum(res.values()))
            chk.eq("every target resolved", value(s, "reqacct_k8s_unresolved_requests_total"), 0)
            chk.eq("no request event lost", value(s, "reqacct_map_update_failures_total",
                                                  map="ra_http_events"), 0)
            check_promtool(chk, agent.text())
            if chk.failed:
                print("\n".join(l for l in agent.text().splitlines() if l.startswith("reqacct_k8s")))


if __name__ == "__main__":
    main()
