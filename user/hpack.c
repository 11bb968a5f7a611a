// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * hpack.c - HPACK header block decoding (hpack.h).
 *
 * A block is decoded in one call, from a cursor over its bytes; every read
 * checks what is left first, so a bad length can only make an error. Names
 * and values are decoded into buffers on the stack (a value that is not
 * kept into none), then the field is added to the table (which copies what
 * it keeps) and given to the callback.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "errmsg.h"
#include "hpack.h"

/* RFC 7541 Appendix A, index 1 to 61. */
static const struct {
	const char *name, *value;
} static_table[HPACK_STATIC_ENTRIES] = {
	{ ":authority", "" },
	{ ":method", "GET" },
	{ ":method", "POST" },
	{ ":path", "/" },
	{ ":path", "/index.html" },
	{ ":scheme", "http" },
	{ ":scheme", "https" },
	{ ":status", "200" },
	{ ":status", "204" },
	{ ":status", "206" },
	{ ":status", "304" },
	{ ":status", "400" },
	{ ":status", "404" },
	{ ":status", "500" },
	{ "accept-charset", "" },
	{ "accept-encoding", "gzip, deflate" },
	{ "accept-language", "" },
	{ "accept-ranges", "" },
	{ "accept", "" },
	{ "access-control-allow-origin", "" },
	{ "age", "" },
	{ "allow", "" },
	{ "authorization", "" },
	{ "cache-control", "" },
	{ "content-disposition", "" },
	{ "content-encoding", "" },
	{ "content-language", "" },
	{ "content-length", "" },
	{ "content-location", "" },
	{ "content-range", "" },
	{ "content-type", "" },
	{ "cookie", "" },
	{ "date", "" },
	{ "etag", "" },
	{ "expect", "" },
	{ "expires", "" },
	{ "from", "" },
	{ "host", "" },
	{ "if-match", "" },
	{ "if-modified-since", "" },
	{ "if-none-match", "" },
	{ "if-range", "" },
	{ "if-unmodified-since", "" },
	{ "last-modified", "" },
	{ "link", "" },
	{ "location", "" },
	{ "max-forwards", "" },
	{ "proxy-authenticate", "" },
	{ "proxy-authorization", "" },
	{ "range", "" },
	{ "referer", "" },
	{ "refresh", "" },
	{ "retry-after", "" },
	{ "server", "" },
	{ "set-cookie", "" },
	{ "strict-transport-security", "" },
	{ "transfer-encoding", "" },
	{ "user-agent", "" },
	{ "vary", "" },
	{ "via", "" },
	{ "www-authenticate", "" },
};

static const char *const kept_names[HPACK_KEPT_MAX] = {
	[HPACK_METHOD] = ":method",
	[HPACK_PATH] = ":path",
	[HPACK_AUTHORITY] = ":authority",
	[HPACK_SCHEME] = ":scheme",
	[HPACK_STATUS] = ":status",
	[HPACK_USER_AGENT] = "user-agent",
	[HPACK_CONTENT_LENGTH] = "content-length",
	[HPACK_CONTENT_TYPE] = "content-type",
};

#define HUFF_EOS 256
#define HUFF_MIN_LEN 5
#define HUFF_MAX_LEN 30

struct huff_code {
	__u32 code;
	__u8 len;
};

