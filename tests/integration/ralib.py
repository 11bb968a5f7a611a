# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Helpers for reqacct's root integration tests: test cgroups, processes
stopped by pid, the agent, nginx, Prometheus, and a parser of the text format.

Safety (shared/PLATFORM.md): cgroup and sockops attachments only to cgroups
made here, traffic only to loopback, every process stopped by its pid."""
import contextlib
import gzip
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The agent under test: REQACCT_BIN (make check-root-asan: the sanitized build), or the build.
REQACCT = os.environ.get("REQACCT_BIN") or os.path.join(ROOT, ".output", "reqacct")
START_S = float(os.environ.get("REQACCT_START_S", "15"))	# the agent's start (longer under valgrind)
# The plain build: its memory use is the product's (a sanitizer's or
# valgrind's is not, and memory checks are left out for them).
PLAIN_BUILD = not os.environ.get("REQACCT_BIN")
SKIP = 77


def skip_or_fail(why):
    """Outside CI a missing prerequisite skips (exit 77); under CI it fails."""
    if os.environ.get("CI") == "true":
        print(f"FAIL: {why} (CI=true: a test that cannot run fails)")
        sys.exit(1)
    print(f"SKIP: {why}")
    sys.exit(SKIP)


def require_root():
    if os.geteuid() != 0:
        skip_or_fail("needs root (BPF, cgroups)")


def require(*tools):
    for t in tools:
        if not shutil.which(t) and not os.path.exists(t):
            skip_or_fail(f"{t} not installed (make deps)")


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[0] == "cgroup2":
                return left.split()[4]
    skip_or_fail("no cgroup2 mount")


class Cgroups:
    """A test-owned cgroup v2 subtree: ROOT/reqacct-test-PID/{name...}."""

    def __init__(self, *names):
        self.mount = cgroup2_mount()
        self.base = os.path.join(self.mount, f"reqacct-test-{os.getpid()}")
        self.rel = self.base[len(self.mount):]
        os.makedirs(self.base, exist_ok=True)
        for n in names:
            os.makedirs(os.path.join(self.base, n), exist_ok=True)

    def path(self, name):
        return os.path.join(self.base, name)

    def label(self, name):
        """The cgroup label value the agent exports for a test cgroup."""
        return f"{self.rel}/{name}"

    def remove(self):
        for d in sorted((os.path.join(dp, n) for dp, dn, _ in os.walk(self.base) for n in dn),
                        key=len, reverse=True) + [self.base]:
            with contextlib.suppress(OSError):
                os.rmdir(d)


def children(pid):
    """The pids of a process's children (of its main thread)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


class Procs:
    """Processes started by a test, stopped by pid when it ends."""

    def __init__(self):
        self.procs = []

    def start(self, argv, cgroup=None, **kw):
        pre = None
        if cgroup:
            procs_file = os.path.join(cgroup, "cgroup.procs")

            def pre():
                with open(procs_file, "w") as f:
                    f.write(str(os.getpid()))
        p = subprocess.Popen(argv, preexec_fn=pre, **kw)
        self.procs.append(p)
        return p

    def run(self, argv, cgroup=None, timeout=60, **kw):
        p = self.start(argv, cgroup, **kw)
        p.wait(timeout=timeout)
        return p

    def stop(self, p, sig=signal.SIGTERM):
        if p.poll() is None:
            kids = children(p.pid)	# a wrapper's (strace's) program outlives it
            p.send_signal(sig)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            for pid in kids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def stop_all(self):
        for p in reversed(self.procs):
            self.stop(p)


def wait_port(port, host="127.0.0.1", timeout=15):
    import socket
    end = time.time() + timeout
    while time.time() < end:
        with socket.socket() as s:
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {host}:{port}")


def wait_listen(port, timeout=15):
    """Wait for a TCP listener on port without connecting to it (a probe
    connection would be counted by the agent and spoil exact counts)."""
    want = f":{port:04X} "
    end = time.time() + timeout
    while time.time() < end:
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table) as f:
                if any(want in l and l.split()[3] == "0A" for l in f):
                    return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def http_get(url, headers=None, timeout=10):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, dict(r.headers), r.read()


LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def unescape(v):
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "\\": "\\", '"': '"'}[m.group(1)], v)


