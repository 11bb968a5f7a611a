#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Long-lived connections are counted as they go: a keep-alive client whose
connection was opened *before* the agent started (as client-go's connections
to the apiserver are) has its later requests counted while the connection is
still open, exactly as nginx logs them, on both sides; over IPv4 and IPv6.
Then SIGTERM stops the agent cleanly. Needs root."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ralib import (Agent, access_log, harness, programs_left, require, require_root,  # noqa: E402
                   start_nginx, tmpdir, value, www_files)

PORT, AGENT_PORT = 18082, 19466
BEFORE, AFTER = 2, 3	# requests before the agent starts, and after

# A keep-alive HTTP/1.1 client: one request per line read on stdin.
CLIENT = r"""
import socket, sys
fam, host, port = (socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET), sys.argv[1], int(sys.argv[2])
s = socket.socket(fam, socket.SOCK_STREAM)
s.connect((host, port))
f = s.makefile("rb")
for line in sys.stdin:
    s.sendall(b"GET /f HTTP/1.1\r\nHost: x\r\nUser-Agent: long-lived\r\n\r\n")
    length = 0
    while True:
        h = f.readline()
        if h.lower().startswith(b"content-length:"):
            length = int(h.split(b":")[1])
        if h in (b"\r\n", b""):
            break
    f.read(length)
    print("done", flush=True)
"""


def main():
    require_root()
    require("nginx", "bpftool")
    with harness("srv", "cli") as (chk, procs, cg):
        with tmpdir() as d:
            www_files(d, f=7777)
            start_nginx(procs, d, PORT, cg.path("srv"), keepalive=600)
            clients = {}
            for addr in ("127.0.0.1", "::1"):
                c = procs.start([sys.executable, "-c", CLIENT, addr, str(PORT)], cgroup=cg.path("cli"),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                for _ in range(BEFORE):
                    c.stdin.write("go\n")
                    c.stdin.flush()
                    chk.true(f"{addr}: request before the agent", c.stdout.readline() == "done\n")
                clients[addr] = c
            agent = Agent(procs, ["--port", str(PORT)], AGENT_PORT, os.path.join(d, "agent.log"), cg.base)
            for addr, c in clients.items():
                for _ in range(AFTER):
                    c.stdin.write("go\n")
                    c.stdin.flush()
                    chk.true(f"{addr}: request with the agent", c.stdout.readline() == "done\n")
            time.sleep(0.5)
            s = agent.samples()		# both connections are still open
            log = access_log(d)
            for addr, peer in (("127.0.0.1", "127.0.0.1"), ("::1", "::1")):
                rows = [r for r in log if r[0] == addr]
                chk.eq(f"{addr}: nginx logged all requests", len(rows), BEFORE + AFTER)
                req, resp = sum(r[1] for r in rows[BEFORE:]), sum(r[2] for r in rows[BEFORE:])
                cli = dict(role="client", cgroup=cg.label("cli"), comm="python3", port=PORT, peer=peer)
                srv = dict(role="server", cgroup=cg.label("srv"), comm="nginx", port=PORT, peer=peer)
                chk.eq(f"{addr}: open connection, client sent", value(s, "reqacct_tcp_bytes_total", direction="sent", **cli), req)
                chk.eq(f"{addr}: open connection, client received", value(s, "reqacct_tcp_bytes_total", direction="received", **cli), resp)
                chk.eq(f"{addr}: open connection, server received", value(s, "reqacct_tcp_bytes_total", direction="received", **srv), req)
                chk.eq(f"{addr}: open connection, server sent", value(s, "reqacct_tcp_bytes_total", direction="sent", **srv), resp)
                chk.eq(f"{addr}: opened before the agent: not counted as opened",
                       value(s, "reqacct_tcp_connections_total", **cli), 0)
            for c in clients.values():
                c.stdin.close()
                c.wait(timeout=10)
            time.sleep(0.5)
            s = agent.samples()
            chk.eq("closing a connection the agent never saw open counts no close",
                   value(s, "reqacct_tcp_connections_closed_total", cgroup=cg.label("cli")), 0)
            agent.p.send_signal(signal.SIGTERM)
            chk.eq("SIGTERM: exit status 0", agent.p.wait(timeout=10), 0)
            left = programs_left()
            chk.true("SIGTERM: nothing left attached", not left, f"left: {left}")


if __name__ == "__main__":
    main()
