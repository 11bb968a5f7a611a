#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The scrape endpoint with TLS and basic auth, and SIGHUP reloads.

The agent serves /metrics over TLS (a certificate made here with openssl)
on a loopback port, with basic auth: curl with the right password gets the
metrics, a wrong or no password gets 401 with WWW-Authenticate, plain HTTP
to the TLS port fails and the agent keeps serving; it is bound to the
address asked for only; a real Prometheus
scrapes it with ca_file and basic_auth (and a job with a wrong password is
down). Bad certificate, key or auth files stop the start with a message
naming the file. SIGHUP re-reads the config file: a bad one keeps the old
configuration and logs file:line; a good one changes a live key
(k8s_top_clients, seen in reqacct_k8s_top_clients_limit) and the users
(password rotation), keeps a key that needs a restart (max_flows), and
counts reqacct_config_reloads_total. Needs root (it loads the agent)."""
import base64
import hashlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ralib import (Agent, harness, http_get, parse_metrics, require, require_root,  # noqa: E402
                   tmpdir, value, wait_port)

AGENT_PORT, PROM_PORT = 19468, 19091
USER, PASSWORD, NEW_PASSWORD = "scraper", "s3cret pass", "rotated-n3w"


def make_cert(d, name="cert"):
    """A self-signed certificate for 127.0.0.1 (an IP SAN: Go checks it)."""
    key, crt = os.path.join(d, f"{name}.key"), os.path.join(d, f"{name}.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=reqacct-test",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-days", "2",
                    "-keyout", key, "-out", crt],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(key, 0o600)
    return crt, key


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def users(password):
    return f"# reqacct test users\n{USER}:sha256:{hashlib.sha256(password.encode()).hexdigest()}\n"


class Scraper:
    def __init__(self, crt):
        self.ctx = ssl.create_default_context(cafile=crt)
        self.url = f"https://127.0.0.1:{AGENT_PORT}"

    def get(self, path="/metrics", password=PASSWORD, user=USER):
        headers = {}
        if password is not None:
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        req = urllib.request.Request(self.url + path, headers=headers)
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=10) as r:
                return r.status, dict(r.headers), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()

    def samples(self):
        status, _, body = self.get()
        if status != 200:
            raise RuntimeError(f"scrape failed: {status}")
        return parse_metrics(body)


def curl_code(crt, *args):
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", crt,
                        *args, f"https://127.0.0.1:{AGENT_PORT}/metrics"],
                       capture_output=True, text=True, timeout=30)
    return r.stdout


def start_errors(chk, d, crt, key):
    """Bad files stop the start (before anything is loaded) with a message naming them."""
    other_crt, _ = make_cert(d, "other")
    write(os.path.join(d, "plain-users"), f"{USER}:{PASSWORD}\n")
    write(os.path.join(d, "short-users"), f"{USER}:sha256:abcd\n")
    cases = [
        ("a missing certificate", ["--web-tls-cert-file", f"{d}/nope.pem", "--web-tls-key-file", key],
         f"{d}/nope.pem: No such file or directory"),
        ("a key that is not a key", ["--web-tls-cert-file", crt, "--web-tls-key-file", crt],
         f"key {crt}: not a PEM private key"),
        ("a certificate without its key", ["--web-tls-cert-file", other_crt, "--web-tls-key-file", key],
         f"key {key}: not the key of certificate {other_crt}"),
        ("a certificate alone", ["--web-tls-cert-file", crt], "go together"),
        ("a plain-text password", ["--web-basic-auth-file", f"{d}/plain-users"],
         f"{d}/plain-users:1: user '{USER}': the password must be given as sha256:HEX"),
        ("a short hash", ["--web-basic-auth-file", f"{d}/short-users"],
         f"{d}/short-users:1: user '{USER}': sha256 wants 64 hex digits"),
    ]
    for what, args, want in cases:
        r = subprocess.run([os.path.join(os.path.dirname(__file__), "../../.output/reqacct"),
                            "agent", "--listen", f"127.0.0.1:{AGENT_PORT}"] + args,
                           capture_output=True, text=True, timeout=30)
        chk.true(f"start refused for {what}: exit 2, '{want}'",
                 r.returncode == 2 and want in r.stderr, f"exit {r.returncode}: {r.stderr!r}")
        chk.true(f"... and the password is not in the message", PASSWORD not in r.stderr)


def plain_http(chk, scraper):
    """Plain HTTP to the TLS port fails cleanly; the agent serves on."""
    with socket.create_connection(("127.0.0.1", AGENT_PORT), timeout=10) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    chk.true("plain HTTP to the TLS port gets no metrics", b"reqacct_" not in out and
             not out.startswith(b"HTTP/1.1 200"), repr(out[:80]))
    chk.eq("... and a scrape over TLS still works", scraper.get()[0], 200)


def prometheus(chk, procs, d, crt):
    """A real Prometheus scrapes over TLS with basic auth; a wrong password is down."""
    write(os.path.join(d, "prom-password"), PASSWORD)
    cfg = os.path.join(d, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write(f"""global: {{scrape_interval: 1s}}