/* RFC 7541 Appendix B: the code of each byte and of EOS (256), in bits. */
static const struct huff_code huff_codes[257] = {
	{ 0x1ff8, 13 }, { 0x7fffd8, 23 }, { 0xfffffe2, 28 }, { 0xfffffe3, 28 },	/* 0 */
	{ 0xfffffe4, 28 }, { 0xfffffe5, 28 }, { 0xfffffe6, 28 }, { 0xfffffe7, 28 },	/* 4 */
	{ 0xfffffe8, 28 }, { 0xffffea, 24 }, { 0x3ffffffc, 30 }, { 0xfffffe9, 28 },	/* 8 */
	{ 0xfffffea, 28 }, { 0x3ffffffd, 30 }, { 0xfffffeb, 28 }, { 0xfffffec, 28 },	/* 12 */
	{ 0xfffffed, 28 }, { 0xfffffee, 28 }, { 0xfffffef, 28 }, { 0xffffff0, 28 },	/* 16 */
	{ 0xffffff1, 28 }, { 0xffffff2, 28 }, { 0x3ffffffe, 30 }, { 0xffffff3, 28 },	/* 20 */
	{ 0xffffff4, 28 }, { 0xffffff5, 28 }, { 0xffffff6, 28 }, { 0xffffff7, 28 },	/* 24 */
	{ 0xffffff8, 28 }, { 0xffffff9, 28 }, { 0xffffffa, 28 }, { 0xffffffb, 28 },	/* 28 */
	{ 0x14, 6 }, { 0x3f8, 10 }, { 0x3f9, 10 }, { 0xffa, 12 },	/* 32 */
	{ 0x1ff9, 13 }, { 0x15, 6 }, { 0xf8, 8 }, { 0x7fa, 11 },	/* 36 */
	{ 0x3fa, 10 }, { 0x3fb, 10 }, { 0xf9, 8 }, { 0x7fb, 11 },	/* 40 */
	{ 0xfa, 8 }, { 0x16, 6 }, { 0x17, 6 }, { 0x18, 6 },	/* 44 */
	{ 0x0, 5 }, { 0x1, 5 }, { 0x2, 5 }, { 0x19, 6 },	/* 48 */
	{ 0x1a, 6 }, { 0x1b, 6 }, { 0x1c, 6 }, { 0x1d, 6 },	/* 52 */
	{ 0x1e, 6 }, { 0x1f, 6 }, { 0x5c, 7 }, { 0xfb, 8 },	/* 56 */
	{ 0x7ffc, 15 }, { 0x20, 6 }, { 0xffb, 12 }, { 0x3fc, 10 },	/* 60 */
	{ 0x1ffa, 13 }, { 0x21, 6 }, { 0x5d, 7 }, { 0x5e, 7 },	/* 64 */
	{ 0x5f, 7 }, { 0x60, 7 }, { 0x61, 7 }, { 0x62, 7 },	/* 68 */
	{ 0x63, 7 }, { 0x64, 7 }, { 0x65, 7 }, { 0x66, 7 },	/* 72 */
	{ 0x67, 7 }, { 0x68, 7 }, { 0x69, 7 }, { 0x6a, 7 },	/* 76 */
	{ 0x6b, 7 }, { 0x6c, 7 }, { 0x6d, 7 }, { 0x6e, 7 },	/* 80 */
	{ 0x6f, 7 }, { 0x70, 7 }, { 0x71, 7 }, { 0x72, 7 },	/* 84 */
	{ 0xfc, 8 }, { 0x73, 7 }, { 0xfd, 8 }, { 0x1ffb, 13 },	/* 88 */
	{ 0x7fff0, 19 }, { 0x1ffc, 13 }, { 0x3ffc, 14 }, { 0x22, 6 },	/* 92 */
	{ 0x7ffd, 15 }, { 0x3, 5 }, { 0x23, 6 }, { 0x4, 5 },	/* 96 */
	{ 0x24, 6 }, { 0x5, 5 }, { 0x25, 6 }, { 0x26, 6 },	/* 100 */
	{ 0x27, 6 }, { 0x6, 5 }, { 0x74, 7 }, { 0x75, 7 },	/* 104 */
	{ 0x28, 6 }, { 0x29, 6 }, { 0x2a, 6 }, { 0x7, 5 },	/* 108 */
	{ 0x2b, 6 }, { 0x76, 7 }, { 0x2c, 6 }, { 0x8, 5 },	/* 112 */
	{ 0x9, 5 }, { 0x2d, 6 }, { 0x77, 7 }, { 0x78, 7 },	/* 116 */
	{ 0x79, 7 }, { 0x7a, 7 }, { 0x7b, 7 }, { 0x7ffe, 15 },	/* 120 */
	{ 0x7fc, 11 }, { 0x3ffd, 14 }, { 0x1ffd, 13 }, { 0xffffffc, 28 },	/* 124 */
	{ 0xfffe6, 20 }, { 0x3fffd2, 22 }, { 0xfffe7, 20 }, { 0xfffe8, 20 },	/* 128 */
	{ 0x3fffd3, 22 }, { 0x3fffd4, 22 }, { 0x3fffd5, 22 }, { 0x7fffd9, 23 },	/* 132 */
	{ 0x3fffd6, 22 }, { 0x7fffda, 23 }, { 0x7fffdb, 23 }, { 0x7fffdc, 23 },	/* 136 */
	{ 0x7fffdd, 23 }, { 0x7fffde, 23 }, { 0xffffeb, 24 }, { 0x7fffdf, 23 },	/* 140 */
	{ 0xffffec, 24 }, { 0xffffed, 24 }, { 0x3fffd7, 22 }, { 0x7fffe0, 23 },	/* 144 */
	{ 0xffffee, 24 }, { 0x7fffe1, 23 }, { 0x7fffe2, 23 }, { 0x7fffe3, 23 },	/* 148 */
	{ 0x7fffe4, 23 }, { 0x1fffdc, 21 }, { 0x3fffd8, 22 }, { 0x7fffe5, 23 },	/* 152 */
	{ 0x3fffd9, 22 }, { 0x7fffe6, 23 }, { 0x7fffe7, 23 }, { 0xffffef, 24 },	/* 156 */
	{ 0x3fffda, 22 }, { 0x1fffdd, 21 }, { 0xfffe9, 20 }, { 0x3fffdb, 22 },	/* 160 */
	{ 0x3fffdc, 22 }, { 0x7fffe8, 23 }, { 0x7fffe9, 23 }, { 0x1fffde, 21 },	/* 164 */
	{ 0x7fffea, 23 }, { 0x3fffdd, 22 }, { 0x3fffde, 22 }, { 0xfffff0, 24 },	/* 168 */
	{ 0x1fffdf, 21 }, { 0x3fffdf, 22 }, { 0x7fffeb, 23 }, { 0x7fffec, 23 },	/* 172 */
	{ 0x1fffe0, 21 }, { 0x1fffe1, 21 }, { 0x3fffe0, 22 }, { 0x1fffe2, 21 },	/* 176 */
	{ 0x7fffed, 23 }, { 0x3fffe1, 22 }, { 0x7fffee, 23 }, { 0x7fffef, 23 },	/* 180 */
	{ 0xfffea, 20 }, { 0x3fffe2, 22 }, { 0x3fffe3, 22 }, { 0x3fffe4, 22 },	/* 184 */
	{ 0x7ffff0, 23 }, { 0x3fffe5, 22 }, { 0x3fffe6, 22 }, { 0x7ffff1, 23 },	/* 188 */
	{ 0x3ffffe0, 26 }, { 0x3ffffe1, 26 }, { 0xfffeb, 20 }, { 0x7fff1, 19 },	/* 192 */
	{ 0x3fffe7, 22 }, { 0x7ffff2, 23 }, { 0x3fffe8, 22 }, { 0x1ffffec, 25 },	/* 196 */
	{ 0x3ffffe2, 26 }, { 0x3ffffe3, 26 }, { 0x3ffffe4, 26 }, { 0x7ffffde, 27 },	/* 200 */
	{ 0x7ffffdf, 27 }, { 0x3ffffe5, 26 }, { 0xfffff1, 24 }, { 0x1ffffed, 25 },	/* 204 */
	{ 0x7fff2, 19 }, { 0x1fffe3, 21 }, { 0x3ffffe6, 26 }, { 0x7ffffe0, 27 },	/* 208 */
	{ 0x7ffffe1, 27 }, { 0x3ffffe7, 26 }, { 0x7ffffe2, 27 }, { 0xfffff2, 24 },	/* 212 */
	{ 0x1fffe4, 21 }, { 0x1fffe5, 21 }, { 0x3ffffe8, 26 }, { 0x3ffffe9, 26 },	/* 216 */
	{ 0xffffffd, 28 }, { 0x7ffffe3, 27 }, { 0x7ffffe4, 27 }, { 0x7ffffe5, 27 },	/* 220 */
	{ 0xfffec, 20 }, { 0xfffff3, 24 }, { 0xfffed, 20 }, { 0x1fffe6, 21 },	/* 224 */
	{ 0x3fffe9, 22 }, { 0x1fffe7, 21 }, { 0x1fffe8, 21 }, { 0x7ffff3, 23 },	/* 228 */
	{ 0x3fffea, 22 }, { 0x3fffeb, 22 }, { 0x1ffffee, 25 }, { 0x1ffffef, 25 },	/* 232 */
	{ 0xfffff4, 24 }, { 0xfffff5, 24 }, { 0x3ffffea, 26 }, { 0x7ffff4, 23 },	/* 236 */
	{ 0x3ffffeb, 26 }, { 0x7ffffe6, 27 }, { 0x3ffffec, 26 }, { 0x3ffffed, 26 },	/* 240 */
	{ 0x7ffffe7, 27 }, { 0x7ffffe8, 27 }, { 0x7ffffe9, 27 }, { 0x7ffffea, 27 },	/* 244 */
	{ 0x7ffffeb, 27 }, { 0xffffffe, 28 }, { 0x7ffffec, 27 }, { 0x7ffffed, 27 },	/* 248 */
	{ 0x7ffffee, 27 }, { 0x7ffffef, 27 }, { 0x7fffff0, 27 }, { 0x3ffffee, 26 },	/* 252 */
	{ 0x3fffffff, 30 },	/* 256 */
};

