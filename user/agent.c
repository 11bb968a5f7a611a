// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * agent.c - `reqacct agent`: load the BPF programs, attach them with links
 * (closed by the kernel when the agent exits or is killed: nothing stays
 * attached), serve /metrics until SIGINT or SIGTERM; SIGHUP re-reads the
 * configuration file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "cgroup_names.h"
#include "http.h"
#include "log.h"
#include "monotime.h"
#include "netns.h"
#include "peers.h"
#include "pods.h"
#include "prom.h"
#include "reqacct.skel.h"
#include "websec.h"

#define CGROUP_RESCAN_MS 1000	/* at most one cgroupfs walk per second on misses */
#define H2_SWEEP_S 60		/* at most this long between looks for HTTP/2 streams open
				 * longer than h2_stream_max_age_s */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: reqacct agent [OPTIONS]\n"
		"\n"
		"Count TCP bytes and connections on watched ports, DNS queries, answers\n"
		"and latency, and HTTP requests over TLS (Go, OpenSSL; Kubernetes verbs\n"
		"and resources on the apiserver's ports), per process and cgroup, in\n"
		"the kernel, and serve them as Prometheus metrics.\n"
		"\n"
		"Options:\n"
		"  -l, --listen ADDR:PORT  metrics endpoint, numeric address (default :9464)\n"
		"  -c, --config FILE       configuration file (key = value; see README)\n"
		"  -p, --port N            watched TCP port; repeat for more, replaces the\n"
		"                          default set 443 6443 2379 10250 53\n"
		"      --max-flows N       flow table entries (default %u)\n"
		"      --max-peers N       peers with series of their own per process, role and\n"
		"                          port; the others are peer=\"other\" (default %u)\n"
		"      --hook MODE         auto (default), tracepoint (Linux 6.3+) or sockops\n"
		"      --cgroup DIR        cgroup v2 directory the cgroup programs (DNS,\n"
		"                          sockops) attach to (default: the cgroup2 root)\n"
		"      --cgroupfs DIR      cgroup2 mount (default: from /proc/self/mountinfo)\n"
		"      --dns on|off        DNS accounting (default on)\n"
		"      --dns-port N        DNS port; repeat for more (default 53)\n"
		"      --dns-timeout-ms N  unanswered this long, a query timed out (default 5000)\n"
		"      --dns-top-names N   query names exported per flow (default 10)\n"
		"      --dns-max-flows N   DNS flow table entries (default %u)\n"
		"      --tls LIBS          HTTP/1.x over TLS from these libraries: go, openssl\n"
		"                          (a list), on (both) or off (default go; OpenSSL's\n"
		"                          probes are costly, see BENCHMARKS.md; Linux 6.3+)\n"
		"      --tls-lib PATH      another libssl file to probe; repeat for more\n"
		"      --tls-rescan-s N    look for new TLS libraries and programs every N s\n"
		"                          (default 10; 0: never; new Go programs are also\n"
		"                          found as they start)\n"
		"      --tls-comm NAME     probe only processes with this comm (OpenSSL), or the\n"
		"                          programs they run (Go); repeat for more\n"
		"      --tls-port PORT     probe only processes listening on this watched port\n"
		"                          (with --tls-comm: either); repeat for more\n"
		"      --k8s-port PORT     HTTP on this port is the Kubernetes API: requests\n"
		"                          by verb and resource (default 6443 443); repeat\n"
		"      --k8s-max-series N  rows of each Kubernetes request table (default 4096)\n"
		"      --k8s-top-clients N clients of a server with series of their own, the\n"
		"                          costliest by server time (default 50; others:\n"
		"                          peer=\"other\")\n"
		"      --k8s-top-window-s N the window they are ranked over (default 60)\n"
		"      --h2-stream-max-age-s N forget HTTP/2 streams open longer (default 7200)\n"
		"      --netns-scan-s N    read the addresses of this node's network namespaces\n"
		"                          (pods) every N s (default 30; 0: never)\n"
		"      --pod-logs-dir DIR  the kubelet's pod log directories, for pod names\n"
		"                          (default /var/log/pods)\n"
		"      --snapshot-file PATH write the metrics to PATH every --snapshot-s N\n"
		"                          seconds (default 60), for a post-mortem\n"
		"      --web-tls-cert-file PATH, --web-tls-key-file PATH\n"
		"                          serve /metrics over TLS with this PEM certificate\n"
		"                          (chain) and unencrypted PEM key\n"
		"      --web-basic-auth-file PATH  require basic auth: lines of user:sha256:HEX,\n"
		"                          HEX from `printf %%s PASSWORD | sha256sum`\n"
		"  -v, --verbose           more messages (twice: libbpf debug output)\n"
		"  -h, --help              this text\n"
		"\n"
		"EXAMPLES:\n"
		"  reqacct agent                       # defaults, metrics on :9464\n"
		"  reqacct agent -p 6443 -l 127.0.0.1:9464\n"
		"  reqacct agent --dns-port 53 --dns-port 5353 --dns-top-names 20\n"
		"  reqacct agent -c /etc/reqacct/agent.conf   # kill -HUP re-reads it\n"
		"  curl -s localhost:9464/metrics | grep reqacct_tcp_bytes_total\n",
		RA_MAX_FLOWS, MAX_PEERS_DEFAULT, RA_MAX_DNS_FLOWS);
}

