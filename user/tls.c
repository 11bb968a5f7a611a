// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tls.c - the user-space half of HTTP over TLS (bpf/tls.bpf.h): which
 * OpenSSL libraries to probe, the probes' links, and the HTTP families.
 *
 * Uprobes attach to a library file (its inode), so one attachment serves
 * every process that maps it, those running now and those started later.
 * The libraries are: the ones mapped by running processes (/proc/PID/maps,
 * opened through /proc/PID/root so a container's own libssl is found), at
 * start and every tls_rescan_s seconds, the distribution's usual paths, and
 * any the configuration names. A process that maps a new libssl is counted
 * from the rescan on: its earlier calls are not seen.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "log.h"
#include "prom.h"
#include "reqacct.skel.h"

/* Where distributions put libssl (Debian/Ubuntu multiarch, RHEL, Alpine). */
static const char *const default_libs[] = {
	"/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libssl.so.1.1",
	"/usr/lib/aarch64-linux-gnu/libssl.so.3", "/usr/lib/aarch64-linux-gnu/libssl.so.1.1",
	"/usr/lib64/libssl.so.3", "/usr/lib64/libssl.so.1.1", "/lib/libssl.so.3",
};

/* The functions probed: entry program, and every one shares ra_ssl_ret. */
#define TLS_FUNCS 4
#define TLS_TARGETS_MAX 256	/* (library, process) pairs probed */

/*
 * What is probed: a library file for every process (pid -1), or, when
 * tls_comms selects processes, a library file for one process, named by
 * pid and start time (so a reused pid is a different process).
 */
struct tls_target {
	dev_t dev;
	ino_t ino;
	int pid;
	unsigned long long start;	/* /proc/PID/stat field 22 */
	char path[PATH_MAX];
	struct bpf_link *links[TLS_FUNCS * 2];
	int nlinks;
};

struct tls_state {
	struct tls_target t[TLS_TARGETS_MAX];
	int n;
	int nlibs;		/* count_libs(), set by the main thread after each scan,
				 * read by the scrape thread */
	bool full_logged;
};

/* The start time of a process (clock ticks since boot), 0 if it is gone. */
static unsigned long long proc_start(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
			  "%*d %*d %llu", &start) != 1)
		start = 0;
	fclose(f);
	return start;
}

static void detach(struct tls_target *t)
{
	for (int i = 0; i < t->nlinks; i++)
		bpf_link__destroy(t->links[i]);
	t->nlinks = 0;
}

static void attach_lib(struct agent *a, struct tls_state *ts, const char *path, int pid)
{
	struct reqacct_bpf *s = a->skel;
	const struct {
		const char *func;
		struct bpf_program *prog;
	} funcs[TLS_FUNCS] = {
		{ "SSL_write", s->progs.ra_ssl_write }, { "SSL_write_ex", s->progs.ra_ssl_write_ex },
		{ "SSL_read", s->progs.ra_ssl_read }, { "SSL_read_ex", s->progs.ra_ssl_read_ex },
	};
	unsigned long long start = pid > 0 ? proc_start(pid) : 0;
	struct tls_target *t;
	struct stat st;

	if (stat(path, &st) || !S_ISREG(st.st_mode) || (pid > 0 && !start))
		return;
	for (int i = 0; i < ts->n; i++) {
		if (ts->t[i].dev == st.st_dev && ts->t[i].ino == st.st_ino && ts->t[i].pid == pid &&
		    ts->t[i].start == start)
			return;
	}
	if (ts->n == TLS_TARGETS_MAX) {
		if (!ts->full_logged)
			pr_warn("more than %d OpenSSL targets: %s of pid %d and later ones not probed\n",
				TLS_TARGETS_MAX, path, pid);
		ts->full_logged = true;
		return;
	}
	t = &ts->t[ts->n];
	*t = (struct tls_target){ .dev = st.st_dev, .ino = st.st_ino, .pid = pid, .start = start };
	snprintf(t->path, sizeof(t->path), "%s", path);
	for (int f = 0; f < TLS_FUNCS; f++) {
		for (int ret = 0; ret <= 1; ret++) {
			LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = funcs[f].func, .retprobe = ret);
			struct bpf_link *l;

			l = bpf_program__attach_uprobe_opts(ret ? s->progs.ra_ssl_ret : funcs[f].prog,
							    pid, path, 0, &opts);
			if (!l) {	/* SSL_*_ex appeared in OpenSSL 1.1.1 */
				pr_debug("%s: %s: not probed: %s\n", path, funcs[f].func, strerror(errno));
				break;
			}
			t->links[t->nlinks++] = l;
		}
	}
	if (!t->nlinks)
		return;
	ts->n++;
	if (pid > 0)
		pr_info("probing OpenSSL in %s for pid %d (%d probes)\n", path, pid, t->nlinks);
	else
		pr_info("probing OpenSSL in %s (%d probes)\n", path, t->nlinks);
}

