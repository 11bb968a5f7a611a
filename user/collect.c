// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * collect.c - turns the BPF maps into Prometheus families at scrape time (the
 * collector pattern): flows are read in batches, never deleted or reset, so
 * every counter is monotonic. Metric reference: README.md, "Metrics".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "cgroup_names.h"
#include "kwrote.h"
#include "log.h"
#include "prom.h"
#include "netns.h"
#include "peers.h"
#include "pods.h"
#include "reqacct.skel.h"


struct flow {
	struct ra_flow_key k;
	struct ra_flow_val v;
	struct flow_names n;
};

const char *const role_names[RA_ROLE_MAX] = {
	[RA_ROLE_CLIENT] = "client", [RA_ROLE_SERVER] = "server",
};

int percpu_lookup(struct agent *a, int fd, const void *key, void *vals, size_t vsz)
{
	int err = bpf_map_lookup_elem(fd, key, vals);

	if (!err)
		KERNEL_WROTE(vals, vsz * a->ncpus);
	return err;
}

/* Read a hash map in batches (Linux 5.6+), else key by key. */
int dump_hash(int fd, size_t ksz, size_t vsz, __u32 max, void *keys, void *vals,
		     __u32 *n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 batch, count;
	bool first = true;
	int err;

	*n = 0;
	while (*n < max) {
		count = max - *n;
		err = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch,
					   (char *)keys + *n * ksz, (char *)vals + *n * vsz,
					   &count, &opts);
		KERNEL_WROTE((char *)keys + *n * ksz, (size_t)count * ksz);
		KERNEL_WROTE((char *)vals + *n * vsz, (size_t)count * vsz);
		*n += count;
		if (err == -ENOENT)
			return 0;
		if (err == -EINVAL || err == -ENOTSUP || err == -EOPNOTSUPP)
			break;
		if (err)
			return err;
		first = false;
	}
	if (!first || *n)
		return 0;
	/* Fallback: key by key. An entry deleted meanwhile is skipped. */
	for (void *prev = NULL; *n < max; ) {
		void *k = (char *)keys + *n * ksz;

		if (bpf_map_get_next_key(fd, prev, k))
			break;
		prev = k;
		if (!bpf_map_lookup_elem(fd, k, (char *)vals + *n * vsz))
			(*n)++;
	}
	return 0;
}

static void peer_str(const __u8 a[RA_ADDR_LEN], char *out, size_t len)
{
	static const __u8 v4mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (!memcmp(a, PEERS_OTHER, RA_ADDR_LEN))
		snprintf(out, len, "%s", PEER_OTHER);
	else if (!memcmp(a, v4mapped, sizeof(v4mapped)))
		inet_ntop(AF_INET, a + 12, out, len);
	else
		inet_ntop(AF_INET6, a, out, len);
}

void flow_names(struct agent *a, const struct ra_flow_key *k, struct flow_names *n)
{
	n->role = role_names[k->role % RA_ROLE_MAX];
	n->cgroup = cgroup_names__get(a->cgroups, k->cgroup_id);
	if (!n->cgroup) {
		snprintf(n->cgroup_buf, sizeof(n->cgroup_buf), "id:%llu",
			 (unsigned long long)k->cgroup_id);
		n->cgroup = n->cgroup_buf;
	}
	memcpy(n->comm, k->comm, RA_COMM_LEN);
	n->comm[RA_COMM_LEN] = '\0';
	peer_str(k->peer, n->peer, sizeof(n->peer));
	snprintf(n->port, sizeof(n->port), "%u", k->port);
}

void flow_names_overflow(struct flow_names *n, __u8 role, __u16 port)
{
	n->role = role_names[role % RA_ROLE_MAX];
	n->cgroup = PEER_OVERFLOW;
	strcpy(n->comm, PEER_OVERFLOW);
	strcpy(n->peer, PEER_OVERFLOW);
	snprintf(n->port, sizeof(n->port), "%u", port);
}

void flow_labels(const struct flow_names *n, struct prom_label *l)
{
	l[0] = (struct prom_label){ "role", n->role };
	l[1] = (struct prom_label){ "cgroup", n->cgroup };
	l[2] = (struct prom_label){ "comm", n->comm };
	l[3] = (struct prom_label){ "port", n->port };
	l[4] = (struct prom_label){ "peer", n->peer };
}

