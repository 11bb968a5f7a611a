// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * k8s.c - Kubernetes API requests: the requests on k8s_ports that the TLS
 * probes counted come with their request-target (ra_http_events); each is
 * resolved by the apiserver's rules (kreq.c) and counted per (flow, verb,
 * group, version, resource, subresource, scope, code), or per (flow, verb,
 * path class, code) for non-resource requests.
 *
 * The table is bounded (k8s_max_series rows): a row that finds no room is
 * counted in its role's overflow row, exported with cgroup="overflow", so
 * sums stay exact. Rows are never removed, so every series is monotonic.
 * The main thread adds (ring buffer callback), the scrape thread reads:
 * one mutex.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "kreq.h"
#include "log.h"
#include "prom.h"

struct k8s_key {
	struct ra_flow_key flow;
	__u16 code;		/* 0: no final status was seen */
	__u8 verb;		/* enum kreq_verb */
	__u8 resource;		/* a resource request; else res is a path class */
	__u8 cluster;		/* cluster scope (no namespace in the path) */
	__u8 overflow;		/* the role's overflow row */
	__u8 lib;		/* enum ra_tls_lib: a Go client's response size is not known */
	__u8 pad;
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
	bool used;
};

static const __u32 lat_bounds_us[RA_HTTP_LAT_BOUNDS] = { RA_HTTP_LAT_BOUNDS_US };

struct k8s_state {
	pthread_mutex_t lock;
	struct k8s_row *rows;	/* open addressing, 2 x max slots */
	__u32 slots, used, max;
	struct k8s_row overflow[RA_ROLE_MAX];
	__u64 unresolved;	/* targets that are not request targets */
	unsigned logged;	/* unresolved targets logged so far */
};

#define UNRESOLVED_LOGGED 10	/* bad targets written to the log, then only counted */

struct k8s_state *k8s__new(__u32 max_series)
{
	struct k8s_state *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->max = max_series;
	s->slots = 2 * max_series + 1;
	s->rows = calloc(s->slots, sizeof(*s->rows));
	if (!s->rows) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

void k8s__free(struct k8s_state *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s->rows);
	free(s);
}

/* FNV-1a over the key's bytes (zeroed before it is filled, so padding and
 * string tails compare equal). */