/* Options without a short letter of their own. */
enum { OPT_WEB_TLS_CERT = 0x100, OPT_WEB_TLS_KEY, OPT_WEB_BASIC_AUTH };

#define AGENT_MMAP_THRESHOLD (256 * 1024)	/* glibc's default before it adapts: 128 KiB */

/* Options and the config key each one sets. */
static const struct option opts[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "config", required_argument, NULL, 'c' },
	{ "port", required_argument, NULL, 'p' },
	{ "max-flows", required_argument, NULL, 'F' },
	{ "max-peers", required_argument, NULL, 'B' },
	{ "hook", required_argument, NULL, 'H' },
	{ "cgroup", required_argument, NULL, 'G' },
	{ "cgroupfs", required_argument, NULL, 'M' },
	{ "dns", required_argument, NULL, 'D' },
	{ "dns-port", required_argument, NULL, 'P' },
	{ "dns-timeout-ms", required_argument, NULL, 'T' },
	{ "dns-top-names", required_argument, NULL, 'N' },
	{ "dns-max-flows", required_argument, NULL, 'X' },
	{ "tls", required_argument, NULL, 'S' },
	{ "tls-lib", required_argument, NULL, 'L' },
	{ "tls-rescan-s", required_argument, NULL, 'R' },
	{ "tls-comm", required_argument, NULL, 'C' },
	{ "tls-port", required_argument, NULL, 'O' },
	{ "k8s-port", required_argument, NULL, 'K' },
	{ "k8s-max-series", required_argument, NULL, 'Y' },
	{ "k8s-top-clients", required_argument, NULL, 'U' },
	{ "k8s-top-window-s", required_argument, NULL, 'W' },
	{ "h2-stream-max-age-s", required_argument, NULL, 'A' },
	{ "netns-scan-s", required_argument, NULL, 'E' },
	{ "pod-logs-dir", required_argument, NULL, 'Q' },
	{ "snapshot-file", required_argument, NULL, 'Z' },
	{ "snapshot-s", required_argument, NULL, 'V' },
	{ "web-tls-cert-file", required_argument, NULL, OPT_WEB_TLS_CERT },
	{ "web-tls-key-file", required_argument, NULL, OPT_WEB_TLS_KEY },
	{ "web-basic-auth-file", required_argument, NULL, OPT_WEB_BASIC_AUTH },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

/* The long name of an option; it is also its config key, with '_' for '-'. */
static const char *long_name(int c)
{
	for (const struct option *o = opts; o->name; o++)
		if (o->val == c)
			return o->name;
	return NULL;
}

/* Repeatable options: their values are collected, then set as one list. */
static const struct { int opt; const char *key; } lists[] = {
	{ 'p', "ports" },
	{ 'P', "dns_ports" },
	{ 'L', "tls_libs" },
	{ 'C', "tls_comms" },
	{ 'O', "tls_ports" },
	{ 'K', "k8s_ports" },
};
#define NLISTS (sizeof(lists) / sizeof(lists[0]))