void histogram_samples(struct prom_buf *b, const char *family, struct prom_label *l, size_t nl,
		       const __u64 *buckets, const __u32 *bounds_us, int nbounds, __u64 sum_ns)
{
	char name[128], le[32];
	__u64 cum = 0;

	snprintf(name, sizeof(name), "%s_bucket", family);
	for (int k = 0; k <= nbounds; k++) {
		cum += buckets[k];
		if (k < nbounds)
			snprintf(le, sizeof(le), "%g", bounds_us[k] / 1e6);
		else
			snprintf(le, sizeof(le), "+Inf");
		l[nl] = (struct prom_label){ "le", le };
		prom__sample_u64(b, name, l, nl + 1, cum);
	}
	snprintf(name, sizeof(name), "%s_sum", family);
	prom__sample_f64(b, name, l, nl, sum_ns / 1e9);
	snprintf(name, sizeof(name), "%s_count", family);
	prom__sample_u64(b, name, l, nl, cum);
}

int flow_names_cmp(const struct flow_names *a, const struct flow_names *b)
{
	int c;

	if ((c = strcmp(a->role, b->role)) || (c = strcmp(a->port, b->port)) ||
	    (c = strcmp(a->cgroup, b->cgroup)) || (c = strcmp(a->comm, b->comm)))
		return c;
	return strcmp(a->peer, b->peer);
}

static int cmp_flow(const void *pa, const void *pb)
{
	return flow_names_cmp(&((const struct flow *)pa)->n, &((const struct flow *)pb)->n);
}

static void sum_percpu(const struct ra_flow_val *pcpu, int ncpus, struct ra_flow_val *out)
{
	memset(out, 0, sizeof(*out));
	for (int c = 0; c < ncpus; c++)
		for (int i = 0; i < RA_CNT_MAX; i++)
			out->cnt[i] += pcpu[c].cnt[i];
}

/* Bytes both ways: which of the flows first seen at once keep their peer. */
static __u64 flow_weight(const void *val)
{
	const struct ra_flow_val *v = val;

	return v->cnt[RA_CNT_BYTES_SENT] + v->cnt[RA_CNT_BYTES_RECV];
}

/* All flows (peers beyond the budget folded, peers.h) plus one pseudo-flow
 * per non-empty overflow slot. */
static struct flow *read_flows(struct agent *a, size_t *nflows)
{
	__u32 max = bpf_map__max_entries(a->skel->maps.ra_flows), n = 0;
	struct ra_flow_key *keys = calloc(max, sizeof(*keys));
	struct ra_flow_val *vals = calloc(max, sizeof(*vals));
	struct ra_flow_val *pcpu = calloc(a->ncpus, sizeof(*pcpu));
	struct flow *f = calloc(max + RA_OVERFLOW_SLOTS, sizeof(*f));
	size_t nf = 0;
	int err;

	if (!keys || !vals || !pcpu || !f)
		goto fail;
	err = dump_hash(bpf_map__fd(a->skel->maps.ra_flows), sizeof(*keys), sizeof(*vals), max,
			keys, vals, &n);
	if (err) {
		pr_warn("reading ra_flows: %s\n", strerror(-err));
		goto fail;
	}
	n = peers__fold(a->peers, keys, vals, n, sizeof(*keys), sizeof(*vals),
			offsetof(struct ra_flow_val, last_tgid) / sizeof(__u64), flow_weight);
	for (__u32 i = 0; i < n; i++, nf++) {
		f[nf].k = keys[i];
		f[nf].v = vals[i];
		flow_names(a, &keys[i], &f[nf].n);
	}
	for (__u32 slot = 0; slot < RA_OVERFLOW_SLOTS; slot++) {
		struct ra_flow_val sum;
		__u32 role = slot / RA_MAX_PORTS, port = slot % RA_MAX_PORTS;

		if (port >= a->cfg.nports ||
		    percpu_lookup(a, bpf_map__fd(a->skel->maps.ra_overflow), &slot, pcpu, sizeof(*pcpu)))
			continue;
		sum_percpu(pcpu, a->ncpus, &sum);
		if (!memcmp(&sum, &(struct ra_flow_val){}, sizeof(sum)))
			continue;
		f[nf].k.role = role;
		f[nf].v = sum;
		flow_names_overflow(&f[nf].n, role, a->cfg.ports[port]);
		nf++;
	}
	qsort(f, nf, sizeof(*f), cmp_flow);
	free(keys);
	free(vals);
	free(pcpu);
	*nflows = nf;
	return f;
fail:
	free(keys);
	free(vals);
	free(pcpu);
	free(f);
	*nflows = 0;
	return NULL;
}

