#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What the Go crypto/tls probes cost a Go HTTPS server: hey against the
stripped Go 1.19 fixture server (tests/fixtures/gotls `serve`, HTTP/1.1 over
TLS, 1 KiB responses) on loopback, with and without the agent (--tls on), in
interleaved pairs, fixed request counts. Two workloads: only the server is
probed (--tls-comm gosrv), and everything is, hey (also Go) included, as on a
node where every Go program is probed. Prints the median requests/s ratio,
the median ratio of the server's CPU per request (utime+stime), and BPF
hits per request and run time per hit (one more run with
kernel.bpf_stats_enabled). The uprobe trap itself (about 1 us a hit on the
emulated jbe, PLATFORM.md) is not in the BPF run time.

  tools/bench/gotls_overhead.py [--pairs N] [--requests N]

Not a test: numbers go to BENCHMARKS.md. Needs root and Go 1.19 (to build
the fixture)."""
import argparse
import os
import shutil
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ralib import Cgroups, Procs, gotls_fixture, make_cert, require, require_root, tmpdir, wait_port  # noqa: E402
from benchlib import AgentRunner, compare, hey, print_table  # noqa: E402

PORT = 18092
WORKLOADS = [  # name, agent arguments
    ("Go TLS server probed, keep-alive, 1 KiB", ["--tls-comm", "gosrv"]),
    ("Go TLS server and hey (Go) probed, keep-alive, 1 KiB", []),
]


URL = f"https://127.0.0.1:{PORT}/bytes/1024"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=7)
    ap.add_argument("--requests", type=int, default=20000)
    args = ap.parse_args()
    require_root()
    require("hey", "bpftool", "openssl")
    static = gotls_fixture()
    procs, cg = Procs(), Cgroups("srv")
    rows = []
    try:
        with tmpdir() as d:
            key, crt = make_cert(d)
            gosrv = os.path.join(d, "gosrv")
            shutil.copy(static, gosrv)
            srv = procs.start([gosrv, "serve", f"127.0.0.1:{PORT}", crt, key, "-"], cg.path("srv"))
            wait_port(PORT)
            for name, extra in WORKLOADS:
                runner = AgentRunner(procs, ["--port", str(PORT), "--tls", "go"] + extra, cg.base,
                                     os.path.join(d, "agent.log"))
                hey(2000, URL, ["-c", "8"])	# warm-up
                work = lambda: hey(args.requests, URL, ["-c", "8"])  # noqa: E731
                rows.append((name, *compare(runner, args.pairs, work, args.requests, srv.pid)))
    finally:
        procs.stop_all()
        cg.remove()
    print_table(f"Go 1.19 HTTPS server (GOMAXPROCS 2) under hey -c 8, {args.requests} requests x "
                f"{args.pairs} pairs, interleaved", "req", "server", rows)


if __name__ == "__main__":
    main()
