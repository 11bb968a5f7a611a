# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Load and measurements for reqacct at scale, shared by
tests/integration/test_scale.py (memory stays at the configured caps) and
tools/bench/scale.py (the table in BENCHMARKS.md).

The load is what an apiserver node sees as its cluster grows:
- clients(n): n more distinct client addresses (127.1.0.0/16 on, one HTTPS
  connection each, one HTTP/1.1 GET of a pod) to the kubeapi fixture on a
  Kubernetes port, from its storm mode (TLS sessions resumed);
- cgroups(n): n more cgroups, a process moving itself into each, which
  there sends a DNS query (to a test responder that answers NXDOMAIN) and
  makes one HTTPS request to the fixture, so every cgroup has client-side
  TCP, DNS and Kubernetes flows.
All on loopback; every cgroup under the test's own subtree (PLATFORM.md)."""
import os
import statistics
import subprocess
import time

from ralib import http_get, make_cert, parse_metrics, wait_listen

K8S_PORT, DNS_PORT = 18611, 18653
FIRST_CLIENT = (127, 1, 0, 0)	# storm client addresses count up from here
STORM_CONC = 16

# Answers every DNS query over UDP with NXDOMAIN (RFC 1035 4.1.1: QR set,
# RCODE 3, the question echoed).
RESPONDER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
print("ready", flush=True)
while True:
    q, a = s.recvfrom(512)
    if len(q) >= 12:
        s.sendto(q[:2] + bytes([0x81, 0x83]) + q[4:6] + b"\0\0\0\0\0\0" + q[12:], a)
"""

# Moves itself into BASE/c{FIRST}..c{FIRST+N-1} (made here), and in each
# sends one DNS query from a socket made there (waits for its answer) and one HTTPS GET (TLS session
# resumed); then back to BASE. Prints "ok DNS HTTPS".
WALKER = r"""
import os, socket, ssl, struct, sys
base, first, n, dns_port, k8s_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
sess, dns_ok, https_ok = None, 0, 0
me = str(os.getpid())
def move(d):
    with open(os.path.join(d, "cgroup.procs"), "w") as f:
        f.write(me)
