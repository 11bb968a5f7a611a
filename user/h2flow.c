// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * h2flow.c - HTTP/2 requests decoded from their frames: the connections
 * whose plaintext size is known (OpenSSL both ways, what a Go client writes)
 * and whose preface was seen, cut into frames in BPF (bpf/h2frames.bpf.h)
 * and sent through ra_h2_frames. Each connection gets an h2.c parser with
 * its two HPACK tables (which keep no header values but those reqacct
 * reads: hpack.h); each stream becomes a request (ra_http_event) when the
 * response ends (END_STREAM or RST_STREAM) or the connection closes, and
 * goes to the Kubernetes tables (k8s.c) on k8s_ports. A Go client's
 * responses are not seen (what a Go process reads has no size): its
 * requests count when their headers are sent, with code "unknown".
 *
 * Bounded: H2FLOW_CONNS connections (54 KiB each, allocated as they come),
 * H2FLOW_STREAMS open streams each; what does not fit, a protocol error
 * and a connection BPF gave up on (its ring full) are counted
 * (reqacct_h2_frame_drops_total). Main thread only, but for the counters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "config.h"
#include "h2.h"
#include "log.h"
#include "prom.h"

#define H2FLOW_CONNS 128	/* connections followed at once */
#define H2FLOW_STREAMS 64	/* open streams followed per connection */
#define ERRORS_LOGGED 10

enum h2flow_drop { DROP_NO_ROOM, DROP_STREAMS_FULL, DROP_PARSE, DROP_LOST, DROP_MAX };
static const char *const drop_names[DROP_MAX] = {
	[DROP_NO_ROOM] = "no_room", [DROP_STREAMS_FULL] = "streams_full",
	[DROP_PARSE] = "parse_error", [DROP_LOST] = "lost",
};

struct h2flow_stream {
	bool used;
	__u32 id;
	struct ra_http_event ev;	/* duration_ns holds the start until it ends */
};

struct h2flow_conn {
	__u64 sk;
	__u64 ns;		/* of the record being fed */
	struct ra_flow_key flow;
	__u8 lib;
	bool dead;		/* a parse error: ignored until it closes */
	struct agent *a;
	struct h2_conn c;
	struct h2flow_stream st[H2FLOW_STREAMS];
};

struct h2flow_state {
	struct h2flow_conn *conns[H2FLOW_CONNS];
	__u64 drops[DROP_MAX];	/* written by the main thread, read by scrapes */
	unsigned logged;
};

struct h2flow_state *h2flow__new(void)
{
	return calloc(1, sizeof(struct h2flow_state));
}

void h2flow__free(struct h2flow_state *s)
{
	if (!s)
		return;
	for (int i = 0; i < H2FLOW_CONNS; i++)
		free(s->conns[i]);
	free(s);
}

static void drop(struct h2flow_state *s, enum h2flow_drop why)
{
	__atomic_fetch_add(&s->drops[why], 1, __ATOMIC_RELAXED);
}

static bool go_client(const struct h2flow_conn *c)
{
	return c->lib == RA_TLS_GO && c->flow.role == RA_ROLE_CLIENT;
}

/* A stream's request ended: to the Kubernetes tables if on a k8s port. */
static void finish(struct h2flow_conn *c, struct h2flow_stream *st)
{
	struct agent *a = c->a;

	if (st->ev.duration_ns)
		st->ev.duration_ns = c->ns > st->ev.duration_ns ? c->ns - st->ev.duration_ns : 1;
	if (!st->ev.status)
		st->ev.duration_ns = 0;	/* no response: no duration */
	if (config__has_port(a->cfg.k8s_ports, a->cfg.nk8s_ports, c->flow.port))
		k8s__on_request(a, &st->ev, sizeof(st->ev));
	st->used = false;
}

static struct h2flow_stream *stream(struct h2flow_conn *c, __u32 id)
{
	for (int i = 0; i < H2FLOW_STREAMS; i++)
		if (c->st[i].used && c->st[i].id == id)
			return &c->st[i];
	return NULL;
}

/* The method of a :method value, as a request line's would be. */
static __u8 method_of(const struct h2_value *v)
{
	for (__u8 m = 0; m < RA_HTTP_M_OTHER; m++)
		if (v->p && strlen(http__method_name(m)) == v->n &&
		    !memcmp(v->p, http__method_name(m), v->n))
			return m;
	return RA_HTTP_M_OTHER;
}

static __u16 copy_value(char *dst, size_t max, const struct h2_value *v)
{
	size_t n = v->p ? (v->n < max ? v->n : max) : 0;

	memcpy(dst, v->p ? v->p : "", n);
	return n;
}