int agent__parse_args(struct ra_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	char vals[NLISTS][256] = {}, src[64], key[64];
	const char *config = NULL;
	int c, rc;
	size_t l;

	config__defaults(cfg);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":l:c:p:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'v': log_verbosity++; break;
		case 'h': return 1;
		case ':':
			snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
			return -EINVAL;
		case '?':
			snprintf(err, errlen, "unknown option '%s' (see --help)", argv[optind - 1]);
			return -EINVAL;
		default: break;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (config && strlen(config) >= sizeof(cfg->config_file)) {
		snprintf(err, errlen, "--config: path longer than %zu bytes",
			 sizeof(cfg->config_file) - 1);
		return -EINVAL;
	}
	if (config && (rc = config__parse_file(cfg, config, err, errlen)))
		return rc;
	if (config)
		strcpy(cfg->config_file, config);
	optind = 1;
	while ((c = getopt_long(argc, argv, ":l:c:p:vh", opts, NULL)) != -1) {
		if (c == 'c' || c == 'v' || c == 'h')
			continue;
		snprintf(src, sizeof(src), "--%s", long_name(c));
		for (l = 0; l < NLISTS && lists[l].opt != c; l++)
			;
		if (l < NLISTS) {
			if (strlen(vals[l]) + strlen(optarg) + 2 >= sizeof(vals[l])) {
				snprintf(err, errlen, "%s: too many values", src);
				return -EINVAL;
			}
			strcat(strcat(vals[l], " "), optarg);
			continue;
		}
		snprintf(key, sizeof(key), "%s", long_name(c));
		for (char *k = key; *k; k++)
			if (*k == '-')
				*k = '_';
		if ((rc = config__set(cfg, key, optarg, src, err, errlen)))
			return rc;
	}
	for (l = 0; l < NLISTS; l++) {
		snprintf(src, sizeof(src), "--%s", long_name(lists[l].opt));
		if (vals[l][0] && (rc = config__set(cfg, lists[l].key, vals[l], src, err, errlen)))
			return rc;
	}
	return 0;
}

/* sock:sock_{send,recv}_length exist from Linux 6.3 (commit 6e6eda44b939
 * "net: add sock_send_length and sock_recv_length tracepoints"): their BTF
 * typedef tells whether this kernel has them. */
static bool kernel_has_sock_length_tp(void)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	bool ok;

	if (!vmlinux)
		return false;
	ok = btf__find_by_name_kind(vmlinux, "btf_trace_sock_send_length", BTF_KIND_TYPEDEF) > 0 &&
	     btf__find_by_name_kind(vmlinux, "btf_trace_sock_recv_length", BTF_KIND_TYPEDEF) > 0;
	btf__free(vmlinux);
	return ok;
}

static int fill_ports(struct agent *a)
{
	int fd = bpf_map__fd(a->skel->maps.ra_ports);

	for (__u32 i = 0; i < a->cfg.nports; i++) {
		__u32 port = a->cfg.ports[i];
		__u8 slot1 = i + 1;

		if (bpf_map_update_elem(fd, &port, &slot1, BPF_ANY))
			return -errno;
	}
	return 0;
}

static int attach(struct agent *a)
{
	struct reqacct_bpf *s = a->skel;
	const struct {
		struct bpf_program *prog;
		struct bpf_link **link;
		bool on;
		bool cgroup;	/* attached to the --cgroup directory */
	} progs[] = {
		{ s->progs.ra_set_state, &s->links.ra_set_state, true, false },
		{ s->progs.ra_sock_send, &s->links.ra_sock_send, a->hook == HOOK_TRACEPOINT, false },
		{ s->progs.ra_sock_recv, &s->links.ra_sock_recv, a->hook == HOOK_TRACEPOINT, false },
		{ s->progs.ra_sockops, &s->links.ra_sockops, a->hook == HOOK_SOCKOPS, true },
		{ s->progs.ra_dns_egress, &s->links.ra_dns_egress, a->cfg.dns, true },
		{ s->progs.ra_dns_ingress, &s->links.ra_dns_ingress, a->cfg.dns, true },
		{ s->progs.ra_dns_bind4, &s->links.ra_dns_bind4, a->cfg.dns, true },
		{ s->progs.ra_dns_bind6, &s->links.ra_dns_bind6, a->cfg.dns, true },
		{ s->progs.ra_exec, &s->links.ra_exec, a->cfg.tls & CONFIG_TLS_GO, false },
	};
	const char *cg = a->cfg.cgroup[0] ? a->cfg.cgroup : a->cfg.cgroupfs;
	int fd, err = 0;

	fd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_warn("opening cgroup %s: %s\n", cg, strerror(-err));
		return err;
	}
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]) && !err; i++) {
		if (!progs[i].on)
			continue;
		*progs[i].link = progs[i].cgroup ? bpf_program__attach_cgroup(progs[i].prog, fd)
						 : bpf_program__attach(progs[i].prog);
		if (!*progs[i].link) {
			err = -errno;
			pr_warn("attaching %s%s%s: %s\n", bpf_program__name(progs[i].prog),
				progs[i].cgroup ? " to " : "", progs[i].cgroup ? cg : "", strerror(-err));
		}
	}
	close(fd);
	return err;
}

