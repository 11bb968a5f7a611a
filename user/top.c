// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * top.c - `reqacct top`: the terminal view for the first minute of an
 * incident. It reads an agent's /metrics on this node (numeric address, no
 * name lookups), or starts one (--standalone, which loads the BPF programs
 * itself), every interval, and shows rates per group of dimensions:
 *
 *   1 apiserver  clients of the servers on k8s_ports: requests/s, response
 *                bytes/s, server time/s, watches open
 *   2 dns        DNS clients: queries/s, NXDOMAIN share, latency, timeouts/s
 *   3 names      DNS query names: queries/s per name (the agent's top names)
 *   4 tcp        connections and bytes per process and cgroup
 *
 * Sort by any column, filter by text, group by any dimension, drill into a
 * row; the spike explanation (explain.c) names the dimension values that
 * explain the change of the view's cost column from its recent baseline.
 * --once, --batch N and --json print plain text for scripts; a terminal
 * that cannot be addressed (TERM=dumb) gets the same.
 */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <linux/types.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "explain.h"
#include "fnv.h"
#include "monotime.h"
#include "promparse.h"
#include "top.h"

#define DIMS_MAX 8
#define COLS_MAX 5
#define FETCH_MAX (64u << 20)	/* largest /metrics read */
#define FETCH_TIMEOUT_S 3
/* A leaf's baseline: the mean of its values over the last HISTORY
 * refreshes but the latest LAG, so that a spike is compared with the time
 * before it for LAG refreshes (it is not averaged into its own baseline). */
#define HISTORY 30
#define LAG 8
#define BASELINE_MIN 3		/* refreshes of baseline before explaining */
#define EXPLAIN_DIMS 4		/* dimensions an explanation names at most */
#define DEFAULT_URL "http://127.0.0.1:9464/metrics"

enum agg { RATE, VALUE };
enum fmt { F_RATE, F_BYTES, F_SECONDS, F_PCT, F_MS, F_COUNT };

/* A source of a column: the samples of one metric (and one label value). */
struct src {
	const char *metric;
	const char *label, *value;	/* an extra match, or NULL */
	enum agg agg;
};

struct column {
	const char *title;
	struct src num, den, sub;	/* num / den * scale, or num - sub */
	double scale;
	enum fmt fmt;
};

struct view {
	const char *name;
	const char *role;		/* the role label to match, or NULL */
	const char *dims[DIMS_MAX];	/* its dimensions; "client" is made (client_of) */
	int ndims;
	int group[DIMS_MAX], ngroup;	/* the default grouping (indexes in dims) */
	struct column cols[COLS_MAX];
	int ncols;
};

static const struct view views[] = {
	{ "apiserver", "server", { "client", "user_agent", "verb", "resource", "code", "scope" },
	  6, { 0, 1, 2, 3 }, 4,
	  { { "REQ/s", { "reqacct_k8s_requests_total", NULL, NULL, RATE }, .fmt = F_RATE },
	    { "RESP B/s", { "reqacct_k8s_response_bytes_total", NULL, NULL, RATE }, .fmt = F_BYTES },
	    { "SRV s/s", { "reqacct_k8s_request_duration_seconds_sum", NULL, NULL, RATE },
	      .fmt = F_SECONDS },
	    { "WATCHES", { "reqacct_k8s_watches", NULL, NULL, VALUE }, .fmt = F_COUNT } },
	  4 },
	{ "dns", "client", { "cgroup", "comm", "peer", "port" }, 4, { 0, 1 }, 2,
	  { { "QUERIES/s", { "reqacct_dns_queries_total", NULL, NULL, RATE }, .fmt = F_RATE },
	    { "NXDOMAIN%", { "reqacct_dns_responses_total", "rcode", "NXDOMAIN", RATE },
	      { "reqacct_dns_responses_total", NULL, NULL, RATE }, .scale = 100, .fmt = F_PCT },
	    { "LAT ms", { "reqacct_dns_request_duration_seconds_sum", NULL, NULL, RATE },
	      { "reqacct_dns_request_duration_seconds_count", NULL, NULL, RATE }, .scale = 1000,
	      .fmt = F_MS },
	    { "TIMEOUTS/s", { "reqacct_dns_timeouts_total", NULL, NULL, RATE }, .fmt = F_RATE } },
	  4 },
	{ "names", "client", { "name", "cgroup", "comm", "peer" }, 4, { 0 }, 1,
	  { { "QUERIES/s", { "reqacct_dns_name_queries_total", NULL, NULL, RATE }, .fmt = F_RATE } },
	  1 },
	{ "tcp", NULL, { "cgroup", "comm", "role", "port", "peer" }, 5, { 0, 1 }, 2,
	  { { "SENT B/s", { "reqacct_tcp_bytes_total", "direction", "sent", RATE }, .fmt = F_BYTES },
	    { "RECV B/s", { "reqacct_tcp_bytes_total", "direction", "received", RATE },
	      .fmt = F_BYTES },
	    { "CONN/s", { "reqacct_tcp_connections_total", NULL, NULL, RATE }, .fmt = F_RATE },
	    { "OPEN", { "reqacct_tcp_connections_total", NULL, NULL, VALUE },
	      .sub = { "reqacct_tcp_connections_closed_total", NULL, NULL, VALUE }, .fmt = F_COUNT } },
	  4 },
};
#define NVIEWS (int)(sizeof(views) / sizeof(views[0]))

/* One scrape: its text (which the samples point into) and when. */
struct snap {
	char *text;
	struct prom_scrape s;
	double t;
};

/* Series value by identity (name and labels), for rates: open addressing
 * over 64-bit hashes (a collision would mix two series; at 2^-64 a pair). */
struct vmap {
	__u64 *h;
	double *v;
	size_t slots;
};

struct row {
	char *key;			/* group values joined by '\x1f' */
	const char *val[DIMS_MAX];	/* into key */
	double num[COLS_MAX], den[COLS_MAX], sub[COLS_MAX];
	double col[COLS_MAX];
};

/* A leaf (every dimension of the view) and its recent values of the
 * explained column, for the baseline. */
struct leaf {
	char *key;			/* joined by '\x1f', for lookup */
	char *split;			/* the same, split: val[] points into it */
	const char *val[DIMS_MAX];
	double hist[HISTORY];
	int nhist;
	bool seen;			/* in the current refresh */
	double now;
};

struct top {
	const char *url;
	double interval;
	int view, sort, rows_max;
	bool reverse, once, json, explain, curses;
	long batch;
	int group[DIMS_MAX], ngroup;
	char filter[128];
	/* drill-down: dimension values the rows must have */
	int drill_dim[DIMS_MAX];
	char drill_val[DIMS_MAX][128];
	int ndrill;
	int selected;
	struct snap prev, cur;
	bool have_prev;
	struct row *rows;
	size_t nrows;
	struct leaf *leaves;
	size_t nleaves, cap_leaves;
	char status[256];
	char explanation[4096];
	pid_t agent;			/* --standalone: the agent started, or 0 */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

/* h with string s and a separator (a byte no string holds). */
static __u64 fnv_str(__u64 h, const char *s)
{
	return fnv_add(fnv_add(h, s, strlen(s)), "\xff", 1);
}

static __u64 series_hash(const struct prom_sample *s)
{
	__u64 h = fnv_str(FNV_OFFSET, s->name);

	for (int i = 0; i < s->nlabels; i++)
		h = fnv_str(fnv_str(h, s->key[i]), s->value[i]);
	return h ? h : 1;
}

/* ---- fetching /metrics ---- */

/* "http://ADDR:PORT/PATH" with a numeric IPv4 or [IPv6] address. */
static int parse_url(const char *url, struct sockaddr_storage *sa, socklen_t *len,
		     const char **path, char *err, size_t errlen)
{
	char host[64];
	const char *p, *end;
	unsigned long port;
	char *e;

	if (strncmp(url, "http://", 7))
		return snprintf(err, errlen, "%s: not an http:// URL", url), -EINVAL;
	p = url + 7;
	if (*p == '[') {
		end = strchr(p, ']');
		if (!end || end[1] != ':')
			return snprintf(err, errlen, "%s: expected [IPv6]:PORT", url), -EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(end - p - 1), p + 1);
		p = end + 2;
	} else {
		end = strchr(p, ':');
		if (!end)
			return snprintf(err, errlen, "%s: expected ADDR:PORT", url), -EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(end - p), p);
		p = end + 1;
	}
	port = strtoul(p, &e, 10);
	if (e == p || port == 0 || port > 65535 || (*e && *e != '/'))
		return snprintf(err, errlen, "%s: bad port", url), -EINVAL;
	*path = *e ? e : "/metrics";
	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)sa)->sin_addr) == 1) {
		((struct sockaddr_in *)sa)->sin_family = AF_INET;
		((struct sockaddr_in *)sa)->sin_port = htons(port);
		*len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)sa)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)sa)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
		*len = sizeof(struct sockaddr_in6);
	} else {
		return snprintf(err, errlen, "%s: the address must be numeric (no name lookups)",
				url), -EINVAL;
	}
	return 0;
}