def parse_metrics(text):
    """[(name, {labels}, value)] of a text-format exposition."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line)
        if not m:
            raise ValueError(f"bad exposition line: {line!r}")
        labels = {k: unescape(v) for k, v in LABEL.findall(m.group(3) or "")}
        out.append((m.group(1), labels, float(m.group(4))))
    return out


def value(samples, name, **labels):
    """Sum of the samples of name whose labels include labels."""
    return sum(v for n, l, v in samples if n == name and all(l.get(k) == str(x) for k, x in labels.items()))


def bpf_prog_names():
    import json
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, check=True).stdout
    return {p.get("name", "") for p in json.loads(out)}


def programs_left(timeout=5):
    """reqacct programs still loaded, after waiting up to timeout for the
    kernel to free them (it does so asynchronously after the last fd closes)."""
    end = time.time() + timeout
    while True:
        left = {n for n in bpf_prog_names() if n.startswith("ra_")}
        if not left or time.time() > end:
            return left
        time.sleep(0.1)


class Agent:
    """The agent, its cgroup programs (DNS, sockops) attached to cgroup, a
    directory the test made (never the root: PLATFORM.md safety rules)."""

    def __init__(self, procs, args, port, log, cgroup):
        self.port = port
        self.log = open(log, "w")
        self.p = procs.start([REQACCT, "agent", "--listen", f"127.0.0.1:{port}",
                              "--cgroup", cgroup] + args,
                             stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_port(port, timeout=START_S)
        except RuntimeError:
            self.log.flush()
            with open(log) as f:
                tail = f.read()[-3000:]
            raise RuntimeError(f"the agent did not start (exit {self.p.poll()}); its log ends:\n{tail}")

    def text(self):
        return http_get(f"http://127.0.0.1:{self.port}/metrics")[2].decode()

    def samples(self):
        return parse_metrics(self.text())


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format acct '$remote_addr $server_port $request_length $bytes_sent $status $request_method';
    access_log {dir}/access.log acct;
    log_format req '$request_method $status $body_bytes_sent $request_uri $server_protocol $http_user_agent';
    access_log {dir}/requests.log req;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_timeout {keepalive};
    server {{
        listen 127.0.0.1:{port} {ssl};
        listen [::1]:{port} {ssl};
        {tls}
        root {dir}/www;
        location /upload {{ dav_methods PUT; client_max_body_size 1m; }}
    }}
}}
"""


def www_files(d, **sizes):
    """Files of random bytes, of the given sizes, for nginx to serve from d."""
    os.makedirs(os.path.join(d, "www"), exist_ok=True)
    for name, size in sizes.items():
        with open(os.path.join(d, "www", name), "wb") as f:
            f.write(os.urandom(size))


def gotls_fixture():
    """The stripped Go 1.19 fixture (tests/fixtures/gotls), built if needed
    by tests/tools/build-gotls.sh; skips (fails under CI) without Go 1.19."""
    out = os.path.join(ROOT, ".output", "tests", "gotls")
    r = subprocess.run([os.path.join(ROOT, "tests/tools/build-gotls.sh"), out])
    if r.returncode == 77:
        skip_or_fail("Go 1.19 is not installed (golang-1.19-go): no Go fixture server")
    if r.returncode:
        raise RuntimeError("tests/tools/build-gotls.sh failed")
    return os.path.join(out, "static")


def kubeapi_fixture():
    """The apiserver-like HTTP/2 fixture (tests/fixtures/kubeapi, built with
    golang.org/x/net/http2 by tests/tools/build-gotls.sh)."""
    path = os.path.join(os.path.dirname(gotls_fixture()), "kubeapi")
    if not os.path.exists(path):
        skip_or_fail("golang-golang-x-net-dev is not installed (make deps): no HTTP/2 fixture")
    return path


class KubeLog:
    """The kubeapi fixture's request log: one line per request when its
    handler returned, "PROTO METHOD STATUS BODYBYTES REMOTE URI UA=...";
    entries() are the (ua product, method, code, bytes, uri) after a mark."""

    def __init__(self, path):
        self.path, self.pos = path, 0

    def mark(self):
        self.pos = os.path.getsize(self.path) if os.path.exists(self.path) else 0

    def entries(self, want=0, timeout=10):
        end = time.time() + timeout
        while True:
            with open(self.path) as f:
                f.seek(self.pos)
                lines = f.read().splitlines()
            if len(lines) >= want or time.time() > end:
                break
            time.sleep(0.1)
        out = []
        for line in lines:
            head, _, ua = line.partition(" UA=")
            _, method, code, size, _, uri = head.split(" ")
            out.append((ua.split(" ")[0], method, int(code), int(size), uri))
        return out


NONRESOURCE = {"api": "/api", "apis": "/apis"}


def k8s_info(method, uri):
    """What the apiserver's rules make of a request to the kubeapi fixture
    (its paths only): (verb, group, version, resource, subresource, scope)
    or (verb, path class) for a non-resource request. Written from
    requestinfo.go for this test, apart from the agent's resolver."""
    path, _, query = uri.partition("?")
    parts = [p for p in path.split("/") if p]
    watch = any(kv in ("watch=true", "watch=1") for kv in query.split("&"))
    if parts[:1] == ["api"] and len(parts) >= 3:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        if len(parts) == 2 and parts[0] == "api":
            cls = "/api/{version}"
        elif len(parts) == 3 and parts[0] == "apis":
            cls = "/apis/{group}/{version}"
        else:
            cls = NONRESOURCE.get("/".join(parts), path)
        return (method.lower(), cls)
    ns = ""
    if len(rest) >= 3 and rest[0] == "namespaces":
        ns, rest = rest[1], rest[2:]
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    verb = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}[method]
    if not name and method == "GET":
        verb = "watch" if watch else "list"
    elif not name and method == "DELETE":
        verb = "deletecollection"
    return (verb, group, version, rest[0], sub, "namespace" if ns else "cluster")


