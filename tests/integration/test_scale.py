#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Memory is bounded by configuration, not by cluster size (issue 7): with
100,000 distinct client addresses of a Kubernetes API server and 15,000
cgroups making DNS queries and API requests, the agent's RSS and BPF map
memory stay flat once the configured caps (the defaults) are reached,
and every request, connection and query is still counted: the sums over all
rows, the overflow and "other" rows included, equal the fixture's log and
the clients' own counts. A client that comes after the client table was
full still gets rows of its own once the window has moved on.

About 2-3 minutes. Needs root and the Go fixtures (make deps)."""
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ralib import PLAIN_BUILD, Agent, harness, kubeapi_fixture, require, require_root, tmpdir, value  # noqa: E402
from scale import K8S_PORT, ScaleLoad, measure  # noqa: E402

AGENT_PORT = 19481
WINDOW_LONG_S, WINDOW_S = 600, 2	# k8s_top_window_s: all clients in one window, then short
CLIENTS_MAX = 65536	# user/k8s.c CLIENTS_MAX: clients followed in a window
FLAT_MIB = 4		# RSS growth allowed between two points past every cap
CAP_MIB = 64		# issue 8's target for RSS and for BPF map memory
MISROLED = 2		# requests lost between kernel and user space (see below)
MAX_PEERS = 100		# max_peers default: a process's peers with rows of their own


def show(what, m):
    print(f"{what}: RSS {m['rss']:.1f} MiB (peak {m['hwm']:.1f}; anon {m['anon']:.1f}, file {m['file']:.1f}), BPF maps {m['maps']:.1f} MiB, "
          f"scrape {m['scrape'] * 1000:.0f} ms, /metrics {m['bytes']} B, {m['samples']} samples", flush=True)


def main():
    require_root()
    require("openssl")
    kubeapi = kubeapi_fixture()
    with tmpdir() as d, harness() as (chk, procs, cg):
        load = ScaleLoad(procs, cg, kubeapi, d)
        conf = os.path.join(d, "agent.conf")
        with open(conf, "w") as f:
            f.write(f"k8s_top_window_s = {WINDOW_LONG_S}\n")
        agent = Agent(procs, load.agent_args() + ["-c", conf], AGENT_PORT, os.path.join(d, "agent.log"),
                      cg.base)
        time.sleep(1)
        m = {"start": measure(agent)}
        show("start", m["start"])
        served = 0
        for name, n in (("20k clients", 20000), ("70k clients", 50000), ("100k clients", 30000)):
            t = time.monotonic()
            served += load.clients(n)
            print(f"{n} clients in {time.monotonic() - t:.1f} s", flush=True)
            m[name] = measure(agent)
            show(name, m[name])
        for name, n in (("10k cgroups", 10000), ("15k cgroups", 5000)):
            t = time.monotonic()
            load.cgroups(n)
            print(f"{n} cgroups in {time.monotonic() - t:.1f} s", flush=True)
            m[name] = measure(agent)
            show(name, m[name])

        print("memory, past the caps (flows 16384, k8s clients 65536, k8s rows 4096 a table, DNS flows 4096, "
              "DNS names 8192):")
        last, clients = m["15k cgroups"], m["100k clients"]
        if PLAIN_BUILD:
            for a, b in (("70k clients", "100k clients"), ("10k cgroups", "15k cgroups")):
                for k, what in (("rss", "RSS"), ("hwm", "peak RSS")):
                    chk.true(f"{what} flat from {a} to {b} (within {FLAT_MIB} MiB)",
                             m[b][k] - m[a][k] <= FLAT_MIB, f"{m[a][k]:.1f} -> {m[b][k]:.1f} MiB")
            chk.true(f"peak RSS at 100k clients within {CAP_MIB} MiB", clients["hwm"] <= CAP_MIB,
                     f"{clients['hwm']:.1f} MiB")
        else:
            print("  skip RSS: not the plain build (REQACCT_BIN)")
        chk.true(f"BPF map memory did not change ({m['start']['maps']:.1f} MiB)",
                 all(x["maps"] == m["start"]["maps"] for x in m.values()))
        chk.true(f"BPF map memory within {CAP_MIB} MiB", last["maps"] <= CAP_MIB, f"{last['maps']:.1f} MiB")

        print("every request, connection and query counted (overflow and other rows included):")
        total = served + load.ncgroups
        # Both ends are counted: the server (every request) and the storm
        # client (the same binary, so probed too; the walker, Python, is not).
        # The kernel's totals are exact, and so are those resolved in user
        # space since an exchange found on a reused struct sock is ended
        # with its own flow (bpf/tls.bpf.h http_data(): 2-6 a run,
        # reqacct_http_conns_reused_total); before, it was dropped (9 in
        # 115,000 in one run) or, earlier still, counted on the client's
        # side. MISROLED allows for what a run has not shown yet.
        def sides(name):
            return value(s, name, role="server"), value(s, name, role="client")
        for _ in range(10):	# requests reach user space within RA_RING_POLL_MS (100 ms) and a scrape
            time.sleep(0.5)
            s = measure(agent, 1)["metrics"]
            if sum(sides("reqacct_k8s_requests_total")) >= total + served:
                break
        print(f"  (server, client side: kernel {sides('reqacct_http_requests_total')}, "
              f"k8s {sides('reqacct_k8s_requests_total')}, non-resource "
              f"{sides('reqacct_k8s_nonresource_requests_total')})")
        chk.eq("the fixture's log = the clients' own count", load.served(), total)
        srv, cli = sides("reqacct_http_requests_total")
        chk.eq("kernel: server side = the fixture's log", srv, total)
        chk.eq("kernel: client side = the storm's count", cli, served)
        for name in ("reqacct_k8s_requests_total", "reqacct_k8s_agent_requests_total"):
            srv, cli = sides(name)
            chk.true(f"{name}: server side = the fixture's log (within {MISROLED})",
                     abs(srv - total) <= MISROLED, f"{srv:g} vs {total}")
            chk.true(f"{name}: client side = the storm's count (within {MISROLED})",
                     abs(cli - served) <= MISROLED, f"{cli:g} vs {served}")
        chk.eq("server connections = clients' own count",
               value(s, "reqacct_tcp_connections_total", role="server", port=K8S_PORT), total)
        chk.true("the flow table overflowed (rows with cgroup=\"overflow\")",
                 value(s, "reqacct_tcp_connections_total", role="server", cgroup="overflow") > 0)
        chk.eq("client connections = the clients' own count",
               value(s, "reqacct_tcp_connections_total", role="client", port=K8S_PORT), total)
        chk.eq("DNS queries from the cgroups = the walker's count",
               value(s, "reqacct_dns_queries_total", role="client"), load.ncgroups)
        chk.eq("DNS NXDOMAIN answers = the walker's count",
               value(s, "reqacct_dns_responses_total", role="client", rcode="NXDOMAIN"), load.ncgroups)
        chk.true("the DNS flow table overflowed", value(s, "reqacct_dns_queries_total", role="client",
                                                        cgroup="overflow") > 0)
        rows = [l for n, l, _ in clients["metrics"] if n == "reqacct_tcp_connections_total"
                and l["role"] == "server" and l["comm"] == "kubeapi"]
        chk.eq(f"the server's TCP rows at 100k clients: max_peers ({MAX_PEERS}) and peer=\"other\"",
               len(rows), MAX_PEERS + 1)
        chk.true("/metrics at 100k clients under 1 MB", clients["bytes"] < 2**20, f"{clients['bytes']} B")
        series = {l["table"]: v for n, l, v in s if n == "reqacct_k8s_series"}
        limit = {l["table"]: v for n, l, v in s if n == "reqacct_k8s_series_limit"}
        chk.true(f"k8s series within the budget, each table ({limit})",
                 series and series.keys() == limit.keys() and all(series[t] <= limit[t] for t in series),
                 f"{series}")

        print("a client after the table was full still gets rows once the window moved on:")
        peak = max(value(x["metrics"], "reqacct_k8s_clients", set="seen") for x in m.values())
        chk.eq("clients followed peaked at the cap", peak, CLIENTS_MAX)
        with open(conf, "w") as f:
            f.write(f"k8s_top_window_s = {WINDOW_S}\n")
        agent.p.send_signal(signal.SIGHUP)	# a live key: the window ends within WINDOW_S
        # A window ends at the first request after its end. The first request
        # ends the long window (its clients had cost: the table stays full,
        # the newcomer is not followed); the second forgets every client
        # without cost but the top K, and the newcomer is followed; at the
        # third it ranks first and has rows of its own.
        newcomer = load.nclients
        for i in range(3):
            time.sleep(WINDOW_S + 1)
            load.clients(1, at=None if i == 0 else newcomer)
        time.sleep(1)
        s = measure(agent, 1)["metrics"]
        seen = value(s, "reqacct_k8s_clients", set="seen")
        chk.true("clients followed fell back below the cap", seen < CLIENTS_MAX, f"{seen}")
        addr = load.client_address(newcomer)
        chk.eq(f"the newcomer ({addr}) has a row of its own",
               value(s, "reqacct_k8s_requests_total", role="server", peer=addr), 1)
        print("the agent's own account of what it could not count (nonzero):")
        for n, l, v in s:
            if v and re.search(r"drop|fail|unattributed|no_socket|lost|unresolved|expired|reused", n):
                print(f"  {n}{l} {v:g}")


if __name__ == "__main__":
    main()