/* The DNS programs' settings (read-only data, fixed at load). */
static void dns_setup(struct agent *a)
{
	struct reqacct_bpf *s = a->skel;
	struct bpf_program *progs[] = {
		s->progs.ra_dns_egress, s->progs.ra_dns_ingress,
		s->progs.ra_dns_bind4, s->progs.ra_dns_bind6,
	};

	/* The name parser runs in bpf_loop(): Linux 5.17+ (commit e6f2dd0f8067
	 * "bpf: Add bpf_loop helper"). */
	if (a->cfg.dns && libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SKB, BPF_FUNC_loop, NULL) != 1) {
		pr_warn("this kernel has no bpf_loop() (before 5.17): DNS accounting is off\n");
		a->cfg.dns = false;
	}
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		bpf_program__set_autoload(progs[i], a->cfg.dns);
	memset((void *)s->rodata->ra_dns_ports, 0, sizeof(s->rodata->ra_dns_ports));
	for (__u32 i = 0; i < a->cfg.ndns_ports; i++)
		s->rodata->ra_dns_ports[i] = a->cfg.dns_ports[i];
	/* bpf_get_current_{pid_tgid,comm}() in cgroup_skb: Linux 6.1+ (commit
	 * bed89185af0d "bpf: Use cgroup_{common,current}_func_proto in more hooks"). */
	a->dns_have_current = libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SKB,
						      BPF_FUNC_get_current_pid_tgid, NULL) == 1;
	s->rodata->ra_have_current = a->dns_have_current;
	if (a->cfg.dns && !a->dns_have_current)
		pr_warn("this kernel has no bpf_get_current_*() in cgroup programs (before 6.1): "
			"DNS is counted per cgroup, with comm \"%s\"\n", RA_COMM_UNKNOWN);
}

/* The TLS probes need the connection (OpenSSL) and receive times (Go) from
 * the sock_*_length tracepoints. */
static void tls_setup(struct agent *a)
{
	struct reqacct_bpf *s = a->skel;
	const struct {
		struct bpf_program *prog;
		__u8 lib;
	} progs[] = {
		{ s->progs.ra_ssl_write, CONFIG_TLS_OPENSSL }, { s->progs.ra_ssl_write_ex, CONFIG_TLS_OPENSSL },
		{ s->progs.ra_ssl_read, CONFIG_TLS_OPENSSL }, { s->progs.ra_ssl_read_ex, CONFIG_TLS_OPENSSL },
		{ s->progs.ra_ssl_ret, CONFIG_TLS_OPENSSL }, { s->progs.ra_go_read, CONFIG_TLS_GO },
		{ s->progs.ra_go_write, CONFIG_TLS_GO }, { s->progs.ra_exec, CONFIG_TLS_GO },
		{ s->progs.ra_h2_headers, CONFIG_TLS_GO }, { s->progs.ra_h2_status, CONFIG_TLS_GO },
		{ s->progs.ra_h2_data, CONFIG_TLS_GO }, { s->progs.ra_h2_close, CONFIG_TLS_GO },
	};

	if (a->cfg.tls && a->hook != HOOK_TRACEPOINT) {
		pr_warn("HTTP over TLS needs the tracepoint hook (Linux 6.3+): off\n");
		a->cfg.tls = 0;
	}
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		bpf_program__set_autoload(progs[i].prog, a->cfg.tls & progs[i].lib);
	s->rodata->ra_tls_openssl_on = a->cfg.tls & CONFIG_TLS_OPENSSL;
	s->rodata->ra_tls_go_on = a->cfg.tls & CONFIG_TLS_GO;
	for (__u32 i = 0; i < a->cfg.nk8s_ports; i++)
		s->rodata->ra_k8s_ports[i] = a->cfg.k8s_ports[i];
}

/*
 * Run in the host's cgroup namespace. In a container on cgroup v2 the
 * agent has its own (Kubernetes' default), where /proc/PID/cgroup names
 * other processes' cgroups relative to the container's ("/../.."), so
 * owners of old listeners and namespaces would not match the paths the
 * cgroup ids resolve to under the host's cgroup2 mount. With hostPID,
 * /proc/1/ns/cgroup is the host's; entering it needs CAP_SYS_ADMIN.
 */
