#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Kubernetes API requests over HTTP/2 to a Go server: the kubeapi fixture
(golang.org/x/net/http2, as kube-apiserver) serving a part of the REST API
with 2000 pods, and clients in their own cgroups: a client-go-like client
whose connection was opened before the agent started (it must be attributed
like any other), a kubectl watch started before the agent (a stream whose
request was never seen: counted as unattributed), hey -h2, curl --http2, and
kubectl (get, get -w, apply, delete). Per client, the counts per verb,
resource, scope and code, and the response bytes, equal the server's log
(the client is told by its cgroup in the metrics, by its User-Agent in the
log). The same again with net/http's own HTTP/2 server."""
import glob
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ralib import (Agent, DrivenClient, KubeLog, check_promtool, harness, k8s_expected,  # noqa: E402
                   k8s_info, k8s_rows, kubeapi_fixture, make_cert, require, require_root, tmpdir, value,
                   wait_port)

PORT, AGENT_PORT = 18470, 19500
KUBECTLS = sorted(glob.glob("/usr/lib/google-cloud-sdk/bin/kubectl.1.*"),
                  key=lambda p: int(p.rsplit(".", 1)[1]))
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm1, namespace: default}\ndata: {a: \"1\"}\n"
KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "%s", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: not-read}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""
# What the long-lived client sends once the agent runs: a controller's mix.
EARLY = [("GET", "/api/v1/pods", None),
         ("GET", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", None),
         ("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
          '{"metadata":{"name":"node-1"},"spec":{}}'),
         ("PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1", '{"spec":{"a":1}}'),
         ("PATCH", "/api/v1/nodes/node-1", '{"spec":{}}'),
         ("GET", "/api/v1/namespaces/ns-3/configmaps/missing", None),
         ("DELETE", "/api/v1/namespaces/ns-4/pods", None),
         ("GET", "/api/v1/namespaces/ns-5/pods?watch=true&timeoutSeconds=1", None),
         ("GET", "/readyz", None)]


def from_log(entries, product):
    """The expected rows of the client whose user agent is product."""
    return k8s_expected([(m, code, size, uri) for ua, m, code, size, uri in entries if ua.split("/")[0] == product])


def kubectl_version(s, k):
    """The version in the user agent kubectl k sends, as the agent saw it."""
    for name, l, _ in s:
        if name == "reqacct_k8s_requests_total" and l.get("user_agent", "").startswith(os.path.basename(k) + "/"):
            return l["user_agent"].split("/", 1)[1]
    return "?"


def run(chk, procs, cg, kubeapi, d, copy):
    print(f"-- HTTP/2 server of {copy}")
    key, crt = make_cert(d)
    url = f"https://127.0.0.1:{PORT}"
    srv = os.path.join(d, "apisrv")
    shutil.copy(kubeapi, srv)
    logp = os.path.join(d, f"srv-{copy.replace('/', '_')}.log")
    server = procs.start([srv, f"127.0.0.1:{PORT}", crt, key, logp, "2000"] +
                         (["bundled"] if copy == "net/http" else []), cg.path("srv"))
    wait_port(PORT)
    log = KubeLog(logp)
    kc = os.path.join(d, "kubeconfig")
    with open(kc, "w") as f:
        f.write(KUBECONFIG % url)
    with open(os.path.join(d, "cm.yaml"), "w") as f:
        f.write(CM)
    env = dict(os.environ, KUBECONFIG=kc, HOME=d)
    kw = dict(env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    # Before the agent: a long-lived connection, and a watch in progress.
    early = DrivenClient(procs, srv, url, "kube-controller-manager/v1.30.1 (linux/amd64) kubernetes/abcdef",
                         cg.path("early"))
    chk.eq("early client: a request before the agent", early.send("GET", "/api/v1/nodes")[0], 200)
    watcher = None
    if len(KUBECTLS) >= 2:
        watcher = procs.start([KUBECTLS[-2], "get", "leases", "-n", "kube-node-lease", "-w", "-o", "name"],
                              cg.path("watcher"), **kw)
        log.entries(want=3)	# its discovery and list are done; the watch goes on
        time.sleep(1)
    log.mark()
    agent = Agent(procs, ["--port", str(PORT), "--k8s-port", str(PORT)], AGENT_PORT,
                  os.path.join(d, "agent.log"), cg.base)
    clients = {"kube-controller-manager": "early", "hey": "hey", "curl": "curl"}
    for method, path, body in EARLY:
        chk.true(f"early client: {method} {path[:50]} answered", early.send(method, path, body)[0] < 500)
    early.close()
    for n, c, method, target, data in [(30, 3, "GET", "/api/v1/namespaces/ns-1/pods", None),
                                       (10, 1, "PUT", "/api/v1/namespaces/default/configmaps/c1", '{"data":{}}')]:
        p = procs.run(["hey", "-h2", "-n", str(n), "-c", str(c), "-m", method] + (["-d", data] if data else []) +
                      [url + target], cg.path("hey"), stdout=subprocess.DEVNULL)
        chk.true(f"hey -h2 {method} {target}", p.returncode == 0)
    for method, target in [("GET", "/healthz"), ("GET", "/api/v1/nodes/node-1"), ("PATCH", "/api/v1/nodes/node-2"),
                           ("GET", "/api/v1/namespaces/ns-2/pods/pod-2"), ("GET", "/version")]:
        procs.run(["curl", "-sSk", "--http2", "-X", method, "-o", "/dev/null"] +
                  (["-d", "{}"] if method == "PATCH" else []) + [url + target], cg.path("curl"))
    if KUBECTLS:
        k = KUBECTLS[-1]
        clients[os.path.basename(k)] = "kubectl"
        for args in (["get", "pods", "-A", "-o", "name"], ["apply", "--validate=false", "-f", "cm.yaml"],
                     ["apply", "--validate=false", "-f", "cm.yaml"], ["delete", "-f", "cm.yaml"]):
            p = procs.run([k] + args, cg.path("kubectl"), **dict(kw, env=dict(env, PWD=d)), cwd=d)
            chk.true(f"kubectl {' '.join(args)}", p.returncode == 0)
        # a second agent forgets streams open longer than 1 s
        short = Agent(procs, ["--port", str(PORT), "--k8s-port", str(PORT), "--h2-stream-max-age-s", "1"],
                      AGENT_PORT + 1, os.path.join(d, "agent-short.log"), cg.base)
        w = procs.start([k, "get", "configmaps", "-n", "default", "-w", "-o", "name"], cg.path("kubectl"), **kw)
        time.sleep(2.5)
        ws = agent.samples()
        chk.eq("kubectl get -w: one watch open now, on configmaps",
               value(ws, "reqacct_k8s_watches", client_cgroup=cg.label("kubectl"), resource="configmaps",
                     scope="namespace", user_agent=os.path.basename(k) + "/" + kubectl_version(ws, k)), 1)
        chk.eq("no other watch seen open (the one older than the agent is not known)",
               value(ws, "reqacct_k8s_watches"), 1)
        procs.stop(w)	# the watch stream is reset
        time.sleep(0.5)
        ss = short.samples()
        chk.eq("--h2-stream-max-age-s 1: the watch open 2 s was forgotten",
               value(ss, "reqacct_h2_streams_expired_total"), 1)
        chk.eq("--h2-stream-max-age-s 1: its close counted as unattributed",
               value(ss, "reqacct_h2_streams_unattributed_total"), 1)
        procs.stop(short.p)
    if watcher:
        procs.stop(watcher)	# the watch that started before the agent ends
    time.sleep(1)
    entries = log.entries()
    s = agent.samples()
    for product, c in clients.items():
        want = from_log(entries, product)
        got = k8s_rows(s, role="server", client_cgroup=cg.label(c))
        chk.true(f"{c}: requests per verb, resource and code, and response bytes, equal the log "
                 f"({sum(v[0] for v in want.values())} requests, {sum(v[1] for v in want.values())} bytes)",
                 want and got == want, f"\n    log:     {sorted(want.items())}\n    metrics: {sorted(got.items())}")
        uas = {l["user_agent"] for n, l, _ in s if n == "reqacct_k8s_requests_total" and
               l.get("client_cgroup") == cg.label(c)}
        chk.true(f"{c}: user agent {sorted(uas)}", len(uas) == 1 and uas.pop().split("/")[0] == product)
    counted = [e for e in entries if e[0].split("/")[0] in clients]
    chk.eq("every logged request is counted in the HTTP families",
           value(s, "reqacct_http_requests_total", role="server", comm="apisrv"), len(counted))
    chk.eq("a duration for every resource request",
           value(s, "reqacct_k8s_request_duration_seconds_count", role="server"),
           sum(1 for e in counted if len(k8s_info(e[1], e[4])) > 2))
    chk.eq("the per-user-agent rows sum to the same",
           value(s, "reqacct_k8s_agent_requests_total", role="server") +
           value(s, "reqacct_k8s_agent_nonresource_requests_total", role="server"), len(counted))
    chk.eq("the watch that started before the agent: unattributed",
           value(s, "reqacct_h2_streams_unattributed_total"), 1 if watcher else 0)
    chk.eq("no stream left open", value(s, "reqacct_map_entries", map="ra_h2_streams"), 0)
    chk.eq("no watch open", value(s, "reqacct_k8s_watches"), 0)
    chk.eq("no socket missed", value(s, "reqacct_h2_no_socket_total"), 0)
    check_promtool(chk, agent.text())
    procs.stop(server)
    time.sleep(0.5)
    s = agent.samples()
    # the socket cache (ra_go_socks) forgets a connection when it starts to
    # close, before Go can reuse its *tls.Conn's memory for another
    for m in ("ra_go_socks", "ra_go_conns"):
        chk.eq(f"the server stopped: {m} is empty", value(s, "reqacct_map_entries", map=m), 0)
    procs.stop(agent.p)


def main():
    require_root()
    require("hey", "curl", "promtool")
    kubeapi = kubeapi_fixture()
    with harness("srv", "early", "watcher", "hey", "curl", "kubectl") as (chk, procs, cg):
        for copy in ("golang.org/x/net/http2", "net/http"):
            with tmpdir() as d:
                run(chk, procs, cg, kubeapi, d, copy)


if __name__ == "__main__":
    main()