/* GET url (HTTP/1.0); the body, NUL-terminated, in *out. */
static int fetch(const char *url, char **out, size_t *outlen, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = FETCH_TIMEOUT_S };
	struct sockaddr_storage sa;
	size_t len = 0, cap = 1 << 16;
	char req[512], *buf, *body;
	const char *path;
	socklen_t salen;
	ssize_t n;
	int fd, rc;

	if ((rc = parse_url(url, &sa, &salen, &path, err, errlen)))
		return rc;
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return snprintf(err, errlen, "socket: %s", strerror(errno)), -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, salen)) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", url, strerror(errno));
		close(fd);
		return rc;
	}
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nUser-Agent: reqacct-top\r\n\r\n", path);
	buf = malloc(cap);
	if (!buf || write(fd, req, n) != n) {
		free(buf);
		close(fd);
		return snprintf(err, errlen, "%s: cannot send the request", url), -EIO;
	}
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (len + 1 == cap) {
			char *b = cap < FETCH_MAX ? realloc(buf, cap * 2) : NULL;

			if (!b) {
				free(buf);
				close(fd);
				return snprintf(err, errlen, "%s: more than %u bytes", url,
						FETCH_MAX), -E2BIG;
			}
			buf = b;
			cap *= 2;
		}
	}
	close(fd);
	buf[len] = '\0';
	body = strstr(buf, "\r\n\r\n");
	if (n < 0 || strncmp(buf, "HTTP/1.", 7) || !body || strncmp(buf + 8, " 200", 4)) {
		snprintf(err, errlen, "%s: %s", url, n < 0 ? strerror(errno) :
			 !body ? "no HTTP response" : "the response is not 200 OK");
		free(buf);
		return -EIO;
	}
	body += 4;
	*outlen = len - (body - buf);
	memmove(buf, body, *outlen + 1);
	*out = buf;
	return 0;
}

static void snap_free(struct snap *s)
{
	promparse__free(&s->s);
	free(s->text);
	memset(s, 0, sizeof(*s));
}

