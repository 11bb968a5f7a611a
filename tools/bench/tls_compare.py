#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""reqacct against the usual approach, on TLS servers: each workload is run
with no tracer (off), with reqacct, and with bench-naive (tools/bench/naive:
a model of what Pixie, ecapture and Beyla-style tracers do, entry and return
probes on every TLS read and write with the plaintext streamed to user
space through a ring buffer; not those tools), interleaved in rounds, fixed
request counts, medians over rounds of the ratios to off in the same round.

Workloads (--workloads, comma-separated):
  nginx-h1    nginx (1 worker, OpenSSL), HTTPS keep-alive, HTTP/1.1, 1 KiB;
              reqacct default (its OpenSSL probes are opt-in: nginx's TLS is
              not probed, only TCP accounting applies) and --tls openssl
  nginx-h2    the same over HTTP/2 (ALPN h2)
  go-h1       the stripped Go 1.19 fixture server (tests/fixtures/gotls),
              HTTP/1.1 over TLS, 1 KiB; reqacct --tls go, server probed only
  kubeapi-h2  the kubeapi fixture (x/net/http2, as kube-apiserver), a small
              GET over HTTP/2; reqacct with the port a Kubernetes API port
Modes (--modes): saturation (hey -c 8, -h2 for HTTP/2: requests/s, server
CPU per request) and rate (h2load --rps, 8 connections, at fixed rates,
--rates, by default 2000 req/s, below every configuration's saturation
here: p50 and p99 latency from h2load's per-request log). For the agent's
CPU at 5000 req/s: --modes rate --rates 5000 --workloads nginx-h1,go-h1. Each
run also measures the tracer process's own CPU (utime+stime over the run):
per request and as a share of one core. Each run waits until no other
reqacct agent (another engineer's test) has run for 15 s; runs that
overlapped one anyway are counted at the end.

  tools/bench/tls_compare.py [--pairs N] [--requests N] [--rate-seconds S]
                             [--workloads LIST] [--modes LIST] [--rates R,...] [--wait S]

Not a test: numbers go to BENCHMARKS.md. Needs root, nginx, hey, h2load
(nghttp2-client), Go 1.19 and golang-golang-x-net-dev (the fixtures), and
.output/bench-naive (make bench-naive)."""
import argparse
import os
import shutil
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ralib  # noqa: E402
from ralib import (Cgroups, Procs, gotls_fixture, kubeapi_fixture, make_cert, require,  # noqa: E402
                   require_root, start_nginx, tmpdir, wait_port, www_files)
from benchlib import (NAIVE, AgentRunner, Alone, NaiveRunner, compare_configs, h2load_stats,  # noqa: E402
                      hey, hey_stats, print_configs)

PORTS = {"nginx-h1": 18094, "nginx-h2": 18095, "go-h1": 18096, "kubeapi-h2": 18097}
GO_COMM, KUBE_COMM = "tlscmpgo", "tlscmpkube"	# --tls-comm: only these are probed
# nginx closes a keep-alive connection after 1000 requests, and h2load does
# not open another: lift the limit in the tests' nginx configuration.
ralib.NGINX_CONF = ralib.NGINX_CONF.replace("keepalive_timeout {keepalive};",
                                            "keepalive_timeout {keepalive}; keepalive_requests 10000000;")
assert "keepalive_requests" in ralib.NGINX_CONF


def nginx_worker(master):
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return int(out.split()[0])


def libssl_of(pid):
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            if "/libssl.so" in line:
                return line.split()[-1]
    raise RuntimeError(f"process {pid} maps no libssl")


class Server:
    """One workload's server: pid (whose CPU is counted), URL, whether it is
    HTTP/2, and the tracer configurations to compare."""

    def __init__(self, key, procs, cg, d):
        port = PORTS[key]
        self.key, self.h2 = key, key.endswith("h2")
        log = os.path.join(d, f"{key}.log")
        if key.startswith("nginx"):
            sub = os.path.join(d, key)
            www_files(sub, small=1024)
            master = start_nginx(procs, sub, port, cg.path("srv"), tls=True, keepalive=65, http2=self.h2)
            self.pid = nginx_worker(master.pid)
            self.url = f"https://127.0.0.1:{port}/small"
            self.name = f"nginx, HTTP/{'2' if self.h2 else '1.1'} over TLS, 1 KiB"
            agent = ["--port", str(port), "--tls-comm", "nginx"]
            self.configs = [
                ("reqacct (default)", ["--tls", "go", *agent]),
                ("reqacct --tls openssl", ["--tls", "openssl", *agent]),
                ("naive", ["--openssl", libssl_of(self.pid), "--pid", str(self.pid)]),
            ]
        else:
            key_pem, crt = make_cert(d)
            kube = key == "kubeapi-h2"
            comm = KUBE_COMM if kube else GO_COMM
            binary = os.path.join(d, comm)
            shutil.copy(kubeapi_fixture() if kube else gotls_fixture(), binary)
            if kube:
                argv = [binary, f"127.0.0.1:{port}", crt, key_pem, os.devnull, "1000"]
                self.url = f"https://127.0.0.1:{port}/api/v1/nodes/node-1"
                self.name = "kubeapi fixture, HTTP/2, small GET (147 B)"
                k8s = ["--k8s-port", str(port)]
            else:
                argv = [binary, "serve", f"127.0.0.1:{port}", crt, key_pem, "-"]
                self.url = f"https://127.0.0.1:{port}/bytes/1024"
                self.name = "Go fixture, HTTP/1.1 over TLS, 1 KiB"
                k8s = []
            with open(log, "w") as err:	# the fixtures log TLS handshake errors of clients
                self.pid = procs.start(argv, cg.path("srv"), stdout=err, stderr=err).pid
            wait_port(port)
            self.configs = [
                ("reqacct", ["--port", str(port), *k8s, "--tls", "go", "--tls-comm", comm]),
                ("naive", ["--go", binary, "--pid", str(self.pid)]),
            ]

    def runners(self, procs, cg, d):
        out = [("off", None)]
        for name, args in self.configs:
            if name == "naive":
                out.append((name, NaiveRunner(procs, args, os.path.join(d, "naive.log"))))
            else:
                out.append((name, AgentRunner(procs, args, cg.base, os.path.join(d, "agent.log"))))
        return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=5, help="rounds (each runs every configuration once)")
    ap.add_argument("--requests", type=int, default=20000, help="requests per saturation run")
    ap.add_argument("--rate-seconds", type=float, default=4, help="length of a fixed-rate run, s")
    ap.add_argument("--workloads", default=",".join(PORTS))
    ap.add_argument("--modes", default="saturation,rate")
    ap.add_argument("--rates", default="2000", help="fixed rates, req/s, comma-separated (default 2000: "
                    "below every configuration's saturation here)")
    ap.add_argument("--wait", type=int, default=600, help="longest wait for other agents to end, s (0: do not wait, count the overlaps)")
    args = ap.parse_args()
    keys = args.workloads.split(",")
    modes = args.modes.split(",")
    if set(keys) - set(PORTS) or set(modes) - {"saturation", "rate"}:
        ap.error(f"workloads: {', '.join(PORTS)}; modes: saturation, rate")
    require_root()
    require("nginx", "hey", "h2load", "openssl", NAIVE)
    procs, cg = Procs(), Cgroups("srv")
    alone = Alone(procs, args.wait)
    sat, fixed = [], []
    try:
        with tmpdir() as d:
            for key in keys:
                srv = Server(key, procs, cg, d)
                configs = srv.runners(procs, cg, d)
                hey_flags = ["-h2", "-c", "8"] if srv.h2 else ["-c", "8"]
                hey(2000, srv.url, hey_flags)	# warm-up
                if "saturation" in modes:
                    n = args.requests
                    work = lambda: hey_stats(n, srv.url, hey_flags)  # noqa: E731
                    sat.append((srv.name, compare_configs(configs, args.pairs, work, n, srv.pid, alone)))
                    print_configs("(so far) saturation", sat[-1:])
                for rate in map(int, args.rates.split(",")) if "rate" in modes else ():
                    n = int(rate * args.rate_seconds)
                    log = os.path.join(d, "h2load.log")
                    work = lambda: h2load_stats(n, srv.url, rate, log, h1=not srv.h2)  # noqa: E731
                    fixed.append((f"{srv.name}, {rate} req/s",
                                  compare_configs(configs, args.pairs, work, n, srv.pid, alone)))
                    print_configs("(so far) fixed rate", fixed[-1:], latency=True)
    finally:
        procs.stop_all()
        cg.remove()
    if sat:
        print_configs(f"Saturation: hey -c 8 (-h2: one connection), {args.requests} requests a run, "
                      f"{args.pairs} rounds, interleaved; ratios to off, medians", sat)
    if fixed:
        print_configs(f"Fixed rate: h2load --rps, 8 connections, {args.rate_seconds:g} s a run, "
                      f"{args.pairs} rounds, interleaved; ratios to off, medians", fixed, latency=True)
    print(f"\n{alone.spoilt} run(s) overlapped another reqacct agent" +
          (": run again" if alone.spoilt else ""))


if __name__ == "__main__":
    main()
