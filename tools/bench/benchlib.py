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
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "integration"))
from ralib import Agent  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
AGENT_PORT = 19470
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
NAIVE = os.path.join(ROOT, ".output", "bench-naive")


def cpu_seconds(pid):
    """utime + stime of a process (proc(5) fields 14 and 15), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_seconds_threads(pid):
    """CPU time of a process's live threads, from the scheduler's
    nanosecond counters (/proc/PID/task/*/schedstat): finer than
    cpu_seconds()' 10 ms ticks, for a tracer that uses little."""
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e9


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


def hey_stats(n, url, flags):
    """hey's requests/s and 50th and 99th percentile latencies (s) for n
    requests to url, all of which must get a 200: {"rate", "p50", "p99"}.
    hey sends n // c requests from each of its c workers: n - n % c in all."""
    c = int(flags[flags.index("-c") + 1]) if "-c" in flags else 50	# hey's default
    out = subprocess.run(["hey", "-n", str(n), *flags, url], capture_output=True, text=True,
                         timeout=600).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    ok = re.search(r"\[200\]\s+(\d+) responses", out)
    if not m or not ok or int(ok.group(1)) != n - n % c:
        raise RuntimeError("hey did not get all 200s:\n" + out)
    r = {"rate": float(m.group(1))}
    for q in (50, 99):
        lat = re.search(rf"\b{q}% in ([\d.]+) secs", out)
        r[f"p{q}"] = float(lat.group(1)) if lat else float("nan")
    return r


def hey(n, url, flags):
    """hey's requests/s for n requests to url, all of which must get a 200."""
    return hey_stats(n, url, flags)["rate"]


def print_table(title, unit, server, rows):
    """rows: [(workload, *compare())]."""
    print(f"\n{title}\n")
    print(f"| workload | {unit}/s off | {unit}/s on | ratio (median) | ratio range | "
          f"{server} CPU/{unit} ratio | BPF hits/{unit} | BPF ns/hit |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print("| {} | {:.0f} | {:.0f} | {:.3f} | {:.3f}-{:.3f} | {:.3f} | {:.1f} | {:.0f} |".format(*row))


class Alone:
    """Another reqacct agent (a test run meanwhile) probes every Go program,
    the benchmark's servers and hey included, and its programs have the same
    names as ours in bpf_stats: each run waits until no other agent has run
    for `quiet` s (at most `wait` s), and counts the runs one ran during."""

    def __init__(self, procs, wait, quiet=15):
        self.procs, self.wait, self.quiet, self.spoilt, self.seen = procs, wait, quiet, 0, 0

    def others(self):
        mine = {p.pid for p in self.procs.procs}
        out = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    comm, state = f.read().rsplit(")", 1)
            except OSError:
                continue
            if comm.endswith("(reqacct") and state.split()[0] != "Z" and int(pid) not in mine:
                out.append(int(pid))
        if out:
            self.seen = time.time()
        return out

    def run(self, work):
        """work(), after the quiet time (none with wait 0: the overlap is
        still counted)."""
        end = time.time() + self.wait
        while self.wait and (self.others() or time.time() - self.seen < self.quiet):
            if time.time() > end:
                raise RuntimeError(f"other reqacct agents ran all the last {self.wait} s")
            time.sleep(0.5)
        r = work()
        self.spoilt += bool(self.others())
        return r


class Naive:
    """One run of bench-naive (tools/bench/naive: the usual approach's TLS
    tracer, a model for comparison): .p the process, .counts what it printed
    when stopped (events, bytes, request lines, lost events, ...)."""

    def __init__(self, procs, args, log):
        self.log_path, self.counts = log, {}
        self.log = open(log, "w")
        self.p = procs.start([NAIVE, *args], stdout=self.log, stderr=subprocess.STDOUT)
        end = time.time() + 30
        while not self._read().startswith("attached"):
            if self.p.poll() is not None or time.time() > end:
                raise RuntimeError(f"bench-naive did not start (exit {self.p.poll()}): {self._read()}")
            time.sleep(0.05)

    def _read(self):
        with open(self.log_path) as f:
            return f.read()

    def parse_counts(self):
        last = self._read().strip().splitlines()[-1].split()
        self.counts = {k: int(v) for k, v in zip(last[::2], last[1::2]) if v.isdigit()}


class NaiveRunner:
    """Starts and stops bench-naive with fixed arguments (AgentRunner's
    interface); the counts of the last run stay in .last."""

    def __init__(self, procs, args, log):
        self.procs, self.args, self.log, self.last = procs, args, log, {}

    def start(self):
        return Naive(self.procs, self.args, self.log)

    def stop(self, naive):
        self.procs.stop(naive.p)
        naive.log.close()
        naive.parse_counts()
        self.last = naive.counts


def h2load_stats(n, url, rate, log, clients=8, h1=False):
    """n requests to url at `rate` requests/s in all (h2load --rps, `clients`
    connections, one request at a time each; --h1 for HTTP/1.1), all of which
    must get a 200: {"rate", "p50", "p99"}, latencies in s from h2load's
    per-request log (microseconds; hey prints only 0.1 ms)."""
    if os.path.exists(log):
        os.unlink(log)
    argv = ["h2load", "-n", str(n), "-c", str(clients), "-m", "1", f"--rps={rate / clients:g}",
            f"--log-file={log}", *(["--h1"] if h1 else []), url]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600).stdout
    m = re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out)
    ok = re.search(r"status codes: (\d+) 2xx", out)
    if not m or not ok or int(ok.group(1)) != n:
        raise RuntimeError("h2load did not get all 2xx:\n" + out)
    with open(log) as f:
        lat = sorted(int(line.split()[2]) for line in f if line.split()[1] == "200")
    return {"rate": float(m.group(1)), "p50": lat[len(lat) // 2] / 1e6,
            "p99": lat[min(len(lat) - 1, len(lat) * 99 // 100)] / 1e6}


def order(configs, r):
    """The order of the configurations in round r: each rotation, then each
    reversed (off, A, B; A, B, off; B, off, A; B, A, off; ...), so that no
    configuration always runs first or after the same one."""
    k = len(configs)
    rot = configs[r % k:] + configs[:r % k]
    return rot[::-1] if (r // k) % 2 else rot


def compare_configs(configs, rounds, work, units, server_pid, alone=None):
    """Interleaved runs of work() -> {"rate", and optionally "p50", "p99"}
    in each configuration, `rounds` rounds. configs: [(name, runner)], the
    first the baseline, runner None for no tracer, else start() -> a process
    handle with .p, and stop(handle). Measured per run: the rate, the
    server's CPU (utime+stime) per unit, the tracer's CPU (its threads' run
    time over work() only) per unit and as a share of one core over the run. Returns
    {name: {"rate", "ratio", "ratio_min", "ratio_max", "cpu_ratio",
    "tracer_us", "tracer_core", "p50", "p99", "p50_ratio", "p99_ratio",
    "counts"}}: medians over rounds; ratios against the baseline of the same
    round; "counts" the last tracer run's own counts (bench-naive)."""
    runs = {name: [] for name, _ in configs}
    runner_of = dict(configs)
    for r in range(rounds):
        for name in order([n for n, _ in configs], r):
            runner = runner_of[name]
            handle = runner.start() if runner else None
            try:
                t0, w0 = cpu_seconds(server_pid), time.monotonic()
                a0 = cpu_seconds_threads(handle.p.pid) if handle else 0
                res = dict(alone.run(work) if alone else work())
                wall = time.monotonic() - w0
                res["cpu"] = (cpu_seconds(server_pid) - t0) / units
                if handle:
                    a = cpu_seconds_threads(handle.p.pid) - a0
                    res["tracer_us"], res["tracer_core"] = a / units * 1e6, a / wall
            finally:
                if handle:
                    runner.stop(handle)
            runs[name].append(res)
    base = runs[configs[0][0]]
    out = {}
    med = statistics.median
    for name, runner in configs:
        rs = runs[name]
        ratio = [x["rate"] / b["rate"] for x, b in zip(rs, base)]
        o = {"rate": med(x["rate"] for x in rs), "ratio": med(ratio), "ratio_min": min(ratio),
             "ratio_max": max(ratio),
             "cpu_ratio": med(x["cpu"] / b["cpu"] for x, b in zip(rs, base) if b["cpu"] > 0)
             if any(b["cpu"] > 0 for b in base) else float("nan"),
             "tracer_us": med(x.get("tracer_us", 0) for x in rs),
             "tracer_core": med(x.get("tracer_core", 0) for x in rs),
             "counts": getattr(runner, "last", {}) if runner else {}, "units": units,
             "tracer": runner is not None}
        for q in ("p50", "p99"):
            if q in rs[0]:
                o[q] = med(x[q] for x in rs)
                o[q + "_ratio"] = med(x[q] / b[q] for x, b in zip(rs, base))
        out[name] = o
    return out


def print_configs(title, rows, latency=False):
    """rows: [(workload, {config: compare_configs() result})]: one line per
    workload and configuration; with latency, the p50 and p99 columns."""
    print(f"\n{title}\n")
    lat_h = " p50 ms | p99 ms | p50 ratio | p99 ratio |" if latency else ""
    print(f"| workload | configuration | req/s | req/s ratio (median) | ratio range |{lat_h} "
          "server CPU/req ratio | tracer CPU us/req | tracer % of a core | tracer events/req |")
    print("|---|---|---|---|---|" + ("---|" * 4 if latency else "") + "---|---|---|---|")
    for workload, res in rows:
        for name, o in res.items():
            lat = (f" {o['p50'] * 1e3:.3f} | {o['p99'] * 1e3:.3f} | {o['p50_ratio']:.3f} | "
                   f"{o['p99_ratio']:.3f} |" if latency else "")
            n = o["counts"].get("events")
            ev = "" if n is None else f"{n / o['units']:.2f}" + (
                f" ({o['counts']['lost']} lost)" if o["counts"].get("lost") else "")
            print(f"| {workload} | {name} | {o['rate']:.0f} | {o['ratio']:.3f} | "
                  f"{o['ratio_min']:.3f}-{o['ratio_max']:.3f} |{lat} {o['cpu_ratio']:.3f} | "
                  + (f"{o['tracer_us']:.1f} | {o['tracer_core'] * 100:.1f} |" if o["tracer"] else "- | - |")
                  + f" {ev or '-'} |")
