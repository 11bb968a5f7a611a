// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * k8s.c - Kubernetes API requests: the requests on k8s_ports that the TLS
 * and HTTP/2 probes counted come with their request-target and, for HTTP/2
 * to Go servers, the User-Agent (ra_http_events); each is resolved by the
 * apiserver's rules (kreq.c) and counted in two tables:
 *
 *  - per client: (flow, local client process, user agent, verb, group,
 *    version, resource, subresource, scope, code), or (..., verb, path
 *    class, code) for non-resource requests. On the server side a client is
 *    its address (the flow's peer) and, when it runs on this host, its
 *    process; only the k8s_top_clients clients that cost the server most
 *    in the last k8s_top_window_s seconds get rows of their own, the rest
 *    count as peer="other". Cost is server time of requests other than
 *    watches (the measure the apiserver's own fairness scheme charges; a
 *    watch's duration is waiting). The first clients seen are admitted
 *    until the window ends.
 *  - per user agent: (role, port, user agent, verb, ...), for every client.
 *
 * Watches open now are read at each scrape from the HTTP/2 streams in
 * progress (ra_h2_streams), per client (the same top K) and resource.
 *
 * Each table is bounded (k8s_max_series rows): a row that finds no room is
 * counted in its role's overflow row, exported with cgroup="overflow", so
 * sums stay exact. Rows are never removed, so every series is monotonic (a
 * client that leaves the top K keeps its rows, no longer growing).
 * The main thread adds (ring buffer callback), the scrape thread reads:
 * one mutex.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "agent.h"
#include "cgroup_names.h"
#include "fnv.h"
#include "kreq.h"
#include "log.h"
#include "monotime.h"
#include "prom.h"
#include "reqacct.skel.h"

#define CLIENTS_MAX 65536	/* clients whose cost is followed; beyond, "other" */
#define UNRESOLVED_LOGGED 10	/* bad targets written to the log, then only counted */

struct k8s_key {
	struct ra_flow_key flow;	/* per user agent: role and port only */
	__u64 client_cgroup;		/* the local client process, if any */
	char client_comm[RA_COMM_LEN];
	__u16 code;		/* 0: no final status was seen */
	__u8 verb;		/* enum kreq_verb */
	__u8 resource;		/* a resource request; else res is a path class */
	__u8 cluster;		/* cluster scope (no namespace in the path) */
	__u8 overflow;		/* the role's overflow row */
	__u8 lib;		/* enum ra_tls_lib: a Go client's response size is not known */
	__u8 other;		/* a client outside the top K */
	char ua[KREQ_UA_PRODUCT_MAX + KREQ_UA_VERSION_MAX];	/* "product/version" */
	char group[KREQ_GROUP_MAX];
	char version[KREQ_LABEL_MAX];
	char res[KREQ_LABEL_MAX];	/* resource, or a non-resource path class */
	char sub[KREQ_LABEL_MAX];
};

struct k8s_row {
	struct k8s_key k;
	__u64 requests;
	__u64 resp_bytes;
	__u64 lat[RA_HTTP_LAT_SLOTS];	/* durations of those with a response */
	__u64 lat_sum_ns;
};

/*
 * A bounded table of rows: the rows in use are rows[0, used), found by an
 * open-addressing index (2 x max + 1 slots of row number + 1, 0 free). A
 * scrape reads the rows in use only, and memory is touched as rows come
 * (the default 4096 rows of 760 B take 3 MiB; slots of whole rows were 6 MiB
 * a table, all read, and so made resident, at every scrape).
 */
struct k8s_table {
	struct k8s_row *rows;
	__u32 *index;
	__u32 slots, used, max;
	struct k8s_row overflow[RA_ROLE_MAX];
};

/* A server's client: its address and, if local, its process. */
struct k8s_client {
	__u8 peer[RA_ADDR_LEN];
	__u64 cgroup_id;
	char comm[RA_COMM_LEN];
};

struct client_row {
	struct k8s_client c;
	__u64 cost_ns;		/* server time in the current window */
	bool top;
};

struct k8s_state {
	pthread_mutex_t lock;
	struct k8s_table per_client, per_agent;
	struct client_row *clients;	/* clients[0, nclients) */
	__u32 *client_index;		/* as k8s_table's index: CLIENT_SLOTS slots */
	__u32 nclients, ntop, top_max;
	__u64 window_ns, window_end;
	__u64 unresolved;	/* targets that are not request targets */
	__u64 expired;		/* HTTP/2 streams forgotten by k8s__sweep */
	unsigned logged;	/* unresolved targets logged so far */
};

static const __u32 lat_bounds_us[RA_HTTP_LAT_BOUNDS] = { RA_HTTP_LAT_BOUNDS_US };
#define CLIENT_SLOTS (2 * CLIENTS_MAX + 1)

static int table_init(struct k8s_table *t, __u32 max)
{
	t->max = max;
	t->slots = 2 * max + 1;
	t->rows = calloc(max, sizeof(*t->rows));
	t->index = calloc(t->slots, sizeof(*t->index));
	return t->rows && t->index ? 0 : -ENOMEM;
}

static void table_free(struct k8s_table *t)
{
	free(t->rows);
	free(t->index);
}

struct k8s_state *k8s__new(__u32 max_series, __u32 top_clients, __u32 top_window_s)
{
	struct k8s_state *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->top_max = top_clients;
	s->window_ns = (__u64)top_window_s * 1000000000ULL;
	s->clients = calloc(CLIENTS_MAX, sizeof(*s->clients));
	s->client_index = calloc(CLIENT_SLOTS, sizeof(*s->client_index));
	if (!s->clients || !s->client_index || table_init(&s->per_client, max_series) ||
	    table_init(&s->per_agent, max_series)) {
		k8s__free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

void k8s__set_top(struct k8s_state *s, __u32 top_clients, __u32 top_window_s)
{
	pthread_mutex_lock(&s->lock);
	s->top_max = top_clients;
	s->window_ns = (__u64)top_window_s * 1000000000ULL;
	if (s->window_end && s->window_end > monotime_ns() + s->window_ns)
		s->window_end = monotime_ns() + s->window_ns;	/* a shorter window: now */
	pthread_mutex_unlock(&s->lock);
}

void k8s__free(struct k8s_state *s)
{
	if (!s)
		return;
	if (s->per_client.index && s->per_agent.index && s->client_index)
		pthread_mutex_destroy(&s->lock);
	table_free(&s->per_client);
	table_free(&s->per_agent);
	free(s->clients);
	free(s->client_index);
	free(s);
}

/* Add one ended exchange to its row. */
static void add(struct k8s_row *r, const struct ra_http_event *e)
{
	__u32 b;

	r->requests++;
	r->resp_bytes += e->resp_bytes;
	if (!e->duration_ns)
		return;
	for (b = 0; b < RA_HTTP_LAT_BOUNDS; b++)
		if (e->duration_ns <= (__u64)lat_bounds_us[b] * 1000)
			break;
	r->lat[b]++;
	r->lat_sum_ns += e->duration_ns;
}

/* Count e in k's row of t, or in the role's overflow row. Under the lock. */
static void count(struct k8s_table *t, const struct k8s_key *k, const struct ra_http_event *e)
{
	__u32 i = fnv(k, sizeof(*k)) % t->slots;

	while (t->index[i] && memcmp(&t->rows[t->index[i] - 1].k, k, sizeof(*k)))
		i = (i + 1) % t->slots;
	if (!t->index[i]) {
		if (t->used == t->max) {
			add(&t->overflow[k->flow.role % RA_ROLE_MAX], e);
			return;
		}
		t->rows[t->used].k = *k;
		t->index[i] = ++t->used;
	}
	add(&t->rows[t->index[i] - 1], e);
}

/* Costlier first; at equal cost, those in the top K stay. */
static int cmp_cost(const void *pa, const void *pb)
{
	const struct client_row *a = pa, *b = pb;

	if (a->cost_ns != b->cost_ns)
		return a->cost_ns < b->cost_ns ? 1 : -1;
	return (int)b->top - (int)a->top;
}

/* The index slot of client c: its row number + 1, or 0 if not followed.
 * Under the lock. */
static __u32 *client_slot(struct k8s_state *s, const struct k8s_client *c)
{
	__u32 i = fnv(c, sizeof(*c)) % CLIENT_SLOTS;

	while (s->client_index[i] && memcmp(&s->clients[s->client_index[i] - 1].c, c, sizeof(*c)))
		i = (i + 1) % CLIENT_SLOTS;
	return &s->client_index[i];
}

/* The row of client c, or NULL. Under the lock. */
static struct client_row *client_find(struct k8s_state *s, const struct k8s_client *c)
{
	__u32 n = *client_slot(s, c);

	return n ? &s->clients[n - 1] : NULL;
}

/* A window ended: its K costliest clients are the top K of the next. The
 * others without cost in it are forgotten, so the table holds the clients of
 * the last window, not every client ever seen: a newcomer finds room. */
static void rank_clients(struct k8s_state *s)
{
	__u32 n = 0;

	qsort(s->clients, s->nclients, sizeof(*s->clients), cmp_cost);
	memset(s->client_index, 0, CLIENT_SLOTS * sizeof(*s->client_index));
	s->ntop = 0;
	for (__u32 i = 0; i < s->nclients; i++) {
		struct client_row r = s->clients[i];

		r.top = i < s->top_max;
		if (!r.top && !r.cost_ns)
			continue;
		r.cost_ns = 0;
		s->clients[n] = r;	/* n <= i: a row already moved */
		*client_slot(s, &r.c) = ++n;
		s->ntop += r.top;
	}
	s->nclients = n;
}

/* Charge cost_ns to client c; whether it has rows of its own. Under the lock. */
static bool client_top(struct k8s_state *s, const struct k8s_client *c, __u64 cost_ns)
{
	__u32 *slot = client_slot(s, c);
	struct client_row *r;

	if (!*slot) {
		if (s->nclients == CLIENTS_MAX)
			return false;
		r = &s->clients[s->nclients];
		*r = (struct client_row){ .c = *c, .top = s->ntop < s->top_max };
		s->ntop += r->top;	/* room: admitted until the window ends */
		*slot = ++s->nclients;
	}
	r = &s->clients[*slot - 1];
	r->cost_ns += cost_ns;
	return r->top;
}

/* The key of e without its client (e resolved into k already). */
static void agent_key(const struct k8s_key *k, struct k8s_key *ak)
{
	*ak = *k;
	memset(&ak->flow, 0, sizeof(ak->flow));
	ak->flow.role = k->flow.role;
	ak->flow.port = k->flow.port;
	ak->client_cgroup = 0;
	memset(ak->client_comm, 0, sizeof(ak->client_comm));
}

/* "product/version" of a User-Agent, "" if none or not a product. */
static void user_agent(const struct ra_http_event *e, char *out, size_t len)
{
	char product[KREQ_UA_PRODUCT_MAX], version[KREQ_UA_VERSION_MAX], err[128];

	if (!e->ua_len || e->ua_len > RA_HTTP_UA_MAX ||
	    kreq__user_agent(e->ua, e->ua_len, product, version, err, sizeof(err)))
		return;
	snprintf(out, len, "%s%s%s", product, version[0] ? "/" : "", version);
}

/* The key of e's row, per client (the client not yet applied); -EINVAL
 * (err) when its target is not a request target. */
static int resolve(const struct ra_http_event *e, struct k8s_key *k, struct kreq *r, char *err,
		   size_t errlen)
{
	const char *m = http__method_name(e->method);	/* "other": no verb (kreq) */

	if (e->target_len > RA_HTTP_TARGET_MAX ||
	    kreq__resolve(m, strlen(m), e->target, e->target_len, r, err, errlen))
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	k->flow = e->flow;
	k->code = e->status;
	k->lib = e->lib;
	k->verb = r->verb;
	k->resource = r->resource;
	if (r->resource) {
		k->cluster = !r->namespace_[0];
		memcpy(k->group, r->group, sizeof(k->group));
		memcpy(k->version, r->version, sizeof(k->version));
		memcpy(k->res, r->resource_name, sizeof(k->res));
		memcpy(k->sub, r->subresource, sizeof(k->sub));
	} else {
		snprintf(k->res, sizeof(k->res), "%s", r->path);
	}
	user_agent(e, k->ua, sizeof(k->ua));
	return 0;
}

/* A server's client, as e names it. */
static void client_of(const struct ra_http_event *e, struct k8s_client *c)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->peer, e->flow.peer, sizeof(c->peer));
	c->cgroup_id = e->client.cgroup_id;
	memcpy(c->comm, e->client.comm, sizeof(c->comm));
}

/* k as a row of client c: its own, or "other". */
static void with_client(struct k8s_key *k, const struct k8s_client *c, bool top)
{
	if (top) {
		k->client_cgroup = c->cgroup_id;
		memcpy(k->client_comm, c->comm, sizeof(k->client_comm));
	} else {
		memset(k->flow.peer, 0, sizeof(k->flow.peer));
		k->other = 1;
	}
}

int k8s__on_request(void *ctx, void *data, size_t len)
{
	const struct ra_http_event *e = data;
	struct agent *a = ctx;
	struct k8s_state *s = a->k8s;
	struct k8s_key k, ak;
	struct k8s_client c;
	struct kreq r;
	char err[256];
	__u64 now;

	if (!s || len < sizeof(*e))
		return 0;
	if (resolve(e, &k, &r, err, sizeof(err))) {
		pthread_mutex_lock(&s->lock);
		s->unresolved++;
		pthread_mutex_unlock(&s->lock);
		if (s->logged++ < UNRESOLVED_LOGGED)
			pr_debug("a request on port %u not resolved: %s\n", e->flow.port, err);
		return 0;
	}
	agent_key(&k, &ak);
	now = monotime_ns();

	pthread_mutex_lock(&s->lock);
	if (now >= s->window_end) {
		if (s->window_end)
			rank_clients(s);
		s->window_end = now + s->window_ns;
	}
	count(&s->per_agent, &ak, e);
	if (e->flow.role == RA_ROLE_SERVER) {
		client_of(e, &c);
		with_client(&k, &c, client_top(s, &c, r.verb == KREQ_WATCH ? 0 : e->duration_ns));
	}
	count(&s->per_client, &k, e);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

struct out_row {
	const struct k8s_row *r;
	struct flow_names n;
	const char *client_cgroup;	/* "" when not a local process */
	char client_cgroup_buf[32];
	char client_comm[RA_COMM_LEN + 1];
	char code[8];
};

static int cmp_out(const void *pa, const void *pb)
{
	const struct out_row *a = pa, *b = pb;
	int c = flow_names_cmp(&a->n, &b->n);

	return c ? c : memcmp(&a->r->k.client_cgroup, &b->r->k.client_cgroup,
			      sizeof(a->r->k) - offsetof(struct k8s_key, client_cgroup));
}

/* The rows of t with their label values; *n of them. Under the lock. */
static struct out_row *out_rows(struct agent *a, struct k8s_table *t, bool agent, size_t *n)
{
	struct out_row *o = calloc(t->used + RA_ROLE_MAX, sizeof(*o));
	const struct k8s_key *k;

	*n = 0;
	if (!o)
		return NULL;
	for (__u32 i = 0; i < t->used + RA_ROLE_MAX; i++) {
		struct out_row *r = &o[*n];

		if (i < t->used) {
			r->r = &t->rows[i];
		} else {	/* the overflow rows */
			struct k8s_row *ov = &t->overflow[i - t->used];

			if (!ov->requests)
				continue;
			ov->k.overflow = ov->k.resource = 1;
			ov->k.flow.role = i - t->used;
			r->r = ov;
		}
		k = &r->r->k;
		(*n)++;
		r->client_cgroup = "";
		if (k->overflow) {
			flow_names_overflow(&r->n, k->flow.role, 0);
			strcpy(r->code, PEER_OVERFLOW);
			r->client_cgroup = PEER_OVERFLOW;
			strcpy(r->client_comm, PEER_OVERFLOW);
			continue;
		}
		flow_names(a, &k->flow, &r->n);
		if (agent) {
			r->n.cgroup = "";
			r->n.comm[0] = r->n.peer[0] = '\0';
		} else if (k->other) {
			strcpy(r->n.peer, PEER_OTHER);
		}
		if (k->client_cgroup) {
			r->client_cgroup = cgroup_names__get(a->cgroups, k->client_cgroup);
			if (!r->client_cgroup) {
				snprintf(r->client_cgroup_buf, sizeof(r->client_cgroup_buf), "id:%llu",
					 (unsigned long long)k->client_cgroup);
				r->client_cgroup = r->client_cgroup_buf;
			}
		}
		memcpy(r->client_comm, k->client_comm, RA_COMM_LEN);
		if (k->code)
			snprintf(r->code, sizeof(r->code), "%u", k->code);
		else
			strcpy(r->code, "unknown");
	}
	qsort(o, *n, sizeof(*o), cmp_out);
	return o;
}

#define LABELS_MAX (FLOW_LABELS + 3 + 7 + 1)	/* who, user_agent, what, le */

/* The labels of a row: who (a per-client row: the flow, client_cgroup,
 * client_comm; per agent: role, port), user_agent, then for a resource row
 * verb group version resource subresource scope code, for a non-resource
 * one verb path code. Their number, or 0 if the row is not of that kind. */
static size_t row_labels(const struct out_row *o, bool agent, bool resource, struct prom_label *l)
{
	const struct k8s_key *k = &o->r->k;
	const char *ov = k->overflow ? PEER_OVERFLOW : NULL;
	size_t n;

	if (!k->resource != !resource)
		return 0;
	if (agent) {
		l[0] = (struct prom_label){ "role", o->n.role };
		l[1] = (struct prom_label){ "port", o->n.port };
		n = 2;
	} else {
		flow_labels(&o->n, l);
		l[FLOW_LABELS] = (struct prom_label){ "client_cgroup", o->client_cgroup };
		l[FLOW_LABELS + 1] = (struct prom_label){ "client_comm", o->client_comm };
		n = FLOW_LABELS + 2;
	}
	l[n++] = (struct prom_label){ "user_agent", ov ?: k->ua };
	l[n++] = (struct prom_label){ "verb", ov ?: kreq__verb_name(k->verb) };
	if (resource) {
		l[n++] = (struct prom_label){ "group", ov ?: k->group };
		l[n++] = (struct prom_label){ "version", ov ?: k->version };
		l[n++] = (struct prom_label){ "resource", ov ?: k->res };
		l[n++] = (struct prom_label){ "subresource", ov ?: k->sub };
		l[n++] = (struct prom_label){ "scope", ov ?: k->cluster ? "cluster" : "namespace" };
	} else {
		l[n++] = (struct prom_label){ "path", ov ?: k->res };
	}
	l[n++] = (struct prom_label){ "code", o->code };
	return n;
}

/* One table's four families, named prefix + "requests_total", ... */
static void emit(struct prom_buf *b, const char *prefix, const char *who, const struct out_row *o,
		 size_t n, bool agent)
{
	char name[96], help[512];
	struct prom_label l[LABELS_MAX];
	size_t nl;

	snprintf(name, sizeof(name), "%srequests_total", prefix);
	snprintf(help, sizeof(help),
		 "Kubernetes API resource requests on k8s_ports (HTTP/1.x over TLS; HTTP/2 to Go "
		 "servers), resolved by the apiserver's rules, %s, user agent, verb, API group, "
		 "version, resource, subresource, scope and code (\"unknown\": none seen).", who);
	prom__family(b, name, "counter", help);
	for (size_t i = 0; i < n; i++)
		if ((nl = row_labels(&o[i], agent, true, l)))
			prom__sample_u64(b, name, l, nl, o[i].r->requests);

	snprintf(name, sizeof(name), "%sresponse_bytes_total", prefix);
	prom__family(b, name, "counter",
		     "Bytes of those requests' responses (HTTP/1.x: before encryption; HTTP/2: DATA "
		     "payload; not for Go HTTP/1.x clients, whose read sizes are not known).");
	for (size_t i = 0; i < n; i++) {
		const struct k8s_key *k = &o[i].r->k;

		if (k->lib == RA_TLS_GO && k->flow.role == RA_ROLE_CLIENT)
			continue;
		if ((nl = row_labels(&o[i], agent, true, l)))
			prom__sample_u64(b, name, l, nl, o[i].r->resp_bytes);
	}

	snprintf(name, sizeof(name), "%srequest_duration_seconds", prefix);
	prom__family(b, name, "histogram",
		     "First request byte to last response byte of those requests that got a "
		     "response (a server's time, or the wait a client saw; HTTP/2: request headers "
		     "to the stream's close).");
	for (size_t i = 0; i < n; i++)
		if ((nl = row_labels(&o[i], agent, true, l)))
			histogram_samples(b, name, l, nl, o[i].r->lat, lat_bounds_us,
					  RA_HTTP_LAT_BOUNDS, o[i].r->lat_sum_ns);

	snprintf(name, sizeof(name), "%snonresource_requests_total", prefix);
	snprintf(help, sizeof(help),
		 "Kubernetes API requests for no resource (/healthz, /readyz, /metrics, /openapi, "
		 "discovery), %s, user agent, verb (the method), path class and code.", who);
	prom__family(b, name, "counter", help);
	for (size_t i = 0; i < n; i++)
		if ((nl = row_labels(&o[i], agent, false, l)))
			prom__sample_u64(b, name, l, nl, o[i].r->requests);
}

/* Forget the HTTP/2 streams open longer than h2_stream_max_age_s: a stream
 * the server refused (over its concurrent stream limit) or a connection
 * error cut never gets the closeStream that deletes it. */
void k8s__sweep(struct agent *a)
{
	int fd = bpf_map__fd(a->skel->maps.ra_h2_streams);
	__u64 now = monotime_ns(), n = 0, max_age = a->cfg.h2_stream_max_age_s * 1000000000ULL;
	struct ra_h2_stream_key k, next, *old = NULL;
	struct ra_http_event ev;
	size_t nold = 0, cap = 0;

	for (void *prev = NULL; !bpf_map_get_next_key(fd, prev, &next); prev = &k) {
		k = next;
		if (bpf_map_lookup_elem(fd, &k, &ev) || now < ev.duration_ns ||
		    now - ev.duration_ns < max_age)
			continue;
		if (nold == cap) {
			struct ra_h2_stream_key *o = realloc(old, (cap = cap ? 2 * cap : 64) * sizeof(*o));

			if (!o)
				break;
			old = o;
		}
		old[nold++] = k;
	}
	for (size_t i = 0; i < nold; i++)
		n += !bpf_map_delete_elem(fd, &old[i]);
	free(old);
	if (!n || !a->k8s)
		return;
	pthread_mutex_lock(&a->k8s->lock);
	a->k8s->expired += n;
	pthread_mutex_unlock(&a->k8s->lock);
}

/* The watches open now: HTTP/2 streams of Go servers in progress whose
 * request is a watch, per client (its own rows if in the top K, else
 * "other") and resource. Under the lock. */
static void watches(struct agent *a, struct k8s_state *s, struct prom_buf *b)
{
	int fd = bpf_map__fd(a->skel->maps.ra_h2_streams);
	__u32 max = count_entries(fd, sizeof(struct ra_h2_stream_key)) + 256, n = 0;
	struct ra_h2_stream_key *keys = calloc(max, sizeof(*keys));
	struct ra_http_event *ev = calloc(max, sizeof(*ev));
	struct prom_label l[LABELS_MAX];
	struct k8s_table t = {};
	struct out_row *o = NULL;
	struct k8s_client c;
	struct client_row *cr;
	struct k8s_key k;
	struct kreq r;
	char err[128];
	size_t nout = 0, nl;

	prom__family(b, "reqacct_k8s_watches", "gauge",
		     "Watches open now (HTTP/2 streams of Go servers on k8s_ports), per server "
		     "process, client (as reqacct_k8s_requests_total), user agent and resource.");
	if (!keys || !ev || table_init(&t, max) ||
	    dump_hash(fd, sizeof(*keys), sizeof(*ev), max, keys, ev, &n))
		n = 0;
	for (__u32 i = 0; i < n; i++) {
		if (!config__has_port(a->cfg.k8s_ports, a->cfg.nk8s_ports, ev[i].flow.port) || resolve(&ev[i], &k, &r, err, sizeof(err)) ||
		    r.verb != KREQ_WATCH)
			continue;
		k.code = 0;
		k.lib = 0;
		client_of(&ev[i], &c);
		cr = client_find(s, &c);
		with_client(&k, &c, cr && cr->top);
		count(&t, &k, &ev[i]);
	}
	if (t.used)
		o = out_rows(a, &t, false, &nout);
	for (size_t i = 0; i < nout; i++)
		if ((nl = row_labels(&o[i], false, true, l)))
			prom__sample_u64(b, "reqacct_k8s_watches", l, nl - 1 /* no code */,
					 o[i].r->requests);
	free(o);
	table_free(&t);
	free(keys);
	free(ev);
}

void k8s__collect(struct agent *a, struct prom_buf *b)
{
	struct k8s_state *s = a->k8s;
	struct out_row *o;
	size_t n;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	o = out_rows(a, &s->per_client, false, &n);
	emit(b, "reqacct_k8s_", "per process and client (on the server side the top "
	     "k8s_top_clients clients by server time, the rest peer=\"other\")", o, o ? n : 0, false);
	free(o);
	o = out_rows(a, &s->per_agent, true, &n);
	emit(b, "reqacct_k8s_agent_", "per role, port", o, o ? n : 0, true);
	free(o);
	watches(a, s, b);
	prom__family(b, "reqacct_k8s_unresolved_requests_total", "counter",
		     "Requests on k8s_ports whose target is not a valid request target (not counted "
		     "by verb and resource).");
	prom__sample_u64(b, "reqacct_k8s_unresolved_requests_total", NULL, 0, s->unresolved);
	prom__family(b, "reqacct_h2_streams_expired_total", "counter",
		     "HTTP/2 streams of Go servers forgotten after h2_stream_max_age_s open "
		     "(refused by the server, or cut by a connection error, so never closed); their "
		     "close, if it comes, counts as unattributed.");
	prom__sample_u64(b, "reqacct_h2_streams_expired_total", NULL, 0, s->expired);
	prom__family(b, "reqacct_k8s_series", "gauge",
		     "Rows of the Kubernetes request tables; beyond k8s_max_series each, the "
		     "overflow rows.");
	prom__sample_u64(b, "reqacct_k8s_series", (struct prom_label[]){ { "table", "client" } }, 1,
			 s->per_client.used);
	prom__sample_u64(b, "reqacct_k8s_series", (struct prom_label[]){ { "table", "agent" } }, 1,
			 s->per_agent.used);
	prom__family(b, "reqacct_k8s_series_limit", "gauge",
		     "Rows each Kubernetes request table may hold (k8s_max_series).");
	prom__sample_u64(b, "reqacct_k8s_series_limit", (struct prom_label[]){ { "table", "client" } },
			 1, s->per_client.max);
	prom__sample_u64(b, "reqacct_k8s_series_limit", (struct prom_label[]){ { "table", "agent" } },
			 1, s->per_agent.max);
	prom__family(b, "reqacct_k8s_top_clients_limit", "gauge",
		     "Clients of a server with rows of their own (k8s_top_clients; a reload "
		     "changes it from the next window).");
	prom__sample_u64(b, "reqacct_k8s_top_clients_limit", NULL, 0, s->top_max);
	prom__family(b, "reqacct_k8s_clients", "gauge",
		     "Clients of servers seen (address and local process); beyond 65536, the rest "
		     "count as peer=\"other\". top: those with rows of their own now.");
	prom__sample_u64(b, "reqacct_k8s_clients", (struct prom_label[]){ { "set", "seen" } }, 1,
			 s->nclients);
	prom__sample_u64(b, "reqacct_k8s_clients", (struct prom_label[]){ { "set", "top" } }, 1,
			 s->ntop);
	pthread_mutex_unlock(&s->lock);
}