K8S_LABELS = ("verb", "group", "version", "resource", "subresource", "scope")


def k8s_rows(samples, **who):
    """{(verb, group, version, resource, subresource, scope, code) or (verb,
    path, code): (requests, response bytes)} of the reqacct_k8s_* rows
    whose labels include who."""
    import collections
    out = collections.defaultdict(lambda: [0, 0])
    for name, l, v in samples:
        if not all(l.get(k) == x for k, x in who.items()):
            continue
        if name in ("reqacct_k8s_requests_total", "reqacct_k8s_response_bytes_total"):
            out[tuple(l[k] for k in K8S_LABELS) + (l["code"],)][name.endswith("bytes_total")] += v
        elif name == "reqacct_k8s_nonresource_requests_total":
            out[(l["verb"], l["path"], l["code"])][0] += v
    return {k: tuple(v) for k, v in out.items()}


def k8s_expected(reqs, code=None, sizes=True):
    """The same from a server's log, [(method, status, body bytes, target)]
    (code: the code every request is expected with instead of its own)."""
    import collections
    out = collections.defaultdict(lambda: [0, 0])
    for method, status, size, uri in reqs:
        info = k8s_info(method, uri)
        e = out[info + (code or str(status),)]
        e[0] += 1
        e[1] += size if sizes and len(info) > 2 else 0
    return {k: tuple(v) for k, v in out.items()}


class DrivenClient:
    """kubeapi's client mode: one HTTP/2 connection (x/net/http2), requests
    sent one at a time, each answered before send() returns."""

    def __init__(self, procs, kubeapi, url, ua, cgroup):
        self.p = procs.start([kubeapi, "client", url, ua], cgroup, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, bufsize=1)

    def send(self, method, path, body=None):
        self.p.stdin.write(f"{method} {path}{' ' + body if body else ''}\n")
        self.p.stdin.flush()
        status, size = self.p.stdout.readline().split()
        return int(status), int(size)

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=10)


def make_cert(d):
    key, crt = os.path.join(d, "key.pem"), os.path.join(d, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=localhost",
                    "-days", "2", "-keyout", key, "-out", crt],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return key, crt


def start_nginx(procs, d, port, cgroup, tls=False, keepalive=0, http2=False):
    os.makedirs(os.path.join(d, "www", "upload"), exist_ok=True)
    os.chmod(os.path.join(d, "www", "upload"), 0o777)	# PUT by the worker (nobody)
    tlsconf = ""
    if tls:
        key, crt = make_cert(d)
        tlsconf = f"ssl_certificate {crt}; ssl_certificate_key {key};"
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(NGINX_CONF.format(dir=d, port=port, ssl=("ssl http2" if http2 else "ssl") if tls else "",
                                  tls=tlsconf,
                                  keepalive=keepalive))
    p = procs.start(["nginx", "-c", os.path.join(d, "nginx.conf"), "-e", os.path.join(d, "error.log")],
                    cgroup=cgroup)
    wait_listen(port)
    return p


def access_log_full(d):
    """[(remote_addr, request_length, bytes_sent, status, method)] of an nginx started here."""
    out = []
    with open(os.path.join(d, "access.log")) as f:
        for line in f:
            addr, _, req, sent, status, method = line.split()
            out.append((addr, int(req), int(sent), int(status), method))
    return out


def access_log(d):
    """[(remote_addr, request_length, bytes_sent)] of an nginx started here."""
    out = []
    with open(os.path.join(d, "access.log")) as f:
        for line in f:
            addr, _, req, sent, _, _ = line.split()
            out.append((addr, int(req), int(sent)))
    return out


class Check:
    """Counts assertions; prints each failure with what was expected."""

    def __init__(self):
        self.passed = self.failed = 0

    def eq(self, what, got, want):
        if got == want:
            self.passed += 1
            print(f"  ok   {what}: {got:g}")
        else:
            self.failed += 1
            print(f"  FAIL {what}: got {got:g}, want {want:g}")

    def true(self, what, cond, detail=""):
        if cond:
            self.passed += 1
            print(f"  ok   {what}")
        else:
            self.failed += 1
            print(f"  FAIL {what} {detail}")

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)


@contextlib.contextmanager
def harness(*cgroups):
    """A test's checks, processes and test cgroups: on the way out every
    process is stopped by its pid and the cgroups removed; then the verdict
    (the exit status) unless the test raised."""
    chk, procs, cg = Check(), Procs(), Cgroups(*cgroups)
    try:
        yield chk, procs, cg
    finally:
        procs.stop_all()
        cg.remove()
    chk.finish()


def check_promtool(chk, text):
    """promtool's own check of an exposition."""
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    chk.true("promtool check metrics passes", r.returncode == 0, r.stdout + r.stderr)


@contextlib.contextmanager
def tmpdir():
    d = tempfile.mkdtemp(prefix="reqacct-test-")
    os.chmod(d, 0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)