/*
 * For decoding, the same code seen as canonical (RFC 7541's is: check
 * with tests/unit/test_hpack.c, which codes every byte with huff_codes and
 * decodes it with these): the codes of length l are huff_first[l] and the
 * huff_count[l] - 1 values after it, for the symbols huff_syms[huff_base[l]]
 * onwards. huff_syms is every symbol ordered by code length, then value.
 */
static const __u16 huff_syms[257] = {
	48, 49, 50, 97, 99, 101, 105, 111, 115, 116, 32, 37,
	45, 46, 47, 51, 52, 53, 54, 55, 56, 57, 61, 65,
	95, 98, 100, 102, 103, 104, 108, 109, 110, 112, 114, 117,
	58, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76,
	77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 89,
	106, 107, 113, 118, 119, 120, 121, 122, 38, 42, 44, 59,
	88, 90, 33, 34, 40, 41, 63, 39, 43, 124, 35, 62,
	0, 36, 64, 91, 93, 126, 94, 125, 60, 96, 123, 92,
	195, 208, 128, 130, 131, 162, 184, 194, 224, 226, 153, 161,
	167, 172, 176, 177, 179, 209, 216, 217, 227, 229, 230, 129,
	132, 133, 134, 136, 146, 154, 156, 160, 163, 164, 169, 170,
	173, 178, 181, 185, 186, 187, 189, 190, 196, 198, 228, 232,
	233, 1, 135, 137, 138, 139, 140, 141, 143, 147, 149, 150,
	151, 152, 155, 157, 158, 165, 166, 168, 174, 175, 180, 182,
	183, 188, 191, 197, 231, 239, 9, 142, 144, 145, 148, 159,
	171, 206, 215, 225, 236, 237, 199, 207, 234, 235, 192, 193,
	200, 201, 202, 205, 210, 213, 218, 219, 238, 240, 242, 243,
	255, 203, 204, 211, 212, 214, 221, 222, 223, 241, 244, 245,
	246, 247, 248, 250, 251, 252, 253, 254, 2, 3, 4, 5,
	6, 7, 8, 11, 12, 14, 15, 16, 17, 18, 19, 20,
	21, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 220,
	249, 10, 13, 22, 256,
};
static const __u32 huff_first[31] = {
	0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x14, 0x5c,
	0xf8, 0x0, 0x3f8, 0x7fa, 0xffa, 0x1ff8, 0x3ffc, 0x7ffc,
	0x0, 0x0, 0x0, 0x7fff0, 0xfffe6, 0x1fffdc, 0x3fffd2, 0x7fffd8,
	0xffffea, 0x1ffffec, 0x3ffffe0, 0x7ffffde, 0xfffffe2, 0x0, 0x3ffffffc,
};
static const __u32 huff_count[31] = {
	0, 0, 0, 0, 0, 10, 26, 32,
	6, 0, 5, 3, 2, 6, 2, 3,
	0, 0, 0, 3, 8, 13, 26, 29,
	12, 4, 15, 19, 29, 0, 4,
};
static const __u32 huff_base[31] = {
	0, 0, 0, 0, 0, 0, 10, 36,
	68, 0, 74, 79, 82, 84, 90, 92,
	0, 0, 0, 95, 98, 106, 119, 145,
	174, 186, 190, 205, 224, 0, 253,
};

