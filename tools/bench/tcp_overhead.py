#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What the TCP accounting costs nginx: hey against nginx on loopback, with
and without the agent, in interleaved pairs (off-on, on-off, ...), fixed
request counts. Prints, per workload, the median requests/s ratio, the median
ratio of nginx's CPU per request (utime+stime of its worker, /proc/PID/stat),
and, from one more run with kernel.bpf_stats_enabled (which itself slows every
program, so it is off in the measured runs), BPF hits per request and the
run time per hit.

  tools/bench/run [--pairs N] [--requests N]

Not a test: numbers go to BENCHMARKS.md. Needs root."""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "integration"))
from ralib import Agent, Cgroups, Procs, require, require_root, start_nginx, tmpdir, www_files  # noqa: E402

PORT, AGENT_PORT = 18090, 19470
WORKLOADS = [  # name, hey flags
    ("keep-alive, 1 KiB", ["-c", "8"]),
    ("new connection per request, 1 KiB", ["-c", "8", "-disable-keepalive"]),
]
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])	# utime, stime (proc(5) fields 14, 15)


def workers(master):
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def hey(n, flags):
    out = subprocess.run(["hey", "-n", str(n), *flags, f"http://127.0.0.1:{PORT}/small"],
                         capture_output=True, text=True, timeout=600).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    ok = re.search(r"\[200\]\s+(\d+) responses", out)
    if not m or not ok or int(ok.group(1)) != n:
        raise RuntimeError("hey did not get all 200s:\n" + out)
    return float(m.group(1))


def bpf_stats():
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, check=True).stdout
    return {p["name"]: (p.get("run_time_ns", 0), p.get("run_cnt", 0))
            for p in json.loads(out) if p.get("name", "").startswith("ra_")}


def bpf_cost(procs, cg, d, n, flags):
    """BPF program hits and run time over n requests, with bpf_stats on."""
    agent = Agent(procs, ["--port", str(PORT)], AGENT_PORT, os.path.join(d, "agent.log"), cg.base)
    subprocess.run(["sysctl", "-qw", "kernel.bpf_stats_enabled=1"], check=True)
    try:
        before = bpf_stats()
        hey(n, flags)
        after = bpf_stats()
    finally:
        subprocess.run(["sysctl", "-qw", "kernel.bpf_stats_enabled=0"])
        procs.stop(agent.p)
        agent.log.close()
    ns = sum(t - before.get(p, (0, 0))[0] for p, (t, _) in after.items())
    hits = sum(c - before.get(p, (0, 0))[1] for p, (_, c) in after.items())
    return hits, ns


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
            www_files(d, small=1024)
            nginx = start_nginx(procs, d, PORT, cg.path("srv"), keepalive=65)
            worker = workers(nginx.pid)[0]
            for name, flags in WORKLOADS:
                rps = {False: [], True: []}
                cpu = {False: [], True: []}
                hey(2000, flags)	# warm-up
                for i in range(2 * args.pairs):
                    on = (i % 4) in (1, 2)	# off, on, on, off, off, on, ...
                    agent = None
                    if on:
                        agent = Agent(procs, ["--port", str(PORT)], AGENT_PORT, os.path.join(d, "agent.log"), cg.base)
                    t0 = cpu_ticks(worker)
                    rps[on].append(hey(args.requests, flags))
                    cpu[on].append((cpu_ticks(worker) - t0) / CLK_TCK / args.requests)
                    if on:
                        procs.stop(agent.p)
                        agent.log.close()
                hits, ns = bpf_cost(procs, cg, d, args.requests, flags)
                r = [on / off for on, off in zip(rps[True], rps[False])]
                c = [on / off for on, off in zip(cpu[True], cpu[False]) if off > 0]
                rows.append((name, statistics.median(rps[False]), statistics.median(rps[True]),
                             statistics.median(r), min(r), max(r),
                             statistics.median(c) if c else float("nan"),
                             hits / args.requests, ns / hits if hits else 0))
    finally:
        procs.stop_all()
        cg.remove()
    print(f"\nnginx (1 worker) under hey, {args.requests} requests x {args.pairs} pairs, interleaved\n")
    print("| workload | req/s off | req/s on | ratio (median) | ratio range | nginx CPU/req ratio | BPF hits/req | BPF ns/hit |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print("| {} | {:.0f} | {:.0f} | {:.3f} | {:.3f}-{:.3f} | {:.3f} | {:.1f} | {:.0f} |".format(*row))


if __name__ == "__main__":
    main()
