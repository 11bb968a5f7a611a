#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""How long reqacct takes to start, and to find and probe a large stripped Go
program that starts while it runs: kubectl (Debian's google-cloud-sdk copy,
about 57 MB, stripped). Each run starts a fresh agent (--tls go; its
uprobes go with it), times it from launch to serving /metrics, then starts
`kubectl proxy` (which runs until stopped and connects nowhere until asked)
and reads from the agent's debug log how long after kubectl's exec the agent
looked at it and how long probing it took (user/tls.c on_exec); exec to
probed is their sum. Also `reqacct inspect kubectl`: time and peak RSS.
Prints medians and maxima over the runs.

  tools/bench/startup.py [--runs N] [--binary PATH]

Not a test: numbers go to BENCHMARKS.md ("Start-up"). Needs root."""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from ralib import REQACCT, Cgroups, Procs, require_root, tmpdir, wait_port  # noqa: E402
from scale import status_kib  # noqa: E402

AGENT_PORT = 19483
LOOKED = re.compile(r"pid (\d+): looked at ([\d.]+) ms after its exec, for ([\d.]+) ms")


def one(procs, cg, d, binary, i):
    log = os.path.join(d, f"agent{i}.log")
    t = time.monotonic()
    with open(log, "w") as f:
        agent = procs.start([REQACCT, "agent", "-v", "--listen", f"127.0.0.1:{AGENT_PORT}", "--cgroup", cg.base,
                             "--tls", "go", "--port", "18612"], stdout=f, stderr=subprocess.STDOUT)
    wait_port(AGENT_PORT, timeout=60)
    start = time.monotonic() - t
    k = procs.start([binary, "proxy", "--port", "0", "--server", "https://127.0.0.1:18612",
                     "--insecure-skip-tls-verify"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    found, end = None, time.time() + 10
    while not found and time.time() < end:
        time.sleep(0.1)
        with open(log) as f:
            found = next((m for m in LOOKED.finditer(f.read()) if int(m.group(1)) == k.pid), None)
    with open(log) as f:
        probed = f"probing Go crypto/tls in {os.path.realpath(binary)}" in f.read()
    hwm = status_kib(agent.pid, "VmHWM") / 1024
    procs.stop(k)
    procs.stop(agent)
    if not found or not probed:
        raise RuntimeError(f"the agent did not log probing {binary} (pid {k.pid}); see {log}")
    after, took = float(found.group(2)), float(found.group(3))
    return start, after, took, hwm


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--binary", default="/usr/bin/kubectl")
    ap.add_argument("--pairs", type=int, help=argparse.SUPPRESS)	# tools/bench/run passes it to all
    args = ap.parse_args()
    require_root()
    size = os.path.getsize(os.path.realpath(args.binary)) / 1e6
    insp = []
    for _ in range(args.runs):
        r = subprocess.run(["/usr/bin/time", "-f", "%e %M", REQACCT, "inspect", args.binary],
                           capture_output=True, text=True)
        s, kb = r.stderr.split()[-2:]
        insp.append((float(s), int(kb) / 1024))
    runs = []
    procs, cg = Procs(), Cgroups()
    try:
        with tmpdir() as d:
            for i in range(args.runs):
                runs.append(one(procs, cg, d, args.binary, i))
    finally:
        procs.stop_all()
        cg.remove()

    def cell(xs, fmt):
        return f"{fmt.format(statistics.median(xs))} ({fmt.format(max(xs))})"
    print(f"\n## Start-up: {args.binary} ({size:.0f} MB), {args.runs} runs, median (max)\n")
    print("| what | value |")
    print("|---|---|")
    print(f"| `reqacct inspect`: time, s | {cell([x[0] for x in insp], '{:.2f}')} |")
    print(f"| `reqacct inspect`: peak RSS, MiB | {cell([x[1] for x in insp], '{:.1f}')} |")
    print(f"| agent: launch to serving /metrics (programs loaded and attached), s | "
          f"{cell([r[0] for r in runs], '{:.2f}')} |")
    print(f"| kubectl exec to the agent looking at it, ms | {cell([r[1] for r in runs], '{:.0f}')} |")
    print(f"| looking at it and probing it (ELF, pclntab, uprobes), ms | {cell([r[2] for r in runs], '{:.0f}')} |")
    print(f"| kubectl exec to probed, ms | {cell([r[1] + r[2] for r in runs], '{:.0f}')} |")
    print(f"| agent peak RSS, MiB | {cell([r[3] for r in runs], '{:.1f}')} |")


if __name__ == "__main__":
    main()