/* Is a process selected by tls_comms (all are when it is empty)? */
static bool selected(struct agent *a, const char *pid)
{
	char path[300], comm[32] = "";
	FILE *f;

	if (!a->cfg.ntls_comms)
		return true;
	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fgets(comm, sizeof(comm), f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
	for (__u32 i = 0; i < a->cfg.ntls_comms; i++)
		if (!strcmp(comm, a->cfg.tls_comms[i]))
			return true;
	return false;
}

/* Libraries mapped by running processes, through their own root; with
 * tls_comms, probed for the selected processes only. */
static void scan_procs(struct agent *a, struct tls_state *t)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;

	while (proc && (de = readdir(proc))) {
		char maps[300], line[PATH_MAX + 128], path[PATH_MAX + 300];
		FILE *f;

		if (de->d_name[0] < '1' || de->d_name[0] > '9' || !selected(a, de->d_name))
			continue;
		snprintf(maps, sizeof(maps), "/proc/%s/maps", de->d_name);
		f = fopen(maps, "re");
		while (f && fgets(line, sizeof(line), f)) {
			char *p = strchr(line, '/');

			if (!p || !strstr(p, "/libssl.so"))
				continue;
			p[strcspn(p, "\n")] = '\0';
			if (strstr(p, " (deleted)"))
				continue;
			snprintf(path, sizeof(path), "/proc/%s/root%s", de->d_name, p);
			attach_lib(a, t, path, a->cfg.ntls_comms ? atoi(de->d_name) : -1);
		}
		if (f)
			fclose(f);
	}
	if (proc)
		closedir(proc);
}

/* Forget the targets of processes that exited (or whose pid was reused). */
static void reap(struct tls_state *ts)
{
	int i = 0;

	while (i < ts->n) {
		struct tls_target *t = &ts->t[i];

		if (t->pid <= 0 || proc_start(t->pid) == t->start) {
			i++;
			continue;
		}
		detach(t);
		ts->t[i] = ts->t[--ts->n];
	}
}

/* Distinct library files among the targets. */
static int count_libs(const struct tls_state *ts)
{
	int n = 0;

	for (int i = 0; i < ts->n; i++) {
		bool seen = false;

		for (int j = 0; j < i && !seen; j++)
			seen = ts->t[j].dev == ts->t[i].dev && ts->t[j].ino == ts->t[i].ino;
		n += !seen;
	}
	return n;
}

int tls__attach(struct agent *a)
{
	struct tls_state *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	a->tls = t;
	if (!a->cfg.ntls_comms) {	/* whole files: every process, now and later */
		for (size_t i = 0; i < sizeof(default_libs) / sizeof(default_libs[0]); i++)
			attach_lib(a, t, default_libs[i], -1);
		for (__u32 i = 0; i < a->cfg.ntls_libs; i++)
			attach_lib(a, t, a->cfg.tls_libs[i], -1);
	}
	scan_procs(a, t);
	t->nlibs = count_libs(t);
	if (!t->n && !a->cfg.ntls_comms)
		pr_warn("no OpenSSL library found to probe: HTTP over TLS is not counted\n");
	return 0;
}

void tls__rescan(struct agent *a)
{
	if (!a->tls)
		return;
	reap(a->tls);
	scan_procs(a, a->tls);
	a->tls->nlibs = count_libs(a->tls);
}

void tls__free(struct tls_state *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->n; i++)
		detach(&t->t[i]);
	free(t);
}

static const char *const method_names[RA_HTTP_M_MAX] = {
#define RA_HTTP_M_NAME(name) [RA_HTTP_M_##name] = #name,
	RA_HTTP_METHODS(RA_HTTP_M_NAME)
#undef RA_HTTP_M_NAME
	[RA_HTTP_M_OTHER] = "other",
};

static const __u32 lat_bounds_us[RA_HTTP_LAT_BOUNDS] = { RA_HTTP_LAT_BOUNDS_US };

struct http_row {
	struct ra_http_key k;
	struct ra_http_val v;
	struct flow_names n;
	char status[8];
};

static int cmp_http_row(const void *pa, const void *pb)
{
	const struct http_row *a = pa, *b = pb;
	int c = flow_names_cmp(&a->n, &b->n);

	if (c)
		return c;
	if (a->k.method != b->k.method)
		return a->k.method < b->k.method ? -1 : 1;
	return a->k.status < b->k.status ? -1 : a->k.status > b->k.status;
}