/* One counter of every flow as one family. */
static void flow_family(struct prom_buf *b, const struct flow *f, size_t n, const char *name,
			const char *help, enum ra_counter c, bool client_only)
{
	prom__family(b, name, "counter", help);
	for (size_t i = 0; i < n; i++) {
		struct prom_label l[FLOW_LABELS];

		flow_labels(&f[i].n, l);
		if (!client_only || f[i].k.role == RA_ROLE_CLIENT)
			prom__sample_u64(b, name, l, FLOW_LABELS, f[i].v.cnt[c]);
	}
}

static void tcp_families(struct prom_buf *b, const struct flow *f, size_t n)
{
	static const char *const dir[] = { [RA_CNT_BYTES_SENT] = "sent", [RA_CNT_BYTES_RECV] = "received" };
	const char *name = "reqacct_tcp_bytes_total";

	prom__family(b, name, "counter",
		     "TCP payload bytes on watched ports, by local process (cgroup, comm), "
		     "role, watched port and peer address.");
	for (int d = RA_CNT_BYTES_SENT; d <= RA_CNT_BYTES_RECV; d++) {
		for (size_t i = 0; i < n; i++) {
			struct prom_label l[FLOW_LABELS + 1];

			flow_labels(&f[i].n, l);
			l[FLOW_LABELS] = (struct prom_label){ "direction", dir[d] };
			prom__sample_u64(b, name, l, FLOW_LABELS + 1, f[i].v.cnt[d]);
		}
	}
	flow_family(b, f, n, "reqacct_tcp_connections_total",
		    "TCP connections opened (reached ESTABLISHED) on watched ports.",
		    RA_CNT_CONNS_OPENED, false);
	flow_family(b, f, n, "reqacct_tcp_connections_closed_total",
		    "TCP connections closed after being counted as opened.",
		    RA_CNT_CONNS_CLOSED, false);
	flow_family(b, f, n, "reqacct_tcp_connect_errors_total",
		    "Outgoing connections that failed (SYN_SENT to CLOSE: refused, timed out, reset).",
		    RA_CNT_CONNECT_ERRORS, true);
}

static __u64 stat_sum(struct agent *a, enum ra_stat s)
{
	__u64 v[a->ncpus], sum = 0;
	__u32 k = s;

	if (percpu_lookup(a, bpf_map__fd(a->skel->maps.ra_stats), &k, v, sizeof(v[0])))
		return 0;
	for (int c = 0; c < a->ncpus; c++)
		sum += v[c];
	return sum;
}

__u32 count_entries(int fd, size_t ksz)
{
	char prev[64], key[64];
	__u32 n = 0;

	if (ksz > sizeof(key))
		return 0;
	for (void *p = NULL; !bpf_map_get_next_key(fd, p, key); p = prev, n++)
		memcpy(prev, key, ksz);
	return n;
}

/* Counters of what was not counted, one ra_stats slot each. */
static const struct {
	const char *name, *help;
	enum ra_stat stat;
} stat_families[] = {
	{ "reqacct_unattributed_connections_total",
	  "Accepted connections whose listener predates the agent and was not found at start; "
	  "counted with comm=\"" RA_COMM_UNKNOWN "\".", RA_STAT_OWNER_UNKNOWN },
	{ "reqacct_dns_tcp_streams_lost_total",
	  "TCP DNS streams whose message boundaries were lost (a length prefix split across "
	  "segments); their later messages are not counted.", RA_STAT_DNS_TCP_LOST },
	{ "reqacct_dns_tcp_partial_total",
	  "TCP DNS messages whose question was not in the segment that starts them (not "
	  "counted).", RA_STAT_DNS_PARTIAL },
	{ "reqacct_tls_unattributed_total",
	  "SSL_read/SSL_write calls whose connection was never seen (not counted).",
	  RA_STAT_TLS_NO_CONN },
	{ "reqacct_go_tls_no_socket_total",
	  "Go crypto/tls Read/Write calls whose TCP socket was not found (a connection over "
	  "something else than *net.TCPConn, or Go structures laid out otherwise than the agent "
	  "reads them); not counted.", RA_STAT_GO_NO_SOCK },
	{ "reqacct_h2_streams_unattributed_total",
	  "HTTP/2 streams of Go servers on watched connections that closed without their request "
	  "having been seen (it started before the agent, or the server refused it); not counted "
	  "by verb and resource.", RA_STAT_H2_UNSEEN },
	{ "reqacct_h2_no_socket_total",
	  "HTTP/2 requests to Go servers whose TCP socket was not found (cleartext h2c, or Go "
	  "structures laid out otherwise than the agent reads them); not counted.",
	  RA_STAT_H2_NO_SOCK },
	{ "reqacct_http_conns_reused_total",
	  "HTTP exchanges of a connection found on its struct sock when another connection "
	  "had reused it (the close was not seen before): counted then, as the old connection's.",
	  RA_STAT_HTTP_CONN_REUSED },
};

