// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_h2.c - the HTTP/2 frame parser on crafted connections: a request and
 * its response fed whole, byte by byte and in odd chunks; padding; header
 * blocks over CONTINUATION frames; RST_STREAM and GOAWAY; SETTINGS that
 * change the HPACK table's limit; PUSH_PROMISE keeping the table in step;
 * and protocol errors, each refused with where, for good. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "h2.h"

#define MAX_EVENTS 16

struct ev {
	char kind;	/* 'H'eaders, 'D'ata, 'R'st, 'G'oaway */
	int dir;
	__u32 stream, a, b;	/* D: length; R: code; G: last stream, code */
	bool end;
	bool has[HPACK_KEPT_MAX];
	size_t n[HPACK_KEPT_MAX];
	char f[HPACK_KEPT_MAX][64];
	__u32 fields;
};

struct rec {
	int n;
	struct ev ev[MAX_EVENTS];
};

static struct ev *add_ev(void *ctx, char kind, int dir, __u32 stream)
{
	struct rec *r = ctx;
	struct ev *e;

	assert_true(r->n < MAX_EVENTS);
	e = &r->ev[r->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->dir = dir;
	e->stream = stream;
	return e;
}

static void on_headers(void *ctx, int dir, __u32 stream, bool end, const struct h2_headers *h)
{
	struct ev *e = add_ev(ctx, 'H', dir, stream);

	e->end = end;
	e->fields = h->fields;
	for (int i = 0; i < HPACK_KEPT_MAX; i++) {
		e->n[i] = h->f[i].n;
		e->has[i] = h->f[i].p != NULL;
		if (h->f[i].p)
			snprintf(e->f[i], sizeof(e->f[i]), "%.*s", (int)h->f[i].n, h->f[i].p);
	}
}

static void on_data(void *ctx, int dir, __u32 stream, __u32 len, bool end)
{
	struct ev *e = add_ev(ctx, 'D', dir, stream);

	e->a = len;
	e->end = end;
}

static void on_rst(void *ctx, int dir, __u32 stream, __u32 code)
{
	add_ev(ctx, 'R', dir, stream)->a = code;
}

static void on_goaway(void *ctx, int dir, __u32 last, __u32 code)
{
	struct ev *e = add_ev(ctx, 'G', dir, 0);

	e->a = last;
	e->b = code;
}

static const struct h2_callbacks cbs = { on_headers, on_data, on_rst, on_goaway };

struct buf {
	__u8 b[40000];
	size_t n;
};

static void put(struct buf *w, const void *p, size_t n)
{
	assert_true(w->n + n <= sizeof(w->b));
	if (n)	/* an empty payload may be NULL, which memcpy may not be given */
		memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void frame(struct buf *w, __u8 type, __u8 flags, __u32 stream, const void *p, size_t n)
{
	__u8 h[9] = { (__u8)(n >> 16), (__u8)(n >> 8), (__u8)n, type, flags, (__u8)(stream >> 24),
		      (__u8)(stream >> 16), (__u8)(stream >> 8), (__u8)stream };

	put(w, h, sizeof(h));
	put(w, p, n);
}

static void put_int(struct buf *w, __u8 first, int prefix, __u32 v)
{
	__u32 mask = (1u << prefix) - 1;
	__u8 c;

	if (v < mask) {
		c = first | (__u8)v;
		put(w, &c, 1);
		return;
	}
	c = first | (__u8)mask;
	put(w, &c, 1);
	for (v -= mask; v >= 0x80; v >>= 7) {
		c = (__u8)(v | 0x80);
		put(w, &c, 1);
	}
	c = (__u8)v;
	put(w, &c, 1);
}

static void put_str(struct buf *w, const char *s, size_t n, bool huff)
{
	__u8 tmp[16384];

	if (huff) {
		size_t len = hpack__huffman_encode(s, n, tmp, sizeof(tmp));

		assert_true(len <= sizeof(tmp));
		put_int(w, 0x80, 7, (__u32)len);
		put(w, tmp, len);
		return;
	}
	put_int(w, 0, 7, (__u32)n);
	put(w, s, n);
}

/* A literal field without indexing, its name from static index idx. */
static void put_lit(struct buf *w, __u32 idx, const char *value, bool huff)
{
	put_int(w, 0, 4, idx);
	put_str(w, value, strlen(value), huff);
}

#define EMPTY_SETTINGS "\0\0\0\x04\0\0\0\0\0"

/* A GET: RFC 7541 C.3.1's fields and a User-Agent, then its 200 response
 * with a content type, a cookie (never indexed) and 5 bytes of data. */
static void request(struct buf *w)
{
	struct buf blk = { .n = 0 };

	put(w, H2_PREFACE, H2_PREFACE_LEN);
	put(w, EMPTY_SETTINGS, 9);
	put(&blk, "\x82\x86\x84\x41\x0fwww.example.com", 20);
	put_lit(&blk, 58, "kubectl/v1.33.1 (linux/amd64)", true);
	frame(w, H2_HEADERS, 0x5, 1, blk.b, blk.n);
}

static void response(struct buf *w)
{
	struct buf blk = { .n = 0 };

	put(w, EMPTY_SETTINGS, 9);
	frame(w, H2_SETTINGS, 0x1, 0, NULL, 0);
	put(&blk, "\x88", 1);
	put_int(&blk, 0x40, 6, 31);	/* content-type, indexed */
	put_str(&blk, "application/json", 16, true);
	put_int(&blk, 0x10, 4, 55);	/* set-cookie, never indexed */
	put_str(&blk, "sid=secret", 10, false);
	frame(w, H2_HEADERS, 0x4, 1, blk.b, blk.n);
	frame(w, H2_DATA, 0x1, 1, "hello", 5);
}

static struct h2_conn *new_conn(struct rec *r)
{
	struct h2_conn *c = malloc(sizeof(*c));

	assert_non_null(c);
	memset(r, 0, sizeof(*r));
	h2__init(c, &cbs, r);
	return c;
}

/* Feed in chunks of chunk bytes (0: sizes from a fixed sequence). */
static int feed(struct h2_conn *c, int dir, const struct buf *w, size_t chunk, char *err)
{
	size_t i = 0, k;
	int rc = 0;

	for (unsigned s = 7; i < w->n && !rc; i += k) {
		s = s * 1103515245 + 12345;
		k = chunk ? chunk : 1 + (s >> 16) % 23;
		if (k > w->n - i)
			k = w->n - i;
		rc = h2__feed(c, dir, w->b + i, k, err, 256);
	}
	return rc;
}

static void feed_ok(struct h2_conn *c, int dir, const struct buf *w, size_t chunk)
{
	char err[256] = "";
	int rc = feed(c, dir, w, chunk, err);

	if (rc)
		print_error("%s\n", err);
	assert_int_equal(rc, 0);
}

static void feed_err(struct h2_conn *c, int dir, const struct buf *w, const char *why)
{
	char err[256] = "", again[256] = "";

	assert_int_equal(feed(c, dir, w, w->n, err), -EINVAL);
	if (strcmp(err, why))
		fail_msg("got \"%s\", want \"%s\"", err, why);
	/* dead: both directions say so again */
	assert_int_equal(h2__feed(c, !dir, (const __u8 *)"\0", 1, again, sizeof(again)), -EINVAL);
	assert_string_equal(again, why);
}

static const struct ev *find(const struct rec *r, char kind, int dir, int nth)
{
	for (int i = 0; i < r->n; i++)
		if (r->ev[i].kind == kind && r->ev[i].dir == dir && !nth--)
			return &r->ev[i];
	fail_msg("no event %c in direction %d", kind, dir);
	return NULL;
}

static void check_exchange(const struct rec *r)
{
	const struct ev *e;

	assert_int_equal(r->n, 3);
	e = find(r, 'H', 0, 0);
	assert_int_equal(e->stream, 1);
	assert_true(e->end);
	assert_int_equal(e->fields, 5);
	assert_string_equal(e->f[HPACK_METHOD], "GET");
	assert_string_equal(e->f[HPACK_SCHEME], "http");
	assert_string_equal(e->f[HPACK_PATH], "/");
	assert_string_equal(e->f[HPACK_AUTHORITY], "www.example.com");
	assert_string_equal(e->f[HPACK_USER_AGENT], "kubectl/v1.33.1 (linux/amd64)");
	assert_false(e->has[HPACK_STATUS]);
	assert_int_equal(e->n[HPACK_STATUS], 0);
	e = find(r, 'H', 1, 0);
	assert_int_equal(e->stream, 1);
	assert_false(e->end);
	assert_int_equal(e->fields, 3);
	assert_string_equal(e->f[HPACK_STATUS], "200");
	assert_string_equal(e->f[HPACK_CONTENT_TYPE], "application/json");
	assert_false(e->has[HPACK_METHOD]);
	e = find(r, 'D', 1, 0);
	assert_int_equal(e->stream, 1);
	assert_int_equal(e->a, 5);
	assert_true(e->end);
}

static void test_exchange(void **state)
{
	static struct buf req, resp;
	struct h2_conn *c;
	struct rec r;

	req.n = resp.n = 0;
	request(&req);
	response(&resp);
	for (size_t chunk = 0; chunk < 4; chunk++) {	/* in odd sizes, 1, 2, 3 bytes */
		c = new_conn(&r);
		feed_ok(c, 0, &req, chunk);
		feed_ok(c, 1, &resp, chunk);
		check_exchange(&r);
		assert_null(memmem(c, sizeof(*c), "secret", 6));
		free(c);
	}
	c = new_conn(&r);	/* whole */
	feed_ok(c, 0, &req, req.n);
	feed_ok(c, 1, &resp, resp.n);
	check_exchange(&r);
	free(c);
	c = new_conn(&r);	/* byte by byte, the directions interleaved */
	for (size_t i = 0; i < req.n || i < resp.n; i++) {
		if (i < req.n)
			assert_int_equal(h2__feed(c, 0, req.b + i, 1, NULL, 0), 0);
		if (i < resp.n)
			assert_int_equal(h2__feed(c, 1, resp.b + i, 1, NULL, 0), 0);
	}
	check_exchange(&r);
	free(c);
}

/* A frame header split at each of its bytes, the rest in a second feed. */
static void test_frame_header_split(void **state)
{
	static struct buf w;

	for (size_t at = 1; at < 9; at++) {
		struct rec r;
		struct h2_conn *c = new_conn(&r);

		w.n = 0;
		put(&w, EMPTY_SETTINGS, 9);
		frame(&w, H2_DATA, 0x1, 3, "abc", 3);
		h2__skip_preface(c);
		assert_int_equal(h2__feed(c, 0, w.b, 9 + at, NULL, 0), 0);
		assert_int_equal(r.n, 0);
		assert_int_equal(h2__feed(c, 0, w.b + 9 + at, w.n - 9 - at, NULL, 0), 0);
		assert_int_equal(r.n, 1);
		assert_int_equal(r.ev[0].a, 3);
		assert_int_equal(r.ev[0].stream, 3);
		free(c);
	}
}

static void test_padded(void **state)
{
	static struct buf w;
	struct h2_conn *c;
	struct rec r;

	w.n = 0;
	put(&w, EMPTY_SETTINGS, 9);
	frame(&w, H2_DATA, 0x8, 1, "\x03hello\0\0\0", 9);	/* 5 bytes, 3 of padding */
	frame(&w, H2_DATA, 0x9, 1, "\x02\0\0", 3);	/* none, all padding */
	/* HEADERS with padding and priority: pad 2, dependency 3, weight 16 */
	frame(&w, H2_HEADERS, 0x2c, 5, "\x02\x00\x00\x00\x03\x10\x88\0\0", 9);
	c = new_conn(&r);
	h2__skip_preface(c);
	feed_ok(c, 0, &w, 1);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.ev[0].a, 5);
	assert_false(r.ev[0].end);
	assert_int_equal(r.ev[1].a, 0);
	assert_true(r.ev[1].end);
	assert_int_equal(r.ev[2].kind, 'H');
	assert_int_equal(r.ev[2].stream, 5);
	assert_string_equal(r.ev[2].f[HPACK_STATUS], "200");
	free(c);
	w.n = 0;	/* padding past the end */
	put(&w, EMPTY_SETTINGS, 9);
	frame(&w, H2_DATA, 0x8, 1, "\x05hell", 5);
	c = new_conn(&r);
	h2__skip_preface(c);
	feed_err(c, 0, &w, "client byte 9: DATA pads 5 bytes, past its end (4 bytes left)");
	free(c);
}

/* One block over HEADERS and two CONTINUATIONs, split inside a string. */
static void test_continuation(void **state)
{
	static struct buf w, blk;
	struct h2_conn *c;
	struct rec r;

	w.n = blk.n = 0;
	put(&blk, "\x82\x87", 2);
	put_lit(&blk, 4, "/api/v1/namespaces/default/pods?limit=500", false);
	put_lit(&blk, 1, "10.0.0.1:6443", true);
	put(&w, H2_PREFACE, H2_PREFACE_LEN);
	put(&w, EMPTY_SETTINGS, 9);
	frame(&w, H2_HEADERS, 0x1, 3, blk.b, 10);
	frame(&w, H2_CONTINUATION, 0, 3, blk.b + 10, 20);
	frame(&w, H2_CONTINUATION, 0x4, 3, blk.b + 30, blk.n - 30);
	c = new_conn(&r);
	feed_ok(c, 0, &w, 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ev[0].stream, 3);
	assert_true(r.ev[0].end);
	assert_string_equal(r.ev[0].f[HPACK_METHOD], "GET");
	assert_string_equal(r.ev[0].f[HPACK_SCHEME], "https");
	assert_string_equal(r.ev[0].f[HPACK_PATH], "/api/v1/namespaces/default/pods?limit=500");
	assert_string_equal(r.ev[0].f[HPACK_AUTHORITY], "10.0.0.1:6443");
	free(c);
}

static void test_continuation_errors(void **state)
{
	static struct buf w;
	struct h2_conn *c;
	struct rec r;

	w.n = 0;	/* CONTINUATION of another stream, a cookie in the open block */
	put(&w, EMPTY_SETTINGS, 9);
	frame(&w, H2_HEADERS, 0, 1, "\x10\x06" "cookie" "\x06" "secret", 15);
	frame(&w, H2_CONTINUATION, 0x4, 3, "\x84", 1);
	c = new_conn(&r);
	h2__skip_preface(c);
	feed_err(c, 0, &w, "client byte 33: CONTINUATION on stream 3 where the header block of "
		 "stream 1 continues");
	assert_null(memmem(c, sizeof(*c), "secret", 6));	/* the dead keep nothing */
	free(c);
	w.n = 0;	/* another frame in the block */
	put(&w, EMPTY_SETTINGS, 9);
	frame(&w, H2_HEADERS, 0, 1, "\x82", 1);
	frame(&w, H2_PING, 0, 0, "12345678", 8);
	c = new_conn(&r);
	h2__skip_preface(c);
	feed_err(c, 0, &w, "client byte 19: PING on stream 0 where the header block of stream 1 "
		 "continues");
	free(c);
	w.n = 0;	/* a CONTINUATION after END_HEADERS */
	put(&w, EMPTY_SETTINGS, 9);
	frame(&w, H2_HEADERS, 0x4, 1, "\x82", 1);
	frame(&w, H2_CONTINUATION, 0x4, 1, "\x84", 1);
	c = new_conn(&r);
	h2__skip_preface(c);
	feed_err(c, 0, &w, "client byte 19: CONTINUATION on stream 1 continues no header block");
	assert_int_equal(r.n, 1);
	free(c);
}

static void test_bad_preface(void **state)
{
	static struct buf w;
	struct h2_conn *c;
	struct rec r;

	w.n = 0;
	put(&w, "GET / HTTP/1.1\r\n", 16);
	c = new_conn(&r);
	feed_err(c, 0, &w, "client byte 0: not the HTTP/2 connection preface");
	free(c);
	w.n = 0;	/* a wrong byte after 10 good ones fed before */
	put(&w, "HTTP/2.0\r\n\r\nSM\r\n\n\n", 18);
	c = new_conn(&r);
	assert_int_equal(h2__feed(c, 0, (const __u8 *)"PRI * ", 6, NULL, 0), 0);
	feed_err(c, 0, &w, "client byte 22: not the HTTP/2 connection preface");
	free(c);
}

static void test_rst_goaway(void **state)
{
	static struct buf w;
	struct h2_conn *c;
	struct rec r;

	w.n = 0;
	put(&w, EMPTY_SETTINGS, 9);
	frame(&w, H2_RST_STREAM, 0, 5, "\0\0\0\x08", 4);	/* CANCEL */
	frame(&w, H2_GOAWAY, 0, 0, "\x80\0\0\x07\0\0\0\x02" "debug data", 18);
	c = new_conn(&r);
	feed_ok(c, 1, &w, 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.ev[0].kind, 'R');
	assert_int_equal(r.ev[0].dir, 1);
	assert_int_equal(r.ev[0].stream, 5);
	assert_int_equal(r.ev[0].a, 8);
	assert_int_equal(r.ev[1].kind, 'G');
	assert_int_equal(r.ev[1].a, 7);	/* the reserved bit dropped */
	assert_int_equal(r.ev[1].b, 2);
	free(c);
}

/* SETTINGS_HEADER_TABLE_SIZE from the server lets the client's encoder
 * grow its table; without it the same update is an error. */
static void test_settings_table_size(void **state)
{
	static struct buf set, req;
	struct h2_conn *c;
	struct rec r;

	set.n = req.n = 0;
	frame(&set, H2_SETTINGS, 0, 0, "\0\x01\0\0\x20\0" "\0\x03\0\0\0\x64", 12);
	put(&req, H2_PREFACE, H2_PREFACE_LEN);
	put(&req, EMPTY_SETTINGS, 9);
	frame(&req, H2_HEADERS, 0x5, 1, "\x3f\xe1\x3f\x82", 4);	/* to 8192 */
	c = new_conn(&r);
	feed_ok(c, 1, &set, 0);
	feed_ok(c, 0, &req, 0);
	assert_int_equal(c->dir[0].hpack.max, 8192);
	assert_int_equal(c->dir[1].hpack.limit, 4096);	/* the other direction's stays */
	assert_int_equal(r.n, 1);
	free(c);
	c = new_conn(&r);
	feed_err(c, 0, &req, "client byte 33: header block of stream 1: table size update at "
		 "byte 0 to 8192, above the limit of 4096");
	free(c);
}

static void test_push_promise(void **state)
{
	static struct buf w;
	struct h2_conn *c;
	struct rec r;

	w.n = 0;
	put(&w, EMPTY_SETTINGS, 9);
	/* promised stream 2, its :path added to the server's table */
	frame(&w, H2_PUSH_PROMISE, 0x4, 1, "\0\0\0\x02\x44\x0a/style.css", 16);
	frame(&w, H2_HEADERS, 0x4, 2, "\x88\xbe", 2);
	c = new_conn(&r);
	feed_ok(c, 1, &w, 1);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ev[0].stream, 2);
	assert_string_equal(r.ev[0].f[HPACK_PATH], "/style.css");
	free(c);
}

