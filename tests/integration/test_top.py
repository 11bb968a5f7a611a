#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""reqacct top, driven inside tmux (send-keys, capture-pane), reading an
agent over the kubeapi fixture (golang.org/x/net/http2) with known traffic:
a "kubelet" sending many small requests, a "lister" few large lists. What
the screen shows: the top row by requests/s, the top row after a sort
change to bytes/s, a filter, a drill-down, the help screen, a resize; then
the incident: kubelets renew leases, DaemonSet pods start listing every
pod, and the spike explanation names the culprit (their user agent, verb
and resource) and nothing of the kubelets within 10 s. --once and --json
print the same rows for scripts."""
import json
import os
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ralib import (Agent, Cgroups, Check, DrivenClient, Procs, REQACCT, kubeapi_fixture,  # noqa: E402
                   make_cert, require, require_root, tmpdir, wait_port)

PORT, AGENT_PORT = 18500, 19530
TMUX = ["tmux", "-L", f"reqacct-test-{os.getpid()}"]


def loop(c, stop, reqs, pause):
    while not stop.is_set():
        for method, path, body in reqs:
            c.send(method, path, body)
        time.sleep(pause)


class Screen:
    def __init__(self, procs, cmd, cols=160, rows=40):
        subprocess.run(TMUX + ["new-session", "-d", "-s", "top", "-x", str(cols), "-y", str(rows),
                               " ".join(cmd)], check=True, env=dict(os.environ, TERM="xterm"))

    def keys(self, *k):
        subprocess.run(TMUX + ["send-keys", "-t", "top"] + list(k), check=True)
        time.sleep(0.3)

    def text(self):
        return subprocess.run(TMUX + ["capture-pane", "-p", "-t", "top"], capture_output=True,
                              text=True).stdout

    def lines(self):
        return [l.rstrip() for l in self.text().splitlines()]

    def rows(self):
        """The table's rows: the lines after the column header, up to a blank one."""
        ls = self.lines()
        start = next((i + 1 for i, l in enumerate(ls) if "REQ/s" in l or "SENT B/s" in l), len(ls))
        out = []
        for l in ls[start:]:
            if not l.strip() or l.startswith("--") or l.startswith("?:"):
                break
            out.append(l)
        return out

    def wait(self, pred, timeout=8):
        end = time.time() + timeout
        while time.time() < end:
            if pred(self):
                return True
            time.sleep(0.25)
        return False

    def close(self):
        subprocess.run(TMUX + ["kill-server"], capture_output=True)


