#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""HTTP/1.1 over TLS from OpenSSL's plaintext: nginx (started before the
agent) serves TLS; curl clients in two test cgroups, from their own source
addresses, send GETs, a 404 and PUTs, on new and on kept-alive connections.
Per client cgroup (client side) and per client address (server side), the
agent's requests by method and status, request bytes and response bytes
equal nginx's access log ($request_method, $status, $request_length,
$bytes_sent) exactly; every request gets one duration once its connection
closes; the TCP byte counters of the same flows exceed the plaintext by the
TLS overhead only."""
import collections
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ralib import (Agent, access_log_full, check_promtool, harness, require, require_root,  # noqa: E402
                   start_nginx, tmpdir, value, www_files)

PORT, AGENT_PORT = 18443, 19476
CLIENTS = {"a": "127.0.0.1", "b": "127.0.0.2", "c": "127.0.0.3"}
LIBSSL = "/usr/lib/x86_64-linux-gnu/libssl.so.3"


def main():
    require_root()
    require("nginx", "curl", "openssl", "promtool")
    with harness("srv", "a", "b", "c") as (chk, procs, cg):
        with tmpdir() as d:
            www_files(d, small=1000, big=200000)
            with open(os.path.join(d, "body"), "wb") as f:
                f.write(os.urandom(5000))
            start_nginx(procs, d, PORT, cg.path("srv"), tls=True, keepalive=65)
            agent = Agent(procs, ["--port", str(PORT), "--tls", "openssl", "--tls-rescan-s", "1"], AGENT_PORT,
                          os.path.join(d, "agent.log"), cg.base)
            url = f"https://localhost:{PORT}"

            def curl(c, *args, env=None):
                p = procs.run(["curl", "-sSk", "--interface", CLIENTS[c], "-o", "/dev/null"] + list(args),
                              cg.path(c), stdout=subprocess.DEVNULL, env=env)
                chk.true(f"curl {' '.join(args)[:60]} ran", p.returncode == 0)

            # A libssl that appears after the agent started (a new container's
            # own copy): found by the rescan once a process maps it.
            probed = value(agent.samples(), "reqacct_tls_libraries_probed")
            libdir = os.path.join(d, "lib")
            os.makedirs(libdir)
            shutil.copy(LIBSSL, libdir)
            procs.start([sys.executable, "-c", "import ctypes, time; "
                         f"ctypes.CDLL('{libdir}/libssl.so.3'); time.sleep(120)"], cg.path("c"))
            end = time.time() + 10
            while value(agent.samples(), "reqacct_tls_libraries_probed") <= probed and time.time() < end:
                time.sleep(0.2)
            chk.eq("a new libssl is probed after a rescan",
                   value(agent.samples(), "reqacct_tls_libraries_probed"), probed + 1)
            env = dict(os.environ, LD_LIBRARY_PATH=libdir)
            ldd = subprocess.run(["ldd", "/usr/bin/curl"], env=env, capture_output=True, text=True).stdout
            chk.true("curl in cgroup c loads the new copy", f"{libdir}/libssl.so.3" in ldd, ldd)
            for _ in range(2):
                curl("c", url + "/small", env=env)

            for _ in range(3):	# a connection each
                curl("a", url + "/small")
            curl("a", url + "/big")
            # one kept-alive connection: GET, 404, PUT, PUT, GET
            curl("b", url + "/small", "-o", "/dev/null", url + "/missing", "-o", "/dev/null",
                 "-T", os.path.join(d, "body"), url + "/upload/x", "-o", "/dev/null",
                 "-T", os.path.join(d, "body"), url + "/upload/y", "-o", "/dev/null", url + "/big")
            time.sleep(0.5)	# nginx writes its log line after the response
            log = access_log_full(d)
            s = agent.samples()
            chk.eq("nginx logged every request", len(log), 11)
            for c, addr in CLIENTS.items():
                want = collections.defaultdict(lambda: [0, 0, 0])
                for a, req, sent, status, method in log:
                    if a == addr:
                        w = want[(method, status)]
                        w[0] += 1
                        w[1] += req
                        w[2] += sent
                sides = (("client", dict(role="client", cgroup=cg.label(c), comm="curl")),
                         ("server", dict(role="server", cgroup=cg.label("srv"), comm="nginx", peer=addr)))
                for side, lab in sides:
                    for (method, status), (n, req, sent) in sorted(want.items()):
                        l = dict(lab, method=method, status=status, port=PORT)
                        what = f"{c} {side} {method} {status}"
                        chk.eq(f"{what}: requests", value(s, "reqacct_http_requests_total", **l), n)
                        chk.eq(f"{what}: request bytes = $request_length",
                               value(s, "reqacct_http_request_bytes_total", **l), req)
                        chk.eq(f"{what}: response bytes = $bytes_sent",
                               value(s, "reqacct_http_response_bytes_total", **l), sent)
                        chk.eq(f"{what}: durations counted (connections closed)",
                               value(s, "reqacct_http_request_duration_seconds_count", **l), n)
                    total = sum(w[0] for w in want.values())
                    chk.eq(f"{c} {side}: no other requests",
                           value(s, "reqacct_http_requests_total", **lab), total)
                cli = dict(role="client", cgroup=cg.label(c), comm="curl", port=PORT)
                plain_req = sum(w[1] for w in want.values())
                tcp_sent = value(s, "reqacct_tcp_bytes_total", direction="sent", **cli)
                chk.true(f"{c}: TCP bytes sent = plaintext + TLS overhead",
                         plain_req < tcp_sent < plain_req + 8192 * 4, f"({plain_req} vs {tcp_sent})")
            chk.eq("no TLS call without a connection", value(s, "reqacct_tls_unattributed_total"), 0)
            chk.true("a libssl is probed", value(s, "reqacct_tls_libraries_probed") >= 1)
            check_promtool(chk, agent.text())

            print("OpenSSL probed in selected processes only (--tls-comm nginx):")
            procs.stop(agent.p)
            sel = Agent(procs, ["--port", str(PORT), "--tls", "on", "--tls-comm", "nginx"], AGENT_PORT + 1,
                        os.path.join(d, "agent-sel.log"), cg.base)
            curl("a", url + "/small")
            s = sel.samples()
            chk.eq("nginx's request is counted", value(s, "reqacct_http_requests_total", role="server",
                                                       comm="nginx", peer=CLIENTS["a"]), 1)
            chk.eq("curl's is not (not selected)", value(s, "reqacct_http_requests_total", role="client"), 0)
            chk.eq("its TCP bytes still are", value(s, "reqacct_tcp_connections_total", role="client",
                                                    cgroup=cg.label("a")), 1)


if __name__ == "__main__":
    main()
