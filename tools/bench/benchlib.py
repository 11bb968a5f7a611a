# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The method every reqacct benchmark shares (BENCHMARKS.md, "Method"): fixed
work per run, runs with and without the agent in interleaved pairs (off, on,
on, off, ...), the median ratio and its range, the traced server's own CPU per
unit of work, and one more run with kernel.bpf_stats_enabled for BPF program
hits and run time per hit (off in the measured runs: it slows every program)."""
import json
import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "integration"))
from ralib import Agent  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
AGENT_PORT = 19470


def cpu_seconds(pid):
    """utime + stime of a process (proc(5) fields 14 and 15), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def bpf_stats():
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, check=True).stdout
    return {p["name"]: (p.get("run_time_ns", 0), p.get("run_cnt", 0))
            for p in json.loads(out) if p.get("name", "").startswith("ra_")}


class AgentRunner:
    """Starts and stops the agent with fixed arguments, its cgroup programs
    attached to the benchmark's own cgroup."""

    def __init__(self, procs, args, cgroup, log):
        self.procs, self.args, self.cgroup, self.log = procs, args, cgroup, log

    def start(self):
        return Agent(self.procs, self.args, AGENT_PORT, self.log, self.cgroup)

    def stop(self, agent):
        self.procs.stop(agent.p)
        agent.log.close()


def compare(runner, pairs, work, units, server_pid):
    """Interleaved runs of work() -> rate (units per second), with and without
    the agent. Returns (rate off, rate on, ratio median, min, max, server CPU
    per unit ratio median, BPF hits per unit, BPF ns per hit)."""
    rate = {False: [], True: []}
    cpu = {False: [], True: []}
    for i in range(2 * pairs):
        on = (i % 4) in (1, 2)	# off, on, on, off, off, on, ...
        agent = runner.start() if on else None
        t0 = cpu_seconds(server_pid)
        rate[on].append(work())
        cpu[on].append((cpu_seconds(server_pid) - t0) / units)
        if on:
            runner.stop(agent)
    agent = runner.start()
    subprocess.run(["sysctl", "-qw", "kernel.bpf_stats_enabled=1"], check=True)
    try:
        before = bpf_stats()
        work()
        after = bpf_stats()
    finally:
        subprocess.run(["sysctl", "-qw", "kernel.bpf_stats_enabled=0"])
        runner.stop(agent)
    ns = sum(t - before.get(p, (0, 0))[0] for p, (t, _) in after.items())
    hits = sum(c - before.get(p, (0, 0))[1] for p, (_, c) in after.items())
    r = [on / off for on, off in zip(rate[True], rate[False])]
    c = [on / off for on, off in zip(cpu[True], cpu[False]) if off > 0]
    return (statistics.median(rate[False]), statistics.median(rate[True]), statistics.median(r),
            min(r), max(r), statistics.median(c) if c else float("nan"), hits / units,
            ns / hits if hits else 0)


def hey(n, url, flags):
    """hey's requests/s for n requests to url, all of which must get a 200."""
    out = subprocess.run(["hey", "-n", str(n), *flags, url], capture_output=True, text=True,
                         timeout=600).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    ok = re.search(r"\[200\]\s+(\d+) responses", out)
    if not m or not ok or int(ok.group(1)) != n:
        raise RuntimeError("hey did not get all 200s:\n" + out)
    return float(m.group(1))


def print_table(title, unit, server, rows):
    """rows: [(workload, *compare())]."""
    print(f"\n{title}\n")
    print(f"| workload | {unit}/s off | {unit}/s on | ratio (median) | ratio range | "
          f"{server} CPU/{unit} ratio | BPF hits/{unit} | BPF ns/hit |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print("| {} | {:.0f} | {:.0f} | {:.3f} | {:.3f}-{:.3f} | {:.3f} | {:.1f} | {:.0f} |".format(*row))
