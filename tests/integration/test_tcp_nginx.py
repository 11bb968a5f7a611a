#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""TCP accounting against nginx, with curl clients in two test cgroups.

The oracle is nginx's access log ($request_length, $bytes_sent per request):
for plain HTTP the agent's per-cgroup byte counters must equal it exactly, on
both the client and the server side; over TLS they exceed it by the TLS
overhead only. A real Prometheus scrapes the agent and must return the same
values; promtool must accept the exposition. Runs once per byte-counting hook
(tracepoint, and the sockops fallback). Needs root."""
import gzip
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ralib import (Agent, Cgroups, Check, Procs, access_log, bpf_prog_names, http_get,  # noqa: E402
                   parse_metrics, programs_left, require, require_root, start_nginx, tmpdir, value,
                   wait_port, www_files)

PLAIN, TLS = 18080, 18443
AGENT_PORT, PROM_PORT = 19464, 19090
BIG, SMALL, BODY = 100_000, 1_000, 5_000
TLS_OVERHEAD_MAX = 4096		# per connection and direction: handshake + record headers
WEIRD_COMM = 'q"b\\s\nn'	# a process name with a quote, a backslash and a newline


def clients(procs, cg, d):
    """The workload. Returns nothing: nginx's logs say what happened."""
    with open(os.path.join(d, "body"), "wb") as f:
        f.write(b"x" * BODY)
    weird = os.path.join(d, WEIRD_COMM)
    os.symlink("/usr/bin/curl", weird)		# comm is the name it is run by

    def curl(cgroup, src, url, *extra, exe="curl"):
        p = procs.run([exe, "-sS", "-k", "--http1.1", "-o", "/dev/null", "--interface", src,
                       *extra, url], cgroup=cg.path(cgroup))
        if p.returncode:
            raise RuntimeError(f"curl {url} failed: {p.returncode}")

    plain, tls = f"http://127.0.0.1:{PLAIN}", f"https://127.0.0.1:{TLS}"
    for _ in range(4):
        curl("a", "127.0.0.1", plain + "/big")
    for i in range(3):	# PUT (WebDAV): nginx reads the body, so $request_length counts it
        curl("a", "127.0.0.1", plain + f"/upload/{i}", "-T", os.path.join(d, "body"))
    for _ in range(5):
        curl("b", "127.0.0.2", plain + "/small")
    for _ in range(2):
        curl("b", "127.0.0.3", plain + "/small", exe=weird)
    for _ in range(3):
        curl("a", "127.0.0.1", tls + "/big")
    for _ in range(2):
        curl("b", "127.0.0.2", tls + "/small")


def sums(log, addr):
    rows = [r for r in log if r[0] == addr]
    return len(rows), sum(r[1] for r in rows), sum(r[2] for r in rows)


def check_plain(chk, s, cg, log):
    """Exact equality with the access log, client and server side."""
    for addr, cgroup, comm in (("127.0.0.1", "a", "curl"), ("127.0.0.2", "b", "curl"),
                               ("127.0.0.3", "b", WEIRD_COMM)):
        n, req, resp = sums(log, addr)
        cli = dict(role="client", cgroup=cg.label(cgroup), comm=comm, port=PLAIN, peer="127.0.0.1")
        srv = dict(role="server", cgroup=cg.label("srv"), comm="nginx", port=PLAIN, peer=addr)
        chk.true(f"plain {addr}: workload ran", n > 0)
        chk.eq(f"plain client {addr} bytes sent", value(s, "reqacct_tcp_bytes_total", direction="sent", **cli), req)
        chk.eq(f"plain client {addr} bytes received", value(s, "reqacct_tcp_bytes_total", direction="received", **cli), resp)
        chk.eq(f"plain server {addr} bytes received", value(s, "reqacct_tcp_bytes_total", direction="received", **srv), req)
        chk.eq(f"plain server {addr} bytes sent", value(s, "reqacct_tcp_bytes_total", direction="sent", **srv), resp)
        for side, lab in (("client", cli), ("server", srv)):
            chk.eq(f"plain {side} {addr} connections opened", value(s, "reqacct_tcp_connections_total", **lab), n)
            chk.eq(f"plain {side} {addr} connections closed", value(s, "reqacct_tcp_connections_closed_total", **lab), n)


def check_tls(chk, s, cg, log):
    """Larger than the plaintext by the TLS overhead only."""
    for addr, cgroup in (("127.0.0.1", "a"), ("127.0.0.2", "b")):
        n, req, resp = sums(log, addr)
        cli = dict(role="client", cgroup=cg.label(cgroup), comm="curl", port=TLS, peer="127.0.0.1")
        srv = dict(role="server", cgroup=cg.label("srv"), comm="nginx", port=TLS, peer=addr)
        for what, got, plain in (
                ("client sent", value(s, "reqacct_tcp_bytes_total", direction="sent", **cli), req),
                ("client received", value(s, "reqacct_tcp_bytes_total", direction="received", **cli), resp),
                ("server received", value(s, "reqacct_tcp_bytes_total", direction="received", **srv), req),
                ("server sent", value(s, "reqacct_tcp_bytes_total", direction="sent", **srv), resp)):
            chk.true(f"tls {addr} {what} {got:g} = plaintext {plain} + overhead in (0, {n}*{TLS_OVERHEAD_MAX}]",
                     plain < got <= plain + n * TLS_OVERHEAD_MAX)
        chk.eq(f"tls server {addr} connections opened", value(s, "reqacct_tcp_connections_total", **srv), n)


