#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The scrape endpoint survives slow, huge and garbage requests: it answers
with an error or closes, keeps serving other scrapers meanwhile, and its
memory stays bounded. Needs root (it loads the agent)."""
import contextlib
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ralib import PLAIN_BUILD, Agent, harness, require_root, tmpdir  # noqa: E402

AGENT_PORT = 19467
RSS_LIMIT = 64 << 20


def raw(data, src="127.0.0.1", timeout=10):
    """Send data, return what comes back before the server closes ('' on reset)."""
    with socket.create_connection(("127.0.0.1", AGENT_PORT), timeout=timeout,
                                  source_address=(src, 0)) as s:
        try:
            s.sendall(data)
            # The server may answer and close before it read everything
            # (a refused header): then there is nothing left to shut down.
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_WR)
            out = b""
            while chunk := s.recv(65536):
                out += chunk
            return out.decode("latin-1")
        except (ConnectionResetError, BrokenPipeError):
            return ""


def status(resp):
    return resp.split(" ", 2)[1] if resp.startswith("HTTP/1.") else "closed"


def scrape_ok(src="127.0.0.2"):
    resp = raw(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", src)
    return status(resp) == "200" and "reqacct_build_info" in resp


def rss(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGESIZE")


def main():
    require_root()
    with harness() as (chk, procs, cg):
        with tmpdir() as d:
            agent = Agent(procs, ["--port", "18083"], AGENT_PORT, os.path.join(d, "agent.log"), cg.base)
            chk.true("a plain scrape works", scrape_ok())
            chk.eq("POST is refused (405)", int(status(raw(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"))), 405)
            chk.eq("unknown path (404)", int(status(raw(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"))), 404)
            big = raw(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
            chk.true("a 1 MiB header is refused", status(big) in ("431", "413", "400", "closed"), status(big))
            junk = raw(os.urandom(65536))
            chk.true("random bytes are refused", status(junk) in ("400", "closed"), status(junk))
            chk.true("a request line without version is refused", status(raw(b"GET\r\n\r\n")) in ("400", "closed"))
            # 100 idle connections (slowloris) from one address: the agent
            # caps them per address, and scrapes from elsewhere go on.
            idle = []
            for _ in range(100):
                try:
                    s = socket.create_connection(("127.0.0.1", AGENT_PORT), timeout=2)
                    s.sendall(b"GET /metrics HTTP/1.1\r\n")	# never finished
                    idle.append(s)
                except OSError:
                    break
            t0 = time.monotonic()
            chk.true("a scrape succeeds while 100 slow clients hang", scrape_ok())
            chk.true("... and is not delayed by them (< 2 s)", time.monotonic() - t0 < 2)
            for s in idle:
                s.close()
            if PLAIN_BUILD:
                chk.true(f"RSS stays under {RSS_LIMIT >> 20} MiB", rss(agent.p.pid) < RSS_LIMIT,
                         f"{rss(agent.p.pid)} bytes")
            else:
                print("  skip RSS: not the plain build (REQACCT_BIN)")
            end = time.monotonic() + 3	# the closed idle connections are reaped
            while not (ok := scrape_ok("127.0.0.1")) and time.monotonic() < end:
                time.sleep(0.1)
            chk.true("the slow clients' address is served again once they leave", ok)
            chk.true("the agent is still running", agent.p.poll() is None)


if __name__ == "__main__":
    main()