/* A block being decoded: the cursor and where names and values go. */
struct blk {
	struct hpack_dec *d;
	const __u8 *b;
	size_t n, i;
	char *name;	/* HPACK_NAME_MAX bytes */
	char *value;	/* HPACK_VALUE_MAX bytes, for kept values only */
	hpack_field_fn fn;
	void *ctx;
	char *err;
	size_t errlen;
};

int hpack__kept(const char *name, size_t nlen)
{
	for (int k = 0; k < HPACK_KEPT_MAX; k++)
		if (strlen(kept_names[k]) == nlen && !memcmp(kept_names[k], name, nlen))
			return k;
	return -1;
}

/* An integer with a prefix-bit prefix (RFC 7541 5.1) at the cursor, which
 * it passes. One over 2^32-1 is an error: it can only be an index, length
 * or size, none of which can be that large. */
static int read_int(struct blk *k, int prefix, const char *what, __u32 *out)
{
	size_t at = k->i;
	__u32 mask = (1u << prefix) - 1;
	unsigned shift = 0;
	__u64 v;
	__u8 c;

	if (k->i >= k->n)
		return errmsg(k->err, k->errlen, -EINVAL, "%s expected at byte %zu, the end",
			      what, at);
	v = k->b[k->i++] & mask;
	if (v == mask) {
		do {
			if (k->i >= k->n)
				return errmsg(k->err, k->errlen, -EINVAL,
					      "%s at byte %zu is truncated", what, at);
			/* 5 bytes of 7 bits carry 32: a sixth, even 0, is too long */
			if (shift > 28)
				return errmsg(k->err, k->errlen, -EINVAL,
					      "%s at byte %zu is longer than 32 bits", what, at);
			c = k->b[k->i++];
			v += (__u64)(c & 0x7f) << shift;
			if (v > UINT32_MAX)
				return errmsg(k->err, k->errlen, -EINVAL,
					      "%s at byte %zu is larger than 2^32-1", what, at);
			shift += 7;
		} while (c & 0x80);
	}
	*out = (__u32)v;
	return 0;
}