static int take(struct top *t, char *err, size_t errlen)
{
	struct snap s = {};
	size_t len;
	int rc;

	if ((rc = fetch(t->url, &s.text, &len, err, errlen)))
		return rc;
	s.t = monotime_ns() / 1e9;
	if ((rc = promparse__parse(s.text, len, &s.s, err, errlen))) {
		free(s.text);
		return rc;
	}
	snap_free(&t->prev);
	t->prev = t->cur;
	t->have_prev = t->cur.text != NULL;
	t->cur = s;
	return 0;
}

/* ---- rows ---- */

static int vmap_init(struct vmap *m, const struct prom_scrape *s)
{
	m->slots = 2 * s->n + 1;
	m->h = calloc(m->slots, sizeof(*m->h));
	m->v = calloc(m->slots, sizeof(*m->v));
	if (!m->h || !m->v)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		__u64 h = series_hash(&s->s[i]);
		size_t j = h % m->slots;

		while (m->h[j] && m->h[j] != h)
			j = (j + 1) % m->slots;
		m->h[j] = h;
		m->v[j] = s->s[i].v;
	}
	return 0;
}

static double vmap_get(const struct vmap *m, __u64 h, bool *found)
{
	size_t j = h % m->slots;

	for (; m->h[j]; j = (j + 1) % m->slots)
		if (m->h[j] == h)
			return *found = true, m->v[j];
	return *found = false, 0;
}

static void vmap_free(struct vmap *m)
{
	free(m->h);
	free(m->v);
}

/* The value of dimension d of s: "client" is the local process
 * (client_comm@client_cgroup) or else the address. */
static const char *dim_value(const struct prom_sample *s, const char *d, char *buf, size_t len)
{
	const char *v, *comm, *cg;

	if (strcmp(d, "client"))
		return (v = promparse__label(s, d)) ? v : "";
	comm = promparse__label(s, "client_comm");
	cg = promparse__label(s, "client_cgroup");
	if (comm && *comm && cg) {
		snprintf(buf, len, "%s@%s", comm, cg);
		return buf;
	}
	return (v = promparse__label(s, "peer")) ? v : "";
}

static bool src_match(const struct src *src, const struct view *v, const struct prom_sample *s)
{
	const char *x;

	if (!src->metric || strcmp(s->name, src->metric))
		return false;
	if (v->role && (!(x = promparse__label(s, "role")) || strcmp(x, v->role)))
		return false;
	if (src->label && (!(x = promparse__label(s, src->label)) || strcmp(x, src->value)))
		return false;
	return true;
}

/* What sample s adds to a source: its rate since the previous scrape, or
 * its value. A series new since then counted from 0; a reset from 0. */
static double contribution(const struct top *t, const struct src *src,
			   const struct prom_sample *s, const struct vmap *prev)
{
	double dt = t->cur.t - t->prev.t, p;
	bool found;

	if (src->agg == VALUE)
		return isfinite(s->v) ? s->v : 0;
	if (dt <= 0 || !isfinite(s->v))
		return 0;
	p = vmap_get(prev, series_hash(s), &found);
	return (found && s->v >= p ? s->v - p : s->v) / dt;
}

/* The key of s under dims dim[0..n), or NULL if the drill-down or the
 * filter leave it out. */
static char *group_key(const struct top *t, const struct prom_sample *s, const int *dim, int n)
{
	const struct view *v = &views[t->view];
	char buf[256], key[1024];
	size_t len = 0;

	for (int i = 0; i < t->ndrill; i++)
		if (strcmp(dim_value(s, v->dims[t->drill_dim[i]], buf, sizeof(buf)), t->drill_val[i]))
			return NULL;
	key[0] = '\0';
	for (int i = 0; i < n; i++)
		len += snprintf(key + len, len < sizeof(key) ? sizeof(key) - len : 0, "%s%s",
				i ? "\x1f" : "", dim_value(s, v->dims[dim[i]], buf, sizeof(buf)));
	if (len >= sizeof(key))
		key[sizeof(key) - 1] = '\0';
	if (t->filter[0] && !strstr(key, t->filter))
		return NULL;
	return strdup(key);
}

static int cmp_rows(const void *pa, const void *pb, void *ctx)
{
	const struct row *a = pa, *b = pb;
	const struct top *t = ctx;
	double x = a->col[t->sort], y = b->col[t->sort];
	int c = x < y ? 1 : x > y ? -1 : strcmp(a->key, b->key);

	return t->reverse ? -c : c;
}

static void free_rows(struct top *t)
{
	for (size_t i = 0; i < t->nrows; i++)
		free(t->rows[i].key);
	free(t->rows);
	t->rows = NULL;
	t->nrows = 0;
}

/* Find or add the row of key (which it takes). */
static struct row *row_of(struct top *t, char *key, size_t *cap)
{
	struct row *r;

	for (size_t i = 0; i < t->nrows; i++)
		if (!strcmp(t->rows[i].key, key))
			return free(key), &t->rows[i];
	if (t->nrows == *cap) {
		size_t c = *cap ? 2 * *cap : 64;

		r = realloc(t->rows, c * sizeof(*r));
		if (!r)
			return free(key), NULL;
		t->rows = r;
		*cap = c;
	}
	r = &t->rows[t->nrows++];
	memset(r, 0, sizeof(*r));
	r->key = key;
	return r;
}

static void split_key(struct row *r, int n)
{
	char *p = r->key;

	for (int i = 0; i < n; i++) {
		r->val[i] = p;
		p = strchr(p, '\x1f');
		if (!p)
			break;
		*p++ = '\0';
	}
}