def check_exposition(chk, agent, d):
    text = agent.text()
    p = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True)
    chk.true("promtool check metrics accepts the exposition", p.returncode == 0,
             (p.stdout + p.stderr).decode()[:2000])
    esc = 'comm="q\\"b\\\\s\\nn"'
    chk.true("a comm with quote, backslash and newline is escaped", esc in text)
    st, hdr, body = http_get(f"http://127.0.0.1:{agent.port}/metrics", {"Accept-Encoding": "gzip"})
    chk.true("gzip when asked for", hdr.get("Content-Encoding") == "gzip")
    plain = gzip.decompress(body).decode()
    chk.eq("gzip body parses to the same families", len({n for n, _, _ in parse_metrics(plain)}),
           len({n for n, _, _ in parse_metrics(text)}))
    st, hdr, body = http_get(f"http://127.0.0.1:{agent.port}/metrics", {"Accept-Encoding": "gzip;q=0"})
    chk.true("no gzip when refused (q=0)", hdr.get("Content-Encoding") is None)


def check_prometheus(chk, procs, agent, cg, d, s):
    """A real Prometheus scrapes the agent and returns the same values."""
    cfg = os.path.join(d, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global: {scrape_interval: 1s}\nscrape_configs:\n"
                f"  - job_name: reqacct\n    static_configs: [{{targets: ['127.0.0.1:{agent.port}']}}]\n")
    log = open(os.path.join(d, "prometheus.log"), "w")
    prom = procs.start(["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={d}/tsdb",
                        f"--web.listen-address=127.0.0.1:{PROM_PORT}"], stdout=log, stderr=log)
    wait_port(PROM_PORT, timeout=30)
    queries = [
        (f'reqacct_tcp_bytes_total{{direction="sent",role="client",cgroup="{cg.label("a")}",port="{PLAIN}"}}',
         value(s, "reqacct_tcp_bytes_total", direction="sent", role="client", cgroup=cg.label("a"), port=PLAIN)),
        (f'reqacct_tcp_bytes_total{{direction="received",role="server",peer="127.0.0.2",port="{PLAIN}"}}',
         value(s, "reqacct_tcp_bytes_total", direction="received", role="server", peer="127.0.0.2", port=PLAIN)),
        (f'sum(reqacct_tcp_connections_total{{role="server",port="{TLS}"}})',
         value(s, "reqacct_tcp_connections_total", role="server", port=TLS)),
        # the escaped process name reads back as the same string (PromQL
        # string literals use Go's escapes, as JSON does for these)
        (f'sum(reqacct_tcp_bytes_total{{comm={json.dumps(WEIRD_COMM)},direction="sent"}})',
         value(s, "reqacct_tcp_bytes_total", comm=WEIRD_COMM, direction="sent")),
    ]
    for q, want in queries:
        got, end = None, time.time() + 30
        while time.time() < end and got != want:
            url = f"http://127.0.0.1:{PROM_PORT}/api/v1/query?query=" + urllib.parse.quote(q)
            try:
                res = json.loads(http_get(url)[2])["data"]["result"]
                got = float(res[0]["value"][1]) if len(res) == 1 else None
            except OSError:
                pass
            time.sleep(0.5)
        chk.eq(f"prometheus: {q}", got if got is not None else -1, want)
    procs.stop(prom)


def scenario(chk, hook, with_prometheus):
    print(f"== hook {hook}")
    procs, cg = Procs(), Cgroups("srv", "a", "b")
    try:
        with tmpdir() as d:
            plain_dir, tls_dir = os.path.join(d, "plain"), os.path.join(d, "tls")
            for sub in (plain_dir, tls_dir):
                www_files(sub, big=BIG, small=SMALL)
            # The plain server predates the agent (its listener is found in
            # /proc); the TLS server starts after it (seen at listen(2)).
            start_nginx(procs, plain_dir, PLAIN, cg.path("srv"))
            args = ["--hook", hook, "--port", str(PLAIN), "--port", str(TLS)]
            agent = Agent(procs, args, AGENT_PORT, os.path.join(d, "agent.log"), cg.base)
            start_nginx(procs, tls_dir, TLS, cg.path("srv"), tls=True)
            clients(procs, cg, d)
            time.sleep(1)	# let the last FIN/ACKs move the sockets to CLOSE
            s = agent.samples()
            chk.eq("hook in use", value(s, "reqacct_build_info", hook=hook), 1)
            chk.eq("no unattributed connections", value(s, "reqacct_unattributed_connections_total"), 0)
            chk.eq("listener found in /proc", value(s, "reqacct_listeners_seeded"), 1)
            check_plain(chk, s, cg, access_log(plain_dir))
            check_tls(chk, s, cg, access_log(tls_dir))
            if with_prometheus:
                check_exposition(chk, agent, d)
                check_prometheus(chk, procs, agent, cg, d, s)
            names = bpf_prog_names()
            chk.true("programs attached while the agent runs", "ra_set_state" in names)
            agent.p.send_signal(signal.SIGKILL)
            agent.p.wait()
            left = programs_left()
            chk.true("nothing stays attached after SIGKILL", not left, f"left: {left}")
            p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                                f"http://127.0.0.1:{PLAIN}/small"], capture_output=True, timeout=30)
            chk.true("nginx unaffected after the agent is killed", p.stdout == b"200", p.stdout)
            if chk.failed:
                print(open(os.path.join(d, "agent.log")).read())
    finally:
        procs.stop_all()
        cg.remove()


def main():
    require_root()
    require("nginx", "curl", "openssl", "prometheus", "promtool", "bpftool")
    chk = Check()
    scenario(chk, "tracepoint", with_prometheus=True)
    scenario(chk, "sockops", with_prometheus=False)
    chk.finish()


if __name__ == "__main__":
    main()