static void host_cgroupns(void)
{
	struct stat self, init;
	int fd;

	if (stat("/proc/self/ns/cgroup", &self) || stat("/proc/1/ns/cgroup", &init) ||
	    self.st_ino == init.st_ino)
		return;
	fd = open("/proc/1/ns/cgroup", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWCGROUP))
		pr_warn("not in the host's cgroup namespace (%s): cgroups of processes older "
			"than the agent may not be named\n", strerror(errno));
	else
		pr_info("entered the host's cgroup namespace\n");
	if (fd >= 0)
		close(fd);
}

static int setup(struct agent *a)
{
	struct reqacct_bpf *s;
	int err;

	host_cgroupns();
	if (!a->cfg.cgroupfs[0]) {
		err = cgroup_names__find_mount("/proc/self/mountinfo", a->cfg.cgroupfs,
					       sizeof(a->cfg.cgroupfs));
		if (err) {
			pr_warn("no cgroup2 filesystem mounted (/proc/self/mountinfo): %s\n",
				strerror(-err));
			return err;
		}
	}
	a->hook = a->cfg.hook;
	if (a->hook == HOOK_AUTO)
		a->hook = kernel_has_sock_length_tp() ? HOOK_TRACEPOINT : HOOK_SOCKOPS;
	a->ncpus = libbpf_num_possible_cpus();
	if (a->ncpus < 0)
		return a->ncpus;

	s = a->skel = reqacct_bpf__open();
	if (!s) {
		err = -errno;
		pr_warn("opening BPF object: %s\n", strerror(-err));
		return err;
	}
	bpf_map__set_max_entries(s->maps.ra_flows, a->cfg.max_flows);
	bpf_map__set_max_entries(s->maps.ra_listeners, a->cfg.max_listeners);
	bpf_map__set_max_entries(s->maps.ra_dns_flows, a->cfg.dns_max_flows);
	bpf_program__set_autoload(s->progs.ra_sock_send, a->hook == HOOK_TRACEPOINT);
	bpf_program__set_autoload(s->progs.ra_sock_recv, a->hook == HOOK_TRACEPOINT);
	bpf_program__set_autoload(s->progs.ra_sockops, a->hook == HOOK_SOCKOPS);
	dns_setup(a);
	tls_setup(a);
	err = reqacct_bpf__load(s);
	if (err) {
		pr_warn("loading BPF programs: %s (needs root or CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN, "
			"and a kernel with BTF)\n", strerror(-err));
		return err;
	}
	err = fill_ports(a);
	if (err) {
		pr_warn("writing ra_ports: %s\n", strerror(-err));
		return err;
	}
	err = attach(a);
	if (err)
		return err;
	err = listeners__seed(a);
	if (err < 0)
		pr_warn("finding existing listeners in /proc: %s (continuing)\n", strerror(-err));
	a->listeners_seeded = err > 0 ? err : 0;
	/* After the listeners: tls_ports selects their owners. */
	if (a->cfg.tls && (err = tls__attach(a)))
		return err;
	a->cgroups = cgroup_names__new(a->cfg.cgroupfs, CGROUP_RESCAN_MS);
	a->dns = dns__new(a);
	a->k8s = k8s__new(a->cfg.k8s_max_series, a->cfg.k8s_top_clients,
			  a->cfg.k8s_top_window_s);
	a->h2flow = h2flow__new();
	a->netns = netns__new();
	a->pods = pods__new(a->cfg.pod_logs_dir);
	a->peers = peers__new(a->cfg.max_peers, a->cfg.max_flows + RA_MAX_HTTP_FLOWS);
	if (!a->cgroups || !a->dns || !a->k8s || !a->h2flow || !a->netns || !a->pods || !a->peers)
		return -ENOMEM;
	return 0;
}

static void produce(void *ctx, struct prom_buf *b)
{
	collect__metrics(ctx, b);
}

static void warn_clear_auth(const struct ra_config *c)
{
	if (c->web_basic_auth_file[0] && !c->web_tls_cert_file[0])
		pr_warn("basic auth without TLS: passwords cross the network in the clear "
			"(set web_tls_cert_file and web_tls_key_file)\n");
}