/* Rows of the current view from the last two scrapes. (A linear search
 * per sample: the views have hundreds of rows, not millions.) */
static void build_rows(struct top *t)
{
	const struct view *v = &views[t->view];
	struct vmap prev = {};
	size_t cap = 0;

	free_rows(t);
	if (!t->have_prev || vmap_init(&prev, &t->prev.s))
		goto out;
	for (size_t i = 0; i < t->cur.s.n; i++) {
		const struct prom_sample *s = &t->cur.s.s[i];

		for (int c = 0; c < v->ncols; c++) {
			const struct column *col = &v->cols[c];
			const struct src *srcs[3] = { &col->num, &col->den, &col->sub };

			for (int k = 0; k < 3; k++) {
				struct row *r;
				char *key;

				if (!src_match(srcs[k], v, s) ||
				    !(key = group_key(t, s, t->group, t->ngroup)))
					continue;
				r = row_of(t, key, &cap);
				if (!r)
					continue;
				(k == 0 ? r->num : k == 1 ? r->den : r->sub)[c] +=
					contribution(t, srcs[k], s, &prev);
			}
		}
	}
	for (size_t i = 0; i < t->nrows; i++) {
		struct row *r = &t->rows[i];

		split_key(r, t->ngroup);
		for (int c = 0; c < v->ncols; c++) {
			const struct column *col = &v->cols[c];

			if (col->den.metric)
				r->col[c] = r->den[c] > 0 ? r->num[c] / r->den[c] * col->scale : 0;
			else
				r->col[c] = r->num[c] - r->sub[c];
		}
	}
	qsort_r(t->rows, t->nrows, sizeof(*t->rows), cmp_rows, t);
out:
	vmap_free(&prev);
}

/* ---- the spike explanation ---- */

static struct leaf *leaf_of(struct top *t, const char *key)
{
	struct leaf *l;
	int n = 0;

	for (size_t i = 0; i < t->nleaves; i++)
		if (!strcmp(t->leaves[i].key, key))
			return &t->leaves[i];
	if (t->nleaves == t->cap_leaves) {
		size_t c = t->cap_leaves ? 2 * t->cap_leaves : 64;

		l = realloc(t->leaves, c * sizeof(*l));
		if (!l)
			return NULL;
		t->leaves = l;
		t->cap_leaves = c;
	}
	l = &t->leaves[t->nleaves];
	memset(l, 0, sizeof(*l));
	l->key = strdup(key);
	l->split = strdup(key);
	if (!l->key || !l->split) {
		free(l->key);
		free(l->split);
		return NULL;
	}
	for (char *p = l->split; p && n < DIMS_MAX; n++) {
		l->val[n] = p;
		p = strchr(p, '\x1f');
		if (p)
			*p++ = '\0';
	}
	t->nleaves++;
	return l;
}

/* Each refresh: the explained column per leaf (every dimension), into the
 * leaves' histories; then what explains the change of the latest values
 * from their means. */
static void explain_step(struct top *t)
{
	const struct view *v = &views[t->view];
	const struct src *src = &v->cols[t->sort].num;
	int all[DIMS_MAX], rc;
	struct explain_leaf *el = NULL;
	struct explain_params p;
	struct explain_result res;
	struct vmap prev = {};
	size_t n = 0;

	t->explanation[0] = '\0';
	if (!t->have_prev || vmap_init(&prev, &t->prev.s))
		goto out;
	for (int i = 0; i < v->ndims; i++)
		all[i] = i;
	for (size_t i = 0; i < t->nleaves; i++)
		t->leaves[i].seen = false, t->leaves[i].now = 0;
	for (size_t i = 0; i < t->cur.s.n; i++) {
		const struct prom_sample *s = &t->cur.s.s[i];
		struct leaf *l;
		char *key;

		if (!src_match(src, v, s) || !(key = group_key(t, s, all, v->ndims)))
			continue;
		l = leaf_of(t, key);
		free(key);
		if (l) {
			l->seen = true;
			l->now += contribution(t, src, s, &prev);
		}
	}
	el = calloc(t->nleaves + 1, sizeof(*el));
	if (!el)
		goto out;
	for (size_t i = 0; i < t->nleaves; i++) {
		struct leaf *l = &t->leaves[i];
		double base = 0;

		for (int h = 0; h < l->nhist - LAG; h++)
			base += l->hist[h];
		el[n].expected = l->nhist > LAG ? base / (l->nhist - LAG) : 0;
		el[n].actual = l->now;
		memcpy(el[n].value, l->val, sizeof(l->val));
		n++;
	}
	p = explain__defaults();
	/* Who, what and on which resource: a spike's client, user agent, verb
	 * and resource can all localise it (the paper's 3 would drop one). */
	p.max_dims = EXPLAIN_DIMS;
	if (n && t->leaves[0].nhist >= LAG + BASELINE_MIN) {
		rc = explain__run(el, n, v->ndims, &p, &res);
		if (!rc) {
			explain__format(&res, v->dims, t->explanation, sizeof(t->explanation));
		} else if (rc == -ENODATA) {
			snprintf(t->explanation, sizeof(t->explanation),
				 "no change of %s from its baseline to explain",
				 v->cols[t->sort].title);
		}
		explain__free(&res);
	}
	for (size_t i = 0; i < t->nleaves; i++) {	/* then the histories move on */
		struct leaf *l = &t->leaves[i];

		if (l->nhist == HISTORY)
			memmove(l->hist, l->hist + 1, (HISTORY - 1) * sizeof(double));
		l->hist[l->nhist < HISTORY ? l->nhist++ : HISTORY - 1] = l->now;
	}
out:
	free(el);
	vmap_free(&prev);
}

