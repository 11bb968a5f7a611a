#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A full flow table loses nothing: with room for 2 flows and traffic from 6
client addresses, the flows that find no room go to the overflow bucket
(cgroup="overflow"), the failed updates are counted, and the totals over all
series still equal nginx's access log exactly. Needs root."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ralib import (Agent, access_log, harness, require, require_root, start_nginx, tmpdir,  # noqa: E402
                   value, www_files)

PORT, AGENT_PORT = 18081, 19465
MAX_FLOWS = 2
CLIENTS = [f"127.0.0.{i}" for i in range(1, 7)]


def main():
    require_root()
    require("nginx", "curl")
    with harness("srv", "cli") as (chk, procs, cg):
        with tmpdir() as d:
            www_files(d, f=3000)
            agent = Agent(procs, ["--port", str(PORT), "--max-flows", str(MAX_FLOWS)], AGENT_PORT,
                          os.path.join(d, "agent.log"), cg.base)
            start_nginx(procs, d, PORT, cg.path("srv"))
            for src in CLIENTS:
                for _ in range(2):
                    p = procs.run(["curl", "-sS", "-o", "/dev/null", "--interface", src,
                                   f"http://127.0.0.1:{PORT}/f"], cgroup=cg.path("cli"))
                    chk.true(f"curl from {src}", p.returncode == 0)
            time.sleep(1)
            s = agent.samples()
            log = access_log(d)
            req, resp = sum(r[1] for r in log), sum(r[2] for r in log)
            chk.eq("flow table holds its capacity", value(s, "reqacct_map_entries", map="ra_flows"), MAX_FLOWS)
            chk.true("failed updates counted (reason=full)",
                     value(s, "reqacct_map_update_failures_total", map="ra_flows", reason="full") > 0)
            chk.true("overflow series exported",
                     value(s, "reqacct_tcp_bytes_total", cgroup="overflow", direction="sent") > 0)
            chk.eq("server received, all series", value(s, "reqacct_tcp_bytes_total", role="server", direction="received"), req)
            chk.eq("server sent, all series", value(s, "reqacct_tcp_bytes_total", role="server", direction="sent"), resp)
            chk.eq("client sent, all series", value(s, "reqacct_tcp_bytes_total", role="client", direction="sent"), req)
            chk.eq("client received, all series", value(s, "reqacct_tcp_bytes_total", role="client", direction="received"), resp)
            chk.eq("server connections, all series", value(s, "reqacct_tcp_connections_total", role="server"), len(log))
            chk.eq("client connections closed, all series", value(s, "reqacct_tcp_connections_closed_total", role="client"), len(log))


if __name__ == "__main__":
    main()
