#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""HTTP/1.1 over Go's crypto/tls, seen by entry probes only, against the
other side's own record:

- the stripped Go 1.19 fixture server (tests/fixtures/gotls `serve`: a log
  line per request, and per connection the plaintext bytes it read and
  wrote), started before the agent; hey (Debian's Go 1.19, started after
  the agent: probed at its exec) in two client cgroups: 200, 404, 201,
  30 kB bodies, PUTs with a body, slow responses;
- the server restarted from a new copy of its binary (a new inode, as a
  package upgrade makes) after the agent started: probed at its exec, the
  old copy dropped once no process runs it;
- esbuild (Go 1.26, stripped, from npm) serving HTTPS, and its request log;
- the kubectl builds (Go 1.22-1.24) as clients, where present;
- selection by listening port: with --tls-port, only servers listening on
  those ports are probed, those listening before the agent started and one
  that listens later (found at its listen(2)).

Servers: requests by method and status equal the log exactly, response
bytes equal the plaintext the server wrote. Clients: requests by method
equal the log exactly, a status is the log's or "unknown" (the client exited
before its reader looked at the last response: at most one per connection),
request bytes equal the plaintext the server read. What a Go process reads
has no known size, so a Go server's request bytes and a Go client's response
bytes are absent, never 0."""
import collections
import glob
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ralib import (Agent, ROOT, check_promtool, gotls_fixture, harness, make_cert, require,  # noqa: E402
                   require_root, tmpdir, value, wait_port)

PORT, ES_PORT, PORT3, AGENT_PORT = 18450, 18451, 18452, 19480
ESBUILD = os.path.join(ROOT, "tests/fixtures/esbuild/node_modules/@esbuild/linux-x64/bin/esbuild")
KUBECTLS = sorted(glob.glob("/usr/lib/google-cloud-sdk/bin/kubectl.1.*"))
ES_LINE = re.compile(r'^\S+ - "(\S+) \S+" (\d+) ')


class ServerLog:
    """The fixture server's log, read from where the last read stopped."""

    def __init__(self, path):
        self.path, self.pos = path, 0

    def read(self, want_conns, timeout=10):
        """Requests [(method, status)] and connections [(read, written)] since
        the last call, once want_conns connections closed."""
        end, settled = time.time() + timeout, False
        while True:
            with open(self.path) as f:
                f.seek(self.pos)
                text = f.read()
            lines = text[:text.rfind("\n") + 1].splitlines()
            conns = [(int(w[2]), int(w[3])) for w in (l.split() for l in lines) if w[0] == "CONN"]
            if (len(conns) >= want_conns and settled) or time.time() > end:
                break
            # once enough connections closed, one more look for late lines
            settled = len(conns) >= want_conns
            time.sleep(0.3 if settled else 0.1)
        self.pos += len("".join(l + "\n" for l in lines).encode())
        reqs = [(w[0], w[1]) for w in (l.split() for l in lines) if w[0] != "CONN"]
        return reqs, conns


def es_requests(path):
    with open(path) as f:
        return [(m.group(1), m.group(2)) for m in map(ES_LINE.match, f) if m]


def check_client(chk, s, what, lab, reqs, conns, req_bytes=None):
    """Client rows of lab against the server's record of the same requests."""
    by_method = collections.Counter(m for m, _ in reqs)
    by_status = collections.Counter(reqs)
    for m, n in sorted(by_method.items()):
        chk.eq(f"{what}: {m} requests = server log", value(s, "reqacct_http_requests_total",
                                                           method=m, **lab), n)
    chk.eq(f"{what}: no other requests", value(s, "reqacct_http_requests_total", **lab), len(reqs))
    for (m, st), n in sorted(by_status.items()):
        got = value(s, "reqacct_http_requests_total", method=m, status=st, **lab)
        chk.true(f"{what}: {m} {st}: {got:g} of {n} with their status", got <= n)
    unknown = value(s, "reqacct_http_requests_total", status="unknown", **lab)
    chk.true(f"{what}: statuses not seen ({unknown:g}) at most one per connection ({conns})",
             unknown <= conns)
    chk.eq(f"{what}: durations of the requests with a status",
           value(s, "reqacct_http_request_duration_seconds_count", **lab), len(reqs) - unknown)
    if req_bytes is not None:
        chk.eq(f"{what}: request bytes = what the server read",
               value(s, "reqacct_http_request_bytes_total", **lab), req_bytes)
    chk.true(f"{what}: no response bytes (a Go read's size is not known)",
             not [1 for n, l, _ in s if n == "reqacct_http_response_bytes_total" and
                  all(l.get(k) == str(v) for k, v in lab.items())])