static void test_oversized_block(void **state)
{
	static struct buf w, big;
	struct h2_conn *c;
	struct rec r;

	big.n = H2_BLOCK_MAX;
	memset(big.b, 0x82, big.n);
	w.n = 0;	/* a full block and one more byte */
	put(&w, EMPTY_SETTINGS, 9);
	frame(&w, H2_HEADERS, 0, 1, big.b, big.n);
	frame(&w, H2_CONTINUATION, 0x4, 1, "\x82", 1);
	c = new_conn(&r);
	h2__skip_preface(c);
	feed_err(c, 0, &w, "client byte 16402: header block of stream 1 over 16384 bytes");
	free(c);
	w.n = 0;
	put(&w, EMPTY_SETTINGS, 9);
	frame(&w, H2_HEADERS, 0x4, 1, big.b, big.n + 1);
	c = new_conn(&r);
	h2__skip_preface(c);
	feed_err(c, 0, &w, "client byte 9: header block of stream 1 over 16384 bytes");
	free(c);
	w.n = 0;	/* exactly full is fine */
	put(&w, EMPTY_SETTINGS, 9);
	frame(&w, H2_HEADERS, 0x4, 1, big.b, big.n);
	c = new_conn(&r);
	h2__skip_preface(c);
	feed_ok(c, 0, &w, 1000);
	assert_int_equal(r.ev[0].fields, H2_BLOCK_MAX);
	free(c);
}

