// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * dns.c - the user-space half of DNS accounting (bpf/dns.bpf.h):
 *  - the timeout sweep: queries pending longer than dns_timeout_ms are
 *    claimed in ra_dns_pending (mapped into the agent) and counted as
 *    timeouts of their flow;
 *  - the top query names of each flow, within a series budget, exported so
 *    that every series stays monotonic (see names_rank());
 *  - search-path waste: NXDOMAIN answers for names under one of the client's
 *    resolv.conf search domains (read from /proc/PID/root/etc/resolv.conf,
 *    the client's own file system: no DNS or API call).
 * State lives in tsearch(3) trees under one mutex (the sweep runs on the
 * main thread, the collection on the HTTP thread).
 */
#include <errno.h>
#include <pthread.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "cgroup_names.h"
#include "resolv.h"
#include "log.h"
#include "prom.h"
#include "reqacct.skel.h"

#define DNS_NAME_SERIES_MAX 2000	/* exported name series, all flows together */
#define DNS_OTHER_NAME "(other)"	/* name label of the names not exported */
#define RESOLV_CONF_MAX (64 << 10)

/* Per flow: what only user space counts. */
struct dns_flow_state {
	struct ra_flow_key k;
	__u64 timeouts;
	__u64 search_nxdomain;
};

/* Per (flow, name): export state. Exported value = queries - base. */
struct dns_name_state {
	struct ra_dns_name_key k;
	__u64 base;
	__u64 nx_seen;		/* nxdomain already checked against the search list */
	bool exported;
	bool counted;		/* its queries were in a scrape's output (in "(other)") */
};

/* The search list of a process, read once. */
struct dns_proc_state {
	__u32 tgid;
	struct resolv_search s;
};

struct dns_state {
	pthread_mutex_t lock;
	void *flows, *names, *procs;	/* tsearch roots */
	__u32 exported;			/* name series exported */
	struct ra_dns_pending *pending;	/* ra_dns_pending, mapped */
	size_t pending_len;		/* bytes mapped */
	__u32 pending_live;		/* queries pending at the last sweep */
};

static int cmp_flow_state(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct ra_flow_key));
}

static int cmp_name_state(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct ra_dns_name_key));
}

