#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What the TCP accounting and the OpenSSL probes cost nginx: hey against
nginx (plain and TLS) on loopback, with and without the agent, in interleaved pairs (off-on, on-off, ...), fixed
request counts. Prints, per workload, the median requests/s ratio, the median
ratio of nginx's CPU per request (utime+stime of its worker, /proc/PID/stat),
and, from one more run with kernel.bpf_stats_enabled (which itself slows every
program, so it is off in the measured runs), BPF hits per request and the
run time per hit.

  tools/bench/run [--pairs N] [--requests N]

Not a test: numbers go to BENCHMARKS.md. Needs root."""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ralib import Cgroups, Procs, require, require_root, start_nginx, tmpdir, www_files  # noqa: E402
from benchlib import AgentRunner, compare, hey, print_table  # noqa: E402

PORT, TLS_PORT = 18090, 18091
WORKLOADS = [  # name, port, hey flags
    ("keep-alive, 1 KiB", PORT, ["-c", "8"]),
    ("new connection per request, 1 KiB", PORT, ["-c", "8", "-disable-keepalive"]),
    ("TLS (OpenSSL probes), keep-alive, 1 KiB", TLS_PORT, ["-c", "8"]),
]


def workers(master):
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def url(port):
    return f"{'https' if port == TLS_PORT else 'http'}://127.0.0.1:{port}/small"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=7)
    ap.add_argument("--requests", type=int, default=20000)
    args = ap.parse_args()
    require_root()
    require("nginx", "hey", "bpftool")
    procs, cg = Procs(), Cgroups("srv")
    rows = []
    try:
        with tmpdir() as d:
            worker = {}
            for port in (PORT, TLS_PORT):
                sub = os.path.join(d, str(port))
                www_files(sub, small=1024)
                nginx = start_nginx(procs, sub, port, cg.path("srv"), tls=port == TLS_PORT, keepalive=65)
                worker[port] = workers(nginx.pid)[0]
            runner = AgentRunner(procs, ["--port", str(PORT), "--port", str(TLS_PORT), "--tls", "openssl"], cg.base,
                                 os.path.join(d, "agent.log"))
            for name, port, flags in WORKLOADS:
                hey(2000, url(port), flags)	# warm-up
                work = lambda: hey(args.requests, url(port), flags)  # noqa: E731
                rows.append((name, *compare(runner, args.pairs, work, args.requests, worker[port])))
    finally:
        procs.stop_all()
        cg.remove()
    print_table(f"nginx (1 worker) under hey, {args.requests} requests x {args.pairs} pairs, "
                "interleaved", "req", "nginx", rows)


if __name__ == "__main__":
    main()