static void on_headers(void *ctx, int dir, __u32 id, bool end_stream, const struct h2_headers *h)
{
	struct h2flow_conn *c = ctx;
	struct h2flow_stream *st = stream(c, id);
	const struct h2_value *status = &h->f[HPACK_STATUS];
	unsigned long code;

	if (dir == 0) {		/* a request (or its trailers) */
		if (st || !h->f[HPACK_METHOD].p)
			return;
		for (int i = 0; i < H2FLOW_STREAMS && !st; i++)
			if (!c->st[i].used)
				st = &c->st[i];
		if (!st) {
			drop(c->a->h2flow, DROP_STREAMS_FULL);
			return;
		}
		memset(st, 0, sizeof(*st));
		st->used = true;
		st->id = id;
		st->ev.flow = c->flow;
		st->ev.lib = c->lib;
		st->ev.proto = 2;
		st->ev.method = method_of(&h->f[HPACK_METHOD]);
		st->ev.target_len = copy_value(st->ev.target, sizeof(st->ev.target), &h->f[HPACK_PATH]);
		st->ev.ua_len = copy_value(st->ev.ua, sizeof(st->ev.ua), &h->f[HPACK_USER_AGENT]);
		st->ev.duration_ns = c->ns;
		if (go_client(c))	/* its response will not be seen */
			finish(c, st);
		return;
	}
	if (!st)
		return;
	if (!st->ev.status && status->p && status->n == 3) {
		code = strtoul((char[4]){ status->p[0], status->p[1], status->p[2], 0 }, NULL, 10);
		if (code >= 200 && code <= 599)
			st->ev.status = code;
	}
	if (end_stream)
		finish(c, st);
}

static void on_data(void *ctx, int dir, __u32 id, __u32 len, bool end_stream)
{
	struct h2flow_conn *c = ctx;
	struct h2flow_stream *st = stream(c, id);

	if (dir != 1 || !st)
		return;
	st->ev.resp_bytes += len;
	if (end_stream)
		finish(c, st);
}

static void on_rst(void *ctx, int dir, __u32 id, __u32 code)
{
	struct h2flow_conn *c = ctx;
	struct h2flow_stream *st = stream(c, id);

	if (st)
		finish(c, st);
}

static const struct h2_callbacks callbacks = {
	.on_headers = on_headers, .on_data = on_data, .on_rst = on_rst,
};

static struct h2flow_conn **slot_of(struct h2flow_state *s, __u64 sk, bool make)
{
	struct h2flow_conn **free_slot = NULL;

	for (int i = 0; i < H2FLOW_CONNS; i++) {
		if (s->conns[i] && s->conns[i]->sk == sk)
			return &s->conns[i];
		if (!s->conns[i] && !free_slot)
			free_slot = &s->conns[i];
	}
	return make ? free_slot : NULL;
}

/* A connection ended or was given up: its open streams end with it. */
static void close_conn(struct h2flow_conn **slot)
{
	struct h2flow_conn *c = *slot;

	for (int i = 0; i < H2FLOW_STREAMS && !c->dead; i++)
		if (c->st[i].used)
			finish(c, &c->st[i]);
	free(c);
	*slot = NULL;
}

static const __u8 zeros[RA_H2_CHUNK_MAX];

int h2flow__on_chunk(void *ctx, void *data, size_t len)
{
	const struct ra_h2_chunk *r = data;
	struct agent *a = ctx;
	struct h2flow_state *s = a->h2flow;
	struct h2flow_conn **slot, *c;
	char err[256];
	__u32 skip, n;
	int rc = 0;

	if (!s || len < offsetof(struct ra_h2_chunk, data) ||
	    len < offsetof(struct ra_h2_chunk, data) + r->len)
		return 0;
	slot = slot_of(s, r->sk, r->kind == RA_H2_BYTES || r->kind == RA_H2_SKIP);
	if (!slot) {
		if (r->kind == RA_H2_BYTES || r->kind == RA_H2_SKIP)
			drop(s, DROP_NO_ROOM);	/* a record (connections are not told apart) */
		return 0;
	}
	if (!*slot) {
		c = calloc(1, sizeof(*c));
		if (!c) {
			drop(s, DROP_NO_ROOM);
			return 0;
		}
		c->sk = r->sk;
		c->flow = r->flow;
		c->lib = r->lib;
		c->a = a;
		h2__init(&c->c, &callbacks, c);
		h2__skip_preface(&c->c);	/* BPF starts after it */
		*slot = c;
	}
	c = *slot;
	c->ns = r->ns;
	if (r->kind == RA_H2_CLOSE || r->kind == RA_H2_LOST) {
		if (r->kind == RA_H2_LOST)
			drop(s, DROP_LOST);
		close_conn(slot);
		return 0;
	}
	if (c->dead)
		return 0;
	if (r->len)
		rc = h2__feed(&c->c, r->dir & 1, r->data, r->len, err, sizeof(err));
	for (skip = r->skip; !rc && skip; skip -= n) {	/* DATA payload: its length */
		n = skip < sizeof(zeros) ? skip : sizeof(zeros);
		rc = h2__feed(&c->c, r->dir & 1, zeros, n, err, sizeof(err));
	}
	if (rc) {
		c->dead = true;
		drop(s, DROP_PARSE);
		if (s->logged++ < ERRORS_LOGGED)
			pr_info("an HTTP/2 connection on port %u is not followed: %s\n", c->flow.port,
				err);
	}
	return 0;
}

void h2flow__collect(struct agent *a, struct prom_buf *b)
{
	struct h2flow_state *s = a->h2flow;

	if (!s)
		return;
	prom__family(b, "reqacct_h2_frame_drops_total", "counter",
		     "HTTP/2 decoded from frames (OpenSSL, Go clients) given up, not counted: "
		     "no_room: frame records of connections beyond the 128 followed; streams_full: "
		     "streams beyond 64 open on a connection; parse_error, lost: connections with "
		     "a protocol error, or whose frames were lost (ring buffer full).");
	for (int i = 0; i < DROP_MAX; i++)
		prom__sample_u64(b, "reqacct_h2_frame_drops_total",
				 (struct prom_label[]){ { "reason", drop_names[i] } }, 1,
				 __atomic_load_n(&s->drops[i], __ATOMIC_RELAXED));
}