static void reset_leaves(struct top *t)
{
	for (size_t i = 0; i < t->nleaves; i++) {
		free(t->leaves[i].key);
		free(t->leaves[i].split);
	}
	free(t->leaves);
	t->leaves = NULL;
	t->nleaves = t->cap_leaves = 0;
}

/* ---- output ---- */

static void fmt_value(char *buf, size_t len, double v, enum fmt f)
{
	static const char *const units[] = { "", "K", "M", "G", "T" };
	int u = 0;

	switch (f) {
	case F_BYTES:
		while (fabs(v) >= 1024 && u < 4)
			v /= 1024, u++;
		snprintf(buf, len, u ? "%.1f%si" : "%.0f", v, units[u]);
		break;
	case F_PCT:
		snprintf(buf, len, "%.1f%%", v);
		break;
	case F_MS:
		snprintf(buf, len, "%.2f", v);
		break;
	case F_SECONDS:
		snprintf(buf, len, "%.3f", v);
		break;
	case F_COUNT:
		snprintf(buf, len, "%.0f", v);
		break;
	case F_RATE:
	default:
		snprintf(buf, len, v >= 100 || v == 0 ? "%.0f" : "%.1f", v);
		break;
	}
}

static int group_width(const struct top *t, int cols)
{
	const struct view *v = &views[t->view];
	int w = cols - v->ncols * 11;

	return w < 20 ? 20 : w;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void print_json(const struct top *t, FILE *f)
{
	const struct view *v = &views[t->view];

	fprintf(f, "{\"view\":\"%s\",\"group\":[", v->name);
	for (int g = 0; g < t->ngroup; g++)
		fprintf(f, "%s\"%s\"", g ? "," : "", v->dims[t->group[g]]);
	fprintf(f, "],\"rows\":[");
	for (size_t i = 0; i < t->nrows && (int)i < t->rows_max; i++) {
		fprintf(f, "%s{", i ? "," : "");
		for (int g = 0; g < t->ngroup; g++) {
			fprintf(f, "\"%s\":", v->dims[t->group[g]]);
			json_str(f, t->rows[i].val[g] ? t->rows[i].val[g] : "");
			fputc(',', f);
		}
		for (int c = 0; c < v->ncols; c++)
			fprintf(f, "%s\"%s\":%.6g", c ? "," : "", v->cols[c].title, t->rows[i].col[c]);
		fputc('}', f);
	}
	fprintf(f, "]");
	if (t->explain) {
		fprintf(f, ",\"explanation\":");
		json_str(f, t->explanation);
	}
	fprintf(f, "}\n");
	fflush(f);
}

static void print_text(const struct top *t, FILE *f)
{
	const struct view *v = &views[t->view];
	int gw = group_width(t, 132);
	char head[512] = "", buf[32];
	size_t len = 0;

	for (int g = 0; g < t->ngroup; g++)
		len += snprintf(head + len, sizeof(head) - len, "%s%s", g ? "/" : "",
				v->dims[t->group[g]]);
	fprintf(f, "%-*.*s", gw, gw, head);
	for (int c = 0; c < v->ncols; c++)
		fprintf(f, " %10s", v->cols[c].title);
	fputc('\n', f);
	for (size_t i = 0; i < t->nrows && (int)i < t->rows_max; i++) {
		char key[1024] = "";

		len = 0;
		for (int g = 0; g < t->ngroup; g++)
			len += snprintf(key + len, len < sizeof(key) ? sizeof(key) - len : 0, "%s%s",
					g ? " " : "", t->rows[i].val[g] ? t->rows[i].val[g] : "");
		fprintf(f, "%-*.*s", gw, gw, key);
		for (int c = 0; c < v->ncols; c++) {
			fmt_value(buf, sizeof(buf), t->rows[i].col[c], v->cols[c].fmt);
			fprintf(f, " %10s", buf);
		}
		fputc('\n', f);
	}
	if (t->explain)
		fprintf(f, "-- explanation of %s:\n%s\n", v->cols[t->sort].title,
			t->explanation[0] ? t->explanation : "(collecting a baseline)");
	fputc('\n', f);
	fflush(f);
}

static const char *const help_lines[] = {
	"reqacct top: keys",
	"",
	"  1 2 3 4      views: apiserver clients, DNS clients, DNS names, TCP per process",
	"  < >  s       sort by the column to the left / right / next",
	"  r            reverse the sort",
	"  /            filter: rows whose group values contain the text (empty: none)",
	"  g            group by dimensions (names or numbers, comma-separated)",
	"  Enter        drill into the selected row (group by the other dimensions)",
	"  Backspace    back out of the last drill-down",
	"  e            spike explanation of the sort column on/off: the dimension values",
	"               that explain its change from the baseline (Adtributor)",
	"  Up Down      select a row",
	"  ? h          this help",
	"  q            quit",
	"",
	"Rates are per second between two reads of the agent's /metrics.",
	"Press any key to return.",
};

static void draw(struct top *t, bool help)
{
	const struct view *v = &views[t->view];
	int rows, cols, y = 0, gw, top_row = 0, list;
	char buf[512], val[32];
	size_t len = 0;

	getmaxyx(stdscr, rows, cols);
	erase();
	if (help) {
		for (size_t i = 0; i < sizeof(help_lines) / sizeof(help_lines[0]) && (int)i < rows; i++)
			mvaddnstr(i, 0, help_lines[i], cols);
		refresh();
		return;
	}
	gw = group_width(t, cols);
	snprintf(buf, sizeof(buf), "reqacct top - %s (1 apiserver 2 dns 3 names 4 tcp)  %s  every %gs%s%s",
		 v->name, t->url, t->interval, t->filter[0] ? "  filter: " : "", t->filter);
	attron(A_BOLD);
	mvaddnstr(y++, 0, buf, cols);
	attroff(A_BOLD);
	len = snprintf(buf, sizeof(buf), "group: ");
	for (int g = 0; g < t->ngroup; g++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%s", g ? "/" : "", v->dims[t->group[g]]);
	for (int d = 0; d < t->ndrill && len < sizeof(buf); d++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%s=%s", d ? ", " : "  in: ",
				v->dims[t->drill_dim[d]], t->drill_val[d]);
	mvaddnstr(y++, 0, buf, cols);
	attron(A_REVERSE);
	len = snprintf(buf, sizeof(buf), "%-*.*s", gw, gw, "");
	for (int c = 0; c < v->ncols && len < sizeof(buf); c++)
		len += snprintf(buf + len, sizeof(buf) - len, " %9s%c", v->cols[c].title,
				c == t->sort ? (t->reverse ? '^' : 'v') : ' ');
	mvaddnstr(y++, 0, buf, cols);
	attroff(A_REVERSE);
	list = rows - y - 1 - (t->explain ? 8 : 0);
	if (t->selected >= (int)t->nrows)
		t->selected = t->nrows ? (int)t->nrows - 1 : 0;
	if (t->selected >= list)
		top_row = t->selected - list + 1;
	for (int i = top_row; i < (int)t->nrows && y < rows - 1 - (t->explain ? 8 : 0); i++) {
		const struct row *r = &t->rows[i];
		char key[1024] = "";
		size_t kl = 0;

		for (int g = 0; g < t->ngroup; g++)
			kl += snprintf(key + kl, kl < sizeof(key) ? sizeof(key) - kl : 0, "%s%s",
				       g ? " " : "", r->val[g] ? r->val[g] : "");
		len = snprintf(buf, sizeof(buf), "%-*.*s", gw, gw, key);
		for (int c = 0; c < v->ncols && len < sizeof(buf); c++) {
			fmt_value(val, sizeof(val), r->col[c], v->cols[c].fmt);
			len += snprintf(buf + len, sizeof(buf) - len, " %10s", val);
		}
		if (i == t->selected)
			attron(A_REVERSE);
		mvaddnstr(y++, 0, buf, cols);
		if (i == t->selected)
			attroff(A_REVERSE);
	}
	if (!t->nrows)
		mvaddnstr(y++, 0, t->have_prev ? "(no rows)" : "(reading...)", cols);
	if (t->explain) {
		char *line = t->explanation, *nl;
		int ey = rows - 9;

		snprintf(buf, sizeof(buf), "-- what explains the change of %s:",
			 v->cols[t->sort].title);
		attron(A_BOLD);
		mvaddnstr(ey++, 0, buf, cols);
		attroff(A_BOLD);
		if (!*line)
			mvaddnstr(ey, 0, "(collecting a baseline)", cols);
		for (; *line && ey < rows - 1; line = nl + 1) {
			nl = strchr(line, '\n');
			mvaddnstr(ey++, 0, line, nl ? (int)(nl - line) : cols);
			if (!nl)
				break;
		}
	}
	mvaddnstr(rows - 1, 0, t->status[0] ? t->status :
		  "?:help q:quit 1-4:view </>:sort /:filter g:group Enter:drill e:explain", cols);
	refresh();
}

/* Read a line at the bottom of the screen into buf. */
static void prompt(const char *what, char *buf, size_t len)
{
	int rows, cols;

	getmaxyx(stdscr, rows, cols);
	move(rows - 1, 0);
	clrtoeol();
	addnstr(what, cols);
	echo();
	curs_set(1);
	timeout(-1);
	getnstr(buf, (int)len - 1);
	noecho();
	curs_set(0);
}

static void set_group(struct top *t, const char *spec)
{
	const struct view *v = &views[t->view];
	char copy[256], *tok, *save;
	int n = 0;

	snprintf(copy, sizeof(copy), "%s", spec);
	for (tok = strtok_r(copy, ", ", &save); tok && n < DIMS_MAX; tok = strtok_r(NULL, ", ", &save)) {
		int d = -1;

		for (int i = 0; i < v->ndims; i++)
			if (!strcmp(tok, v->dims[i]) || (tok[0] == '1' + i && !tok[1]))
				d = i;
		if (d < 0) {
			snprintf(t->status, sizeof(t->status), "no dimension '%s' in this view", tok);
			return;
		}
		t->group[n++] = d;
	}
	if (n) {
		t->ngroup = n;
		t->status[0] = '\0';
	}
}

static void set_view(struct top *t, int v)
{
	t->view = v;
	t->ngroup = views[v].ngroup;
	memcpy(t->group, views[v].group, sizeof(t->group));
	t->ndrill = 0;
	t->filter[0] = '\0';
	t->sort = 0;
	t->selected = 0;
	reset_leaves(t);
}

/* Enter: keep the selected row's values, group by the other dimensions. */
static void drill(struct top *t)
{
	const struct view *v = &views[t->view];
	int rest[DIMS_MAX], n = 0;

	if (t->selected >= (int)t->nrows)
		return;
	for (int g = 0; g < t->ngroup && t->ndrill < DIMS_MAX; g++) {
		t->drill_dim[t->ndrill] = t->group[g];
		snprintf(t->drill_val[t->ndrill], sizeof(t->drill_val[0]), "%s",
			 t->rows[t->selected].val[g] ? t->rows[t->selected].val[g] : "");
		t->ndrill++;
	}
	for (int d = 0; d < v->ndims; d++) {
		bool used = false;

		for (int i = 0; i < t->ndrill; i++)
			used |= t->drill_dim[i] == d;
		if (!used)
			rest[n++] = d;
	}
	if (n) {
		memcpy(t->group, rest, sizeof(rest));
		t->ngroup = n;
	}
	t->filter[0] = '\0';	/* the drill-down's values say which rows now */
	t->selected = 0;
}

/* Backspace: out of the drill-downs, back to the view's grouping. */
static void undrill(struct top *t)
{
	const struct view *v = &views[t->view];

	t->ndrill = 0;
	t->ngroup = v->ngroup;
	memcpy(t->group, v->group, sizeof(t->group));
	t->selected = 0;
}

/* A key: false to quit. */
static bool key(struct top *t, int ch, bool *help)
{
	const struct view *v = &views[t->view];
	char buf[128];

	if (*help) {
		*help = false;
		return true;
	}
	t->status[0] = '\0';
	switch (ch) {
	case 'q':
		return false;
	case '?':
	case 'h':
		*help = true;
		break;
	case '1':
	case '2':
	case '3':
	case '4':
		set_view(t, ch - '1');
		build_rows(t);
		break;
	case '<':
		t->sort = (t->sort + v->ncols - 1) % v->ncols;
		reset_leaves(t);	/* the explanation follows the sort column */
		break;
	case '>':
	case 's':
		t->sort = (t->sort + 1) % v->ncols;
		reset_leaves(t);
		break;
	case 'r':
		t->reverse = !t->reverse;
		break;
	case 'e':
		t->explain = !t->explain;
		break;
	case '/':
		prompt("filter: ", buf, sizeof(buf));
		snprintf(t->filter, sizeof(t->filter), "%s", buf);
		t->selected = 0;
		reset_leaves(t);
		break;
	case 'g': {
		char line[160] = "group by (";
		size_t len = strlen(line);

		for (int i = 0; i < v->ndims; i++)
			len += snprintf(line + len, sizeof(line) - len, "%s%d %s", i ? ", " : "", i + 1,
					v->dims[i]);
		snprintf(line + len, sizeof(line) - len, "): ");
		prompt(line, buf, sizeof(buf));
		set_group(t, buf);
		t->selected = 0;
		break;
	}
	case '\n':
	case '\r':
	case KEY_ENTER:
		drill(t);
		reset_leaves(t);
		break;
	case KEY_BACKSPACE:
	case 127:
	case 27:
		undrill(t);
		reset_leaves(t);
		break;
	case KEY_UP:
	case 'k':
		if (t->selected > 0)
			t->selected--;
		break;
	case KEY_DOWN:
	case 'j':
		if (t->selected + 1 < (int)t->nrows)
			t->selected++;
		break;
	case KEY_RESIZE:
		break;
	default:
		return true;
	}
	qsort_r(t->rows, t->nrows, sizeof(*t->rows), cmp_rows, t);
	return true;
}

static int refresh_data(struct top *t)
{
	char err[256];
	int rc = take(t, err, sizeof(err));

	if (rc) {
		snprintf(t->status, sizeof(t->status), "%s", err);
		return rc;
	}
	build_rows(t);
	if (t->explain)
		explain_step(t);
	return 0;
}

static int run_curses(struct top *t)
{
	double next = monotime_ns() / 1e9;
	bool help = false;

	initscr();
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	while (!stop) {
		int ch;

		if (monotime_ns() / 1e9 >= next) {
			refresh_data(t);
			next += t->interval;
			if (next < monotime_ns() / 1e9)
				next = monotime_ns() / 1e9 + t->interval;
		}
		draw(t, help);
		timeout(100);
		ch = getch();
		if (ch != ERR && !key(t, ch, &help))
			break;
	}
	endwin();
	return 0;
}

static int run_print(struct top *t)
{
	char err[256];
	long n = 0;

	if (take(t, err, sizeof(err))) {
		fprintf(stderr, "reqacct top: %s\n", err);
		return 1;
	}
	while (!stop && (t->batch <= 0 || n < t->batch)) {
		usleep((useconds_t)(t->interval * 1e6));
		if (take(t, err, sizeof(err))) {
			fprintf(stderr, "reqacct top: %s\n", err);
			return 1;
		}
		build_rows(t);
		if (t->explain)
			explain_step(t);
		if (t->json)
			print_json(t, stdout);
		else
			print_text(t, stdout);
		n++;
	}
	return 0;
}

/* --standalone: an agent of our own, on a free loopback port. */
static int start_agent(struct top *t, char *url, size_t len, char **agent_args, int nargs)
{
	static char arg0[] = "reqacct", arg1[] = "agent", arg2[] = "--listen";
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t salen = sizeof(sa);
	char listen_arg[64], *argv[64];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), n = 0;
	char err[128], *text;
	size_t tl;

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen)) {
		perror("reqacct top: a free port");
		return -1;
	}
	close(fd);
	snprintf(listen_arg, sizeof(listen_arg), "127.0.0.1:%u", ntohs(sa.sin_port));
	snprintf(url, len, "http://%s/metrics", listen_arg);
	argv[n++] = arg0;
	argv[n++] = arg1;
	argv[n++] = arg2;
	argv[n++] = listen_arg;
	for (int i = 0; i < nargs && n < 62; i++)
		argv[n++] = agent_args[i];
	argv[n] = NULL;
	t->agent = fork();
	if (t->agent < 0)
		return -1;
	if (!t->agent) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	for (int i = 0; i < 300; i++) {	/* up to 30 s: loading takes ~1 s */
		if (!fetch(url, &text, &tl, err, sizeof(err))) {
			free(text);
			return 0;
		}
		if (waitpid(t->agent, NULL, WNOHANG) == t->agent) {
			t->agent = 0;
			fprintf(stderr, "reqacct top: the agent did not start (run `reqacct agent` "
					"to see why)\n");
			return -1;
		}
		usleep(100000);
	}
	return -1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: reqacct top [OPTIONS] [-- AGENT OPTIONS]\n"
		"\n"
		"The apiserver's clients, DNS clients and TCP per process, from a reqacct agent\n"
		"on this node, refreshed every second.\n"
		"\n"
		"  -u, --from URL        the agent's metrics (default " DEFAULT_URL "; a\n"
		"                        numeric address: no name lookups)\n"
		"  -S, --standalone      start an agent of our own (root; AGENT OPTIONS after --)\n"
		"  -d, --interval S      seconds between reads (default 1)\n"
		"  -v, --view NAME       apiserver, dns, names (DNS query names) or tcp\n"
		"                        (default apiserver)\n"
		"  -g, --group DIMS      group by these dimensions (comma-separated)\n"
		"  -f, --filter TEXT     rows whose group values contain TEXT\n"
		"  -s, --sort N          sort by column N (1-based)\n"
		"  -e, --explain         explain the change of the view's cost column\n"
		"  -1, --once            print one table (after one interval) and exit\n"
		"  -b, --batch N         print N tables, one per interval, and exit\n"
		"  -j, --json            print JSON lines instead of text\n"
		"  -n, --rows N          rows printed (default 20; the screen's in the view)\n"
		"  -h, --help            this text\n"
		"\n"
		"Keys: ? or h for help, q to quit.\n");
}