scrape_configs:
  - job_name: reqacct
    scheme: https
    tls_config: {{ca_file: {crt}}}
    basic_auth: {{username: {USER}, password_file: {d}/prom-password}}
    static_configs: [{{targets: ['127.0.0.1:{AGENT_PORT}']}}]
  - job_name: wrong-password
    scheme: https
    tls_config: {{insecure_skip_verify: true}}
    basic_auth: {{username: {USER}, password: nope}}
    static_configs: [{{targets: ['127.0.0.1:{AGENT_PORT}']}}]
""")
    log = open(os.path.join(d, "prometheus.log"), "w")
    prom = procs.start(["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={d}/tsdb",
                        f"--web.listen-address=127.0.0.1:{PROM_PORT}"], stdout=log, stderr=log)
    wait_port(PROM_PORT, timeout=30)

    def query(q):
        url = f"http://127.0.0.1:{PROM_PORT}/api/v1/query?query=" + urllib.parse.quote(q)
        try:
            res = json.loads(http_get(url)[2])["data"]["result"]
            return float(res[0]["value"][1]) if len(res) == 1 else None
        except OSError:
            return None

    want = {'up{job="reqacct"}': 1, 'up{job="wrong-password"}': 0,
            'count(reqacct_build_info{job="reqacct"})': 1}
    got, end = {}, time.time() + 30
    while time.time() < end:
        got = {q: query(q) for q in want}
        if got == want:
            break
        time.sleep(0.5)
    for q, v in want.items():
        chk.eq(f"prometheus: {q}", got[q] if got[q] is not None else -1, v)
    procs.stop(prom)


def wait_log(path, text, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        with open(path) as f:
            if text in f.read():
                return True
        time.sleep(0.1)
    return False


def wait_value(scraper, name, want, timeout=10, **labels):
    end = time.time() + timeout
    while True:
        got = value(scraper.samples(), name, **labels)
        if got == want or time.time() > end:
            return got
        time.sleep(0.1)


def reload(chk, agent, scraper, conf, auth, log, base):
    s = scraper.samples()
    chk.eq("reloads before any SIGHUP", value(s, "reqacct_config_reloads_total"), 0)
    t_start = value(s, "reqacct_config_last_reload_success_timestamp_seconds")
    chk.true("last reload success timestamp is the start time", abs(t_start - time.time()) < 120,
             str(t_start))
    flows = value(s, "reqacct_map_capacity", map="ra_flows")

    # A bad file: the old configuration stays, one message names file:line.
    write(conf, base + "k8s_top_clients = 7\nk8s_top_clients = lots\n")
    agent.p.send_signal(signal.SIGHUP)
    chk.eq("bad file: reqacct_config_reloads_total{result=\"error\"}",
           wait_value(scraper, "reqacct_config_reloads_total", 1, result="error"), 1)
    lineno = base.count("\n") + 2
    chk.true(f"bad file: the log names {os.path.basename(conf)}:{lineno}",
             wait_log(log, f"reload failed, keeping the old configuration: {conf}:{lineno}: bad "
                      "k8s_top_clients 'lots'"))
    s = scraper.samples()
    chk.eq("bad file: k8s_top_clients unchanged", value(s, "reqacct_k8s_top_clients_limit"), 50)
    chk.eq("bad file: no ok reload", value(s, "reqacct_config_reloads_total", result="ok"), 0)

    # A good file: a live key changes, a restart key stays, the users rotate.
    t0 = time.time()
    write(conf, base + "k8s_top_clients = 7\nmax_flows = 1000\n")
    write(auth, users(NEW_PASSWORD))
    agent.p.send_signal(signal.SIGHUP)
    chk.eq("good file: reqacct_config_reloads_total{result=\"ok\"}", wait_ok(scraper, NEW_PASSWORD), 1)
    s = parse_metrics(scraper.get(password=NEW_PASSWORD)[2])
    chk.eq("good file: reqacct_k8s_top_clients_limit follows k8s_top_clients",
           value(s, "reqacct_k8s_top_clients_limit"), 7)
    chk.eq("good file: max_flows needs a restart, ra_flows keeps its size",
           value(s, "reqacct_map_capacity", map="ra_flows"), flows)
    chk.true("good file: the log says max_flows needs a restart",
             wait_log(log, "key max_flows changed; needs a restart, keeping old value"))
    chk.true("good file: last reload success timestamp moved",
             value(s, "reqacct_config_last_reload_success_timestamp_seconds") >= int(t0))
    chk.eq("rotated: the old password gets 401", scraper.get(password=PASSWORD)[0], 401)
    chk.eq("rotated: the new password gets 200", scraper.get(password=NEW_PASSWORD)[0], 200)

    # A bad users file is a failed reload too: the rotated users stay.
    write(auth, f"{USER}:{PASSWORD}\n")
    agent.p.send_signal(signal.SIGHUP)
    chk.true("bad users file: the log names it, line 1",
             wait_log(log, f"{auth}:1: user '{USER}': the password must be given as sha256"))
    s = parse_metrics(scraper.get(password=NEW_PASSWORD)[2])
    chk.eq("bad users file: counted as an error", value(s, "reqacct_config_reloads_total",
                                                        result="error"), 2)
    chk.eq("bad users file: the new password still works", scraper.get(password=NEW_PASSWORD)[0], 200)
    with open(log) as f:
        text = f.read()
    chk.true("no password in the agent's log", PASSWORD not in text and NEW_PASSWORD not in text)
    chk.true("the agent is still running", agent.p.poll() is None)


def wait_ok(scraper, password, timeout=10):
    """reqacct_config_reloads_total{result="ok"} once the new password works."""
    end = time.time() + timeout
    while time.time() < end:
        status, _, body = scraper.get(password=password)
        if status == 200:
            v = value(parse_metrics(body), "reqacct_config_reloads_total", result="ok")
            if v:
                return v
        time.sleep(0.1)
    return 0


def main():
    require_root()
    require("openssl", "curl", "prometheus")
    with harness() as (chk, procs, cg):
        with tmpdir() as d:
            crt, key = make_cert(d)
            start_errors(chk, d, crt, key)
            auth, conf, log = (os.path.join(d, n) for n in ("users", "agent.conf", "agent.log"))
            write(auth, users(PASSWORD))
            base = (f"# reqacct test\nweb_tls_cert_file = {crt}\nweb_tls_key_file = {key}\n"
                    f"web_basic_auth_file = {auth}\n")
            write(conf, base + "k8s_top_clients = 50\n")
            # Go's probes only for a process name nobody has: this test
            # touches no other process.
            agent = Agent(procs, ["-c", conf, "--port", "18085", "--tls-comm", "reqacct-none"],
                          AGENT_PORT, log, cg.base)
            scraper = Scraper(crt)
            chk.eq("curl over https with the right password: 200",
                   int(curl_code(crt, "-u", f"{USER}:{PASSWORD}") or 0), 200)
            status, _, body = scraper.get()
            chk.true("the body holds the metrics", status == 200 and "reqacct_build_info" in body)
            chk.eq("curl with a wrong password: 401", int(curl_code(crt, "-u", f"{USER}:nope") or 0), 401)
            chk.eq("curl with a wrong user: 401",
                   int(curl_code(crt, "-u", f"someone:{PASSWORD}") or 0), 401)
            chk.eq("curl without credentials: 401", int(curl_code(crt) or 0), 401)
            status, hdr, _ = scraper.get(password=None)
            chk.true("401 carries WWW-Authenticate: Basic realm=\"reqacct\"",
                     status == 401 and hdr.get("WWW-Authenticate") == 'Basic realm="reqacct"',
                     f"{status} {hdr}")
            chk.eq("the index needs the password too", scraper.get("/", password=None)[0], 401)
            plain_http(chk, scraper)
            with socket.socket() as s:
                chk.true("bound to 127.0.0.1 only: 127.0.0.2 is refused",
                         s.connect_ex(("127.0.0.2", AGENT_PORT)) != 0)
            prometheus(chk, procs, d, crt)
            reload(chk, agent, scraper, conf, auth, log, base)


if __name__ == "__main__":
    main()
