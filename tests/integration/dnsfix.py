# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Fixtures for reqacct's DNS integration tests: a test-owned network
namespace with its own resolv.conf, an authoritative-only unbound inside it
(with exact query statistics), Go's own resolver as a client, and dnsperf.

Safety (shared/PLATFORM.md): all DNS traffic stays inside a network namespace
made here, which has only `lo` (no route anywhere); unbound answers test. from
local data and refuses every other name, so it never recurses; every process
is started through ralib.Procs and stopped by its pid."""
import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time

from ralib import ROOT

GO = "/usr/lib/go-1.19/bin/go"
GORESOLVE_SRC = os.path.join(ROOT, "tests", "fixtures", "goresolve")

DEFAULT_RESOLV = "nameserver 127.0.0.1\nsearch a.test b.test test\noptions ndots:5 attempts:1 timeout:2\n"


def _run(argv, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


class Netns:
    """A network namespace reqacct-dns-PID with `lo` up and its own
    /etc/resolv.conf (iproute2's `ip netns exec` bind-mounts
    /etc/netns/NAME/resolv.conf over /etc/resolv.conf).

    Use as `with Netns(resolv) as ns:` or ns = Netns(resolv); ns.create(); ...;
    ns.remove(). A stale namespace of the same name (a crashed run) is removed
    first. Processes started with ns.argv(...) must be stopped before remove()
    (the name goes away at once; the namespace lives while a process is in it)."""

    def __init__(self, resolv_conf=DEFAULT_RESOLV, name=None):
        self.name = name or f"reqacct-dns-{os.getpid()}"
        self.resolv_conf = resolv_conf
        self.etc = os.path.join("/etc/netns", self.name)

    def create(self):
        self.remove()
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        subprocess.run(self.argv(["ip", "link", "set", "lo", "up"]), check=True)
        os.makedirs(self.etc, exist_ok=True)
        with open(os.path.join(self.etc, "resolv.conf"), "w") as f:
            f.write(self.resolv_conf)
        return self

    def argv(self, cmd):
        return ["ip", "netns", "exec", self.name] + list(cmd)

    def remove(self):
        if os.path.exists(os.path.join("/run/netns", self.name)):
            subprocess.run(["ip", "netns", "delete", self.name], check=False)
        shutil.rmtree(self.etc, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.rmdir("/etc/netns")  # only if empty: made by us or left empty

    def __enter__(self):
        return self.create()

    def __exit__(self, *exc):
        self.remove()


UNBOUND_CONF = """server:
    verbosity: 1
    directory: "{d}"
    chroot: ""
    username: ""
    do-daemonize: no
    use-syslog: no
    logfile: "{d}/unbound.log"
    log-time-ascii: yes
    log-queries: {logq}
    log-replies: {logq}
    pidfile: "{d}/unbound.pid"
    num-threads: 1
    interface: 127.0.0.1
    port: 53
    do-ip4: yes
    do-ip6: no
    do-udp: yes
    do-tcp: yes
    so-reuseport: no
    access-control: 127.0.0.0/8 allow
    module-config: "iterator"
    do-not-query-localhost: yes
    prefetch: no
    extended-statistics: yes
    statistics-interval: 0
    statistics-cumulative: no
    # Authoritative for test. only: names without local-data get NXDOMAIN,
    # other types of a name with data get NOERROR/NODATA (no SOA).
    local-zone: "test." static
{data}    # Everything else is refused: unbound never iterates (the namespace
    # has no route anyway).
    local-zone: "." refuse

remote-control:
    control-enable: yes
    control-interface: "{d}/ctl.sock"
    control-use-cert: no