/* Kept values that do not fit in H2_KEPT_MAX are given by length. */
static void test_kept_space(void **state)
{
	static char path[HPACK_VALUE_MAX], ua[2000];
	static struct buf w, blk;
	struct h2_conn *c;
	struct rec r;

	memset(path, '/', sizeof(path) - 1);
	memset(ua, 'u', sizeof(ua) - 1);
	w.n = blk.n = 0;
	put_lit(&blk, 4, path, false);
	put_lit(&blk, 58, ua, false);
	put(&w, EMPTY_SETTINGS, 9);
	frame(&w, H2_HEADERS, 0x4, 1, blk.b, blk.n);
	c = new_conn(&r);
	h2__skip_preface(c);
	feed_ok(c, 0, &w, 0);
	assert_true(r.ev[0].has[HPACK_PATH]);
	assert_int_equal(r.ev[0].n[HPACK_PATH], sizeof(path) - 1);
	assert_false(r.ev[0].has[HPACK_USER_AGENT]);
	assert_int_equal(r.ev[0].n[HPACK_USER_AGENT], sizeof(ua) - 1);
	free(c);
}

static const struct {
	const char *frames;
	size_t len;
	const char *why;
} bad[] = {
#define B(s) s, sizeof(s) - 1
	{ B("\0\0\0\x06\0\0\0\0\0"), "client byte 0: first frame is PING (type 6), not SETTINGS" },
	{ B("\0\0\x07\x04\0\0\0\0\0" "1234567"),
	  "client byte 0: SETTINGS of 7 bytes, not a multiple of 6" },
	{ B("\0\0\x06\x04\x01\0\0\0\0" "\0\x01\0\0\0\0"),
	  "client byte 0: SETTINGS ACK with 6 bytes" },
	{ B("\0\0\0\x04\0\0\0\0\x01"), "client byte 0: SETTINGS on stream 1, not 0" },
	{ B("\0\0\x06\x04\0\0\0\0\0" "\0\x02\0\0\0\x02"),
	  "client byte 9: SETTINGS_ENABLE_PUSH of 2, not 0 or 1" },
	{ B(EMPTY_SETTINGS "\0\0\x06\x04\0\0\0\0\0" "\0\x05\0\0\x10\0"),
	  "client byte 18: SETTINGS_MAX_FRAME_SIZE of 4096, not in 16384 to 2^24-1" },
	{ B(EMPTY_SETTINGS "\0\0\x01\0\0\0\0\0\0" "x"), "client byte 9: DATA on stream 0" },
	{ B(EMPTY_SETTINGS "\0\0\x07\x06\0\0\0\0\0" "1234567"),
	  "client byte 9: PING of 7 bytes, not 8" },
	{ B(EMPTY_SETTINGS "\0\0\x03\x08\0\0\0\0\0" "123"),
	  "client byte 9: WINDOW_UPDATE of 3 bytes, not 4" },
	{ B(EMPTY_SETTINGS "\0\0\x04\x07\0\0\0\0\0" "1234"),
	  "client byte 9: GOAWAY of 4 bytes, shorter than its 8 bytes of fields (flags 0x0)" },
	{ B(EMPTY_SETTINGS "\0\0\x05\x01\x2c\0\0\0\x01" "\0\0\0\0\x01"),
	  "client byte 9: HEADERS of 5 bytes, shorter than its 6 bytes of fields (flags 0x2c)" },
	{ B(EMPTY_SETTINGS "\0\0\x01\x01\x05\0\0\0\x01" "\x80"),
	  "client byte 9: header block of stream 1: index 0 at byte 0" },
};