int do_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'u' }, { "standalone", no_argument, NULL, 'S' },
		{ "interval", required_argument, NULL, 'd' }, { "view", required_argument, NULL, 'v' },
		{ "group", required_argument, NULL, 'g' }, { "filter", required_argument, NULL, 'f' },
		{ "sort", required_argument, NULL, 's' }, { "explain", no_argument, NULL, 'e' },
		{ "once", no_argument, NULL, '1' }, { "batch", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' }, { "rows", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' }, {},
	};
	struct top t = { .url = DEFAULT_URL, .interval = 1, .rows_max = 20 };
	const char *group = NULL, *term = getenv("TERM");
	bool standalone = false;
	char url[128], *end;
	int c, rc, sort = 1;

	set_view(&t, 0);
	optind = 1;
	while ((c = getopt_long(argc, argv, "u:Sd:v:g:f:s:e1b:jn:h", opts, NULL)) != -1) {
		switch (c) {
		case 'u': t.url = optarg; break;
		case 'S': standalone = true; break;
		case 'd':
			t.interval = strtod(optarg, &end);
			if (*end || !(t.interval >= 0.1 && t.interval <= 3600)) {
				fprintf(stderr, "reqacct top: --interval %s: 0.1 to 3600 seconds\n",
					optarg);
				return 2;
			}
			break;
		case 'v':
			rc = -1;
			for (int i = 0; i < NVIEWS; i++)
				if (!strcmp(optarg, views[i].name))
					rc = i;
			if (rc < 0) {
				fprintf(stderr, "reqacct top: --view %s: apiserver, dns, names or tcp\n",
					optarg);
				return 2;
			}
			set_view(&t, rc);
			break;
		case 'g': group = optarg; break;
		case 'f': snprintf(t.filter, sizeof(t.filter), "%s", optarg); break;
		case 's': sort = atoi(optarg); break;
		case 'e': t.explain = true; break;
		case '1': t.once = true; t.batch = 1; break;
		case 'b':
			t.batch = strtol(optarg, &end, 10);
			if (*end || t.batch < 1) {
				fprintf(stderr, "reqacct top: --batch %s: a count of 1 or more\n", optarg);
				return 2;
			}
			break;
		case 'j': t.json = true; break;
		case 'n': t.rows_max = atoi(optarg) > 0 ? atoi(optarg) : 20; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (group) {
		set_group(&t, group);
		if (t.status[0]) {
			fprintf(stderr, "reqacct top: --group: %s\n", t.status);
			return 2;
		}
	}
	if (sort < 1 || sort > views[t.view].ncols) {
		fprintf(stderr, "reqacct top: --sort %d: 1 to %d\n", sort, views[t.view].ncols);
		return 2;
	}
	t.sort = sort - 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (standalone) {
		if (start_agent(&t, url, sizeof(url), argv + optind, argc - optind)) {
			if (t.agent > 0)
				kill(t.agent, SIGTERM), waitpid(t.agent, NULL, 0);
			return 1;
		}
		t.url = url;
	}
	t.curses = !t.batch && !t.json && isatty(0) && isatty(1) && term && *term &&
		   strcmp(term, "dumb");
	if (!t.curses && !t.batch)
		t.batch = -1;	/* a terminal that cannot be addressed: print until stopped */
	rc = t.curses ? run_curses(&t) : run_print(&t);
	if (t.agent > 0) {
		kill(t.agent, SIGTERM);
		waitpid(t.agent, NULL, 0);
	}
	free_rows(&t);
	reset_leaves(&t);
	snap_free(&t.prev);
	snap_free(&t.cur);
	return rc;
}