"""


class Unbound:
    def __init__(self, p, conf, d):
        self.p, self.pid, self.conf, self.dir = p, p.pid, conf, d
        self.log = os.path.join(d, "unbound.log")

    def control(self, *args, check=True):
        r = _run(["unbound-control", "-c", self.conf] + list(args))
        if check and r.returncode != 0:
            raise RuntimeError(f"unbound-control {' '.join(args)}: {r.stdout}{r.stderr}")
        return r

    def stats(self):
        """{name: number} of `unbound-control stats_noreset`, e.g.
        total.num.queries, num.query.type.A, num.query.type.AAAA,
        num.answer.rcode.NOERROR / NXDOMAIN / REFUSED, num.answer.rcode.nodata,
        num.query.udpout... (counts since start() or the last reset())."""
        out = {}
        for line in self.control("stats_noreset").stdout.splitlines():
            k, sep, v = line.partition("=")
            if not sep:
                continue
            try:
                out[k] = int(v)
            except ValueError:
                out[k] = float(v)
        return out

    def reset(self):
        """Zero the statistics (statistics-cumulative is off, so
        `unbound-control stats` resets the counters)."""
        self.control("stats")

    def replies(self):
        """[(client, qname, qtype, rcode)] from the log-replies lines of the
        log (only with start_unbound(..., log=True)). qname has its final dot;
        rcode of a NODATA answer is NOERROR."""
        out = []
        pat = re.compile(r"info: (\S+) (\S+) (\S+) IN (\S+) [0-9.]+ \d+ \d+")
        with open(self.log) as f:
            for line in f:
                m = pat.search(line)
                if m:
                    out.append(m.groups())
        return out


def start_unbound(procs, d, ns, cgroup, zone, log=True, timeout=15):
    """Start unbound in netns ns (listening on 127.0.0.1:53 there) in cgroup,
    authoritative for test. with zone {name: IPv4} as A records; names under
    test. not in zone get NXDOMAIN, names outside test. get REFUSED, nothing
    is ever forwarded or iterated.

    Readiness: waits for `unbound-control status` (the control socket; sends
    no DNS query), then checks one `dig @127.0.0.1 ready.test. A` answers
    (NXDOMAIN), then resets the statistics. That warm-up dig IS counted by
    unbound (total.num.queries 1, NXDOMAIN 1), so the reset is what makes
    counts exact: on return stats() are all zero and count only the
    queries of the test. Call reset() to zero them again between steps.

    log=True writes log-queries/log-replies lines to d/unbound.log (see
    Unbound.replies()); each line is written (flushed) before the reply is
    sent. Returns an Unbound with .pid, .stats(), .reset(), .replies()."""
    data = "".join(f'    local-data: "{name.rstrip(".")}. 60 IN A {addr}"\n'
                   for name, addr in zone.items())
    conf = os.path.join(d, "unbound.conf")
    with open(conf, "w") as f:
        f.write(UNBOUND_CONF.format(d=d, data=data, logq="yes" if log else "no"))
    r = _run(["unbound-checkconf", conf])
    if r.returncode != 0:
        raise RuntimeError(f"unbound-checkconf: {r.stdout}{r.stderr}")
    p = procs.start(ns.argv(["unbound", "-d", "-c", conf]), cgroup=cgroup,
                    stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "unbound.stderr"), "w"))
    u = Unbound(p, conf, d)
    end = time.time() + timeout
    while u.control("status", check=False).returncode != 0:
        if p.poll() is not None:
            raise RuntimeError(f"unbound exited {p.returncode}: see {d}/unbound.log, unbound.stderr")
        if time.time() > end:
            raise RuntimeError("unbound did not start")
        time.sleep(0.1)
    r = _run(ns.argv(["dig", "+time=2", "+tries=1", "@127.0.0.1", "-p", "53", "ready.test.", "A"]))
    if "status: NXDOMAIN" not in r.stdout:
        raise RuntimeError(f"unbound does not answer: {r.stdout}{r.stderr}")
    u.reset()
    return u


def build_goresolve(outdir):
    """Build tests/fixtures/goresolve (Go's own resolver, CGO_ENABLED=0,
    -tags netgo) into outdir/goresolve with Go 1.19, offline; reuse a binary
    newer than its sources. Returns the binary path."""
    out = os.path.join(outdir, "goresolve")
    srcs = [os.path.join(GORESOLVE_SRC, f) for f in ("main.go", "go.mod")]
    if os.path.exists(out) and os.path.getmtime(out) >= max(map(os.path.getmtime, srcs)):
        return out
    os.makedirs(outdir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="reqacct-go-")
    try:
        env = dict(os.environ, GOCACHE=os.path.join(tmp, "cache"), GOPATH=os.path.join(tmp, "path"),
                   GOPROXY="off", GOFLAGS="", GO111MODULE="on", CGO_ENABLED="0")
        r = _run([GO, "build", "-tags", "netgo", "-o", out, "."], cwd=GORESOLVE_SRC, env=env)
        if r.returncode != 0:
            raise RuntimeError(f"go build goresolve: {r.stdout}{r.stderr}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def write_queryfile(path, entries):
    """A dnsperf data file: one `NAME TYPE` line per (name, qtype)."""
    with open(path, "w") as f:
        for name, qtype in entries:
            f.write(f"{name} {qtype}\n")
    return path


def _read_queryfile(path):
    with open(path) as f:
        return [l.strip() for l in f if l.strip() and not l.lstrip().startswith(";")]


def run_dnsperf(procs, ns, cgroup, server, queryfile, count, rate, timeout=5):
    """Run dnsperf (UDP, one client, one thread) in netns ns and cgroup
    against server:53, sending exactly count queries at most rate per second:
    the queries of queryfile are repeated or cut to count lines in a copy and
    sent once (-n 1). Returns {queries_sent, queries_completed, queries_lost,
    rcodes: {RCODE: n}, output}."""
    lines = _read_queryfile(queryfile)
    if not lines:
        raise ValueError(f"{queryfile}: no queries")
    exact = queryfile + f".{count}"
    with open(exact, "w") as f:
        for i in range(count):
            f.write(lines[i % len(lines)] + "\n")
    argv = ["dnsperf", "-s", server, "-p", "53", "-m", "udp", "-c", "1", "-T", "1",
            "-d", exact, "-n", "1", "-Q", str(rate), "-t", str(timeout)]
    p = procs.start(ns.argv(argv), cgroup=cgroup, stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT, text=True)
    out, _ = p.communicate(timeout=count / max(rate, 1) + timeout + 60)
    if p.returncode != 0:
        raise RuntimeError(f"dnsperf exited {p.returncode}: {out}")
    res = {"rcodes": {}, "output": out}
    for key, pat in (("queries_sent", r"Queries sent:\s+(\d+)"),
                     ("queries_completed", r"Queries completed:\s+(\d+)"),
                     ("queries_lost", r"Queries lost:\s+(\d+)")):
        m = re.search(pat, out)
        if not m:
            raise RuntimeError(f"dnsperf output lacks {key}: {out}")
        res[key] = int(m.group(1))
    m = re.search(r"Response codes:\s+(.*)", out)
    if m:
        for code, n in re.findall(r"([A-Z]+) (\d+)", m.group(1)):
            res["rcodes"][code] = int(n)
    return res