/* The symbol whose code is at the top of the bits valid bits of acc, and
 * the code's length in *len; -1 when more bits are needed. */
static int huff_symbol(__u64 acc, unsigned bits, unsigned *len)
{
	for (unsigned l = HUFF_MIN_LEN; l <= bits && l <= HUFF_MAX_LEN; l++) {
		__u32 c = (__u32)(acc >> (bits - l));

		if (c - huff_first[l] < huff_count[l]) {
			*len = l;
			return huff_syms[huff_base[l] + c - huff_first[l]];
		}
	}
	return -1;
}

/* Decode the Huffman string of n bytes at the cursor (RFC 7541 5.2) into
 * out while it has room for max bytes (out may be NULL: then only counted):
 * its decoded length in *len. The code is complete, so any 30 bits hold a
 * symbol: fewer than 30 are ever left over, and acc never holds 38. */
static int huff_decode(struct blk *k, size_t n, char *out, size_t max, size_t *len)
{
	const __u8 *in = k->b + k->i;
	unsigned bits = 0, l;
	size_t o = 0;
	__u64 acc = 0;
	int sym;

	for (size_t i = 0; i < n; i++) {
		acc = acc << 8 | in[i];
		bits += 8;
		while ((sym = huff_symbol(acc, bits, &l)) >= 0) {
			if (sym == HUFF_EOS)
				return errmsg(k->err, k->errlen, -EINVAL,
					      "Huffman string at byte %zu codes EOS at byte %zu",
					      k->i, k->i + i);
			if (out && o < max)
				out[o] = (char)sym;
			o++;
			bits -= l;
			acc &= (1ull << bits) - 1;
		}
	}
	if (bits > 7)
		return errmsg(k->err, k->errlen, -EINVAL,
			      "Huffman string at byte %zu ends in %u bits of padding (at most 7)",
			      k->i, bits);
	if (acc != (1ull << bits) - 1)
		return errmsg(k->err, k->errlen, -EINVAL,
			      "Huffman string at byte %zu ends in padding that is not all ones",
			      k->i);
	*len = o;
	return 0;
}

