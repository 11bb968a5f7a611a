// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * h2.c - HTTP/2 frames of a connection seen from the side (h2.h).
 *
 * Each direction is a state machine over its bytes: the preface, then per
 * frame its 9-byte header, the fields before its body (pad length,
 * priority, promised stream, error codes: at most 8 bytes), the body and
 * the padding. Each state knows how many bytes it needs, so a chunk can
 * end anywhere; a state that needs none ends at once, which is how empty
 * frames and absent fields pass. Header block fragments are appended to
 * the direction's block, decoded when END_HEADERS comes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errmsg.h"
#include "h2.h"

enum { ST_PREFACE, ST_HEADER, ST_FIELDS, ST_BODY, ST_PAD };

#define FLAG_ACK 0x1	/* SETTINGS, PING */
#define FLAG_END_STREAM 0x1
#define FLAG_END_HEADERS 0x4
#define FLAG_PADDED 0x8
#define FLAG_PRIORITY 0x20

#define SETTINGS_HEADER_TABLE_SIZE 1
#define SETTINGS_ENABLE_PUSH 2
#define SETTINGS_INITIAL_WINDOW_SIZE 4
#define SETTINGS_MAX_FRAME_SIZE 5
#define SETTINGS_ENTRY_LEN 6

/* What each type must be on: a stream (1), the connection, stream 0 (0),
 * either (-1); its exact payload length, or -1 (RFC 9113 6). */
static const struct {
	const char *name;
	int stream, len;
} types[H2_FRAME_TYPES] = {
	[H2_DATA] = { "DATA", 1, -1 },
	[H2_HEADERS] = { "HEADERS", 1, -1 },
	[H2_PRIORITY] = { "PRIORITY", 1, 5 },
	[H2_RST_STREAM] = { "RST_STREAM", 1, 4 },
	[H2_SETTINGS] = { "SETTINGS", 0, -1 },
	[H2_PUSH_PROMISE] = { "PUSH_PROMISE", 1, -1 },
	[H2_PING] = { "PING", 0, 8 },
	[H2_GOAWAY] = { "GOAWAY", 0, -1 },
	[H2_WINDOW_UPDATE] = { "WINDOW_UPDATE", -1, 4 },
	[H2_CONTINUATION] = { "CONTINUATION", 1, -1 },
};

static const char *type_name(__u8 type)
{
	return type < H2_FRAME_TYPES ? types[type].name : "frame of an unknown type";
}

static __u32 be32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

static int fail(struct h2_conn *c, int dir, __u64 at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct h2_conn *c, int dir, __u64 at, const char *fmt, ...)
{
	int n = snprintf(c->why, sizeof(c->why), "%s byte %llu: ", dir ? "server" : "client",
			 (unsigned long long)at);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why + n, sizeof(c->why) - (size_t)n, fmt, ap);
	va_end(ap);
	for (int i = 0; i < 2; i++)	/* a block cut short holds values not kept too */
		memset(c->dir[i].block, 0, c->dir[i].block_len);
	c->rc = -EINVAL;
	return c->rc;
}

void h2__init(struct h2_conn *c, const struct h2_callbacks *cb, void *ctx)
{
	memset(c, 0, sizeof(*c));
	c->cb = cb;
	c->ctx = ctx;
	for (int dir = 0; dir < 2; dir++) {
		hpack__init(&c->dir[dir].hpack, HPACK_TABLE_DEFAULT);
		c->dir[dir].state = ST_HEADER;
		c->dir[dir].need = H2_FRAME_HEADER_LEN;
	}
	c->dir[0].state = ST_PREFACE;
	c->dir[0].need = H2_PREFACE_LEN;
}

void h2__skip_preface(struct h2_conn *c)
{
	c->dir[0].state = ST_HEADER;
	c->dir[0].need = H2_FRAME_HEADER_LEN;
}

/* The order of frames: SETTINGS first, nothing but a block's
 * CONTINUATIONs until it ends; then the type's stream and length. */
