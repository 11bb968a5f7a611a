#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The incident, replayed: "kubelets" (test cgroups, each one HTTP/2
connection of its own, kubelet's User-Agent) renew their leases ten times a
second while "DaemonSet pods" (more test cgroups and connections, with an
agent's User-Agent) list every pod of the cluster (2 MB responses) four
times a second,
against the kubeapi fixture (golang.org/x/net/http2). The agent keeps rows
for only the 4 costliest clients (by server time, over 2 s windows).

Checked against the server's log: the per-user-agent rows name the culprit
(user agent, verb, resource) with its share of the response bytes within 1%
of the log's; the costliest client rows are DaemonSet pods listing pods; the
clients that lost the ranking count as peer="other" and every row together
sums to the log's requests and bytes exactly."""
import collections
import os
import shutil
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ralib import (Agent, DrivenClient, KubeLog, harness, kubeapi_fixture, make_cert,  # noqa: E402
                   require_root, tmpdir, value, wait_port)

PORT, AGENT_PORT = 18480, 19510
KUBELETS, DAEMONS, TOP, WINDOW_S = 6, 4, 4, 2
CULPRIT = "node-agent/v2.3.1"


def client(chk, c, what, stop, requests):
    """Send requests() (a list of (method, path, body)) until stop is set."""
    ok = True
    while ok and not stop.is_set():
        for method, path, body in requests():
            ok = ok and c.send(method, path, body)[0] in (200, 201, 404)
        time.sleep(0.1 if what.startswith("kubelet") else 0.25)
    chk.true(f"{what}: every request answered", ok)


def kubelet(node):
    lease = f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{node}"
    return lambda: [("PUT", lease, '{"spec":{"renewTime":"%f"}}' % time.time()),
                    ("GET", f"/api/v1/nodes/{node}", None)]


def run(procs, chk, clients, stop):
    threads = [threading.Thread(target=client, args=(chk, c, what, stop, reqs)) for what, c, reqs in clients]
    for t in threads:
        t.start()
    return threads


def main():
    require_root()
    kubeapi = kubeapi_fixture()
    with harness("srv", *[f"kubelet-{i}" for i in range(KUBELETS)], *[f"ds-{i}" for i in range(DAEMONS)]) as (chk, procs, cg):
        with tmpdir() as d:
            key, crt = make_cert(d)
            url = f"https://127.0.0.1:{PORT}"
            srv = os.path.join(d, "apisrv")
            shutil.copy(kubeapi, srv)
            logp = os.path.join(d, "srv.log")
            procs.start([srv, f"127.0.0.1:{PORT}", crt, key, logp, "6000"], cg.path("srv"))
            wait_port(PORT)
            log = KubeLog(logp)
            log.mark()
            agent = Agent(procs, ["--port", str(PORT), "--k8s-port", str(PORT), "--k8s-top-clients", str(TOP),
                                  "--k8s-top-window-s", str(WINDOW_S)], AGENT_PORT,
                          os.path.join(d, "agent.log"), cg.base)
            stop_kubelets, stop_ds = threading.Event(), threading.Event()
            kubelets = [(f"kubelet node-{i}", DrivenClient(procs, srv, url, "kubelet/v1.30.1 (linux/amd64) "
                                                           "kubernetes/abcdef", cg.path(f"kubelet-{i}")),
                         kubelet(f"node-{i}")) for i in range(KUBELETS)]
            threads = run(procs, chk, kubelets, stop_kubelets)
            time.sleep(WINDOW_S + 0.5)	# the kubelets fill the top K first
            ds = [(f"ds-{i}", DrivenClient(procs, srv, url, f"{CULPRIT} (linux/amd64)", cg.path(f"ds-{i}")),
                   lambda: [("GET", "/api/v1/pods", None)]) for i in range(DAEMONS)]
            threads += run(procs, chk, ds, stop_ds)
            time.sleep(3 * WINDOW_S)
            stop_ds.set()
            stop_kubelets.set()
            for t in threads:
                t.join()
            for _, c, _ in kubelets + ds:
                c.close()
            time.sleep(0.5)
            entries = log.entries()
            s = agent.samples()

            by_agent = collections.Counter()
            for ua, method, code, size, uri in entries:
                by_agent[(ua, method, uri.split("?")[0])] += size
            total = sum(e[3] for e in entries)
            culprit_log = sum(e[3] for e in entries if e[0] == CULPRIT and e[1] == "GET" and e[4] == "/api/v1/pods")
            agent_total = value(s, "reqacct_k8s_agent_response_bytes_total", role="server")
            culprit = value(s, "reqacct_k8s_agent_response_bytes_total", role="server", user_agent=CULPRIT,
                            verb="list", resource="pods", scope="cluster")
            print(f"  log: {len(entries)} requests, {total} bytes, culprit share {culprit_log / total:.4f}")
            chk.true(f"the culprit's share of response bytes ({culprit / max(agent_total, 1):.4f}) is the log's "
                     f"({culprit_log / total:.4f}) within 1%", abs(culprit / agent_total - culprit_log / total) < 0.01)
            rows = sorted(((v, l) for n, l, v in s if n == "reqacct_k8s_agent_response_bytes_total"),
                          key=lambda x: -x[0])
            chk.true("the costliest user agent, verb and resource: the culprit listing pods",
                     rows and (rows[0][1]["user_agent"], rows[0][1]["verb"], rows[0][1]["resource"]) ==
                     (CULPRIT, "list", "pods"), str(rows[:2]))
            chk.eq("per user agent: every request", value(s, "reqacct_k8s_agent_requests_total", role="server"),
                   len(entries))
            chk.eq("per user agent: every byte", agent_total, total)
            chk.eq("per client: every request, with the clients outside the top K",
                   value(s, "reqacct_k8s_requests_total", role="server"), len(entries))
            chk.eq("per client: every byte", value(s, "reqacct_k8s_response_bytes_total", role="server"), total)
            chk.true("clients outside the top K count as peer=\"other\"",
                     value(s, "reqacct_k8s_requests_total", role="server", peer="other") > 0)
            chk.eq("clients ranked: the top K", value(s, "reqacct_k8s_clients", set="top"), TOP)
            chk.eq("clients seen", value(s, "reqacct_k8s_clients", set="seen"), KUBELETS + DAEMONS)
            clients = collections.Counter()
            for n, l, v in s:
                if n == "reqacct_k8s_response_bytes_total" and l.get("peer") != "other":
                    clients[l["client_cgroup"].rsplit("/", 1)[-1]] += v
            top = [c for c, _ in clients.most_common(2)]
            chk.true(f"the costliest clients with rows of their own are DaemonSet pods ({top})",
                     len(top) == 2 and all(c.startswith("ds-") for c in top), str(clients.most_common()))
            if chk.failed:
                print("\n".join(l for l in agent.text().splitlines() if l.startswith("reqacct_k8s_re") and "_bucket" not in l))


if __name__ == "__main__":
    main()