/* A string literal (RFC 7541 5.2) at the cursor, which it passes: its
 * (decoded) length in *len, and its bytes in out if out is not NULL and
 * they fit in max (*fit). */
static int read_str(struct blk *k, char *out, size_t max, size_t *len, bool *fit)
{
	size_t at = k->i;
	bool huff;
	__u32 n;
	int rc;

	huff = k->i < k->n && k->b[k->i] & 0x80;
	rc = read_int(k, 7, "string length", &n);
	if (rc)
		return rc;
	if (n > k->n - k->i)
		return errmsg(k->err, k->errlen, -EINVAL,
			      "string at byte %zu is %u bytes long, past the end (%zu bytes left)",
			      at, n, k->n - k->i);
	if (huff) {
		rc = huff_decode(k, n, out, max, len);
		if (rc)
			return rc;
	} else {
		*len = n;
		if (out && n <= max)
			memcpy(out, k->b + k->i, n);
	}
	*fit = out && *len <= max;
	k->i += n;
	return 0;
}

static __u32 slot(const struct hpack_dec *d, __u32 i)
{
	return (d->head + d->count - 1 - i) % HPACK_ENTRIES_MAX;
}

/* Entry idx of the table (RFC 7541 2.3.3: the static one, then the dynamic
 * one newest first), as hpack_field_fn gets it: the value only if kept. */
static int lookup(struct blk *k, __u32 idx, size_t at, const char **name, size_t *nlen,
		  const char **value, size_t *vlen)
{
	const struct hpack_dec *d = k->d;
	const struct hpack_entry *e;

	if (idx == 0)
		return errmsg(k->err, k->errlen, -EINVAL, "index 0 at byte %zu", at);
	if (idx <= HPACK_STATIC_ENTRIES) {
		*name = static_table[idx - 1].name;
		*nlen = strlen(*name);
		*vlen = strlen(static_table[idx - 1].value);
		*value = hpack__kept(*name, *nlen) >= 0 ? static_table[idx - 1].value : NULL;
		return 0;
	}
	if (idx - HPACK_STATIC_ENTRIES > d->count)
		return errmsg(k->err, k->errlen, -EINVAL,
			      "index %u at byte %zu is past the table (%d static and %u dynamic "
			      "entries)",
			      idx, at, HPACK_STATIC_ENTRIES, d->count);
	e = &d->ent[slot(d, idx - HPACK_STATIC_ENTRIES - 1)];
	*name = d->store + e->off;
	*nlen = e->nlen;
	*value = e->kept ? d->store + e->off + e->nlen : NULL;
	*vlen = e->vlen;
	return 0;
}

