/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * h2.h - an HTTP/2 (RFC 9113) connection seen from the side: the frames of
 * both byte streams, direction 0 (client to server, from the connection
 * preface) and 1 (server to client), fed in chunks split anywhere. It tells
 * of header blocks (HPACK-decoded, hpack.h: only the kept values), DATA
 * lengths, RST_STREAM and GOAWAY. Untrusted bytes: a protocol error is
 * refused with what and where (the direction and its byte offset) and ends
 * the connection; bounded memory (struct h2_conn, no allocation), fuzzed
 * (tests/fuzz/fuzz_h2.c).
 *
 * As an observer it checks what would make its reading wrong (frame
 * layout, lengths, padding, header block sequence, HPACK, SETTINGS values)
 * and not what only the peers enforce (stream states, flow control, frame
 * sizes up to SETTINGS_MAX_FRAME_SIZE: any up to 2^24-1 is taken).
 * SETTINGS_HEADER_TABLE_SIZE from one side bounds the table of the blocks
 * the other side sends from when it is seen, not when it is acknowledged.
 */
#ifndef REQACCT_H2_H
#define REQACCT_H2_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "hpack.h"

#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24
#define H2_FRAME_HEADER_LEN 9
#define H2_BLOCK_MAX 16384	/* longest header block (HEADERS or PUSH_PROMISE and its
				 * CONTINUATIONs) assembled; longer is an error */
#define H2_KEPT_MAX (HPACK_VALUE_MAX + 1024)	/* kept values given per block */

enum h2_frame_type {
	H2_DATA, H2_HEADERS, H2_PRIORITY, H2_RST_STREAM, H2_SETTINGS, H2_PUSH_PROMISE, H2_PING,
	H2_GOAWAY, H2_WINDOW_UPDATE, H2_CONTINUATION,
	H2_FRAME_TYPES,	/* others are ignored (RFC 9113 4.1) */
};

/* A kept value of a header block. p NULL: absent (n 0), or one hpack gave
 * by length only or that did not fit in H2_KEPT_MAX (n its length). Not
 * NUL-terminated. */
struct h2_value {
	const char *p;
	size_t n;
};

/* What on_headers gets of a block: the first value of each kept name (by
 * enum hpack_kept, e.g. f[HPACK_PATH]), valid during the call only. */
struct h2_headers {
	struct h2_value f[HPACK_KEPT_MAX];
	__u32 fields;	/* fields in the block, kept or not */
};

/* Each may be NULL. dir is the direction of the frame. */
struct h2_callbacks {
	/* a complete HEADERS block (not PUSH_PROMISE: decoded and dropped) */
	void (*on_headers)(void *ctx, int dir, __u32 stream_id, bool end_stream,
			   const struct h2_headers *h);
	/* a DATA frame: its data without the padding */
	void (*on_data)(void *ctx, int dir, __u32 stream_id, __u32 len, bool end_stream);
	void (*on_rst)(void *ctx, int dir, __u32 stream_id, __u32 error_code);
	void (*on_goaway)(void *ctx, int dir, __u32 last_stream_id, __u32 error_code);
};

/* One direction: where it is in its bytes, and its header block. */
struct h2_dir {
	struct hpack_dec hpack;	/* decodes this direction's blocks */
	__u64 off;		/* bytes consumed */
	__u64 frame_off;	/* where the current frame starts */
	int state;		/* enum in h2.c: preface, frame header, fields, body, padding */
	__u32 need;		/* bytes left in the state */
	__u8 hdr[H2_FRAME_HEADER_LEN];
	__u8 fix[8];		/* the frame's fields before its body; a SETTINGS entry */
	__u32 got;		/* bytes of a SETTINGS entry in fix */
	__u32 len, stream, prefix, body, pad;
	__u8 type, flags;
	bool settings_seen;	/* the first frame must be SETTINGS (RFC 9113 3.4) */
	bool block_open;	/* a block waits for CONTINUATION */
	bool block_end_stream, block_push;
	__u32 block_stream, block_len;
	__u8 block[H2_BLOCK_MAX];
};

struct h2_conn {
	const struct h2_callbacks *cb;
	void *ctx;
	int rc;		/* 0, or the error that ended the connection */
	char why[256];	/* and its message */
	struct h2_dir dir[2];
	char kept[H2_KEPT_MAX];	/* the kept values of the block being given */
};

/* A connection before its first byte: direction 0 expects the preface, the
 * HPACK tables are 4096 bytes (SETTINGS_HEADER_TABLE_SIZE's default). */
void h2__init(struct h2_conn *c, const struct h2_callbacks *cb, void *ctx);

/* Start direction 0 at its first frame, when the caller consumed the
 * preface itself. */
void h2__skip_preface(struct h2_conn *c);

/* The next n bytes of direction dir (0 or 1), callbacks called as frames
 * end. 0, or -EINVAL with what and where in err; after an error every call
 * returns it again (the connection's state is lost). */
int h2__feed(struct h2_conn *c, int dir, const __u8 *p, size_t n, char *err, size_t errlen);

#endif