static int cmp_proc_state(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* Find or add an entry whose key is the first ksz bytes of a zeroed struct. */
static void *get(void **root, const void *key, size_t ksz, size_t sz,
		 int (*cmp)(const void *, const void *))
{
	void **node = tfind(key, root, cmp), *e;

	if (node)
		return *node;
	e = calloc(1, sz);
	if (!e)
		return NULL;
	memcpy(e, key, ksz);
	node = tsearch(e, root, cmp);
	if (!node || *node != e) {
		free(e);
		return node ? *node : NULL;
	}
	return e;
}

static struct dns_flow_state *flow_state(struct dns_state *d, const struct ra_flow_key *k)
{
	return get(&d->flows, k, sizeof(*k), sizeof(struct dns_flow_state), cmp_flow_state);
}

struct dns_state *dns__new(struct agent *a)
{
	struct dns_state *d = calloc(1, sizeof(*d));
	long page = sysconf(_SC_PAGESIZE);
	void *m;

	if (!d)
		return NULL;
	pthread_mutex_init(&d->lock, NULL);
	if (!a->cfg.dns)
		return d;
	/* An array's elements are contiguous, value_size rounded up to 8. */
	d->pending_len = (RA_MAX_DNS_PENDING * sizeof(struct ra_dns_pending) + page - 1) / page * page;
	m = mmap(NULL, d->pending_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(a->skel->maps.ra_dns_pending), 0);
	if (m == MAP_FAILED) {
		pr_warn("mapping ra_dns_pending: %s\n", strerror(errno));
		dns__free(d);
		return NULL;
	}
	d->pending = m;
	return d;
}

void dns__free(struct dns_state *d)
{
	if (!d)
		return;
	tdestroy(d->flows, free);
	tdestroy(d->names, free);
	tdestroy(d->procs, free);
	if (d->pending)
		munmap(d->pending, d->pending_len);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* The search list in /proc/PID/root/etc/resolv.conf: the process's own
 * file system (a container's), read through procfs. 0 or -errno. */
static int read_resolv(__u32 pid, struct resolv_search *s)
{
	char path[64], *buf, err[128];
	int rc = 0;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/root/etc/resolv.conf", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	buf = malloc(RESOLV_CONF_MAX);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, RESOLV_CONF_MAX, f);
	fclose(f);
	rc = resolv__parse(buf, n, s, err, sizeof(err));
	if (rc)
		pr_debug("%s: %s\n", path, err);
	free(buf);
	return rc;
}

#define CGROUP_PROCS_TRIED 16	/* processes of a cgroup tried for its resolv.conf */

/*
 * The search list of a flow's process, read once. A process that has exited
 * (a short-lived client: getent, kubectl, a cron job) is replaced by another
 * process of its cgroup, which in a container shares its resolv.conf. Not
 * found: an empty list, tried again at the next NXDOMAIN.
 */
static const struct resolv_search *flow_search(struct agent *a, __u32 tgid, __u64 cgroup_id)
{
	struct dns_proc_state *p = get(&a->dns->procs, &tgid, sizeof(tgid), sizeof(*p),
				       cmp_proc_state);
	const char *cg;
	char path[CONFIG_PATH_MAX + 64];
	unsigned int pid;
	FILE *f;

	if (!p || p->s.read)
		return p ? &p->s : NULL;
	if (tgid && !read_resolv(tgid, &p->s)) {
		p->s.read = true;
		return &p->s;
	}
	cg = cgroup_names__get(a->cgroups, cgroup_id);
	if (!cg)
		return &p->s;
	snprintf(path, sizeof(path), "%s%s/cgroup.procs", a->cfg.cgroupfs, strcmp(cg, "/") ? cg : "");
	f = fopen(path, "re");
	for (int i = 0; f && i < CGROUP_PROCS_TRIED && fscanf(f, "%u", &pid) == 1; i++) {
		if (!read_resolv(pid, &p->s)) {
			p->s.read = true;
			break;
		}
	}
	if (f)
		fclose(f);
	return &p->s;
}

/* ---- timeouts ---- */

void dns__sweep(struct agent *a)
{
	struct dns_state *d = a->dns;
	__u64 now, timeout = (__u64)a->cfg.dns_timeout_ms * 1000000;
	struct timespec ts;
	__u32 live = 0;

	if (!d || !d->pending)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);	/* the clock of bpf_ktime_get_ns() */
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	pthread_mutex_lock(&d->lock);
	for (__u32 i = 0; i < RA_MAX_DNS_PENDING; i++) {
		struct ra_dns_pending *e = &d->pending[i];
		__u64 sent = __atomic_load_n(&e->sent_ns, __ATOMIC_ACQUIRE);
		struct ra_flow_key flow;
		struct dns_flow_state *fs;

		if (sent <= RA_DNS_SLOT_BUSY)
			continue;
		if (now < sent || now - sent < timeout) {
			live++;
			continue;
		}
		/* The slot is stable while it holds a time; claiming it races
		 * with the answer, and whoever swaps the time for 0 owns it. */
		flow = e->flow;
		if (!__atomic_compare_exchange_n(&e->sent_ns, &sent, 0, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			continue;
		fs = flow_state(d, &flow);
		if (fs)
			fs->timeouts++;
	}
	d->pending_live = live;
	pthread_mutex_unlock(&d->lock);
}

__u32 dns__pending(struct agent *a)
{
	return a->dns ? a->dns->pending_live : 0;
}

/* ---- names ---- */

struct name_row {
	struct ra_dns_name_key k;
	struct ra_dns_name_val v;
	struct dns_name_state *st;
};

static int cmp_name_row(const void *pa, const void *pb)
{
	const struct name_row *a = pa, *b = pb;
	int c = memcmp(&a->k.flow, &b->k.flow, sizeof(a->k.flow));

	if (c)
		return c;
	return a->v.queries > b->v.queries ? -1 : a->v.queries < b->v.queries;
}

/*
 * Which names of one flow (rows sorted by queries, descending) are exported.
 * A name's series counts its queries since it was exported (base); the
 * "(other)" series counts the rest (a name new since the last scrape enters
 * with base 0). Names enter while the flow has fewer
 * than top_names exported, or by displacing the least-queried exported name
 * when they have twice its queries; a displaced name's later queries count
 * as "(other)". So every series only grows.
 */
static void names_rank(struct dns_state *d, struct name_row *r, size_t n, __u32 top)
{
	size_t nexp = 0;

	for (size_t i = 0; i < n; i++)
		nexp += r[i].st->exported;
	for (size_t i = 0; i < n && i < top; i++) {
		struct name_row *low = NULL;

		if (r[i].st->exported)
			continue;
		if (nexp >= top) {
			for (size_t j = n; j-- > 0;)
				if (r[j].st->exported) {
					low = &r[j];
					break;
				}
			if (!low || r[i].v.queries < 2 * low->v.queries)
				continue;
			low->st->exported = false;
			nexp--;
			d->exported--;
		}
		if (d->exported >= DNS_NAME_SERIES_MAX)
			return;
		r[i].st->exported = true;
		/* A name new since the last scrape brings all its queries along. */
		r[i].st->base = r[i].st->counted ? r[i].v.queries : 0;
		nexp++;
		d->exported++;
	}
}

/* The name families; returns the entries of ra_dns_names. */
static __u32 names_collect(struct agent *a, struct prom_buf *b)
{
	struct dns_state *d = a->dns;
	__u32 max = bpf_map__max_entries(a->skel->maps.ra_dns_names), n = 0;
	struct ra_dns_name_key *keys = calloc(max, sizeof(*keys));
	struct ra_dns_name_val *vals = calloc(max, sizeof(*vals));
	struct name_row *r = calloc(max, sizeof(*r));
	const char *name = "reqacct_dns_name_queries_total";

	prom__family(b, name, "counter",
		     "DNS queries per query name, for the top names of each flow (dns_top_names); "
		     "name=\"" DNS_OTHER_NAME "\" counts the others. A name's series counts from "
		     "when it entered the top.");
	if (!keys || !vals || !r ||
	    dump_hash(bpf_map__fd(a->skel->maps.ra_dns_names), sizeof(*keys), sizeof(*vals), max,
		      keys, vals, &n))
		goto out;
	for (__u32 i = 0; i < n; i++) {
		r[i].k = keys[i];
		r[i].v = vals[i];
		r[i].v.name[RA_DNS_NAME_MAX - 1] = '\0';
		r[i].st = get(&d->names, &keys[i], sizeof(keys[i]), sizeof(*r[i].st), cmp_name_state);
		if (!r[i].st)
			goto out;
	}
	qsort(r, n, sizeof(*r), cmp_name_row);
	for (size_t i = 0, j; i < n; i = j) {
		struct flow_names fn;
		struct prom_label l[FLOW_LABELS + 1];
		__u64 other = 0;

		for (j = i; j < n && !memcmp(&r[j].k.flow, &r[i].k.flow, sizeof(r[i].k.flow)); j++) {
			struct dns_name_state *st = r[j].st;
			__u64 nx = r[j].v.nxdomain;

			if (nx > st->nx_seen && r[j].k.flow.role == RA_ROLE_CLIENT) {
				const struct resolv_search *rs =
					flow_search(a, r[j].v.last_tgid, r[j].k.flow.cgroup_id);
				struct dns_flow_state *fs = flow_state(d, &r[j].k.flow);

				if (rs && fs && resolv__under_search(rs, r[j].v.name))
					fs->search_nxdomain += nx - st->nx_seen;
			}
			st->nx_seen = nx;
		}
		names_rank(d, &r[i], j - i, a->cfg.dns_top_names);
		flow_names(a, &r[i].k.flow, &fn);
		flow_labels(&fn, l);
		for (size_t k = i; k < j; k++) {
			r[k].st->counted = true;
			if (!r[k].st->exported) {
				other += r[k].v.queries;
				continue;
			}
			other += r[k].st->base;
			l[FLOW_LABELS] = (struct prom_label){ "name", r[k].v.name };
			prom__sample_u64(b, name, l, FLOW_LABELS + 1, r[k].v.queries - r[k].st->base);
		}
		l[FLOW_LABELS] = (struct prom_label){ "name", DNS_OTHER_NAME };
		prom__sample_u64(b, name, l, FLOW_LABELS + 1, other);
	}
out:
	free(keys);
	free(vals);
	free(r);
	return n;
}

/* ---- flows ---- */

struct dns_row {
	struct ra_flow_key k;
	struct ra_dns_val v;
	struct flow_names n;
	struct dns_flow_state u;	/* user-space counters (copied under the lock) */
};

static int cmp_dns_row(const void *a, const void *b)
{
	return flow_names_cmp(&((const struct dns_row *)a)->n, &((const struct dns_row *)b)->n);
}

static void sum_dns(const struct ra_dns_val *pcpu, int ncpus, struct ra_dns_val *out)
{
	const __u64 *in = (const __u64 *)pcpu;
	__u64 *o = (__u64 *)out;
	const size_t nu = offsetof(struct ra_dns_val, last_tgid) / sizeof(__u64);

	memset(out, 0, sizeof(*out));
	for (int c = 0; c < ncpus; c++)
		for (size_t i = 0; i < nu; i++)
			o[i] += in[c * sizeof(*out) / sizeof(__u64) + i];
}

static const char *const qtype_names[RA_DNS_QT_MAX] = {
#define RA_DNS_QT_NAME(name, num) [RA_DNS_QT_##name] = #name,
	RA_DNS_QTYPES(RA_DNS_QT_NAME)
#undef RA_DNS_QT_NAME
	[RA_DNS_QT_OTHER] = "other",
};

/* RFC 1035 4.1.1, RFC 2136 2.2 (mnemonics as dig prints them) */
static const char *const rcode_names[RA_DNS_RC_MAX] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "other",
};

static const __u32 lat_bounds_us[RA_DNS_LAT_BOUNDS] = { RA_DNS_LAT_BOUNDS_US };

/* One user-space or kernel counter of every row as one family. */
static void row_family(struct prom_buf *b, const struct dns_row *r, size_t n, const char *name,
		       const char *help, size_t off, bool client_only)
{
	prom__family(b, name, "counter", help);
	for (size_t i = 0; i < n; i++) {
		struct prom_label l[FLOW_LABELS];

		if (client_only && r[i].k.role != RA_ROLE_CLIENT)
			continue;
		flow_labels(&r[i].n, l);
		prom__sample_u64(b, name, l, FLOW_LABELS, *(const __u64 *)((const char *)&r[i] + off));
	}
}

/* A counter array of every row (at off) as one family, one label value per
 * index; zero samples are left out (the label set is open-ended). */
static void array_family(struct prom_buf *b, const struct dns_row *r, size_t n, const char *name,
			 const char *help, const char *label, const char *const *values,
			 int nvalues, size_t off)
{
	prom__family(b, name, "counter", help);
	for (int k = 0; k < nvalues; k++)
		for (size_t i = 0; i < n; i++) {
			const __u64 *v = (const __u64 *)((const char *)&r[i] + off);
			struct prom_label l[FLOW_LABELS + 1];

			if (!v[k])
				continue;
			flow_labels(&r[i].n, l);
			l[FLOW_LABELS] = (struct prom_label){ label, values[k] };
			prom__sample_u64(b, name, l, FLOW_LABELS + 1, v[k]);
		}
}

static void histogram(struct prom_buf *b, const struct dns_row *r, size_t n)
{
	const char *name = "reqacct_dns_request_duration_seconds";

	prom__family(b, name, "histogram",
		     "Time from a DNS query to its response, as seen on the socket: the client's "
		     "wait (role=client) or the server's response time (role=server).");
	for (size_t i = 0; i < n; i++) {
		struct prom_label l[FLOW_LABELS + 1];

		flow_labels(&r[i].n, l);
		histogram_samples(b, name, l, FLOW_LABELS, r[i].v.lat, lat_bounds_us, RA_DNS_LAT_BOUNDS,
				  r[i].v.lat_sum_ns);
	}
}

/* One counter per flow: the kernel's (v) or user space's (u). */
static const struct {
	const char *name, *help;
	size_t off;
	bool client_only;
} row_families[] = {
	{ "reqacct_dns_timeouts_total", "DNS queries with no response within dns_timeout_ms.",
	  offsetof(struct dns_row, u.timeouts), false },
	{ "reqacct_dns_search_nxdomain_total",
	  "NXDOMAIN responses for names under one of the client's resolv.conf search domains: "
	  "lookups the search list (ndots) multiplied.",
	  offsetof(struct dns_row, u.search_nxdomain), true },
	{ "reqacct_dns_truncated_responses_total", "DNS responses with the TC (truncated) bit set.",
	  offsetof(struct dns_row, v.truncated), false },
	{ "reqacct_dns_malformed_total",
	  "DNS messages the in-kernel parser rejected (bad lengths, pointers in the question, "
	  "wrong direction); never attributed to a name.",
	  offsetof(struct dns_row, v.malformed), false },
	{ "reqacct_dns_unmatched_responses_total",
	  "DNS responses to no query seen (sent before the agent started, after the timeout, "
	  "or with a mismatched id).",
	  offsetof(struct dns_row, v.unmatched), false },
};

void dns__collect(struct agent *a, struct prom_buf *b, struct map_entries *e)
{
	struct dns_state *d = a->dns;
	__u32 max = bpf_map__max_entries(a->skel->maps.ra_dns_flows), n = 0;
	struct ra_flow_key *keys = calloc(max, sizeof(*keys));
	struct ra_dns_val *vals = calloc(max, sizeof(*vals));
	struct ra_dns_val *pcpu = calloc(a->ncpus, sizeof(*pcpu));
	struct dns_row *r = calloc(max + RA_ROLE_MAX * RA_MAX_DNS_PORTS, sizeof(*r));
	size_t nr = 0;

	if (!d || !keys || !vals || !pcpu || !r ||
	    dump_hash(bpf_map__fd(a->skel->maps.ra_dns_flows), sizeof(*keys), sizeof(*vals), max,
		      keys, vals, &n))
		goto out;
	e->dns_flows = n;
	pthread_mutex_lock(&d->lock);
	e->dns_names = names_collect(a, b);	/* first: it updates search_nxdomain */
	for (__u32 i = 0; i < n; i++, nr++) {
		struct dns_flow_state *fs = flow_state(d, &keys[i]);

		r[nr].k = keys[i];
		r[nr].v = vals[i];
		if (fs)
			r[nr].u = *fs;
		flow_names(a, &keys[i], &r[nr].n);
	}
	pthread_mutex_unlock(&d->lock);
	for (__u32 slot = 0; slot < RA_ROLE_MAX * RA_MAX_DNS_PORTS; slot++) {
		__u8 role = slot / RA_MAX_DNS_PORTS;
		__u32 port = slot % RA_MAX_DNS_PORTS;

		if (port >= a->cfg.ndns_ports ||
		    percpu_lookup(a, bpf_map__fd(a->skel->maps.ra_dns_overflow), &slot, pcpu, sizeof(*pcpu)))
			continue;
		sum_dns(pcpu, a->ncpus, &r[nr].v);
		if (!memcmp(&r[nr].v, &(struct ra_dns_val){}, sizeof(r[nr].v)))
			continue;
		r[nr].k.role = role;
		flow_names_overflow(&r[nr].n, role, a->cfg.dns_ports[port]);
		nr++;
	}
	qsort(r, nr, sizeof(*r), cmp_dns_row);

	array_family(b, r, nr, "reqacct_dns_queries_total",
		     "DNS queries by query type: sent (role=client) or received (role=server), "
		     "per process (cgroup, comm), DNS port and peer (server or client address).",
		     "qtype", qtype_names, RA_DNS_QT_MAX, offsetof(struct dns_row, v.queries));
	array_family(b, r, nr, "reqacct_dns_responses_total",
		     "DNS responses by response code: received (role=client) or sent (role=server).",
		     "rcode", rcode_names, RA_DNS_RC_MAX, offsetof(struct dns_row, v.responses));
	histogram(b, r, nr);
	for (size_t i = 0; i < sizeof(row_families) / sizeof(row_families[0]); i++)
		row_family(b, r, nr, row_families[i].name, row_families[i].help, row_families[i].off,
			   row_families[i].client_only);
out:
	free(keys);
	free(vals);
	free(pcpu);
	free(r);
}