int hpack__table_entry(const struct hpack_dec *d, __u32 i, const char **name, size_t *nlen,
		       const char **value, size_t *vlen)
{
	struct blk k = { .d = (struct hpack_dec *)d };

	if (i >= d->count)
		return -ENOENT;
	return lookup(&k, i + HPACK_STATIC_ENTRIES + 1, 0, name, nlen, value, vlen);
}

static void evict_oldest(struct hpack_dec *d)
{
	const struct hpack_entry *e = &d->ent[d->head];

	d->size -= e->nlen + e->vlen + 32;
	d->head = (d->head + 1) % HPACK_ENTRIES_MAX;
	if (--d->count)
		d->store_start = d->ent[d->head].off;
	else
		d->store_start = d->store_end = 0;
}

static void shrink(struct hpack_dec *d, __u64 max)
{
	while (d->count && d->size > max)
		evict_oldest(d);
}

/* Move the live bytes of store to its front. */
static void compact(struct hpack_dec *d)
{
	__u32 off = d->store_start;

	memmove(d->store, d->store + off, d->store_end - off);
	for (__u32 i = 0; i < d->count; i++)
		d->ent[(d->head + i) % HPACK_ENTRIES_MAX].off -= off;
	d->store_start = 0;
	d->store_end -= off;
}

/* Add a field (RFC 7541 4.4): evict the oldest entries until it fits; one
 * larger than the table empties it and is not added. value NULL: not kept.
 * name and value must not point into the store, which this may move. */
static int add(struct blk *k, size_t at, const char *name, size_t nlen, const char *value,
	       size_t vlen)
{
	struct hpack_dec *d = k->d;
	__u64 size = (__u64)nlen + vlen + 32;
	size_t need = nlen + (value ? vlen : 0);
	struct hpack_entry *e;

	if (size > d->max) {
		shrink(d, 0);
		return 0;
	}
	shrink(d, d->max - size);
	if (d->count == HPACK_ENTRIES_MAX)
		return errmsg(k->err, k->errlen, -EINVAL,
			      "field at byte %zu makes a table of %u bytes hold over %d entries",
			      at, d->max, HPACK_ENTRIES_MAX);
	if (d->store_end + need > HPACK_STORE_MAX)
		compact(d);
	if (d->store_end + need > HPACK_STORE_MAX)
		return errmsg(k->err, k->errlen, -EINVAL,
			      "field at byte %zu makes a table of %u bytes keep over %d bytes of "
			      "names and values",
			      at, d->max, HPACK_STORE_MAX);
	e = &d->ent[(d->head + d->count) % HPACK_ENTRIES_MAX];
	*e = (struct hpack_entry){ d->store_end, (__u32)nlen, (__u32)vlen, value != NULL };
	memcpy(d->store + d->store_end, name, nlen);
	if (value)
		memcpy(d->store + d->store_end + nlen, value, vlen);
	d->store_end += need;
	d->count++;
	d->size += (__u32)size;
	return 0;
}

static int emit(struct blk *k, const char *name, size_t nlen, const char *value, size_t vlen)
{
	return k->fn ? k->fn(k->ctx, name, nlen, value, vlen) : 0;
}

/* An indexed field (RFC 7541 6.1). */
static int indexed(struct blk *k)
{
	const char *name, *value;
	size_t at = k->i, nlen, vlen;
	__u32 idx;
	int rc;

	rc = read_int(k, 7, "index", &idx);
	if (!rc)
		rc = lookup(k, idx, at, &name, &nlen, &value, &vlen);
	return rc ? rc : emit(k, name, nlen, value, vlen);
}

/* The name of a literal field: an index (prefix bits) or a string, copied
 * to k->name either way, so that adding the field cannot move it. */