/* The scrape endpoint's files, read before anything is loaded so that a
 * bad one stops the start at once. 0, or -EINVAL after a message. */
static int web_files(const struct ra_config *c, struct http_config *hc)
{
	char err[CONFIG_ERR_MAX];
	int rc;

	if ((c->web_tls_cert_file[0] || c->web_tls_key_file[0]) &&
	    (rc = websec__tls_load(c->web_tls_cert_file, c->web_tls_key_file, &hc->tls_cert,
				   &hc->tls_key, err, sizeof(err)))) {
		pr_warn("%s\n", err);
		return rc;
	}
	if (c->web_basic_auth_file[0] &&
	    (rc = websec__auth_load(c->web_basic_auth_file, &hc->auth, err, sizeof(err)))) {
		pr_warn("%s\n", err);
		free(hc->tls_cert);
		websec__free_secret(hc->tls_key);
		hc->tls_cert = hc->tls_key = NULL;
		return rc;
	}
	warn_clear_auth(c);
	return 0;
}

/*
 * SIGHUP: parse the command line again (defaults, the file, then the
 * options, which still win) into a new configuration, and read the basic
 * auth file again (how passwords rotate). Anything wrong: one message, the
 * old configuration stays. Else the live keys take their new values; a key
 * that needs a restart keeps its old one, with a word. loaded is the
 * configuration as parsed, before setup() adjusted a->cfg to the kernel.
 */
static void reload(struct agent *a, struct ra_config *loaded, struct http_server *http,
		   int argc, char **argv)
{
	struct ra_config *n = malloc(sizeof(*n));
	struct websec_auth *auth = NULL;
	int verbosity = log_verbosity, rc;
	char err[CONFIG_ERR_MAX];
	bool top = false;

	if (!loaded->config_file[0]) {
		pr_warn("SIGHUP: the agent was started without a configuration file (-c), "
			"nothing to re-read\n");
		free(n);
		return;
	}
	if (!n) {
		rc = -ENOMEM;
		snprintf(err, sizeof(err), "%s", strerror(ENOMEM));
	} else {
		rc = agent__parse_args(n, argc, argv, err, sizeof(err));
		log_verbosity = verbosity;	/* -v counted once */
	}
	if (!rc && n->web_basic_auth_file[0])
		rc = websec__auth_load(n->web_basic_auth_file, &auth, err, sizeof(err));
	if (rc) {
		pr_warn("reload failed, keeping the old configuration: %s\n", err);
		__atomic_add_fetch(&a->reloads_error, 1, __ATOMIC_RELAXED);
		free(n);
		return;
	}
	for (size_t i = 0; i < config_nkeys; i++) {
		const struct config_key *k = &config_keys[i];

		if (!config__differs(loaded, n, k))
			continue;
		if (!k->live) {
			pr_warn("reload: key %s changed; needs a restart, keeping old value\n", k->key);
			continue;
		}
		config__copy(loaded, n, k);
		config__copy(&a->cfg, n, k);
		top |= !strncmp(k->key, "k8s_top_", strlen("k8s_top_"));
		pr_info("reload: %s changed\n", k->key);
	}
	if (top && a->k8s)
		k8s__set_top(a->k8s, a->cfg.k8s_top_clients, a->cfg.k8s_top_window_s);
	http__set_auth(http, auth);
	if (auth)
		warn_clear_auth(&a->cfg);
	__atomic_add_fetch(&a->reloads_ok, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&a->reload_success_time, (__u64)time(NULL), __ATOMIC_RELAXED);
	pr_info("reloaded %s\n", loaded->config_file);
	free(n);
}

