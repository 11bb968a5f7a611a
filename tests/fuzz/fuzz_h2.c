// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_h2.c - libFuzzer target: the HTTP/2 connection parser (user/h2.c)
 * over two byte streams fed in chunks the fuzzer chooses. The first byte's
 * low bit starts direction 0 without the preface; then records follow, a
 * control byte (bit 7: the direction; bits 0-6: a length, cut at the end of
 * the input) and that many bytes, each fed as one exact-size chunk.
 * Invariants: no read past a chunk (ASan); 0 or -EINVAL with a message;
 * after an error, every feed of either direction returns it again, word for
 * word; all bytes fed are consumed; callbacks get stream ids of 31 bits,
 * kept values inside the connection's buffer, DATA lengths under 2^24. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "h2.h"

static struct h2_conn conn;
static volatile __u8 sink;

static void check_stream(__u32 id)
{
	if (id > 0x7fffffff)
		abort();
}

static void on_headers(void *ctx, int dir, __u32 stream, bool end, const struct h2_headers *h)
{
	__u32 present = 0;
	__u8 x = 0;

	check_stream(stream);
	if (!stream || (dir != 0 && dir != 1))
		abort();
	for (int i = 0; i < HPACK_KEPT_MAX; i++) {
		const struct h2_value *v = &h->f[i];

		present += v->p || v->n;
		if (!v->p)
			continue;
		if (v->p < conn.kept || v->n > sizeof(conn.kept) ||
		    v->p + v->n > conn.kept + sizeof(conn.kept))
			abort();
		for (size_t j = 0; j < v->n; j++)
			x ^= (__u8)v->p[j];
	}
	if (present > h->fields)
		abort();
	sink = x;
}

static void on_data(void *ctx, int dir, __u32 stream, __u32 len, bool end)
{
	check_stream(stream);
	if (!stream || len >= 1u << 24)
		abort();
}

static void on_rst(void *ctx, int dir, __u32 stream, __u32 code)
{
	check_stream(stream);
	if (!stream)
		abort();
}

static void on_goaway(void *ctx, int dir, __u32 last, __u32 code)
{
	check_stream(last);
}

static const struct h2_callbacks cbs = { on_headers, on_data, on_rst, on_goaway };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], first[256] = "";
	__u64 fed[2] = { 0, 0 };
	size_t i = 1;
	int rc;

	if (!size)
		return 0;
	h2__init(&conn, &cbs, NULL);
	if (data[0] & 1)
		h2__skip_preface(&conn);
	while (i < size) {
		int dir = data[i] >> 7;
		size_t n = data[i++] & 0x7f;
		__u8 *chunk;

		if (n > size - i)
			n = size - i;
		chunk = malloc(n ? n : 1);
		if (!chunk)
			return 0;
		memcpy(chunk, data + i, n);
		err[0] = '\0';
		rc = h2__feed(&conn, dir, chunk, n, err, sizeof(err));
		free(chunk);
		i += n;
		if (rc && (rc != -EINVAL || !err[0]))
			abort();
		if (first[0] && (!rc || strcmp(err, first)))	/* dead stays dead */
			abort();
		if (rc) {
			memcpy(first, err, sizeof(first));
			continue;
		}
		fed[dir] += n;
		if (conn.dir[dir].off != fed[dir])
			abort();
	}
	return 0;
}
