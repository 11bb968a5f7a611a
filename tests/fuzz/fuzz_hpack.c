// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_hpack.c - libFuzzer target: the HPACK decoder (user/hpack.c) over
 * arbitrary blocks. The first byte picks the table size (4096, 256, 0 or
 * 65536) and whether the block is decoded a second time with the table the
 * first left; the rest is the block. Invariants: no read past the bytes
 * given (ASan, on an exact-size copy); 0 or -EINVAL with a message; a value
 * only for a kept name, within HPACK_VALUE_MAX; the table's accounting (size
 * within its maximum, the sum of its entries; entries within the store,
 * which a table of up to 4096 bytes never outgrows). Then the input
 * Huffman-coded as a :path decodes to itself. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpack.h"

static volatile __u8 sink;

static int field(void *ctx, const char *name, size_t nlen, const char *value, size_t vlen)
{
	__u8 x = 0;

	if (!name || nlen > HPACK_NAME_MAX)
		abort();
	for (size_t i = 0; i < nlen; i++)
		x ^= (__u8)name[i];
	if (value) {	/* the credential property: only kept names have values */
		if (hpack__kept(name, nlen) < 0 || vlen > HPACK_VALUE_MAX)
			abort();
		for (size_t i = 0; i < vlen; i++)
			x ^= (__u8)value[i];
	}
	sink = x;
	return 0;
}

static void check_table(const struct hpack_dec *d)
{
	__u64 size = 0;

	if (d->size > d->max || d->count > HPACK_ENTRIES_MAX || d->store_start > d->store_end ||
	    d->store_end > HPACK_STORE_MAX)
		abort();
	for (__u32 i = 0; i < d->count; i++) {
		const struct hpack_entry *e = &d->ent[(d->head + i) % HPACK_ENTRIES_MAX];
		const char *name, *value;
		size_t nlen, vlen;

		if (e->off < d->store_start ||
		    e->off + e->nlen + (e->kept ? e->vlen : 0) > d->store_end)
			abort();
		if (hpack__table_entry(d, d->count - 1 - i, &name, &nlen, &value, &vlen) ||
		    name != d->store + e->off || field(NULL, name, nlen, value, vlen))
			abort();
		size += (__u64)e->nlen + e->vlen + 32;
	}
	if (size != d->size)
		abort();
}

static void decode(struct hpack_dec *d, const __u8 *b, size_t n)
{
	char err[256] = "";
	int rc = hpack__decode(d, b, n, field, NULL, err, sizeof(err));

	if (rc && (rc != -EINVAL || !err[0]))
		abort();
	/* a table of up to 4096 bytes always fits the store (hpack.h) */
	if (rc && d->limit <= HPACK_STORE_MAX && strstr(err, "makes a table"))
		abort();
	if (!rc)
		check_table(d);
}

struct want {
	const __u8 *p;
	size_t n;
};

/* :path is kept: its value is given unless longer than HPACK_VALUE_MAX. */
static int same_value(void *ctx, const char *name, size_t nlen, const char *value, size_t vlen)
{
	const struct want *w = ctx;

	if (vlen != w->n)
		abort();
	if (vlen <= HPACK_VALUE_MAX ? !value || memcmp(value, w->p, vlen) : value != NULL)
		abort();
	return 0;
}

/* The input as a Huffman-coded :path (literal without indexing). */
static void round_trip(const __u8 *data, size_t size)
{
	size_t len = hpack__huffman_encode((const char *)data, size, NULL, 0), n = 0, v = len;
	struct want w = { data, size };
	struct hpack_dec d;
	__u8 *b = malloc(len + 8);

	if (!b)
		return;
	b[n++] = 0x04;
	if (v < 0x7f) {
		b[n++] = 0x80 | (__u8)v;
	} else {
		b[n++] = 0xff;
		for (v -= 0x7f; v >= 0x80; v >>= 7)
			b[n++] = (__u8)(v | 0x80);
		b[n++] = (__u8)v;
	}
	if (hpack__huffman_encode((const char *)data, size, b + n, len) != len)
		abort();
	hpack__init(&d, HPACK_TABLE_DEFAULT);
	if (hpack__decode(&d, b, n + len, same_value, &w, NULL, 0))
		abort();
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const __u32 sizes[] = { HPACK_TABLE_DEFAULT, 256, 0, 65536 };
	static struct hpack_dec d;
	__u8 *b;

	if (!size)
		return 0;
	b = malloc(size - 1 ? size - 1 : 1);
	if (!b)
		return 0;
	memcpy(b, data + 1, size - 1);
	hpack__init(&d, sizes[data[0] & 3]);
	decode(&d, b, size - 1);
	if (data[0] & 4)
		decode(&d, b, size - 1);
	free(b);
	round_trip(data, size);
	return 0;
}