static void test_errors(void **state)
{
	static struct buf w;
	struct h2_conn *c;
	struct rec r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("%s\n", bad[i].why);
		w.n = 0;
		put(&w, bad[i].frames, bad[i].len);
		c = new_conn(&r);
		h2__skip_preface(c);
		feed_err(c, 0, &w, bad[i].why);
		free(c);
	}
}

/* Frames of unknown types and those not told of pass; no callbacks at all
 * is fine. */
static void test_ignored(void **state)
{
	static struct buf w;
	struct h2_conn *c = malloc(sizeof(*c));

	w.n = 0;
	put(&w, EMPTY_SETTINGS, 9);
	frame(&w, 0x42, 0xff, 7, "unknown", 7);
	frame(&w, H2_PING, 0, 0, "12345678", 8);
	frame(&w, H2_WINDOW_UPDATE, 0, 0, "\0\0\x10\0", 4);
	frame(&w, H2_PRIORITY, 0, 3, "\0\0\0\x01\x10", 5);
	frame(&w, H2_HEADERS, 0x5, 1, "\x82", 1);
	frame(&w, H2_DATA, 0x1, 1, "x", 1);
	assert_non_null(c);
	h2__init(c, NULL, NULL);
	h2__skip_preface(c);
	feed_ok(c, 0, &w, 3);
	assert_int_equal(c->dir[0].off, w.n);
	assert_int_equal(h2__feed(c, 2, w.b, 1, NULL, 0), -EINVAL);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exchange),
		cmocka_unit_test(test_frame_header_split),
		cmocka_unit_test(test_padded),
		cmocka_unit_test(test_continuation),
		cmocka_unit_test(test_continuation_errors),
		cmocka_unit_test(test_bad_preface),
		cmocka_unit_test(test_rst_goaway),
		cmocka_unit_test(test_settings_table_size),
		cmocka_unit_test(test_push_promise),
		cmocka_unit_test(test_oversized_block),
		cmocka_unit_test(test_kept_space),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_ignored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