for i in range(first, first + n):
    d = os.path.join(base, f"c{i}")
    os.mkdir(d)
    move(d)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)	# a socket is charged to the cgroup it was made in
    u.settimeout(2)
    name = b"".join(bytes([len(l)]) + l for l in (b"c%d" % i, b"scale", b"test")) + b"\0"
    u.sendto(struct.pack(">HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0) + name + b"\0\1\0\1", ("127.0.0.1", dns_port))
    try:
        u.recvfrom(512)
        dns_ok += 1
    except socket.timeout:
        pass
    u.close()
    with socket.create_connection(("127.0.0.1", k8s_port)) as t:
        t.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)	# no delayed-ACK stall
        with ctx.wrap_socket(t, session=sess) as c:
            c.sendall(b"GET /api/v1/nodes/node-1 HTTP/1.1\r\nHost: kubeapi\r\nUser-Agent: walker/v1\r\nConnection: close\r\n\r\n")
            while c.recv(65536):
                pass
            sess = c.session
            https_ok += 1
move(base)
print("ok", dns_ok, https_ok, flush=True)
"""


def address(a):
    """Dotted IPv4 of a 32-bit number."""
    return ".".join(str(a >> s & 255) for s in (24, 16, 8, 0))


class ScaleLoad:
    """The fixture server and DNS responder (started in the test cgroup
    cg.path("srv")), and the two kinds of load, cumulative."""

    def __init__(self, procs, cg, kubeapi, d):
        self.procs, self.cg, self.kubeapi, self.d = procs, cg, kubeapi, d
        self.nclients = self.ncgroups = 0
        self.log = os.path.join(d, "kubeapi.log")
        key, cert = make_cert(d)
        os.makedirs(cg.path("srv"), exist_ok=True)
        os.makedirs(cg.path("walk"), exist_ok=True)
        procs.start([kubeapi, f"127.0.0.1:{K8S_PORT}", cert, key, self.log, "10"], cg.path("srv"))
        self.dns = procs.start(["/usr/bin/python3", "-c", RESPONDER, str(DNS_PORT)], cg.path("srv"),
                               stdout=subprocess.PIPE, text=True)
        self.dns.stdout.readline()
        wait_listen(K8S_PORT)

    def agent_args(self):
        """The agent's options for this load: the fixture's port watched as
        a Kubernetes port, its Go TLS probed, the responder's DNS port."""
        return ["--port", str(K8S_PORT), "--k8s-port", str(K8S_PORT), "--tls", "go",
                "--tls-comm", "kubeapi", "--dns-port", str(DNS_PORT)]

    def clients(self, n, at=None):
        """n more client addresses, one request each (or n requests from
        the addresses from number at on, seen before); the number served."""
        a = (FIRST_CLIENT[0] << 24 | FIRST_CLIENT[1] << 16 | FIRST_CLIENT[2] << 8 | FIRST_CLIENT[3]) \
            + (self.nclients if at is None else at)
        r = subprocess.run([self.kubeapi, "storm", f"127.0.0.1:{K8S_PORT}", address(a), str(n),
                            str(STORM_CONC)], capture_output=True, text=True, timeout=600)
        f = r.stdout.split()
        if r.returncode or len(f) != 6 or f[3] != "0":
            raise RuntimeError(f"storm failed: {r.stdout} {r.stderr[-2000:]}")
        if at is None:
            self.nclients += n
        return int(f[1])

    def client_address(self, i):
        """The address of client number i."""
        return address((FIRST_CLIENT[0] << 24 | FIRST_CLIENT[1] << 16 | FIRST_CLIENT[2] << 8 |
                        FIRST_CLIENT[3]) + i)

    def cgroups(self, n):
        """n more cgroups with a process's DNS query and HTTPS request each."""
        p = self.procs.start(["/usr/bin/python3", "-c", WALKER, self.cg.path("walk"), str(self.ncgroups),
                              str(n), str(DNS_PORT), str(K8S_PORT)], self.cg.path("walk"),
                             stdout=subprocess.PIPE, text=True)
        out, _ = p.communicate(timeout=600)
        f = out.split()
        if p.returncode or len(f) != 3 or f[1:] != [str(n), str(n)]:
            raise RuntimeError(f"cgroup walker failed (exit {p.returncode}): {out}")
        self.ncgroups += n
        return n

    def served(self):
        """Requests in the fixture's log (each logged when its handler ended)."""
        with open(self.log) as f:
            return sum(1 for _ in f)


def map_bytes(pid):
    """BPF map memory of a process: the memlock of every map it holds open
    (fdinfo of its map fds; the kernel's own account of each map)."""
    total = 0
    fds = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(fds):
        try:
            with open(os.path.join(fds, fd)) as f:
                info = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
        except OSError:
            continue
        if "map_type" in info and "memlock" in info:
            total += int(info["memlock"])
    return total


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def measure(agent, scrapes=3):
    """RSS, peak RSS and RSS's anonymous and file parts (MiB; mapped BPF
    maps and rings are file pages), BPF map memory (MiB), the median time of a
    scrape (s), and the size (bytes) and sample count of /metrics."""
    times, body = [], b""
    for _ in range(scrapes):
        t = time.monotonic()
        body = http_get(f"http://127.0.0.1:{agent.port}/metrics")[2]
        times.append(time.monotonic() - t)
    text = body.decode()
    pid = agent.p.pid
    return {"rss": status_kib(pid, "VmRSS") / 1024, "hwm": status_kib(pid, "VmHWM") / 1024,
            "anon": status_kib(pid, "RssAnon") / 1024, "file": status_kib(pid, "RssFile") / 1024,
            "maps": map_bytes(pid) / 2**20, "scrape": statistics.median(times),
            "bytes": len(body), "samples": sum(1 for l in text.splitlines() if l and l[0] != "#"),
            "metrics": parse_metrics(text)}
