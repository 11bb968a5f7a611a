#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The addresses of this node's network namespaces (pods), node-local:
two test namespaces, one with an IPv4 and an IPv6 address, one with an IPv4
address only, each with a process in its own test cgroup. The agent (with
--netns-scan-s 1) exports each address with the cgroup of the process in
its namespace (reqacct_netns_address_info); loopback is never exported;
a namespace that goes away leaves the next scan."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dnsfix import Netns  # noqa: E402
from ralib import Agent, harness, require, require_root, tmpdir  # noqa: E402

AGENT_PORT = 19550
PODS = {"a": ["10.123.0.5/32", "fd00:123::5/128"], "b": ["10.123.0.6/32"]}


def addresses(agent):
    return {(l["address"], l["cgroup"]) for n, l, v in agent.samples() if n == "reqacct_netns_address_info"}


def main():
    require_root()
    require("ip")
    with harness(*PODS) as (chk, procs, cg), tmpdir() as d:
        nss = {p: Netns(name=f"reqacct-pod-{p}-{os.getpid()}").create() for p in PODS}
        try:
            sleepers = {}
            for p, addrs in PODS.items():
                for a in addrs:
                    subprocess.run(nss[p].argv(["ip", "addr", "add", a, "dev", "lo"]), check=True)
                sleepers[p] = procs.start(nss[p].argv(["sleep", "60"]), cg.path(p))
            agent = Agent(procs, ["--netns-scan-s", "1"], AGENT_PORT, os.path.join(d, "agent.log"), cg.base)
            time.sleep(2.5)
            got = addresses(agent)
            want = {(a.split("/")[0], cg.label(p))
                    for p, addrs in PODS.items() for a in addrs}
            chk.true(f"each namespace's addresses with its process's cgroup: {sorted(want)}", want <= got,
                     f"got {sorted(got)}")
            chk.true("no loopback address", not any(a.startswith("127.") or a == "::1" for a, _ in got))
            procs.stop(sleepers["b"])
            nss["b"].remove()
            time.sleep(2.5)
            got = addresses(agent)
            chk.true("a namespace gone leaves the next scan",
                     ("10.123.0.6", cg.label("b")) not in got and ("10.123.0.5", cg.label("a")) in got, str(got))
        finally:
            procs.stop_all()
            for ns in nss.values():
                ns.remove()


if __name__ == "__main__":
    main()