/*
 * The loaded BPF programs, as the kernel reports them (bpf_prog_info): the
 * instructions its verifier processed to load each (the budget is 1,000,000,
 * BPF_COMPLEXITY_LIMIT_INSNS in kernel/bpf/verifier.c: how much room another
 * kernel's verifier has left), and the runs and run time it counts while
 * kernel.bpf_stats_enabled is 1.
 */
static void program_families(struct agent *a, struct prom_buf *b)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "reqacct_bpf_program_verified_instructions", "gauge",
		  "Instructions the kernel's verifier processed to load the program (of its "
		  "budget of 1000000)." },
		{ "reqacct_bpf_program_runs_total", "counter",
		  "Runs of the program counted by the kernel (while kernel.bpf_stats_enabled=1)." },
		{ "reqacct_bpf_program_run_seconds_total", "counter",
		  "Time the program ran, counted by the kernel (while kernel.bpf_stats_enabled=1)." },
	};
	const struct bpf_object_skeleton *sk = a->skel->skeleton;
	struct {
		const char *name;
		double v[3];	/* as in fam[] */
	} *p = calloc(sk->prog_cnt, sizeof(*p));
	int n = 0;

	for (int i = 0; p && i < sk->prog_cnt; i++) {	/* one info read a program */
		const struct bpf_program *prog = *sk->progs[i].prog;
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;	/* not loaded (its hook is not in use) */
		p[n].name = bpf_program__name(prog);
		p[n].v[0] = info.verified_insns;
		p[n].v[1] = info.run_cnt;
		p[n++].v[2] = info.run_time_ns / 1e9;
	}
	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		prom__family(b, fam[f].name, fam[f].type, fam[f].help);
		for (int i = 0; i < n; i++)
			prom__sample_f64(b, fam[f].name,
					 &(struct prom_label){ "program", p[i].name }, 1, p[i].v[f]);
	}
	free(p);
}

