// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_hpack.c - the HPACK decoder against every example of RFC 7541
 * Appendix C (integers, fields, request and response series with and
 * without Huffman coding, with the dynamic table after each block), the
 * Huffman code of every byte, eviction and the table's store, what is kept
 * and what is not, and malformed blocks, each refused with where. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hpack.h"

#define MAX_FIELDS 16

/* A field as a test expects it: value NULL when not kept, vlen its length. */
struct field {
	const char *name, *value;
	size_t vlen;
};

struct got {
	int n;
	char name[MAX_FIELDS][64];
	char value[MAX_FIELDS][300];
	bool has_value[MAX_FIELDS];
	size_t vlen[MAX_FIELDS];
	int stop_at;	/* return 1 at this field (0: never) */
};

static int collect(void *ctx, const char *name, size_t nlen, const char *value, size_t vlen)
{
	struct got *g = ctx;

	assert_non_null(name);
	assert_true(g->n < MAX_FIELDS);
	assert_true(nlen < sizeof(g->name[0]));
	memcpy(g->name[g->n], name, nlen);
	g->name[g->n][nlen] = '\0';
	g->has_value[g->n] = value != NULL;
	g->vlen[g->n] = vlen;
	if (value) {	/* what fits: long values are checked by length */
		size_t n = vlen < sizeof(g->value[0]) ? vlen : sizeof(g->value[0]) - 1;

		memcpy(g->value[g->n], value, n);
		g->value[g->n][n] = '\0';
	}
	g->n++;
	return g->stop_at && g->n == g->stop_at;
}

/* Hex digits, spaces between them ignored, into out: the byte count. */
static size_t dehex(const char *hex, __u8 *out)
{
	size_t n = 0;
	char pair[3] = "";

	for (; *hex; hex++) {
		if (*hex == ' ')
			continue;
		pair[strlen(pair)] = *hex;
		if (strlen(pair) == 2) {
			out[n++] = (__u8)strtoul(pair, NULL, 16);
			pair[0] = pair[1] = '\0';
		}
	}
	assert_int_equal(pair[0], '\0');
	return n;
}

static int decode_hex(struct hpack_dec *d, const char *hex, struct got *g, char *err,
		      size_t errlen)
{
	__u8 b[512];
	size_t n = dehex(hex, b);

	memset(g, 0, sizeof(*g));
	return hpack__decode(d, b, n, collect, g, err, errlen);
}

static void check_fields(const struct got *g, const struct field *want, int n)
{
	assert_int_equal(g->n, n);
	for (int i = 0; i < n; i++) {
		assert_string_equal(g->name[i], want[i].name);
		assert_int_equal(g->vlen[i], want[i].vlen);
		assert_int_equal(g->has_value[i], want[i].value != NULL);
		if (want[i].value)
			assert_string_equal(g->value[i], want[i].value);
	}
}

/* The dynamic table, newest first, and its size. */
static void check_table(const struct hpack_dec *d, const struct field *want, int n, __u32 size)
{
	const char *name, *value;
	size_t nlen, vlen;

	assert_int_equal(d->count, n);
	assert_int_equal(d->size, size);
	for (int i = 0; i < n; i++) {
		assert_int_equal(hpack__table_entry(d, i, &name, &nlen, &value, &vlen), 0);
		assert_int_equal(nlen, strlen(want[i].name));
		assert_memory_equal(name, want[i].name, nlen);
		assert_int_equal(vlen, want[i].vlen);
		assert_int_equal(value != NULL, want[i].value != NULL);
		if (value)
			assert_memory_equal(value, want[i].value, vlen);
	}
	assert_int_equal(hpack__table_entry(d, n, &name, &nlen, &value, &vlen), -ENOENT);
}

static void decode_ok(struct hpack_dec *d, const char *hex, struct got *g)
{
	char err[256] = "";
	int rc = decode_hex(d, hex, g, err, sizeof(err));

	if (rc)
		print_error("%s: %s\n", hex, err);
	assert_int_equal(rc, 0);
}

/* The bytes of the decoder's table: a value not kept must not be there. */
static void assert_not_stored(const struct hpack_dec *d, const char *s)
{
	assert_null(memmem(d->store, sizeof(d->store), s, strlen(s)));
}

/* C.1: integers. A 5-bit prefix is a table size update's; a string length
 * (7-bit prefix, H clear) fills the whole octet 42 is in (C.1.3). */
