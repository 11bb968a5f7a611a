#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What the HTTP/2 and Go crypto/tls probes cost a Go apiserver-like server:
hey -h2 (8 workers, one connection) against the kubeapi fixture
(tests/fixtures/kubeapi: HTTPS, HTTP/2 through golang.org/x/net/http2, as
kube-apiserver; 1000 pods in memory) on loopback, with and without the
agent, in interleaved pairs, fixed request counts. Only the server is probed
(--tls go --tls-comm h2benchsrv; hey, also Go, is not), and its port is a
Kubernetes API port (--k8s-port), so every request goes through the four
HTTP/2 server probes (processHeaders, writeHeaders, writeDataFromHandler,
closeStream: ra_h2_*) and the crypto/tls ones (ra_go_read, ra_go_write),
and is sent to the agent (ring buffer) to be resolved; --no-k8s leaves the
port out of the Kubernetes ports (requests counted per flow only). Two
workloads: a small GET (one node) and a namespace's pod list (100 pods,
~31 KB). Prints the median requests/s ratio, the median ratio of the
server's CPU per request (utime+stime), BPF hits per request and run time
per hit, and, from the same kernel.bpf_stats_enabled run, hits per request
and run time per hit of each ra_h2_* and ra_go_* program. The uprobe trap
itself (about 1 us a hit on an emulated instruction, PLATFORM.md) is not in
the BPF run time. Each run waits until no other reqacct agent (a test's:
it would probe this server too, and mix its programs' stats with ours) has
run for 15 s; the runs one ran during are counted at the end.

  tools/bench/h2_overhead.py [--pairs N] [--requests N] [--list-requests N] [--no-k8s]
                             [--wait S]

Not a test: numbers go to BENCHMARKS.md. Needs root, Go 1.19 and
golang-golang-x-net-dev (to build the fixture)."""
import argparse
import os
import shutil
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ralib import Cgroups, Procs, kubeapi_fixture, make_cert, require, require_root, tmpdir, wait_port  # noqa: E402
import benchlib  # noqa: E402
from benchlib import AgentRunner, Alone, compare, hey, print_table  # noqa: E402

PORT = 18093
COMM = "h2benchsrv"	# not the tests' apisrv: --tls-comm probes only this one
PODS = 1000	# 100 in each of ns-0 ... ns-9
URL = f"https://127.0.0.1:{PORT}"
WORKLOADS = [  # name, path, requests option
    ("small GET (a node, 147 B)", "/api/v1/nodes/node-1", "requests"),
    ("list, 100 pods (31 KB)", "/api/v1/namespaces/ns-1/pods", "list_requests"),
]
PROGRAMS = ("ra_h2_", "ra_go_")


class ProgramStats:
    """benchlib.bpf_stats, wrapped to keep what it returns: compare() calls it
    before and after its one kernel.bpf_stats_enabled run, so the last two
    snapshots give that run's hits and run time per program."""

    def __init__(self):
        self.inner, self.snaps = benchlib.bpf_stats, []
        benchlib.bpf_stats = self

    def __call__(self):
        self.snaps.append(self.inner())
        return self.snaps[-1]

    def last_run(self, units):
        """{program: (hits per unit, ns per hit)} of the last compare()."""
        before, after = self.snaps[-2:]
        out = {}
        for p, (t, c) in sorted(after.items()):
            t0, c0 = before.get(p, (0, 0))
            if p.startswith(PROGRAMS):
                out[p] = ((c - c0) / units, (t - t0) / (c - c0) if c > c0 else 0)
        return out


def print_programs(title, rows):
    """rows: [(workload, {program: (hits/req, ns/hit)})]."""
    print(f"\n{title}\n")
    print("| workload | program | hits/req | ns/hit | ns/req |")
    print("|---|---|---|---|---|")
    for name, progs in rows:
        for p, (hits, ns) in progs.items():
            print(f"| {name} | {p} | {hits:.2f} | {ns:.0f} | {hits * ns:.0f} |")
        print(f"| {name} | all ra_h2_*, ra_go_* | {sum(h for h, _ in progs.values()):.2f} | | "
              f"{sum(h * n for h, n in progs.values()):.0f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=7)
    ap.add_argument("--requests", type=int, default=20000, help="small GETs per run")
    ap.add_argument("--list-requests", type=int, default=2000, help="pod lists per run")
    ap.add_argument("--no-k8s", action="store_true", help="the port is not a Kubernetes API port")
    ap.add_argument("--wait", type=int, default=600, help="longest wait for other agents to end, s (default 600)")
    args = ap.parse_args()
    require_root()
    require("hey", "bpftool", "openssl")
    kubeapi = kubeapi_fixture()
    stats_was = subprocess.run(["sysctl", "-n", "kernel.bpf_stats_enabled"], capture_output=True,
                               text=True, check=True).stdout.strip()
    progstats = ProgramStats()
    procs, cg = Procs(), Cgroups("srv")
    alone = Alone(procs, args.wait)
    rows, prog_rows = [], []
    try:
        with tmpdir() as d:
            key, crt = make_cert(d)
            srv_bin = os.path.join(d, COMM)
            shutil.copy(kubeapi, srv_bin)
            with open(os.path.join(d, "srv.err"), "w") as err:	# hey's extra TLS dials, logged
                srv = procs.start([srv_bin, f"127.0.0.1:{PORT}", crt, key, os.devnull, str(PODS)],
                                  cg.path("srv"), stderr=err)
            wait_port(PORT)
            k8s = [] if args.no_k8s else ["--k8s-port", str(PORT)]
            runner = AgentRunner(procs, ["--port", str(PORT), *k8s, "--tls", "go", "--tls-comm", COMM],
                                 cg.base, os.path.join(d, "agent.log"))
            for name, path, opt in WORKLOADS:
                n = getattr(args, opt)
                hey(n // 10, URL + path, ["-h2", "-c", "8"])	# warm-up
                work = lambda: alone.run(lambda: hey(n, URL + path, ["-h2", "-c", "8"]))  # noqa: E731
                rows.append((name, *compare(runner, args.pairs, work, n, srv.pid)))
                prog_rows.append((name, progstats.last_run(n)))
    finally:
        procs.stop_all()
        cg.remove()
        subprocess.run(["sysctl", "-qw", f"kernel.bpf_stats_enabled={stats_was}"])
    print_table(f"Go kubeapi fixture (x/net/http2, GOMAXPROCS 2) under hey -h2 -c 8, {args.requests} small "
                f"GETs or {args.list_requests} lists x {args.pairs} pairs, interleaved"
                f"{', port not a Kubernetes port' if args.no_k8s else ''}", "req", "server", rows)
    print_programs("HTTP/2 and Go TLS programs, per request (bpf_stats run)", prog_rows)
    if alone.spoilt:
        print(f"\n{alone.spoilt} run(s) overlapped another reqacct agent: run again")


if __name__ == "__main__":
    main()
