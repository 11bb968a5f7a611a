#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What the DNS accounting costs a DNS server: dnsperf against unbound
(authoritative, one thread) at its maximum rate, in a network namespace of
its own, with and without the agent, in interleaved pairs, fixed query
counts. Prints the median queries/s ratio, unbound's CPU per query ratio, and
BPF hits per query and run time per hit (benchlib.py has the method).

  tools/bench/run [--pairs N] [--queries N]

Not a test: numbers go to BENCHMARKS.md. Needs root."""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ralib import Cgroups, Procs, require, require_root, tmpdir  # noqa: E402
from dnsfix import Netns, run_dnsperf, start_unbound, write_queryfile  # noqa: E402
from benchlib import AgentRunner, compare, print_table  # noqa: E402

ZONE = {"www.a.test": "10.0.0.1", "api.test": "10.0.0.2"}
NOERROR = [("www.a.test", "A"), ("api.test", "A")]
MIXED = [("www.a.test", "A"), ("www.a.test", "AAAA"), ("nx.test", "A")]
# name, query file, the cgroup the agent's programs attach to: only the
# server's (a DNS server host: the clients are elsewhere) or both.
WORKLOADS = [
    ("NOERROR (A), server traced", NOERROR, "srv"),
    ("A, AAAA, NXDOMAIN, server traced", MIXED, "srv"),
    ("A, AAAA, NXDOMAIN, client and server traced", MIXED, None),
]
MAX_RATE = 10000000	# dnsperf -Q: far above what unbound does here


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=7)
    ap.add_argument("--queries", type=int, default=100000)
    args = ap.parse_args()
    require_root()
    require("unbound", "dnsperf", "bpftool", "ip")
    procs, cg, ns = Procs(), Cgroups("srv", "cli"), Netns()
    rows = []
    try:
        with tmpdir() as d:
            ns.create()
            unbound = start_unbound(procs, d, ns, cg.path("srv"), ZONE, log=False)
            for name, entries, scope in WORKLOADS:
                runner = AgentRunner(procs, [], cg.path(scope) if scope else cg.base,
                                     os.path.join(d, "agent.log"))
                qfile = write_queryfile(os.path.join(d, "queries"), entries)

                def work():
                    r = run_dnsperf(procs, ns, cg.path("cli"), "127.0.0.1", qfile, args.queries, MAX_RATE)
                    if r["queries_completed"] != args.queries:
                        raise RuntimeError(f"dnsperf lost queries: {r['output']}")
                    return float(re.search(r"Queries per second:\s+([\d.]+)", r["output"]).group(1))
                work()	# warm-up
                rows.append((name, *compare(runner, args.pairs, work, args.queries, unbound.pid)))
    finally:
        procs.stop_all()
        ns.remove()
        cg.remove()
    print_table(f"unbound (1 thread) under dnsperf, {args.queries} queries x {args.pairs} pairs, "
                "interleaved", "query", "unbound", rows)


if __name__ == "__main__":
    main()
