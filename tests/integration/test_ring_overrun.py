#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A ring buffer overrun loses nothing silently: with the agent stopped
(SIGSTOP: its reader does not run), 5000 HTTPS requests to the kubeapi
fixture on a Kubernetes port overrun ra_http_events (room for about 2000
requests). The requests that found no room are counted
(reqacct_map_update_failures_total{map="ra_http_events",reason="full"}),
those counted plus those lost equal the fixture's log exactly, and the
totals the kernel keeps (reqacct_http_requests_total) are exact. After
SIGCONT the agent counts the next requests exactly. The traffic never
waits for the agent (fail-open). Needs root and the Go fixture."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ralib import (Agent, KubeLog, harness, kubeapi_fixture, make_cert, require, require_root,  # noqa: E402
                   tmpdir, value, wait_listen)

PORT, AGENT_PORT = 18614, 19484
STORM, AFTER = 5000, 200
URL = f"https://127.0.0.1:{PORT}/api/v1/namespaces/ns-1/pods/pod-1"


def hey(n):
    """n requests over HTTP/1.1 (hey is Go; only the server is probed)."""
    r = subprocess.run(["hey", "-n", str(n), "-c", "8", URL], capture_output=True, text=True, timeout=300)
    if f"[200]\t{n} responses" not in r.stdout:
        raise RuntimeError("hey did not get all 200s:\n" + r.stdout)


def counted(s):
    return value(s, "reqacct_k8s_requests_total", role="server", port=PORT)


def main():
    require_root()
    require("hey", "openssl")
    kubeapi = kubeapi_fixture()
    with tmpdir() as d, harness("srv") as (chk, procs, cg):
        key, cert = make_cert(d)
        log = KubeLog(os.path.join(d, "kubeapi.log"))
        procs.start([kubeapi, f"127.0.0.1:{PORT}", cert, key, log.path, "10"], cg.path("srv"),
                    stderr=subprocess.DEVNULL)	# hey's closing connections: handshake EOFs
        wait_listen(PORT)
        agent = Agent(procs, ["--port", str(PORT), "--k8s-port", str(PORT), "--tls", "go", "--tls-comm",
                              "kubeapi"], AGENT_PORT, os.path.join(d, "agent.log"), cg.base)
        time.sleep(1)
        agent.p.send_signal(signal.SIGSTOP)
        try:
            t = time.monotonic()
            hey(STORM)
            print(f"{STORM} requests with the agent stopped, in {time.monotonic() - t:.1f} s")
        finally:
            agent.p.send_signal(signal.SIGCONT)
        time.sleep(1)
        s = agent.samples()
        served = len(log.entries(STORM))
        lost = value(s, "reqacct_map_update_failures_total", map="ra_http_events", reason="full")
        chk.eq("the fixture served every request", served, STORM)
        chk.true("the ring overran, and the lost requests are counted", lost > 0, f"lost {lost}")
        chk.eq("requests counted + lost = the fixture's log", counted(s) + lost, served)
        chk.eq("the kernel's totals are exact (reqacct_http_requests_total)",
               value(s, "reqacct_http_requests_total", role="server", port=PORT), served)
        print(f"  ({counted(s):g} counted by verb and resource, {lost:g} lost)")

        log.mark()
        before = counted(s)
        hey(AFTER)
        time.sleep(1)
        s = agent.samples()
        chk.eq("after SIGCONT: the next requests counted exactly", counted(s) - before, len(log.entries(AFTER)))
        chk.eq("after SIGCONT: nothing more lost",
               value(s, "reqacct_map_update_failures_total", map="ra_http_events", reason="full"), lost)


if __name__ == "__main__":
    main()