static int epoll_add(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

int do_agent(int argc, char **argv)
{
	struct agent a = {};
	struct http_server *http = NULL;
	struct http_config hc = { .produce = produce, .ctx = &a };
	struct ra_config *loaded = NULL;
	char err[CONFIG_ERR_MAX];
	int rc, snap_rc, sig = 0, sfd = -1, ep = -1;
	bool hup = false;
	unsigned snapshot_warned = 0;
	sigset_t set;

	/* Large buffers (a scrape's exposition, map dumps: megabytes) from
	 * mmap, and so back to the kernel when freed. glibc's threshold would
	 * otherwise rise to the size of the first one freed, and the next ones
	 * come from the heap, which keeps what it grew to (RSS 10+ MiB above
	 * what is in use: test_scale.py). */
	mallopt(M_MMAP_THRESHOLD, AGENT_MMAP_THRESHOLD);
	rc = agent__parse_args(&a.cfg, argc, argv, err, sizeof(err));
	if (rc > 0) {
		usage(stdout);
		return 0;
	}
	if (rc) {
		pr_warn("%s\n", err);
		return 2;
	}
	if (web_files(&a.cfg, &hc))
		return 2;
	loaded = malloc(sizeof(*loaded));
	if (!loaded) {
		rc = -ENOMEM;
		goto out;
	}
	*loaded = a.cfg;
	a.reload_success_time = time(NULL);
	/* Block the stop and reload signals before any thread starts, then wait
	 * for them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = setup(&a);
	if (rc)
		goto out;
	hc.listen = a.cfg.listen;
	http = http__start(&hc);
	if (!http) {
		rc = -EADDRNOTAVAIL;
		goto out;
	}
	pr_info("counting TCP on %u port(s) with the %s hook; metrics on http%s://%s/metrics%s\n",
		a.cfg.nports, config__hook_name(a.hook), a.cfg.web_tls_cert_file[0] ? "s" : "",
		a.cfg.listen, a.cfg.web_basic_auth_file[0] ? " (basic auth)" : "");
	/* Wait for a stop signal; meanwhile read started programs as they come,
	 * every second sweep DNS timeouts, and every tls_rescan_s seconds look
	 * for new TLS libraries and programs. */
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || ep < 0 || epoll_add(ep, sfd) || (tls__exec_fd(&a) >= 0 &&
						     epoll_add(ep, tls__exec_fd(&a)))) {
		rc = -errno;
		pr_warn("signalfd/epoll: %s\n", strerror(errno));
		goto out;
	}
	if (a.cfg.netns_scan_s)
		netns__scan(a.netns);
	for (__u64 tick = 1, next = monotime_ms() + 1000;;) {
		struct epoll_event ev[2];
		__s64 wait = (__s64)(next - monotime_ms());
		int n = epoll_wait(ep, ev, 2, wait < 0 ? 0 : wait > RA_RING_POLL_MS ? RA_RING_POLL_MS :
					      (int)wait);

		if (n < 0 && errno != EINTR) {
			rc = -errno;
			pr_warn("epoll_wait: %s\n", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			struct signalfd_siginfo si;

			if (ev[i].data.fd != sfd)
				tls__exec_events(&a);
			else if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP)
					hup = true;
				else
					sig = si.ssi_signo;
			}
		}
		if (sig > 0)
			break;
		if (hup) {
			reload(&a, loaded, http, argc, argv);
			hup = false;
		}
		tls__poll(&a);	/* records that did not wake us (ring_flags()) */
		if (monotime_ms() < next)
			continue;
		next += 1000;
		tick++;
		if (a.cfg.dns)
			dns__sweep(&a);
		if (a.cfg.tls && a.cfg.tls_rescan_s && tick % a.cfg.tls_rescan_s == 0)
			tls__rescan(&a);
		if (a.cfg.netns_scan_s && tick % a.cfg.netns_scan_s == 0)
			netns__scan(a.netns);
		if (a.cfg.snapshot_file[0] && tick % a.cfg.snapshot_s == 0 &&
		    (snap_rc = collect__snapshot(&a, a.cfg.snapshot_file)) && !snapshot_warned++)
			pr_warn("writing %s: %s\n", a.cfg.snapshot_file, strerror(-snap_rc));
		if (a.cfg.tls && tick % (a.cfg.h2_stream_max_age_s < H2_SWEEP_S ?
					 a.cfg.h2_stream_max_age_s : H2_SWEEP_S) == 0)
			k8s__sweep(&a);
	}
	if (sig > 0)
		pr_info("%s: detaching and exiting\n", strsignal(sig));
out:
	if (sfd >= 0)
		close(sfd);
	if (ep >= 0)
		close(ep);
	http__stop(http);
	free(hc.tls_cert);	/* when the server did not start to take them */
	websec__free_secret(hc.tls_key);
	websec__auth_free(hc.auth);
	free(loaded);
	reqacct_bpf__destroy(a.skel);
	cgroup_names__free(a.cgroups);
	dns__free(a.dns);
	k8s__free(a.k8s);
	h2flow__free(a.h2flow);
	netns__free(a.netns);
	pods__free(a.pods);
	peers__free(a.peers);
	tls__free(a.tls);
	return rc ? 1 : 0;
}
