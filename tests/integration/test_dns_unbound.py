#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""DNS accounting against real resolvers and a real server, in a test network
namespace: unbound (authoritative for test.) in one cgroup; dig, the glibc
resolver (getent, with search a.test b.test and ndots:5), Go's own resolver
and dnsperf each in their own cgroup. For every client, the agent's query
counts by type and response counts by code equal unbound's own statistics
for that client's step (and the server side equals them too); the latency
histogram counts every answer; search-path NXDOMAINs equal those in
unbound's reply log; dnsperf's per-name counts equal its query file; a query
to a dead server is a timeout; malformed queries are counted, never named."""
import collections
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ralib import (Agent, Cgroups, Check, Procs, ROOT, require, require_root, tmpdir, value)  # noqa: E402
from dnsfix import (Netns, build_goresolve, run_dnsperf, start_unbound,  # noqa: E402
                    write_queryfile)

AGENT_PORT = 19475
RESOLV = "nameserver 127.0.0.1\nsearch a.test b.test\noptions ndots:5 attempts:1 timeout:2\n"
SEARCH = ("a.test", "b.test")
ZONE = {"www.a.test": "10.0.0.1", "api.test": "10.0.0.2"}
QTYPES = ("A", "AAAA", "TXT", "PTR", "SRV", "MX", "NS", "SOA", "CNAME")
RCODES = ("NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED")
PERF_FILE = [("www.a.test", "A"), ("api.test", "A"), ("nx.test", "A"), ("www.a.test", "AAAA"),
             ("api.test", "TXT")]
PERF_COUNT, PERF_RATE = 500, 250


class Dns:
    def __init__(self, chk, agent, unbound, cg):
        self.chk, self.agent, self.unbound, self.cg = chk, agent, unbound, cg

    def server(self):
        s = self.agent.samples()
        srv = dict(role="server", cgroup=self.cg.label("srv"), comm="unbound")
        return ({q: value(s, "reqacct_dns_queries_total", qtype=q, **srv) for q in QTYPES},
                {r: value(s, "reqacct_dns_responses_total", rcode=r, **srv) for r in RCODES},
                value(s, "reqacct_dns_request_duration_seconds_count", **srv))

    def step(self, name, cgname, run):
        """Run a client in cgroup cgname; compare the agent with unbound."""
        print(f"{name}:")
        q0, r0, n0 = self.server()
        self.unbound.reset()
        nlog = len(self.unbound.replies())
        run()
        st = self.unbound.stats()
        replies = self.unbound.replies()[nlog:]
        s = self.agent.samples()
        q1, r1, n1 = self.server()
        cli = dict(role="client", cgroup=self.cg.label(cgname))
        self.chk.true(f"{name}: unbound saw queries", st.get("total.num.queries", 0) > 0)
        self.chk.eq(f"{name}: client queries", value(s, "reqacct_dns_queries_total", **cli),
                    st.get("total.num.queries", 0))
        for q in QTYPES:
            want = st.get(f"num.query.type.{q}", 0)
            if want or value(s, "reqacct_dns_queries_total", qtype=q, **cli):
                self.chk.eq(f"{name}: client queries qtype={q}",
                            value(s, "reqacct_dns_queries_total", qtype=q, **cli), want)
                self.chk.eq(f"{name}: server queries qtype={q}", q1[q] - q0[q], want)
        answered = 0
        for r in RCODES:
            want = st.get(f"num.answer.rcode.{r}", 0)
            answered += want
            if want or value(s, "reqacct_dns_responses_total", rcode=r, **cli):
                self.chk.eq(f"{name}: client responses rcode={r}",
                            value(s, "reqacct_dns_responses_total", rcode=r, **cli), want)
                self.chk.eq(f"{name}: server responses rcode={r}", r1[r] - r0[r], want)
        self.chk.eq(f"{name}: client latency histogram count = answers",
                    value(s, "reqacct_dns_request_duration_seconds_count", **cli), answered)
        self.chk.eq(f"{name}: server latency histogram count = answers", n1 - n0, answered)
        self.chk.eq(f"{name}: +Inf bucket = count",
                    value(s, "reqacct_dns_request_duration_seconds_bucket", le="+Inf", **cli), answered)
        self.chk.eq(f"{name}: no timeouts", value(s, "reqacct_dns_timeouts_total", **cli), 0)
        self.chk.eq(f"{name}: nothing malformed", value(s, "reqacct_dns_malformed_total", **cli), 0)
        wasted = sum(1 for _, qname, _, rcode in replies if rcode == "NXDOMAIN" and
                     any(qname.rstrip(".").endswith("." + d) for d in SEARCH))
        self.chk.eq(f"{name}: search-path NXDOMAIN = unbound's log",
                    value(s, "reqacct_dns_search_nxdomain_total", **cli), wasted)
        self.chk.eq(f"{name}: names sum to queries", value(s, "reqacct_dns_name_queries_total", **cli),
                    st.get("total.num.queries", 0))
        return s, st, wasted


def name_value(samples, name, **labels):
    """value() of reqacct_dns_name_queries_total for one name label."""
    return sum(v for n, l, v in samples if n == "reqacct_dns_name_queries_total" and
               l.get("name") == name and all(l.get(k) == x for k, x in labels.items()))


def main():
    require_root()
    require("unbound", "unbound-control", "dig", "dnsperf", "getent", "ip", "/usr/lib/go-1.19/bin/go")
    chk, procs = Check(), Procs()
    cg = Cgroups("srv", "dig", "glibc", "go", "perf", "lost", "bad")
    ns = Netns(RESOLV)
    try:
        with tmpdir() as d:
            goresolve = build_goresolve(os.path.join(ROOT, ".output", "fixtures"))
            ns.create()
            agent = Agent(procs, ["--dns-timeout-ms", "1000"], AGENT_PORT,
                          os.path.join(d, "agent.log"), cg.base)
            unbound = start_unbound(procs, d, ns, cg.path("srv"), ZONE)
            dns = Dns(chk, agent, unbound, cg)
            # Each client cgroup has a long-lived process, as a container has
            # its main process: the agent reads the search list of a client
            # that has exited from another process of its cgroup.
            for c in ("glibc", "go"):
                procs.start(ns.argv(["sleep", "600"]), cg.path(c))

            def dig():
                for args in (["www.a.test", "A"], ["api.test", "AAAA"], ["nope.test", "A"],
                             ["+tcp", "api.test", "A"], ["+tcp", "nope.test", "MX"]):
                    procs.run(ns.argv(["dig", "+tries=1", "+time=2", "@127.0.0.1"] + args),
                              cg.path("dig"), stdout=subprocess.DEVNULL)
            dns.step("dig (UDP and TCP)", "dig", dig)

            def glibc():
                for n in ("www.a.test", "zzz.test"):
                    procs.run(ns.argv(["getent", "ahosts", n]), cg.path("glibc"),
                              stdout=subprocess.DEVNULL)
            s, _, wasted = dns.step("glibc resolver, search list, ndots:5", "glibc", glibc)
            chk.true("glibc: the search list wasted queries", wasted >= 8, f"({wasted})")

            def go():
                procs.run(ns.argv([goresolve, "www.a.test", "zzz.test", "api.test"]), cg.path("go"),
                          stdout=subprocess.DEVNULL)
            dns.step("Go resolver", "go", go)

            perf = {}
            qfile = write_queryfile(os.path.join(d, "queries"), PERF_FILE)

            def dnsperf():
                perf.update(run_dnsperf(procs, ns, cg.path("perf"), "127.0.0.1", qfile,
                                        PERF_COUNT, PERF_RATE))
            s, st, _ = dns.step(f"dnsperf, {PERF_COUNT} queries at {PERF_RATE}/s", "perf", dnsperf)
            cli = dict(role="client", cgroup=cg.label("perf"))
            chk.eq("dnsperf: queries = dnsperf's report", value(s, "reqacct_dns_queries_total", **cli),
                   perf["queries_sent"])
            chk.eq("dnsperf: answers = dnsperf's completed",
                   value(s, "reqacct_dns_request_duration_seconds_count", **cli), perf["queries_completed"])
            for r, n in perf["rcodes"].items():
                chk.eq(f"dnsperf: rcode={r} = dnsperf's report",
                       value(s, "reqacct_dns_responses_total", rcode=r, **cli), n)
            per_name = collections.Counter(PERF_FILE[i % len(PERF_FILE)][0] for i in range(PERF_COUNT))
            for n, want in sorted(per_name.items()):
                chk.eq(f"dnsperf: name {n} = query file",
                       name_value(s, n, **cli), want)
            chk.eq("dnsperf: name (other) is empty",
                   name_value(s, "(other)", **cli), 0)

            print("a dead server:")
            out = procs.start(ns.argv(["dig", "+tries=1", "+time=1", "@127.0.0.2", "www.a.test"]),
                              cg.path("lost"), stdout=subprocess.PIPE, text=True).communicate(timeout=30)[0]
            sent = out.count("127.0.0.2#53")
            time.sleep(2.5)	# timeout 1 s, swept every second
            s = agent.samples()
            lost = dict(role="client", cgroup=cg.label("lost"), peer="127.0.0.2")
            chk.true("dig reported its query unanswered", sent >= 1, out)
            chk.eq("queries to a dead server", value(s, "reqacct_dns_queries_total", **lost), sent)
            chk.eq("all of them timed out", value(s, "reqacct_dns_timeouts_total", **lost), sent)
            chk.eq("no answers", value(s, "reqacct_dns_request_duration_seconds_count", **lost), 0)

            print("malformed queries:")
            srv = dict(role="server", cgroup=cg.label("srv"))
            s = agent.samples()
            m0, f0 = (value(s, "reqacct_dns_malformed_total", **srv),
                      value(s, "reqacct_dns_responses_total", rcode="FORMERR", **srv))
            bad = ("b'\\x12\\x34\\x01'",	# shorter than a header
                   "b'\\x00\\x01\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\xc0\\x0c\\x00\\x01\\x00\\x01'",  # pointer loop
                   "b'\\x00\\x02\\x01\\x00\\x00\\x01\\x03\\xe8\\x00\\x00\\x00\\x00\\x01x\\x00\\x00\\x01\\x00\\x01'")  # 1000 answers
            code = ("import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n" +
                    "".join(f"s.sendto({b}, ('127.0.0.1', 53))\n" for b in bad) +
                    "s.settimeout(1)\nn = 0\ntry:\n    while True:\n        s.recv(4096)\n"
                    "        n += 1\nexcept OSError:\n    print(n)\n")
            out = procs.start(ns.argv([sys.executable, "-c", code]), cg.path("bad"),
                              stdout=subprocess.PIPE, text=True).communicate(timeout=30)[0]
            replies = int(out)
            s = agent.samples()
            print(f"  unbound answered {replies} of the {len(bad)} malformed queries")
            # Its answers are malformed too (no question) or FORMERR responses.
            chk.eq("server: malformed queries and their answers counted",
                   value(s, "reqacct_dns_malformed_total", **srv) - m0 +
                   value(s, "reqacct_dns_responses_total", rcode="FORMERR", **srv) - f0,
                   len(bad) + replies)
            bad_cli = dict(role="client", cgroup=cg.label("bad"))
            chk.eq("client: malformed queries and their answers counted",
                   value(s, "reqacct_dns_malformed_total", **bad_cli) +
                   value(s, "reqacct_dns_responses_total", **bad_cli), len(bad) + replies)
            chk.eq("malformed queries got no name",
                   value(s, "reqacct_dns_name_queries_total", role="client", cgroup=cg.label("bad")), 0)
            chk.eq("malformed queries got no qtype",
                   value(s, "reqacct_dns_queries_total", role="client", cgroup=cg.label("bad")), 0)

            print("a full DNS flow table:")
            small = Agent(procs, ["--dns-max-flows", "1", "--dns-timeout-ms", "1000"], AGENT_PORT + 1,
                          os.path.join(d, "agent-small.log"), cg.base)
            unbound.reset()
            for c in ("dig", "go"):	# 2 client flows and 1 server flow for a 1-entry table
                procs.run(ns.argv(["dig", "+tries=1", "+time=2", "@127.0.0.1", "www.a.test"]), cg.path(c),
                          stdout=subprocess.DEVNULL)
            s, want = small.samples(), unbound.stats()["total.num.queries"]
            over = dict(cgroup="overflow", comm="overflow", peer="overflow")
            chk.eq("client queries, flows and overflow together", value(s, "reqacct_dns_queries_total",
                                                                       role="client"), want)
            chk.eq("server queries, flows and overflow together", value(s, "reqacct_dns_queries_total",
                                                                       role="server"), want)
            chk.true("the overflow bucket is exported", value(s, "reqacct_dns_queries_total", **over) >= want)
            chk.true("full updates are counted", value(s, "reqacct_map_update_failures_total",
                                                       map="ra_dns_flows", reason="full") >= want)
            procs.stop(small.p)

            text = agent.text()
            r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
            chk.true("promtool check metrics passes", r.returncode == 0, r.stdout + r.stderr)
            chk.true("the agent is still running", agent.p.poll() is None)
    finally:
        procs.stop_all()
        ns.remove()
        cg.remove()
    chk.finish()


if __name__ == "__main__":
    main()
