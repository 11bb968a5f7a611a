#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What one uprobe hit costs on this kernel, by the probed instruction.

A tight loop calls a small function 200,000 times, with no probe and with a
uprobe (a tracefs uprobe event, no BPF program) on one of its instructions:
an emulated one (nop, jbe: where reqacct probes Go functions; push %rbp)
and one executed out of line with a single-step trap (cmp: the first
instruction of a Go function, where tools usually probe). The cost of a hit
is the difference per call. PLATFORM.md's table (0.75-0.9 us emulated,
14-16 us single-stepped) was read on an earlier kernel; reqacct's overhead
on Go servers is about these costs times the hits per request. As root.
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile

CALLS = 200000
ROUNDS = 5
TRACEFS = "/sys/kernel/tracing"
ENABLE = os.path.join(TRACEFS, "events/reqacct_cost/hit/enable")

SRC = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
__attribute__((noinline, naked)) void f_nop(void) { __asm__("nop\n ret\n"); }
__attribute__((noinline, naked)) void f_jbe(void) { __asm__("cmp %rsp, %rsp\n jbe 1f\n1: ret\n"); }
__attribute__((noinline, naked)) void f_push(void) { __asm__("push %rbp\n pop %rbp\n ret\n"); }
__attribute__((noinline, naked)) void f_cmp(void) { __asm__("cmp %rsp, %rsp\n nop\n ret\n"); }
int main(int argc, char **argv)
{
	void (*fs[])(void) = { f_nop, f_jbe, f_push, f_cmp };
	void (*f)(void) = fs[atoi(argv[1])];
	int n = atoi(argv[2]);
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < n; i++)
		f();
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
	return 0;
}
"""
# (function, index in fs[], byte offset of the probed instruction, what it is)
PROBES = [("f_nop", 0, 0, "nop (emulated)"), ("f_jbe", 1, 3, "jbe (emulated; reqacct's Go probes)"),
          ("f_push", 2, 0, "push %rbp (emulated)"), ("f_cmp", 3, 0, "cmp (single-stepped; a Go entry)")]


def tracefs_add(line):
    """A line appended to uprobe_events (O_APPEND without truncating: other
    events stay; Python's "a" mode seeks, which tracefs refuses)."""
    fd = os.open(os.path.join(TRACEFS, "uprobe_events"), os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def run(exe, idx):
    return float(subprocess.run([exe, str(idx), str(CALLS)], capture_output=True, text=True,
                                check=True).stdout)


def main():
    if os.geteuid():
        sys.exit("uprobe_cost: needs root (tracefs uprobe events)")
    if not os.path.exists(os.path.join(TRACEFS, "uprobe_events")):
        subprocess.run(["mount", "-t", "tracefs", "tracefs", TRACEFS], check=True)
    with tempfile.TemporaryDirectory(prefix="uprobe-cost-") as d:
        exe = os.path.join(d, "loop")
        subprocess.run(["gcc", "-O2", "-x", "c", "-o", exe, "-"], input=SRC, text=True, check=True)
        syms = dict((m.group(2), int(m.group(1), 16)) for m in
                    re.finditer(r"^([0-9a-f]+) T (f_\w+)$", subprocess.run(
                        ["nm", exe], capture_output=True, text=True, check=True).stdout, re.M))
        print(f"uprobe cost per hit, {os.uname().release}, {CALLS} calls, median of {ROUNDS} rounds\n")
        print("| probed instruction | ns/call without | ns/call with | cost per hit (us) |")
        print("|---|---|---|---|")
        for fn, idx, off, what in PROBES:
            base, probed = [], []
            for _ in range(ROUNDS):	# interleaved: without, with
                base.append(run(exe, idx))
                tracefs_add(f"p:reqacct_cost/hit {exe}:0x{syms[fn] + off:x}")
                try:
                    with open(ENABLE, "w") as f:
                        f.write("1")
                    probed.append(run(exe, idx))
                finally:
                    with open(ENABLE, "w") as f:
                        f.write("0")
                    tracefs_add("-:reqacct_cost/hit")
            b, p = statistics.median(base), statistics.median(probed)
            print(f"| {what} | {b:.1f} | {p:.1f} | {(p - b) / 1000:.2f} |")


if __name__ == "__main__":
    main()