static int check_frame(struct h2_conn *c, int dir)
{
	struct h2_dir *d = &c->dir[dir];
	const char *name = type_name(d->type);

	if (!d->settings_seen && d->type != H2_SETTINGS)
		return fail(c, dir, d->frame_off, "first frame is %s (type %u), not SETTINGS", name,
			    d->type);
	d->settings_seen = true;
	if (d->block_open && (d->type != H2_CONTINUATION || d->stream != d->block_stream))
		return fail(c, dir, d->frame_off,
			    "%s on stream %u where the header block of stream %u continues", name,
			    d->stream, d->block_stream);
	if (!d->block_open && d->type == H2_CONTINUATION)
		return fail(c, dir, d->frame_off, "CONTINUATION on stream %u continues no header "
			    "block", d->stream);
	if (d->type >= H2_FRAME_TYPES)
		return 0;
	if (types[d->type].stream == 1 && !d->stream)
		return fail(c, dir, d->frame_off, "%s on stream 0", name);
	if (types[d->type].stream == 0 && d->stream)
		return fail(c, dir, d->frame_off, "%s on stream %u, not 0", name, d->stream);
	if (types[d->type].len >= 0 && d->len != (__u32)types[d->type].len)
		return fail(c, dir, d->frame_off, "%s of %u bytes, not %d", name, d->len,
			    types[d->type].len);
	if (d->type == H2_SETTINGS && d->flags & FLAG_ACK && d->len)
		return fail(c, dir, d->frame_off, "SETTINGS ACK with %u bytes", d->len);
	if (d->type == H2_SETTINGS && d->len % SETTINGS_ENTRY_LEN)
		return fail(c, dir, d->frame_off, "SETTINGS of %u bytes, not a multiple of 6",
			    d->len);
	return 0;
}

/* The bytes of fields before the body: those read, and those skipped
 * (PRIORITY's, WINDOW_UPDATE's, PING's) count as body. */
static __u32 fields_len(const struct h2_dir *d)
{
	__u32 padded = d->flags & FLAG_PADDED ? 1 : 0;

	switch (d->type) {
	case H2_DATA:
		return padded;
	case H2_HEADERS:
		return padded + (d->flags & FLAG_PRIORITY ? 5 : 0);
	case H2_PUSH_PROMISE:
		return padded + 4;
	case H2_RST_STREAM:
		return 4;
	case H2_GOAWAY:
		return 8;
	default:
		return 0;
	}
}

/* The frame header is in: check it, then read the fields. */
static int frame_start(struct h2_conn *c, int dir)
{
	struct h2_dir *d = &c->dir[dir];
	int rc;

	d->len = (__u32)d->hdr[0] << 16 | (__u32)d->hdr[1] << 8 | d->hdr[2];
	d->type = d->hdr[3];
	d->flags = d->hdr[4];
	d->stream = be32(d->hdr + 5) & 0x7fffffff;	/* the reserved bit is ignored */
	rc = check_frame(c, dir);
	if (rc)
		return rc;
	d->prefix = fields_len(d);
	if (d->prefix > d->len)
		return fail(c, dir, d->frame_off, "%s of %u bytes, shorter than its %u bytes of "
			    "fields (flags 0x%x)", type_name(d->type), d->len, d->prefix,
			    d->flags);
	d->state = ST_FIELDS;
	d->need = d->prefix;
	return 0;
}

static bool has_block(__u8 type)
{
	return type == H2_HEADERS || type == H2_PUSH_PROMISE || type == H2_CONTINUATION;
}

/* The fields are in: the padding is known, so is the body's length. */
static int fields_done(struct h2_conn *c, int dir)
{
	struct h2_dir *d = &c->dir[dir];
	bool padded = d->flags & FLAG_PADDED &&
		      (d->type == H2_DATA || d->type == H2_HEADERS || d->type == H2_PUSH_PROMISE);

	d->pad = padded ? d->fix[0] : 0;
	if (d->pad > d->len - d->prefix)	/* RFC 9113 6.1: padding as long as the rest */
		return fail(c, dir, d->frame_off, "%s pads %u bytes, past its end (%u bytes left)",
			    type_name(d->type), d->pad, d->len - d->prefix);
	d->body = d->len - d->prefix - d->pad;
	if (d->type == H2_HEADERS || d->type == H2_PUSH_PROMISE) {
		d->block_stream = d->stream;
		d->block_len = 0;
		d->block_end_stream = d->type == H2_HEADERS && d->flags & FLAG_END_STREAM;
		d->block_push = d->type == H2_PUSH_PROMISE;
	}
	if (has_block(d->type) && d->body > H2_BLOCK_MAX - d->block_len)
		return fail(c, dir, d->frame_off, "header block of stream %u over %d bytes",
			    d->stream, H2_BLOCK_MAX);
	d->state = ST_BODY;
	d->need = d->body;
	d->got = 0;
	return 0;
}