static __u64 key_hash(const struct k8s_key *k)
{
	const unsigned char *p = (const unsigned char *)k;
	__u64 h = 14695981039346656037ULL;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

/* Add one ended exchange to its row (or the role's overflow row). */
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

static void count(struct k8s_state *s, const struct k8s_key *k, const struct ra_http_event *e)
{
	__u32 i = key_hash(k) % s->slots;

	pthread_mutex_lock(&s->lock);
	while (s->rows[i].used && memcmp(&s->rows[i].k, k, sizeof(*k)))
		i = (i + 1) % s->slots;
	if (!s->rows[i].used) {
		if (s->used == s->max) {	/* no room: the role's overflow row */
			add(&s->overflow[k->flow.role % RA_ROLE_MAX], e);
			pthread_mutex_unlock(&s->lock);
			return;
		}
		s->rows[i].k = *k;
		s->rows[i].used = true;
		s->used++;
	}
	add(&s->rows[i], e);
	pthread_mutex_unlock(&s->lock);
}

int k8s__on_request(void *ctx, void *data, size_t len)
{
	const struct ra_http_event *e = data;
	struct agent *a = ctx;
	struct k8s_state *s = a->k8s;
	const char *m;
	struct kreq r;
	struct k8s_key k;
	char err[256];

	if (!s || len < sizeof(*e) || e->target_len > RA_HTTP_TARGET_MAX)
		return 0;
	m = http__method_name(e->method);	/* "other": no verb (kreq) */
	if (kreq__resolve(m, strlen(m), e->target, e->target_len, &r, err, sizeof(err))) {
		pthread_mutex_lock(&s->lock);
		s->unresolved++;
		pthread_mutex_unlock(&s->lock);
		if (s->logged++ < UNRESOLVED_LOGGED)
			pr_debug("a request on port %u not resolved: %s\n", e->flow.port, err);
		return 0;
	}
	memset(&k, 0, sizeof(k));
	k.flow = e->flow;
	k.code = e->status;
	k.lib = e->lib;
	k.verb = r.verb;
	k.resource = r.resource;
	if (r.resource) {
		k.cluster = !r.namespace_[0];
		memcpy(k.group, r.group, sizeof(k.group));
		memcpy(k.version, r.version, sizeof(k.version));
		memcpy(k.res, r.resource_name, sizeof(k.res));
		memcpy(k.sub, r.subresource, sizeof(k.sub));
	} else {
		snprintf(k.res, sizeof(k.res), "%s", r.path);
	}
	count(s, &k, e);
	return 0;
}

struct out_row {
	const struct k8s_row *r;
	struct flow_names n;
	char code[8];
};

static int cmp_out(const void *pa, const void *pb)
{
	const struct out_row *a = pa, *b = pb;
	int c = flow_names_cmp(&a->n, &b->n);

	return c ? c : memcmp(&a->r->k.code, &b->r->k.code,
			      sizeof(a->r->k) - offsetof(struct k8s_key, code));
}

#define RESOURCE_LABELS (FLOW_LABELS + 7)	/* verb group version resource subresource scope code */

/* The labels of a resource row; false for a non-resource one. */
static bool resource_labels(const struct out_row *o, struct prom_label *l)
{
	const struct k8s_key *k = &o->r->k;
	const char *ov = k->overflow ? PEER_OVERFLOW : NULL;

	if (!k->resource)
		return false;
	flow_labels(&o->n, l);
	l[FLOW_LABELS] = (struct prom_label){ "verb", ov ?: kreq__verb_name(k->verb) };
	l[FLOW_LABELS + 1] = (struct prom_label){ "group", ov ?: k->group };
	l[FLOW_LABELS + 2] = (struct prom_label){ "version", ov ?: k->version };
	l[FLOW_LABELS + 3] = (struct prom_label){ "resource", ov ?: k->res };
	l[FLOW_LABELS + 4] = (struct prom_label){ "subresource", ov ?: k->sub };
	l[FLOW_LABELS + 5] = (struct prom_label){ "scope", ov ?: k->cluster ? "cluster" : "namespace" };
	l[FLOW_LABELS + 6] = (struct prom_label){ "code", o->code };
	return true;
}
#define NONRESOURCE_LABELS (FLOW_LABELS + 3)	/* verb path code */

void k8s__collect(struct agent *a, struct prom_buf *b)
{
	struct k8s_state *s = a->k8s;
	struct out_row *o;
	size_t n = 0;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	o = calloc(s->used + RA_ROLE_MAX, sizeof(*o));
	for (__u32 i = 0; o && i < s->slots; i++) {
		if (!s->rows[i].used)
			continue;
		o[n].r = &s->rows[i];
		flow_names(a, &s->rows[i].k.flow, &o[n].n);
		n++;
	}
	for (__u32 role = 0; o && role < RA_ROLE_MAX; role++) {
		if (!s->overflow[role].requests)
			continue;
		s->overflow[role].k.overflow = 1;
		s->overflow[role].k.resource = 1;
		o[n].r = &s->overflow[role];
		flow_names_overflow(&o[n].n, role, 0);
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		if (o[i].r->k.overflow)
			strcpy(o[i].code, PEER_OVERFLOW);
		else if (o[i].r->k.code)
			snprintf(o[i].code, sizeof(o[i].code), "%u", o[i].r->k.code);
		else
			strcpy(o[i].code, "unknown");
	}
	if (o)
		qsort(o, n, sizeof(*o), cmp_out);
	prom__family(b, "reqacct_k8s_requests_total", "counter",
		     "Kubernetes API resource requests (HTTP/1.x over TLS on k8s_ports), resolved by "
		     "the apiserver's rules, per client or server process, verb, API group, version, "
		     "resource, subresource, scope and code (\"unknown\": none seen).");
	for (size_t i = 0; i < n; i++) {
		struct prom_label l[RESOURCE_LABELS];

		if (resource_labels(&o[i], l))
			prom__sample_u64(b, "reqacct_k8s_requests_total", l, RESOURCE_LABELS,
					 o[i].r->requests);
	}
	prom__family(b, "reqacct_k8s_response_bytes_total", "counter",
		     "Bytes of those requests' responses before encryption (not for Go clients: "
		     "what a Go process reads has no known size).");
	for (size_t i = 0; i < n; i++) {
		struct prom_label l[RESOURCE_LABELS];

		if (!resource_labels(&o[i], l) ||
		    (o[i].r->k.lib == RA_TLS_GO && o[i].r->k.flow.role == RA_ROLE_CLIENT))
			continue;
		prom__sample_u64(b, "reqacct_k8s_response_bytes_total", l, RESOURCE_LABELS,
				 o[i].r->resp_bytes);
	}
	prom__family(b, "reqacct_k8s_request_duration_seconds", "histogram",
		     "First request byte to last response byte of those requests that got a "
		     "response (a server's time, or the wait a client saw).");
	for (size_t i = 0; i < n; i++) {
		struct prom_label l[RESOURCE_LABELS + 1];

		if (!resource_labels(&o[i], l))
			continue;
		histogram_samples(b, "reqacct_k8s_request_duration_seconds", l, RESOURCE_LABELS,
				  o[i].r->lat, lat_bounds_us, RA_HTTP_LAT_BOUNDS, o[i].r->lat_sum_ns);
	}
	prom__family(b, "reqacct_k8s_nonresource_requests_total", "counter",
		     "Kubernetes API requests for no resource (/healthz, /readyz, /metrics, "
		     "/openapi, discovery), per process, verb (the method), path class and code.");
	for (size_t i = 0; i < n; i++) {
		const struct k8s_key *k = &o[i].r->k;
		struct prom_label l[NONRESOURCE_LABELS];

		if (k->resource)
			continue;
		flow_labels(&o[i].n, l);
		l[FLOW_LABELS] = (struct prom_label){ "verb", kreq__verb_name(k->verb) };
		l[FLOW_LABELS + 1] = (struct prom_label){ "path", k->res };
		l[FLOW_LABELS + 2] = (struct prom_label){ "code", o[i].code };
		prom__sample_u64(b, "reqacct_k8s_nonresource_requests_total", l, NONRESOURCE_LABELS,
				 o[i].r->requests);
	}
	prom__family(b, "reqacct_k8s_unresolved_requests_total", "counter",
		     "Requests on k8s_ports whose target is not a valid request target (not counted "
		     "by verb and resource).");
	prom__sample_u64(b, "reqacct_k8s_unresolved_requests_total", NULL, 0, s->unresolved);
	prom__family(b, "reqacct_k8s_series", "gauge",
		     "Rows of the Kubernetes request table; beyond k8s_max_series, the overflow rows.");
	prom__sample_u64(b, "reqacct_k8s_series", NULL, 0, s->used);
	pthread_mutex_unlock(&s->lock);
	free(o);
}