static void sum_http(const struct ra_http_val *pcpu, int ncpus, struct ra_http_val *out)
{
	const size_t nu = offsetof(struct ra_http_val, last_tgid) / sizeof(__u64);

	memset(out, 0, sizeof(*out));
	for (int c = 0; c < ncpus; c++)
		for (size_t i = 0; i < nu; i++)
			((__u64 *)out)[i] += ((const __u64 *)&pcpu[c])[i];
}

/* The labels of a row: the flow's, method and status. */
static void row_labels(const struct http_row *r, struct prom_label *l)
{
	flow_labels(&r->n, l);
	l[FLOW_LABELS] = (struct prom_label){ "method", method_names[r->k.method % RA_HTTP_M_MAX] };
	l[FLOW_LABELS + 1] = (struct prom_label){ "status", r->status };
}

#define HTTP_LABELS (FLOW_LABELS + 2)

void tls__collect(struct agent *a, struct prom_buf *b, struct map_entries *e)
{
	__u32 max = bpf_map__max_entries(a->skel->maps.ra_http_flows), n = 0;
	struct ra_http_key *keys = calloc(max, sizeof(*keys));
	struct ra_http_val *vals = calloc(max, sizeof(*vals));
	struct ra_http_val *pcpu = calloc(a->ncpus, sizeof(*pcpu));
	struct http_row *r = calloc(max + RA_ROLE_MAX, sizeof(*r));
	static const struct {
		const char *name, *help;
		size_t off;
	} counters[] = {
		{ "reqacct_http_requests_total",
		  "HTTP/1.x requests over TLS that got a final response, per process (cgroup, comm), "
		  "role, port, peer, method and status.", offsetof(struct ra_http_val, requests) },
		{ "reqacct_http_request_bytes_total",
		  "Bytes of those requests (request line, headers, body) before encryption.",
		  offsetof(struct ra_http_val, req_bytes) },
		{ "reqacct_http_response_bytes_total",
		  "Bytes of their responses (status line, headers, body) before encryption.",
		  offsetof(struct ra_http_val, resp_bytes) },
	};
	size_t nr = 0;

	if (!keys || !vals || !pcpu || !r ||
	    dump_hash(bpf_map__fd(a->skel->maps.ra_http_flows), sizeof(*keys), sizeof(*vals), max,
		      keys, vals, &n))
		goto out;
	e->http_flows = n;
	for (__u32 i = 0; i < n; i++, nr++) {
		r[nr].k = keys[i];
		r[nr].v = vals[i];
		flow_names(a, &keys[i].flow, &r[nr].n);
	}
	for (__u32 role = 0; role < RA_ROLE_MAX; role++) {
		if (bpf_map_lookup_elem(bpf_map__fd(a->skel->maps.ra_http_overflow), &role, pcpu))
			continue;
		sum_http(pcpu, a->ncpus, &r[nr].v);
		if (!r[nr].v.requests && !r[nr].v.resp_bytes)
			continue;
		r[nr].k.method = RA_HTTP_M_OTHER;
		flow_names_overflow(&r[nr].n, role, 0);
		strcpy(r[nr].status, PEER_OVERFLOW);
		nr++;
	}
	for (size_t i = 0; i < nr; i++)
		if (!r[i].status[0])
			snprintf(r[i].status, sizeof(r[i].status), "%u", r[i].k.status);
	qsort(r, nr, sizeof(*r), cmp_http_row);
	for (size_t c = 0; c < sizeof(counters) / sizeof(counters[0]); c++) {
		prom__family(b, counters[c].name, "counter", counters[c].help);
		for (size_t i = 0; i < nr; i++) {
			struct prom_label l[HTTP_LABELS];

			row_labels(&r[i], l);
			prom__sample_u64(b, counters[c].name, l, HTTP_LABELS,
					 *(const __u64 *)((const char *)&r[i].v + counters[c].off));
		}
	}
	prom__family(b, "reqacct_http_request_duration_seconds", "histogram",
		     "First request byte to last response byte, as the process saw them; counted "
		     "when the next request on the connection starts or the connection closes.");
	for (size_t i = 0; i < nr; i++) {
		struct prom_label l[HTTP_LABELS + 1];

		row_labels(&r[i], l);
		histogram_samples(b, "reqacct_http_request_duration_seconds", l, HTTP_LABELS, r[i].v.lat,
				  lat_bounds_us, RA_HTTP_LAT_BOUNDS, r[i].v.lat_sum_ns);
	}
	prom__family(b, "reqacct_tls_libraries_probed", "gauge",
		     "OpenSSL library files whose SSL_read/SSL_write the agent probes.");
	prom__sample_u64(b, "reqacct_tls_libraries_probed", NULL, 0, a->tls ? a->tls->nlibs : 0);
out:
	free(keys);
	free(vals);
	free(pcpu);
	free(r);
}