/* Collects the kept values of a block into c->kept for on_headers. */
struct collect {
	struct h2_conn *c;
	struct h2_headers h;
	__u32 seen;	/* kept names met: the first value of each is given */
	size_t used;
};

static int keep(void *ctx, const char *name, size_t nlen, const char *value, size_t vlen)
{
	struct collect *k = ctx;
	int i = hpack__kept(name, nlen);

	k->h.fields++;
	if (i < 0 || k->seen & 1u << i)
		return 0;
	k->seen |= 1u << i;
	k->h.f[i].n = vlen;
	if (value && vlen <= sizeof(k->c->kept) - k->used) {
		memcpy(k->c->kept + k->used, value, vlen);
		k->h.f[i].p = k->c->kept + k->used;
		k->used += vlen;
	}
	return 0;
}

/* A block is complete: decode it (a PUSH_PROMISE's too, for the table). */
static int block_done(struct h2_conn *c, int dir)
{
	struct h2_dir *d = &c->dir[dir];
	struct collect k = { .c = c };
	bool give = !d->block_push && c->cb && c->cb->on_headers;
	char err[192];
	int rc;

	d->block_open = false;
	rc = hpack__decode(&d->hpack, d->block, d->block_len, give ? keep : NULL, &k, err,
			   sizeof(err));
	memset(d->block, 0, d->block_len);	/* it holds values not kept: cookies */
	if (rc)
		return fail(c, dir, d->frame_off, "header block of stream %u: %s", d->block_stream,
			    err);
	if (give)
		c->cb->on_headers(c->ctx, dir, d->block_stream, d->block_end_stream, &k.h);
	return 0;
}

/* The frame is over: tell of it, and wait for the next. */
static int frame_end(struct h2_conn *c, int dir)
{
	struct h2_dir *d = &c->dir[dir];
	const struct h2_callbacks *cb = c->cb;
	int rc = 0;

	switch (d->type) {
	case H2_DATA:
		if (cb && cb->on_data)
			cb->on_data(c->ctx, dir, d->stream, d->body, d->flags & FLAG_END_STREAM);
		break;
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
	case H2_CONTINUATION:
		if (d->flags & FLAG_END_HEADERS)
			rc = block_done(c, dir);
		else
			d->block_open = true;
		break;
	case H2_RST_STREAM:
		if (cb && cb->on_rst)
			cb->on_rst(c->ctx, dir, d->stream, be32(d->fix));
		break;
	case H2_GOAWAY:
		if (cb && cb->on_goaway)
			cb->on_goaway(c->ctx, dir, be32(d->fix) & 0x7fffffff, be32(d->fix + 4));
		break;
	default:
		break;
	}
	d->state = ST_HEADER;
	d->need = H2_FRAME_HEADER_LEN;
	d->frame_off = d->off;
	return rc;
}

/* The state that needs no more bytes ends: on to the next. */
static int next_state(struct h2_conn *c, int dir)
{
	struct h2_dir *d = &c->dir[dir];

	switch (d->state) {
	case ST_PREFACE:
		d->state = ST_HEADER;
		d->need = H2_FRAME_HEADER_LEN;
		d->frame_off = d->off;
		return 0;
	case ST_HEADER:
		return frame_start(c, dir);
	case ST_FIELDS:
		return fields_done(c, dir);
	case ST_BODY:
		d->state = ST_PAD;
		d->need = d->pad;
		return 0;
	default:	/* ST_PAD */
		return frame_end(c, dir);
	}
}