static int literal_name(struct blk *k, int prefix, size_t *nlen)
{
	const char *name, *value;
	size_t at = k->i, vlen, sat;
	__u32 idx;
	bool fit;
	int rc;

	rc = read_int(k, prefix, "name index", &idx);
	if (rc)
		return rc;
	if (idx) {
		rc = lookup(k, idx, at, &name, nlen, &value, &vlen);
		if (!rc)	/* entries' names came through here: they fit */
			memcpy(k->name, name, *nlen);
		return rc;
	}
	sat = k->i;
	rc = read_str(k, k->name, HPACK_NAME_MAX, nlen, &fit);
	if (!rc && !fit)
		rc = errmsg(k->err, k->errlen, -EINVAL,
			    "name at byte %zu is %zu bytes long (at most %d)", sat, *nlen,
			    HPACK_NAME_MAX);
	return rc;
}

/* A literal field (RFC 7541 6.2), added to the table if index. */
static int literal(struct blk *k, int prefix, bool index)
{
	size_t at = k->i, nlen, vlen;
	const char *value;
	bool kept, fit;
	int rc;

	rc = literal_name(k, prefix, &nlen);
	if (rc)
		return rc;
	kept = hpack__kept(k->name, nlen) >= 0;
	rc = read_str(k, kept ? k->value : NULL, HPACK_VALUE_MAX, &vlen, &fit);
	if (rc)
		return rc;
	value = fit ? k->value : NULL;
	if (index) {
		rc = add(k, at, k->name, nlen, value, vlen);
		if (rc)
			return rc;
	}
	return emit(k, k->name, nlen, value, vlen);
}

/* A dynamic table size update (RFC 7541 6.3), only before the first field
 * of a block (4.2). */
static int size_update(struct blk *k, bool after_field)
{
	size_t at = k->i;
	__u32 max;
	int rc;

	if (after_field)
		return errmsg(k->err, k->errlen, -EINVAL,
			      "table size update at byte %zu after a field", at);
	rc = read_int(k, 5, "table size", &max);
	if (rc)
		return rc;
	if (max > k->d->limit)
		return errmsg(k->err, k->errlen, -EINVAL,
			      "table size update at byte %zu to %u, above the limit of %u", at, max,
			      k->d->limit);
	k->d->max = max;
	shrink(k->d, max);
	return 0;
}

int hpack__decode(struct hpack_dec *d, const __u8 *block, size_t n, hpack_field_fn fn, void *ctx,
		  char *err, size_t errlen)
{
	char name[HPACK_NAME_MAX], value[HPACK_VALUE_MAX];
	struct blk k = { d, block, n, 0, name, value, fn, ctx, err, errlen };
	bool field = false;
	int rc;

	while (k.i < n) {
		__u8 c = block[k.i];

		if (c & 0x80)
			rc = indexed(&k);
		else if (c & 0x40)
			rc = literal(&k, 6, true);
		else if (c & 0x20)
			rc = size_update(&k, field);
		else	/* without indexing (0000) or never indexed (0001) */
			rc = literal(&k, 4, false);
		if (rc)
			return rc;
		field = field || (c & 0xe0) != 0x20;
	}
	return 0;
}

void hpack__init(struct hpack_dec *d, __u32 max_table_size)
{
	memset(d, 0, sizeof(*d));
	d->limit = d->max = max_table_size;
}

void hpack__set_limit(struct hpack_dec *d, __u32 limit)
{
	d->limit = limit;
}

size_t hpack__huffman_encode(const char *s, size_t n, __u8 *out, size_t outlen)
{
	size_t bits = 0, o = 0;
	unsigned nb = 0;
	__u64 acc = 0;

	for (size_t i = 0; i < n; i++)
		bits += huff_codes[(__u8)s[i]].len;
	if ((bits + 7) / 8 > outlen)
		return (bits + 7) / 8;
	for (size_t i = 0; i < n; i++) {
		const struct huff_code *h = &huff_codes[(__u8)s[i]];

		acc = acc << h->len | h->code;
		nb += h->len;
		for (; nb >= 8; nb -= 8)
			out[o++] = (__u8)(acc >> (nb - 8));
		acc &= (1ull << nb) - 1;
	}
	if (nb)	/* pad with the most significant bits of EOS: ones */
		out[o++] = (__u8)(acc << (8 - nb) | 0xff >> nb);
	return o;
}
