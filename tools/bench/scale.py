#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What reqacct costs as a cluster grows: agent RSS (now and peak), BPF map
memory (the memlock of its maps), the time of a scrape and the size of
/metrics, after 1,000, 10,000 and 100,000 distinct client addresses of a
Kubernetes API server (the kubeapi fixture; one HTTPS connection and request
each, from its storm mode) and then 10,000 cgroups each with a DNS query and
an HTTPS request (tests/integration/scale.py, shared with test_scale.py).
One agent with the default caps, and, for comparison, one with the peer
budget off (--max-peers as large as the flow table). The counts are
cumulative: each row adds to the one above.

  tools/bench/scale.py [--clients 1000,10000,100000] [--cgroups 10000] [--no-compare]

Not a test: numbers go to BENCHMARKS.md ("Scale"). Needs root, Go 1.19 and
golang-golang-x-net-dev (the fixture). About 3 minutes per agent."""
import argparse
import gzip
import os
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from ralib import Agent, Cgroups, Procs, http_get, kubeapi_fixture, require_root, tmpdir  # noqa: E402
from scale import ScaleLoad, measure  # noqa: E402

AGENT_PORT = 19482
NO_BUDGET = 1 << 22	# --max-peers at config.c's MAX_FLOWS_LIMIT: every peer its own rows


def gzipped(agent):
    """Bytes of /metrics as Prometheus fetches it (Accept-Encoding: gzip)."""
    _, headers, body = http_get(f"http://127.0.0.1:{agent.port}/metrics", {"Accept-Encoding": "gzip"})
    return len(body) if headers.get("Content-Encoding") == "gzip" else len(gzip.compress(body))


def steps(label, load, agent, clients, cgroups):
    """The load, step by step, with a measurement after each: table rows."""
    rows = []
    todo = [(f"{n:,} clients", n, 0) for n in clients]
    todo += [(f"+ {cgroups:,} cgroups", 0, cgroups)] if cgroups else []
    for what, upto, ng in [("start", 0, 0)] + todo:
        nc = max(upto - load.nclients, 0)
        t = time.monotonic()
        if nc:
            load.clients(nc)
        if ng:
            load.cgroups(ng)
        took = time.monotonic() - t
        rows.append((label, what, measure(agent), gzipped(agent), nc + ng, took))
        print(f"  {label}, {what}: done", file=sys.stderr, flush=True)
    return rows


def run(label, extra, clients, cgroups):
    procs, cg = Procs(), Cgroups()
    try:
        with tmpdir() as d:
            load = ScaleLoad(procs, cg, kubeapi_fixture(), d)
            agent = Agent(procs, load.agent_args() + extra, AGENT_PORT, os.path.join(d, "agent.log"),
                          cg.base)
            time.sleep(1)
            return steps(label, load, agent, clients, cgroups)
    finally:
        procs.stop_all()
        cg.remove()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", default="1000,10000,100000")
    ap.add_argument("--cgroups", type=int, default=10000)
    ap.add_argument("--no-compare", action="store_true", help="only the default peer budget")
    ap.add_argument("--pairs", type=int, help=argparse.SUPPRESS)	# tools/bench/run passes it to all
    args = ap.parse_args()
    require_root()
    clients = [int(x) for x in args.clients.split(",")]
    rows = run("default caps", [], clients, args.cgroups)
    if not args.no_compare:
        rows += run("no peer budget", ["--max-peers", str(NO_BUDGET)], clients, args.cgroups)
    print("\n## Scale: memory, scrape time and /metrics size (tools/bench/scale.py)\n")
    print("| agent | after | RSS MiB | peak RSS MiB | BPF maps MiB | scrape ms | /metrics KB | gzip KB | samples | load/s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, what, m, gz, n, took in rows:
        rate = f"{n / took:.0f}" if n else ""
        print(f"| {label} | {what} | {m['rss']:.1f} | {m['hwm']:.1f} | {m['maps']:.1f} | {m['scrape'] * 1000:.0f} "
              f"| {m['bytes'] / 1000:.0f} | {gz / 1000:.0f} | {m['samples']} | {rate} |")


if __name__ == "__main__":
    main()