static void test_c1_integers(void **state)
{
	struct hpack_dec d;
	struct got g;
	__u8 b[64] = { 0x04, 42 };	/* :path, not indexed, 42 bytes */

	hpack__init(&d, 4096);
	decode_ok(&d, "2a", &g);	/* C.1.1: 10 = 0b01010 after 001 */
	assert_int_equal(d.max, 10);
	decode_ok(&d, "3f9a 0a", &g);	/* C.1.2: 1337 */
	assert_int_equal(d.max, 1337);
	memset(b + 2, '/', 42);
	assert_int_equal(hpack__decode(&d, b, 44, collect, memset(&g, 0, sizeof(g)), NULL, 0), 0);
	assert_int_equal(g.vlen[0], 42);	/* C.1.3 */
	assert_int_equal(g.n, 1);
}

static void test_c2_fields(void **state)
{
	static const struct field custom[] = { { "custom-key", NULL, 13 } };
	static const struct field path[] = { { ":path", "/sample/path", 12 } };
	static const struct field password[] = { { "password", NULL, 6 } };
	static const struct field get[] = { { ":method", "GET", 3 } };
	struct hpack_dec d;
	struct got g;

	hpack__init(&d, 4096);	/* C.2.1: literal with indexing */
	decode_ok(&d, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572", &g);
	check_fields(&g, custom, 1);
	check_table(&d, custom, 1, 55);
	assert_not_stored(&d, "custom-header");
	hpack__init(&d, 4096);	/* C.2.2: literal without indexing */
	decode_ok(&d, "040c 2f73 616d 706c 652f 7061 7468", &g);
	check_fields(&g, path, 1);
	check_table(&d, NULL, 0, 0);
	hpack__init(&d, 4096);	/* C.2.3: literal never indexed */
	decode_ok(&d, "1008 7061 7373 776f 7264 0673 6563 7265 74", &g);
	check_fields(&g, password, 1);
	check_table(&d, NULL, 0, 0);
	hpack__init(&d, 4096);	/* C.2.4: indexed */
	decode_ok(&d, "82", &g);
	check_fields(&g, get, 1);
	check_table(&d, NULL, 0, 0);
}

struct step {
	const char *hex;
	struct field fields[6], table[4];
	int nfields, ntable;
	__u32 size;
};

static void run_series(__u32 max, const struct step *steps, int n)
{
	struct hpack_dec d;
	struct got g;

	hpack__init(&d, max);
	for (int i = 0; i < n; i++) {
		print_message("block %d\n", i + 1);
		decode_ok(&d, steps[i].hex, &g);
		check_fields(&g, steps[i].fields, steps[i].nfields);
		check_table(&d, steps[i].table, steps[i].ntable, steps[i].size);
	}
	/* RFC 7541 C.5, C.6: values of names not kept never reach the store */
	assert_not_stored(&d, "private");
	assert_not_stored(&d, "Oct 2013");
	assert_not_stored(&d, "gzip");
	assert_not_stored(&d, "ASDJKHQKBZXOQWEOPIUAXQWEOIU");
	assert_not_stored(&d, "no-cache");
	assert_not_stored(&d, "custom-value");
}

/* C.3 and C.4: the same requests, the same table (custom-key and
 * cache-control values by size only). */
#define REQ1 { ":method", "GET", 3 }, { ":scheme", "http", 4 }, { ":path", "/", 1 }, \
	{ ":authority", "www.example.com", 15 }
#define REQ3 { ":method", "GET", 3 }, { ":scheme", "https", 5 }, \
	{ ":path", "/index.html", 11 }, { ":authority", "www.example.com", 15 }, \
	{ "custom-key", NULL, 12 }
#define AUTH { ":authority", "www.example.com", 15 }
#define NOCACHE { "cache-control", NULL, 8 }

static void test_c3_requests(void **state)
{
	static const struct step steps[] = {
		{ "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", { REQ1 }, { AUTH }, 4, 1,
		  57 },
		{ "8286 84be 5808 6e6f 2d63 6163 6865", { REQ1, NOCACHE }, { NOCACHE, AUTH }, 5, 2,
		  110 },
		{ "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
		  { REQ3 }, { { "custom-key", NULL, 12 }, NOCACHE, AUTH }, 5, 3, 164 },
	};

	run_series(4096, steps, 3);
}

static void test_c4_requests_huffman(void **state)
{
	static const struct step steps[] = {
		{ "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", { REQ1 }, { AUTH }, 4, 1, 57 },
		{ "8286 84be 5886 a8eb 1064 9cbf", { REQ1, NOCACHE }, { NOCACHE, AUTH }, 5, 2,
		  110 },
		{ "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf", { REQ3 },
		  { { "custom-key", NULL, 12 }, NOCACHE, AUTH }, 5, 3, 164 },
	};

	run_series(4096, steps, 3);
}

/* C.5 and C.6: responses with a 256-byte table, evicting. */
#define RESP(status) { ":status", status, 3 }, { "cache-control", NULL, 7 }, \
	{ "date", NULL, 29 }, { "location", NULL, 23 }
#define RESP3 { ":status", "200", 3 }, { "cache-control", NULL, 7 }, { "date", NULL, 29 }, \
	{ "location", NULL, 23 }, { "content-encoding", NULL, 4 }, { "set-cookie", NULL, 56 }
#define TABLE1 { "location", NULL, 23 }, { "date", NULL, 29 }, { "cache-control", NULL, 7 }, \
	{ ":status", "302", 3 }
#define TABLE2 { ":status", "307", 3 }, { "location", NULL, 23 }, { "date", NULL, 29 }, \
	{ "cache-control", NULL, 7 }
#define TABLE3 { "set-cookie", NULL, 56 }, { "content-encoding", NULL, 4 }, \
	{ "date", NULL, 29 }

static void test_c5_responses(void **state)
{
	static const struct step steps[] = {
		{ "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 "
		  "2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 "
		  "6c65 2e63 6f6d",
		  { RESP("302") }, { TABLE1 }, 4, 4, 222 },
		{ "4803 3330 37c1 c0bf", { RESP("307") }, { TABLE2 }, 4, 4, 222 },
		{ "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d "
		  "54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 "
		  "5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e "
		  "3d31",
		  { RESP3 }, { TABLE3 }, 6, 3, 215 },
	};

	run_series(256, steps, 3);
}

static void test_c6_responses_huffman(void **state)
{
	static const struct step steps[] = {
		{ "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 "
		  "2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
		  { RESP("302") }, { TABLE1 }, 4, 4, 222 },
		{ "4883 640e ffc1 c0bf", { RESP("307") }, { TABLE2 }, 4, 4, 222 },
		{ "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab "
		  "77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f "
		  "9587 3160 65c0 03ed 4ee5 b106 3d50 07",
		  { RESP3 }, { TABLE3 }, 6, 3, 215 },
	};

	run_series(256, steps, 3);
}

/* A block writer for the tests that build their own. */
struct blk {
	__u8 b[20000];
	size_t n;
};

static void put_int(struct blk *w, __u8 first, int prefix, __u32 v)
{
	__u32 mask = (1u << prefix) - 1;

	if (v < mask) {
		w->b[w->n++] = first | (__u8)v;
		return;
	}
	w->b[w->n++] = first | (__u8)mask;
	for (v -= mask; v >= 0x80; v >>= 7)
		w->b[w->n++] = (__u8)(v | 0x80);
	w->b[w->n++] = (__u8)v;
}

static void put_str(struct blk *w, const char *s, size_t n, bool huff)
{
	if (huff) {
		size_t len = hpack__huffman_encode(s, n, NULL, 0);

		put_int(w, 0x80, 7, (__u32)len);
		assert_int_equal(hpack__huffman_encode(s, n, w->b + w->n, len), len);
		w->n += len;
		return;
	}
	put_int(w, 0, 7, (__u32)n);
	memcpy(w->b + w->n, s, n);
	w->n += n;
}

/* A literal with incremental indexing and a new name. */
static void put_field(struct blk *w, const char *name, const char *value, size_t vlen, bool huff)
{
	put_int(w, 0x40, 6, 0);
	put_str(w, name, strlen(name), huff);
	put_str(w, value, vlen, huff);
}

static int decode_blk(struct hpack_dec *d, const struct blk *w, struct got *g, char *err,
		      size_t errlen)
{
	memset(g, 0, sizeof(*g));
	return hpack__decode(d, w->b, w->n, collect, g, err, errlen);
}

/* Every byte alone (each code length, each padding) and all 256 in one
 * value: huff_codes, which codes them, and the canonical tables that
 * decode them agree. */
static void test_huffman_every_byte(void **state)
{
	char all[256];
	struct hpack_dec d;
	struct blk w;
	struct got g;

	hpack__init(&d, 4096);
	for (int c = 0; c < 256; c++) {
		char s[3] = { (char)c, 'a', (char)c };

		all[c] = (char)c;
		for (size_t len = 1; len <= 3; len++) {
			w.n = 0;
			put_int(&w, 0, 4, 4);	/* :path, without indexing */
			put_str(&w, s, len, true);
			assert_int_equal(decode_blk(&d, &w, &g, NULL, 0), 0);
			assert_int_equal(g.vlen[0], len);
			assert_memory_equal(g.value[0], s, len);
		}
	}
	w.n = 0;
	put_int(&w, 0, 4, 4);
	put_str(&w, all, sizeof(all), true);
	assert_int_equal(decode_blk(&d, &w, &g, NULL, 0), 0);
	assert_int_equal(g.vlen[0], 256);
	assert_memory_equal(g.value[0], all, 256);
	/* RFC 7541 C.4.1's coding of www.example.com */
	assert_int_equal(hpack__huffman_encode("www.example.com", 15, w.b, sizeof(w.b)), 12);
	assert_memory_equal(w.b, "\xf1\xe3\xc2\xe5\xf2\x3a\x6b\xa0\xab\x90\xf4\xff", 12);
}

/* A table of many entries of varied sizes, against a model of it: the
 * oldest evicted first, the store moved to its front as it fills. */
static void test_eviction_and_store(void **state)
{
	static char vals[600][40];
	struct hpack_dec d;
	struct got g;
	struct blk w;
	int first = 0;
	__u32 size = 0;

	hpack__init(&d, 4096);
	for (int i = 0; i < 600; i++) {
		int len = snprintf(vals[i], sizeof(vals[i]), "/%0*d", 1 + i % 37, i);
		const char *name = i % 3 ? ":path" : "x-secret";

		w.n = 0;
		put_field(&w, name, vals[i], (size_t)len, i % 2);
		assert_int_equal(decode_blk(&d, &w, &g, NULL, 0), 0);
		size += (__u32)(strlen(name) + (size_t)len + 32);
		while (size > 4096) {
			size -= (__u32)((first % 3 ? 5 : 8) + strlen(vals[first]) + 32);
			first++;
		}
		assert_int_equal(d.size, size);
		assert_int_equal(d.count, i - first + 1);
		for (int j = i; j >= first; j--) {
			const char *n, *v;
			size_t nlen, vlen;

			assert_int_equal(hpack__table_entry(&d, (__u32)(i - j), &n, &nlen, &v,
							    &vlen), 0);
			assert_int_equal(vlen, strlen(vals[j]));
			if (j % 3)
				assert_memory_equal(v, vals[j], vlen);
			else
				assert_null(v);
		}
	}
	/* an entry larger than the table empties it (RFC 7541 4.4) */
	{
		static char big[4100];

		memset(big, 'a', sizeof(big));
		w.n = 0;
		put_field(&w, ":path", big, 4096 - 32 - 5 + 1, false);
		assert_int_equal(decode_blk(&d, &w, &g, NULL, 0), 0);
		assert_int_equal(g.vlen[0], 4060);
		assert_true(g.has_value[0]);
		check_table(&d, NULL, 0, 0);
		w.n = 0;	/* one exactly the table's size fills it */
		put_field(&w, ":path", big, 4096 - 32 - 5, false);
		assert_int_equal(decode_blk(&d, &w, &g, NULL, 0), 0);
		assert_int_equal(d.count, 1);
		assert_int_equal(d.size, 4096);
	}
}

static int ignore(void *ctx, const char *name, size_t nlen, const char *value, size_t vlen)
{
	return 0;
}

/* Credentials: values of names not kept are given and kept by length only. */
static void test_not_kept(void **state)
{
	static const struct field want[] = { { "authorization", NULL, 17 },
					     { "cookie", NULL, 10 },
					     { "user-agent", "curl/8.5.0", 10 },
					     { "content-length", "42", 2 } };
	struct hpack_dec d;
	struct got g;
	struct blk w = { .n = 0 };

	hpack__init(&d, 4096);
	put_int(&w, 0x40, 6, 23);	/* authorization, indexed name */
	put_str(&w, "Bearer secrettokn", 17, false);
	put_int(&w, 0x40, 6, 32);	/* cookie */
	put_str(&w, "sid=hidden", 10, true);
	put_int(&w, 0x40, 6, 58);	/* user-agent */
	put_str(&w, "curl/8.5.0", 10, true);
	put_int(&w, 0x00, 4, 28);	/* content-length, not indexed */
	put_str(&w, "42", 2, false);
	assert_int_equal(decode_blk(&d, &w, &g, NULL, 0), 0);
	check_fields(&g, want, 4);
	assert_not_stored(&d, "secret");
	assert_not_stored(&d, "hidden");
	w.n = 0;	/* and so they are when indexed */
	put_int(&w, 0x80, 7, 64);
	put_int(&w, 0x80, 7, 63);
	put_int(&w, 0x80, 7, 62);
	assert_int_equal(decode_blk(&d, &w, &g, NULL, 0), 0);
	check_fields(&g, want, 3);
	/* static values of names not kept are not given either */
	w.n = 0;
	put_int(&w, 0x80, 7, 16);	/* accept-encoding: gzip, deflate */
	assert_int_equal(decode_blk(&d, &w, &g, NULL, 0), 0);
	assert_string_equal(g.name[0], "accept-encoding");
	assert_false(g.has_value[0]);
	assert_int_equal(g.vlen[0], 13);
	assert_int_equal(hpack__kept("user-agent", 10), HPACK_USER_AGENT);
	assert_int_equal(hpack__kept("User-Agent", 10), -1);
	assert_int_equal(hpack__kept(":pat", 4), -1);
}

/* A kept value over HPACK_VALUE_MAX is given and kept by length only. */
static void test_long_kept_value(void **state)
{
	static char path[HPACK_VALUE_MAX + 1];
	struct hpack_dec d;
	struct got g;
	static struct blk w;

	memset(path, 'p', sizeof(path));
	hpack__init(&d, 65536);
	w.n = 0;
	put_field(&w, ":path", path, sizeof(path), true);
	assert_int_equal(hpack__decode(&d, w.b, w.n, ignore, NULL, NULL, 0), 0);
	w.n = 0;
	put_int(&w, 0x80, 7, 62);
	assert_int_equal(decode_blk(&d, &w, &g, NULL, 0), 0);
	assert_false(g.has_value[0]);
	assert_int_equal(g.vlen[0], sizeof(path));
	assert_int_equal(d.size, 5 + sizeof(path) + 32);
}

/* Size updates: only at the start, up to the limit SETTINGS sets. */
static void test_size_updates(void **state)
{
	char err[256];
	struct hpack_dec d;
	struct got g;

	hpack__init(&d, 4096);
	decode_ok(&d, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572", &g);
	assert_int_equal(d.count, 1);
	decode_ok(&d, "20 3f e1 1f 82", &g);	/* to 0, then 4096: emptied */
	assert_int_equal(d.count, 0);
	assert_int_equal(d.max, 4096);
	assert_int_equal(g.n, 1);
	assert_int_equal(decode_hex(&d, "3f e2 1f", &g, err, sizeof(err)), -EINVAL);
	hpack__set_limit(&d, 8192);
	decode_ok(&d, "3f e1 3f", &g);	/* 8192 */
	assert_int_equal(d.max, 8192);
	hpack__set_limit(&d, 100);	/* the table's size stays until updated */
	assert_int_equal(d.max, 8192);
	decode_ok(&d, "3f 45", &g);	/* 100 */
	assert_int_equal(d.max, 100);
}

/* A table allowed over 4096 bytes that fills more than the store. */
static void test_store_limits(void **state)
{
	static char name[1000];
	char err[256];
	struct hpack_dec d;
	struct blk w;
	int rc = 0, i;

	memset(name, 'n', sizeof(name) - 1);
	hpack__init(&d, 65536);
	for (i = 0; i < 10 && !rc; i++) {
		w.n = 0;
		put_field(&w, name, "", 0, false);
		rc = hpack__decode(&d, w.b, w.n, ignore, NULL, err, sizeof(err));
	}
	assert_int_equal(rc, -EINVAL);
	assert_int_equal(i, 5);
	assert_non_null(strstr(err, "over 4096 bytes of names and values"));
	hpack__init(&d, 65536);
	for (i = 0, rc = 0; i < 200 && !rc; i++) {
		w.n = 0;
		put_field(&w, "n", "", 0, false);
		rc = hpack__decode(&d, w.b, w.n, ignore, NULL, err, sizeof(err));
	}
	assert_int_equal(rc, -EINVAL);
	assert_int_equal(i, HPACK_ENTRIES_MAX + 1);
	assert_non_null(strstr(err, "over 128 entries"));
}

static void test_callback_stops(void **state)
{
	struct hpack_dec d;
	struct got g;
	__u8 b[] = { 0x82, 0x86, 0x84 };

	hpack__init(&d, 4096);
	memset(&g, 0, sizeof(g));
	g.stop_at = 2;
	assert_int_equal(hpack__decode(&d, b, sizeof(b), collect, &g, NULL, 0), 1);
	assert_int_equal(g.n, 2);
}

static const struct {
	const char *hex, *why;
} bad[] = {
	{ "80", "index 0 at byte 0" },
	{ "82 80", "index 0 at byte 1" },
	{ "82 be", "index 62 at byte 1 is past the table (61 static and 0 dynamic entries)" },
	{ "82 ff", "index at byte 1 is truncated" },
	{ "82 ff 80", "index at byte 1 is truncated" },
	{ "82 ff ff ff ff ff 0f", "index at byte 1 is larger than 2^32-1" },
	{ "ff 80 80 80 80 80 00", "index at byte 0 is longer than 32 bits" },
	{ "40 7f", "string length at byte 1 is truncated" },
	{ "04", "string length expected at byte 1, the end" },
	{ "82 04 05 2f 61", "string at byte 2 is 5 bytes long, past the end (2 bytes left)" },
	{ "82 40 01 61 7f ff ff ff 0f 00",
	  "string at byte 4 is 33554558 bytes long, past the end" },
	/* Huffman: a, then 8 more bits of padding; '0' with 000 padding; EOS */
	{ "04 82 1f ff", "Huffman string at byte 2 ends in 11 bits of padding (at most 7)" },
	{ "04 81 00", "Huffman string at byte 2 ends in padding that is not all ones" },
	{ "04 85 ff ff ff ff fc", "Huffman string at byte 2 codes EOS at byte 5" },
	{ "04 87 52 bc 30 ff ff ff ff", "Huffman string at byte 2 codes EOS at byte 8" },
	{ "3f e2 1f", "table size update at byte 0 to 4097, above the limit of 4096" },
	{ "82 20", "table size update at byte 1 after a field" },
	{ "3f", "table size at byte 0 is truncated" },
};

static void test_malformed(void **state)
{
	char err[256];
	struct hpack_dec d;
	struct got g;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("%s\n", bad[i].hex);
		hpack__init(&d, 4096);
		err[0] = '\0';
		assert_int_equal(decode_hex(&d, bad[i].hex, &g, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].why))
			fail_msg("%s: got \"%s\", want \"%s\"", bad[i].hex, err, bad[i].why);
	}
}

/* A name over HPACK_NAME_MAX, new or from an index it cannot have. */
static void test_long_name(void **state)
{
	static char name[HPACK_NAME_MAX + 1];
	char err[256];
	struct hpack_dec d;
	struct got g;
	static struct blk w;

	memset(name, 'n', sizeof(name));
	hpack__init(&d, 4096);
	w.b[0] = 0x82;
	w.n = 1;
	put_int(&w, 0x00, 4, 0);
	put_str(&w, name, sizeof(name), false);
	put_str(&w, "v", 1, false);
	assert_int_equal(decode_blk(&d, &w, &g, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "name at byte 2 is 1025 bytes long (at most 1024)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_c1_integers),
		cmocka_unit_test(test_c2_fields),
		cmocka_unit_test(test_c3_requests),
		cmocka_unit_test(test_c4_requests_huffman),
		cmocka_unit_test(test_c5_responses),
		cmocka_unit_test(test_c6_responses_huffman),
		cmocka_unit_test(test_huffman_every_byte),
		cmocka_unit_test(test_eviction_and_store),
		cmocka_unit_test(test_not_kept),
		cmocka_unit_test(test_long_kept_value),
		cmocka_unit_test(test_size_updates),
		cmocka_unit_test(test_store_limits),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_long_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