def main():
    require_root()
    require("tmux")
    kubeapi = kubeapi_fixture()
    chk, procs = Check(), Procs()
    cg = Cgroups("srv", "kubelet", "lister", *[f"kubelet-{i}" for i in range(4)], *[f"ds-{i}" for i in range(3)])
    screen, stop, threads = None, threading.Event(), []
    try:
        with tmpdir() as d:
            key, crt = make_cert(d)
            url = f"https://127.0.0.1:{PORT}"
            srv = os.path.join(d, "apisrv")
            shutil.copy(kubeapi, srv)
            procs.start([srv, f"127.0.0.1:{PORT}", crt, key, os.path.join(d, "srv.log"), "3000"], cg.path("srv"))
            wait_port(PORT)
            Agent(procs, ["--port", str(PORT), "--k8s-port", str(PORT)], AGENT_PORT, os.path.join(d, "agent.log"),
                  cg.base)
            frm = f"http://127.0.0.1:{AGENT_PORT}/metrics"
            kubelet = DrivenClient(procs, srv, url, "kubelet/v1.30.1", cg.path("kubelet"))
            lister = DrivenClient(procs, srv, url, "lister/v0.1", cg.path("lister"))
            for c, reqs, pause in [(kubelet, [("GET", "/api/v1/nodes/node-1", None)], 0.02),
                                   (lister, [("GET", "/api/v1/pods", None)], 0.5)]:
                threads.append(threading.Thread(target=loop, args=(c, stop, reqs, pause)))
                threads[-1].start()

            r = subprocess.run([REQACCT, "top", "--from", frm, "--once", "--json", "--interval", "2"],
                               capture_output=True, text=True, timeout=30)
            rows = json.loads(r.stdout)["rows"] if r.returncode == 0 else []
            chk.true("--once --json: the kubelet first by requests/s",
                     rows and rows[0]["user_agent"] == "kubelet/v1.30.1" and rows[0]["verb"] == "get",
                     r.stdout + r.stderr)
            r = subprocess.run([REQACCT, "top", "--from", frm, "--once", "--sort", "2", "--interval", "2"],
                               capture_output=True, text=True, timeout=30)
            lines = r.stdout.splitlines()
            chk.true("--once --sort 2: text, the lister first by bytes/s",
                     len(lines) > 2 and "lister/v0.1" in lines[1] and "list pods" in lines[1], r.stdout)
            r = subprocess.run([REQACCT, "top", "--from", "http://127.0.0.1:1/metrics", "--once"],
                               capture_output=True, text=True, timeout=30)
            chk.true("an agent that is not there: a clear error",
                     r.returncode == 1 and "127.0.0.1:1/metrics: Connection refused" in r.stderr, r.stderr)
            r = subprocess.run([REQACCT, "top", "--from", "http://localhost:9464/metrics", "--once"],
                               capture_output=True, text=True, timeout=30)
            chk.true("a name instead of an address: refused, no lookup",
                     r.returncode == 1 and "must be numeric" in r.stderr, r.stderr)

            r = subprocess.run([REQACCT, "top", "--standalone", "--once", "--json", "--interval", "2", "--",
                                "--port", str(PORT), "--k8s-port", str(PORT), "--cgroup", cg.base],
                               capture_output=True, text=True, timeout=60)
            rows = json.loads(r.stdout)["rows"] if r.returncode == 0 and r.stdout else []
            chk.true("--standalone: its own agent sees the kubelet and the lister",
                     {x["user_agent"] for x in rows} == {"kubelet/v1.30.1", "lister/v0.1"}, r.stdout + r.stderr)
            chk.true("--standalone: its agent is gone after it",
                     subprocess.run(["pgrep", "-f", f"agent --listen 127\\.0\\.0\\.1:[0-9]+ --port {PORT}"],
                                    capture_output=True).returncode == 1)
            dumb = subprocess.run(TMUX + ["new-session", "-d", "-s", "dumb", "-x", "120", "-y", "30",
                                          f"TERM=dumb {REQACCT} top --from {frm}"], env=dict(os.environ, TERM="xterm"))
            time.sleep(3.5)
            text = subprocess.run(TMUX + ["capture-pane", "-p", "-t", "dumb"], capture_output=True, text=True).stdout
            subprocess.run(TMUX + ["kill-session", "-t", "dumb"], capture_output=True)
            chk.true("TERM=dumb: plain tables, one per second", dumb.returncode == 0 and
                     text.count("client/user_agent/verb/resource") >= 2 and "kubelet/v1.30.1" in text, text)

            screen = Screen(procs, [REQACCT, "top", "--from", frm])
            chk.true("screen: the kubelet's row on top (requests/s)",
                     screen.wait(lambda s: s.rows() and "kubelet/v1.30.1" in s.rows()[0]), screen.text())
            screen.keys(">")
            chk.true("screen: '>' sorts by response bytes/s: the lister on top",
                     screen.wait(lambda s: s.rows() and "lister/v0.1" in s.rows()[0] and "RESP B/sv" in s.text()),
                     screen.text())
            screen.keys("/", "lister", "Enter")
            chk.true("screen: a filter keeps the lister's rows only",
                     screen.wait(lambda s: s.rows() and all("lister" in l for l in s.rows()) and
                                 "filter: lister" in s.text()), screen.text())
            screen.keys("Enter")
            chk.true("screen: Enter drills into the row (group by the other dimensions)",
                     screen.wait(lambda s: "user_agent=lister/v0.1, verb=list, resource=pods" in s.text() and
                                 "group: code/scope" in s.text() and s.rows() and "200 cluster" in s.rows()[0]),
                     screen.text())
            screen.keys("BSpace", "/", "Enter")
            chk.true("screen: Backspace leaves the drill-down, an empty filter none",
                     screen.wait(lambda s: len(s.rows()) >= 2 and "in: " not in s.text()), screen.text())
            screen.keys("?")
            chk.true("screen: '?' shows the help", screen.wait(lambda s: "reqacct top: keys" in s.text()),
                     screen.text())
            screen.keys("x")
            subprocess.run(TMUX + ["resize-window", "-t", "top", "-x", "90", "-y", "20"], check=True)
            chk.true("screen: redrawn at 90 columns after a resize",
                     screen.wait(lambda s: s.rows() and max(len(l) for l in s.lines()) <= 90 and
                                 "reqacct top - apiserver" in s.text()), screen.text())
            subprocess.run(TMUX + ["resize-window", "-t", "top", "-x", "160", "-y", "40"], check=True)

            # the incident: steady kubelets, then DaemonSet pods listing every pod
            stop.set()
            for t in threads:
                t.join()
            stop, threads = threading.Event(), []
            for i in range(4):
                c = DrivenClient(procs, srv, url, "kubelet/v1.30.1", cg.path(f"kubelet-{i}"))
                threads.append(threading.Thread(target=loop, args=(
                    c, stop, [("PUT", f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-{i}",
                               '{"spec":{}}'), ("GET", f"/api/v1/nodes/node-{i}", None)], 0.1)))
                threads[-1].start()
            screen.keys("e")	# explain the sort column: response bytes/s
            time.sleep(14)	# the baseline (8 s lag + 3 s + reading)
            chk.true("screen: no spike, nothing named",
                     "node-agent" not in screen.text() and "what explains the change of RESP B/s" in screen.text(),
                     screen.text())
            for i in range(3):
                c = DrivenClient(procs, srv, url, "node-agent/v2.3.1", cg.path(f"ds-{i}"))
                threads.append(threading.Thread(target=loop, args=(c, stop, [("GET", "/api/v1/pods", None)], 0.2)))
                threads[-1].start()
            start = time.time()

            seen = []

            def named(s):
                expl = s.text().split("what explains the change", 1)[-1]
                seen.append(expl)
                return ("user_agent=node-agent/v2.3.1" in expl and "verb=list" in expl and
                        "resource=pods" in expl)
            ok = screen.wait(named, timeout=10)
            expl = seen[-1]
            chk.true(f"the spike explained within 10 s ({time.time() - start:.1f} s): the culprit's user agent, "
                     "verb and resource", ok, seen[-1] if seen else "")
            chk.true("and only the culprit: nothing of the kubelets",
                     not any(w in expl for w in ("kubelet", "verb=update", "verb=get", "leases", "nodes")), expl)
            screen.keys("q")
            chk.true("screen: 'q' quits", screen.wait(lambda s: subprocess.run(
                TMUX + ["has-session", "-t", "top"], capture_output=True).returncode != 0, timeout=5))
    finally:
        stop.set()
        for t in threads:
            t.join()
        if screen:
            screen.close()
        procs.stop_all()
        cg.remove()
    chk.finish()


if __name__ == "__main__":
    main()