/* A SETTINGS entry (RFC 9113 6.5.2) at byte at. Unknown ones are ignored;
 * a table size bounds the tables of the other direction's blocks, which
 * the sender of SETTINGS decodes. */
static int setting(struct h2_conn *c, int dir, __u64 at)
{
	const __u8 *e = c->dir[dir].fix;
	__u32 id = (__u32)e[0] << 8 | e[1], v = be32(e + 2);

	switch (id) {
	case SETTINGS_HEADER_TABLE_SIZE:
		hpack__set_limit(&c->dir[!dir].hpack, v);
		return 0;
	case SETTINGS_ENABLE_PUSH:
		if (v > 1)
			return fail(c, dir, at, "SETTINGS_ENABLE_PUSH of %u, not 0 or 1", v);
		return 0;
	case SETTINGS_INITIAL_WINDOW_SIZE:
		if (v > 0x7fffffff)
			return fail(c, dir, at, "SETTINGS_INITIAL_WINDOW_SIZE of %u, over 2^31-1",
				    v);
		return 0;
	case SETTINGS_MAX_FRAME_SIZE:
		if (v < 16384 || v > 16777215)
			return fail(c, dir, at, "SETTINGS_MAX_FRAME_SIZE of %u, not in 16384 to "
				    "2^24-1", v);
		return 0;
	default:
		return 0;
	}
}

static int settings_body(struct h2_conn *c, int dir, const __u8 *p, size_t n)
{
	struct h2_dir *d = &c->dir[dir];
	size_t i = 0;
	int rc;

	while (i < n) {
		size_t m = SETTINGS_ENTRY_LEN - d->got;

		if (m > n - i)
			m = n - i;
		memcpy(d->fix + d->got, p + i, m);
		d->got += (__u32)m;
		i += m;
		if (d->got < SETTINGS_ENTRY_LEN)
			break;
		d->got = 0;
		rc = setting(c, dir, d->off + i - SETTINGS_ENTRY_LEN);
		if (rc)
			return rc;
	}
	return 0;
}

/* n bytes of the current state, at most what it needs. */
static int consume(struct h2_conn *c, int dir, const __u8 *p, size_t n)
{
	struct h2_dir *d = &c->dir[dir];
	size_t done;

	switch (d->state) {
	case ST_PREFACE:
		done = H2_PREFACE_LEN - d->need;
		for (size_t i = 0; i < n; i++)
			if (p[i] != (__u8)H2_PREFACE[done + i])
				return fail(c, dir, d->off + i,
					    "not the HTTP/2 connection preface");
		return 0;
	case ST_HEADER:
		memcpy(d->hdr + H2_FRAME_HEADER_LEN - d->need, p, n);
		return 0;
	case ST_FIELDS:
		memcpy(d->fix + d->prefix - d->need, p, n);
		return 0;
	case ST_BODY:
		if (has_block(d->type)) {	/* room checked by fields_done */
			memcpy(d->block + d->block_len, p, n);
			d->block_len += (__u32)n;
		} else if (d->type == H2_SETTINGS) {
			return settings_body(c, dir, p, n);
		}
		return 0;
	default:	/* ST_PAD: not checked to be zeros (RFC 9113 6.1: MAY) */
		return 0;
	}
}

int h2__feed(struct h2_conn *c, int dir, const __u8 *p, size_t n, char *err, size_t errlen)
{
	struct h2_dir *d;
	int rc = 0;

	if (dir != 0 && dir != 1)
		return errmsg(err, errlen, -EINVAL, "direction %d is not 0 or 1", dir);
	d = &c->dir[dir];
	while (!c->rc) {
		size_t k;

		while (!d->need && !rc)
			rc = next_state(c, dir);
		if (rc || !n)
			break;
		k = n < d->need ? n : d->need;
		rc = consume(c, dir, p, k);
		if (rc)
			break;
		p += k;
		n -= k;
		d->need -= (__u32)k;
		d->off += k;
	}
	return c->rc ? errmsg(err, errlen, c->rc, "%s", c->why) : 0;
}