static void self_families(struct agent *a, struct prom_buf *b, __u32 nflows, __u32 noverflow,
			  const struct map_entries *e)
{
	struct reqacct_bpf *s = a->skel;
	const struct {
		const char *name;
		struct bpf_map *map;
		__u64 entries;
	} maps[] = {
		{ "ra_flows", s->maps.ra_flows, nflows },
		{ "ra_overflow", s->maps.ra_overflow, noverflow },
		{ "ra_listeners", s->maps.ra_listeners,
		  count_entries(bpf_map__fd(s->maps.ra_listeners), sizeof(struct ra_listener_key)) },
		{ "ra_ports", s->maps.ra_ports, a->cfg.nports },
		{ "ra_stats", s->maps.ra_stats, RA_STAT_MAX },
		{ "ra_dns_flows", s->maps.ra_dns_flows, e->dns_flows },
		{ "ra_dns_pending", s->maps.ra_dns_pending, dns__pending(a) },
		{ "ra_http_flows", s->maps.ra_http_flows, e->http_flows },
		{ "ra_http_conns", s->maps.ra_http_conns,
		  count_entries(bpf_map__fd(s->maps.ra_http_conns), sizeof(__u64)) },
		{ "ra_tls_ssl", s->maps.ra_tls_ssl,
		  count_entries(bpf_map__fd(s->maps.ra_tls_ssl), sizeof(struct ra_tls_ssl_key)) },
		{ "ra_dns_names", s->maps.ra_dns_names, e->dns_names },
		{ "ra_go_conns", s->maps.ra_go_conns,
		  count_entries(bpf_map__fd(s->maps.ra_go_conns), sizeof(__u64)) },
		{ "ra_go_socks", s->maps.ra_go_socks,
		  count_entries(bpf_map__fd(s->maps.ra_go_socks), sizeof(struct ra_go_sock_key)) },
		{ "ra_h2_streams", s->maps.ra_h2_streams,
		  count_entries(bpf_map__fd(s->maps.ra_h2_streams),
				sizeof(struct ra_h2_stream_key)) },
	};
	static const struct {
		const char *map, *reason;
		enum ra_stat stat;
	} failures[] = {
		{ "ra_flows", "full", RA_STAT_FLOWS_FULL },
		{ "ra_flows", "nomem", RA_STAT_FLOWS_NOMEM },
		{ "ra_flows", "other", RA_STAT_FLOWS_OTHER },
		{ "ra_listeners", "full", RA_STAT_LISTENERS_FULL },
		{ "ra_listeners", "other", RA_STAT_LISTENERS_OTHER },
		{ "ra_sk", "alloc", RA_STAT_SK_STORAGE_FAIL },
		{ "ra_dns_flows", "full", RA_STAT_DNS_FLOWS_FULL },
		{ "ra_dns_flows", "other", RA_STAT_DNS_FLOWS_OTHER },
		{ "ra_dns_pending", "full", RA_STAT_DNS_PENDING_FULL },
		{ "ra_dns_names", "full", RA_STAT_DNS_NAMES_FULL },
		{ "ra_dns_sk", "alloc", RA_STAT_DNS_SK_STORAGE_FAIL },
		{ "ra_http_flows", "full", RA_STAT_HTTP_FLOWS_FULL },
		{ "ra_http_conns", "full", RA_STAT_HTTP_CONNS_FULL },
		{ "ra_tls_calls", "full", RA_STAT_TLS_CALLS_FULL },
		{ "ra_tls_ssl", "full", RA_STAT_TLS_SSL_FULL },
		{ "ra_go_conns", "full", RA_STAT_GO_CONNS_FULL },
		{ "ra_exec_events", "full", RA_STAT_EXEC_LOST },
		{ "ra_http_events", "full", RA_STAT_HTTP_EVENTS_LOST },
		{ "ra_h2_frames", "full", RA_STAT_H2_FRAMES_LOST },
		{ "ra_h2_streams", "full", RA_STAT_H2_STREAMS_FULL },
	};
	char ver[32];
	struct rusage ru;
	long rss_pages = 0;
	FILE *f;

	snprintf(ver, sizeof(ver), "%u.%u", libbpf_major_version(), libbpf_minor_version());
	prom__family(b, "reqacct_build_info", "gauge",
		     "Version of the agent, of libbpf, and the byte counting hook in use.");
	prom__sample_u64(b, "reqacct_build_info", (struct prom_label[]){
		{ "version", REQACCT_VERSION }, { "libbpf_version", ver },
		{ "hook", config__hook_name(a->hook) } }, 3, 1);

	prom__family(b, "reqacct_map_entries", "gauge",
		     "Entries in use in a BPF map (ra_sk, per socket, is bounded by open sockets).");
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		prom__sample_u64(b, "reqacct_map_entries",
				 (struct prom_label[]){ { "map", maps[i].name } }, 1, maps[i].entries);
	prom__family(b, "reqacct_map_capacity", "gauge", "Maximum entries of a BPF map.");
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		prom__sample_u64(b, "reqacct_map_capacity",
				 (struct prom_label[]){ { "map", maps[i].name } }, 1,
				 bpf_map__max_entries(maps[i].map));

	prom__family(b, "reqacct_map_update_failures_total", "counter",
		     "BPF map updates that failed, by map and reason. Failed ra_flows updates "
		     "were added to the overflow bucket (cgroup=\"overflow\").");
	for (size_t i = 0; i < sizeof(failures) / sizeof(failures[0]); i++)
		prom__sample_u64(b, "reqacct_map_update_failures_total", (struct prom_label[]){
			{ "map", failures[i].map }, { "reason", failures[i].reason } }, 2,
			stat_sum(a, failures[i].stat));

	for (size_t i = 0; i < sizeof(stat_families) / sizeof(stat_families[0]); i++) {
		prom__family(b, stat_families[i].name, "counter", stat_families[i].help);
		prom__sample_u64(b, stat_families[i].name, NULL, 0,
				 stat_sum(a, stat_families[i].stat));
	}

	prom__family(b, "reqacct_listeners_seeded", "gauge",
		     "Listening sockets found in /proc at start (older than the agent).");
	prom__sample_u64(b, "reqacct_listeners_seeded", NULL, 0, a->listeners_seeded);

	prom__family(b, "reqacct_cgroup_names", "gauge", "cgroup id to path cache entries.");
	prom__sample_u64(b, "reqacct_cgroup_names", NULL, 0, cgroup_names__size(a->cgroups));
	prom__family(b, "reqacct_cgroup_scans_total", "counter", "Walks of the cgroup2 filesystem.");
	prom__sample_u64(b, "reqacct_cgroup_scans_total", NULL, 0, cgroup_names__scans(a->cgroups));

	prom__family(b, "reqacct_scrape_duration_seconds", "gauge",
		     "Time the previous scrape took to collect and format the metrics.");
	prom__sample_f64(b, "reqacct_scrape_duration_seconds", NULL, 0, a->last_scrape_seconds);
	prom__family(b, "reqacct_scrapes_total", "counter", "Scrapes served.");
	prom__sample_u64(b, "reqacct_scrapes_total", NULL, 0, a->scrapes);

	prom__family(b, "reqacct_config_reloads_total", "counter",
		     "Re-reads of the configuration file (SIGHUP), by result: error keeps the "
		     "old configuration.");
	prom__sample_u64(b, "reqacct_config_reloads_total", (struct prom_label[]){ { "result", "ok" } },
			 1, __atomic_load_n(&a->reloads_ok, __ATOMIC_RELAXED));
	prom__sample_u64(b, "reqacct_config_reloads_total",
			 (struct prom_label[]){ { "result", "error" } }, 1,
			 __atomic_load_n(&a->reloads_error, __ATOMIC_RELAXED));
	prom__family(b, "reqacct_config_last_reload_success_timestamp_seconds", "gauge",
		     "Unix time of the last successful load of the configuration (start or reload).");
	prom__sample_u64(b, "reqacct_config_last_reload_success_timestamp_seconds", NULL, 0,
			 __atomic_load_n(&a->reload_success_time, __ATOMIC_RELAXED));

	getrusage(RUSAGE_SELF, &ru);
	prom__family(b, "process_cpu_seconds_total", "counter", "User and system CPU time of the agent.");
	prom__sample_f64(b, "process_cpu_seconds_total", NULL, 0,
			 ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
				 (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	f = fopen("/proc/self/statm", "re");
	if (f) {
		if (fscanf(f, "%*s %ld", &rss_pages) != 1)
			rss_pages = 0;
		fclose(f);
	}
	prom__family(b, "process_resident_memory_bytes", "gauge", "Resident memory of the agent.");
	prom__sample_u64(b, "process_resident_memory_bytes", NULL, 0,
			 (__u64)rss_pages * sysconf(_SC_PAGESIZE));
}

/* Scrapes (the HTTP server's thread) and snapshots (the main thread) take
 * turns: the cgroup name cache and the scrape counters are not shared. */
static pthread_mutex_t collect_lock = PTHREAD_MUTEX_INITIALIZER;

void collect__metrics(struct agent *a, struct prom_buf *b)
{
	struct timespec t0, t1;
	struct flow *f;
	size_t n, nflows = 0;
	struct map_entries e = {};

	pthread_mutex_lock(&collect_lock);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	f = read_flows(a, &n);
	for (size_t i = 0; i < n; i++)
		nflows += strcmp(f[i].n.peer, PEER_OVERFLOW) != 0;
	tcp_families(b, f, n);
	if (a->cfg.dns)
		dns__collect(a, b, &e);
	if (a->cfg.tls) {
		tls__collect(a, b, &e);
		k8s__collect(a, b);
		h2flow__collect(a, b);
	}
	netns__collect(a->netns, b);
	pods__collect(a, b);	/* last: the cgroups the families above named */
	self_families(a, b, nflows, n - nflows, &e);
	program_families(a, b);
	free(f);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	a->last_scrape_seconds = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	a->scrapes++;
	pthread_mutex_unlock(&collect_lock);
}

int collect__snapshot(struct agent *a, const char *path)
{
	struct prom_buf b;
	char tmp[CONFIG_PATH_MAX + 8], when[64];
	time_t now = time(NULL);
	struct tm tm;
	FILE *f;
	int rc = 0;

	prom__init(&b);
	collect__metrics(a, &b);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	f = fopen(tmp, "we");
	if (!f || b.err || fprintf(f, "# reqacct snapshot at %s\n", when) < 0 ||
	    fwrite(b.data, 1, b.len, f) != b.len)
		rc = -(errno ? errno : EIO);
	if (f && fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc)
		unlink(tmp);
	prom__free(&b);
	return rc;
}