def check_server(chk, s, what, lab, reqs, resp_bytes=None):
    for (m, st), n in sorted(collections.Counter(reqs).items()):
        chk.eq(f"{what}: {m} {st} = server log",
               value(s, "reqacct_http_requests_total", method=m, status=st, **lab), n)
    chk.eq(f"{what}: no other requests", value(s, "reqacct_http_requests_total", **lab), len(reqs))
    if resp_bytes is not None:
        chk.eq(f"{what}: response bytes = what the server wrote",
               value(s, "reqacct_http_response_bytes_total", **lab), resp_bytes)
        chk.eq(f"{what}: every request's duration (connections closed)",
               value(s, "reqacct_http_request_duration_seconds_count", **lab), len(reqs))
    chk.true(f"{what}: no request bytes (a Go read's size is not known)",
             not [1 for n, l, _ in s if n == "reqacct_http_request_bytes_total" and
                  all(l.get(k) == str(v) for k, v in lab.items())])


def wait_for(fn, timeout=10):
    end = time.time() + timeout
    while not fn() and time.time() < end:
        time.sleep(0.2)
    return fn()


def main():
    require_root()
    require("hey", "openssl")
    static = gotls_fixture()
    with harness("srv", "es", "w", "a", "b", "k") as (chk, procs, cg):
        with tmpdir() as d:
            key, crt = make_cert(d)
            url = f"https://127.0.0.1:{PORT}"
            gosrv = os.path.join(d, "gosrv")
            shutil.copy(static, gosrv)
            log = ServerLog(os.path.join(d, "srv.log"))
            srv = procs.start([gosrv, "serve", f"127.0.0.1:{PORT}", crt, key, log.path], cg.path("srv"))
            wait_port(PORT)
            agent = Agent(procs, ["--port", str(PORT), "--port", str(ES_PORT), "--tls", "go",
                                  "--tls-rescan-s", "1"], AGENT_PORT, os.path.join(d, "agent.log"),
                          cg.base)

            def probed():
                with open(os.path.join(d, "agent.log")) as f:
                    return f.read()

            chk.true("the server started before the agent is probed",
                     f"probing Go crypto/tls in {gosrv} " in probed())

            # A program the agent has not seen is probed at its exec, within
            # about 10 ms (uprobe registration takes the mmap lock of the new
            # process): requests of its first milliseconds may be missed. From
            # then on its file stays probed, for every process that runs it.
            print("hey, started after the agent:")
            procs.run(["hey", "-n", "60", "-c", "1", "-q", "60", url + "/status/200"], cg.path("w"),
                      stdout=subprocess.DEVNULL)
            warm, cl = log.read(1)
            chk.true("hey is probed at its start", "probing Go crypto/tls in /usr/bin/hey " in probed())
            chk.true("its requests are counted from then on",
                     0 < value(agent.samples(), "reqacct_http_requests_total", comm="hey") <= len(warm))

            print("hey (Go 1.19) to the Go 1.19 fixture server:")
            runs = [("a", 3, ["-n", "300", "-c", "3", url + "/status/404"]),
                    ("a", 2, ["-n", "200", "-c", "2", url + "/bytes/30000"]),
                    ("b", 3, ["-n", "90", "-c", "3", "-m", "PUT", "-d", "x" * 500, url + "/status/201"]),
                    ("b", 1, ["-n", "40", "-c", "1", url + "/slow/3"])]
            client = {c: [[], 0, 0] for c in ("a", "b")}	# requests, connections, bytes read
            server_reqs, server_written = warm, sum(w for _, w in cl)
            for c, conns, args in runs:
                p = procs.run(["hey"] + args, cg.path(c), stdout=subprocess.DEVNULL)
                chk.true(f"hey {' '.join(args)[:50]} ran", p.returncode == 0)
                reqs, cl = log.read(conns)
                client[c][0] += reqs
                client[c][1] += len(cl)
                client[c][2] += sum(r for r, _ in cl)
                server_reqs += reqs
                server_written += sum(w for _, w in cl)
            s = agent.samples()
            chk.eq("the server logged every request", len(server_reqs), 60 + 300 + 200 + 90 + 40)
            for c, (reqs, conns, read) in client.items():
                check_client(chk, s, f"client {c}", dict(role="client", cgroup=cg.label(c), comm="hey",
                                                         port=PORT), reqs, conns, read)
            check_server(chk, s, "server", dict(role="server", cgroup=cg.label("srv"), comm="gosrv",
                                                 port=PORT, peer="127.0.0.1"), server_reqs, server_written)
            chk.eq("no *tls.Conn without its socket", value(s, "reqacct_go_tls_no_socket_total"), 0)

            print("the server upgraded (a new file renamed over its binary) and restarted:")
            shutil.copy(static, gosrv + ".new")
            os.rename(gosrv + ".new", gosrv)
            procs.stop(srv)
            srv = procs.start([gosrv, "serve", f"127.0.0.1:{PORT}", crt, key, log.path], cg.path("srv"))
            wait_port(PORT)
            chk.true("the new file is probed at its start",
                     wait_for(lambda: probed().count(f"probing Go crypto/tls in {gosrv} ") == 2))
            chk.true("the old one is dropped at the next rescan",
                     wait_for(lambda: f"{gosrv} was replaced or removed" in probed()))
            lab = dict(role="server", comm="gosrv", port=PORT)
            before = {k: value(s, k, **lab) for k in ("reqacct_http_requests_total",
                                                      "reqacct_http_response_bytes_total")}
            procs.run(["hey", "-n", "100", "-c", "2", url + "/status/200"], cg.path("a"),
                      stdout=subprocess.DEVNULL)
            reqs, cl = log.read(2)
            s = agent.samples()
            chk.eq("restarted server: requests = server log", value(s, "reqacct_http_requests_total", **lab)
                   - before["reqacct_http_requests_total"], len(reqs))
            chk.eq("restarted server: response bytes = what it wrote",
                   value(s, "reqacct_http_response_bytes_total", **lab) -
                   before["reqacct_http_response_bytes_total"], sum(w for _, w in cl))

            print("esbuild (Go 1.26) serving HTTPS, started after the agent:")
            www = os.path.join(d, "www")
            os.makedirs(www)
            with open(os.path.join(www, "page.html"), "wb") as f:
                f.write(os.urandom(6000))
            eslog = os.path.join(d, "esbuild.log")
            with open(eslog, "w") as f:
                procs.start([ESBUILD, f"--servedir={www}", f"--serve=127.0.0.1:{ES_PORT}",
                             f"--certfile={crt}", f"--keyfile={key}", "--log-level=info"], cg.path("es"),
                            stdin=subprocess.PIPE, stdout=f, stderr=subprocess.STDOUT)
            wait_port(ES_PORT)
            chk.true("esbuild is probed at its start",
                     wait_for(lambda: f"probing Go crypto/tls in {ESBUILD} " in probed()))
            es = f"https://127.0.0.1:{ES_PORT}"
            for args in (["-n", "120", "-c", "2", es + "/page.html"], ["-n", "30", "-c", "2", es + "/none"]):
                procs.run(["hey"] + args, cg.path("b"), stdout=subprocess.DEVNULL)
            reqs = []
            wait_for(lambda: len(es_requests(eslog)) >= 150)
            reqs = es_requests(eslog)
            s = agent.samples()
            chk.eq("esbuild logged every request", len(reqs), 150)
            check_server(chk, s, "esbuild", dict(role="server", cgroup=cg.label("es"), comm="esbuild",
                                                  port=ES_PORT), reqs)
            check_client(chk, s, "hey to esbuild", dict(role="client", cgroup=cg.label("b"), comm="hey",
                                                         port=ES_PORT), reqs, 4)

            print(f"kubectl builds as clients ({len(KUBECTLS)} found):")
            for k in KUBECTLS:
                name = os.path.basename(k)
                for path in ("/status/200", "/status/404"):
                    procs.run([k, "--server", url, "--insecure-skip-tls-verify", "--token=not-read",
                               "--request-timeout=10s", "get", "--raw", path], cg.path("k"),
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
                reqs, cl = log.read(2)
                s = agent.samples()
                check_client(chk, s, name, dict(role="client", cgroup=cg.label("k"), comm=name[:15],
                                                port=PORT), reqs, len(cl), sum(r for r, _ in cl))

            check_promtool(chk, agent.text())

            print("selection by listening port (--tls-port):")
            log_text = probed()
            procs.stop(agent.p)
            sel_log = os.path.join(d, "agent-sel.log")
            sel = Agent(procs, ["--port", str(PORT), "--port", str(ES_PORT), "--port", str(PORT3),
                                "--tls", "go", "--tls-port", str(ES_PORT), "--tls-port", str(PORT3)],
                        AGENT_PORT + 1, sel_log, cg.base)
            gosrv3 = os.path.join(d, "gosrv3")
            shutil.copy(static, gosrv3)
            procs.start([gosrv3, "serve", f"127.0.0.1:{PORT3}", crt, key, "-"], cg.path("srv"))
            wait_port(PORT3)

            def sel_probed():
                with open(sel_log) as f:
                    return f.read()

            chk.true("a server that listens after the agent started is probed at its listen",
                     wait_for(lambda: f"probing Go crypto/tls in {gosrv3} " in sel_probed()))
            for u, n in ((es + "/page.html", 40), (url + "/status/200", 30), (f"https://127.0.0.1:{PORT3}/", 20)):
                procs.run(["hey", "-n", str(n), "-c", "2", u], cg.path("a"), stdout=subprocess.DEVNULL)
            s = sel.samples()
            chk.eq("esbuild (listening on a --tls-port before the agent) is counted",
                   value(s, "reqacct_http_requests_total", role="server", comm="esbuild"), 40)
            chk.eq("the server listening on the later --tls-port is counted",
                   value(s, "reqacct_http_requests_total", role="server", comm="gosrv3"), 20)
            chk.eq("the server on another port is not",
                   value(s, "reqacct_http_requests_total", role="server", comm="gosrv"), 0)
            chk.eq("nor the clients", value(s, "reqacct_http_requests_total", role="client"), 0)
            if chk.failed:
                print("agent log:\n" + log_text[-4000:] + "\nselecting agent log:\n" + sel_probed()[-2000:])
                print("\n".join(l for l in sel.text().splitlines()
                                if l.startswith(("reqacct_map", "reqacct_go", "reqacct_tls"))))


if __name__ == "__main__":
    main()
