/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * hpack.h - an HPACK (RFC 7541) header block decoder for the HTTP/2 parser
 * (h2.h): the static table, a dynamic table of bounded size, integers,
 * string literals with Huffman coding. Untrusted bytes: every malformed
 * block is rejected with what and where (the byte offset in the block);
 * no allocation, fuzzed (tests/fuzz/fuzz_hpack.c).
 *
 * What is kept (reqacct never keeps payloads or credentials): the decoder
 * keeps the VALUES of the names in the "kept" list below only. For any
 * other name (authorization, cookie, set-cookie, custom headers, ...) the
 * dynamic table holds the name and the SIZE of the value, which its
 * eviction accounting needs, and the callback gets value NULL with vlen
 * the value's length. Such a value is never copied: a Huffman-coded one is
 * only walked to count (and check) its decoded bytes. A kept value longer
 * than HPACK_VALUE_MAX is treated the same way (NULL, its length).
 *
 * Bounds: names are at most HPACK_NAME_MAX bytes (longer is an error). The
 * table's names and kept values live in HPACK_STORE_MAX bytes, which is
 * always enough for a table of up to 4096 bytes (RFC 7541 4.1: each entry
 * counts its name, value and 32); an encoder allowed a bigger table
 * (SETTINGS_HEADER_TABLE_SIZE above 4096) that fills more than that makes
 * hpack__decode fail.
 */
#ifndef REQACCT_HPACK_H
#define REQACCT_HPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define HPACK_TABLE_DEFAULT 4096	/* SETTINGS_HEADER_TABLE_SIZE's initial value */
#define HPACK_STORE_MAX 4096	/* bytes of names and kept values in the table */
#define HPACK_ENTRIES_MAX (HPACK_STORE_MAX / 32)	/* entries of a 4096-byte table */
#define HPACK_NAME_MAX 1024	/* longest name decoded */
#define HPACK_VALUE_MAX 8192	/* longest kept value (request targets: see kreq.c) */
#define HPACK_STATIC_ENTRIES 61	/* RFC 7541 Appendix A */

/* The names whose values are kept, in this order. */
enum hpack_kept {
	HPACK_METHOD,		/* ":method" */
	HPACK_PATH,		/* ":path" */
	HPACK_AUTHORITY,	/* ":authority" */
	HPACK_SCHEME,		/* ":scheme" */
	HPACK_STATUS,		/* ":status" */
	HPACK_USER_AGENT,	/* "user-agent" */
	HPACK_CONTENT_LENGTH,	/* "content-length" */
	HPACK_CONTENT_TYPE,	/* "content-type" */
	HPACK_KEPT_MAX,
};

struct hpack_entry {
	__u32 off;	/* of the name in store; a kept value follows it */
	__u32 nlen;
	__u32 vlen;	/* the value's length, kept or not */
	bool kept;	/* the value is in store */
};

/* One direction's decoder. Entries are a ring (the oldest at head); their
 * bytes a FIFO in store, [store_start, store_end), moved to the front when
 * a new entry does not fit after it. */
struct hpack_dec {
	__u32 limit;	/* the largest size an update may set: SETTINGS_HEADER_TABLE_SIZE */
	__u32 max;	/* the table's maximum size, as the encoder last set it */
	__u32 size;	/* RFC 7541 4.1: name + value + 32 summed over the entries */
	__u32 head, count;
	__u32 store_start, store_end;
	struct hpack_entry ent[HPACK_ENTRIES_MAX];
	char store[HPACK_STORE_MAX];
};

/* Called for each field of a block, in order. name is never NULL; value is
 * NULL for a name not kept (vlen is then the value's length). Neither is
 * NUL-terminated, and both are only valid during the call. Non-zero stops
 * the decoding: hpack__decode returns it, and the table is then out of step
 * with the encoder's (the decoder must not be used again). */
typedef int (*hpack_field_fn)(void *ctx, const char *name, size_t nlen, const char *value,
			      size_t vlen);

/* An empty table whose size and limit are max_table_size (HPACK_TABLE_DEFAULT
 * for an HTTP/2 connection that has not sent SETTINGS_HEADER_TABLE_SIZE). */
void hpack__init(struct hpack_dec *d, __u32 max_table_size);

/* A new SETTINGS_HEADER_TABLE_SIZE from the side that receives the blocks:
 * the bound of later dynamic table size updates. The table's own size
 * stays until the encoder updates it (which it must, at the start of its
 * next block, when the limit went below it; not enforced). */
void hpack__set_limit(struct hpack_dec *d, __u32 limit);

/* Decode one complete header block of n bytes, calling fn for each field.
 * 0, fn's non-zero return, or -EINVAL with what and where in err: an index
 * of 0 or past the table, a truncated or over-long integer, a string past
 * the end of the block, a bad Huffman code (EOS, padding over 7 bits or not
 * all ones), a table size update above the limit or after a field, a name
 * over HPACK_NAME_MAX, a table that outgrows its store. After an error the
 * table is out of step: the decoder must not be used again. */
int hpack__decode(struct hpack_dec *d, const __u8 *block, size_t n, hpack_field_fn fn, void *ctx,
		  char *err, size_t errlen);

/* The kept name's enum hpack_kept, or -1 for a name whose value is not kept. */
int hpack__kept(const char *name, size_t nlen);

/* The i-th entry of the dynamic table, from 0 (the newest; HPACK index
 * 62 + i), as the callback would see it: 0, or -ENOENT past the end. */
int hpack__table_entry(const struct hpack_dec *d, __u32 i, const char **name, size_t *nlen,
		       const char **value, size_t *vlen);

/* Huffman-code n bytes (RFC 7541 5.2, for tests and fuzzing): the coded
 * length; out is written when it has room for all of it (outlen). */
size_t hpack__huffman_encode(const char *s, size_t n, __u8 *out, size_t outlen);

#endif
