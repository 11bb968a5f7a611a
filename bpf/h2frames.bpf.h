/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * h2frames.bpf.h - HTTP/2 frames in plaintext whose size is known (OpenSSL
 * both ways; what a Go client writes), on a connection whose preface was
 * seen (RA_HTTP_H2). Each direction's bytes are cut into frames (RFC 9113
 * 4.1: a 9-byte header, then the payload), across calls: frame headers and
 * the payloads of every frame but DATA go to the loader (ra_h2_frames),
 * which decodes the header blocks with HPACK (user/h2flow.c); of a DATA
 * payload only its length goes. Header blocks hold Authorization values:
 * the loader's decoder keeps none of them (user/hpack.h).
 */
#ifndef REQACCT_H2FRAMES_BPF_H
#define REQACCT_H2FRAMES_BPF_H

#define RA_H2_FRAME_HEADER 9
#define RA_H2_DATA 0		/* frame type */
#define RA_H2_WALK_STEPS 256	/* headers and payload pieces per call */

struct h2_walk {
	struct ra_h2_walk *w;	/* the direction's state (ra_http_conns) */
	struct ra_h2_chunk *r;	/* the record being made (ra_h2_chunk_scratch) */
	__u64 buf;		/* the plaintext, user memory */
	__u32 n, pos;
	bool lost;		/* a record did not fit in ra_h2_frames */
};

/* Send r with len bytes of data (already in r->data) or skip bytes. */
static __always_inline void h2_send(struct h2_walk *c, __u32 len, __u32 skip, __u8 kind)
{
	struct ra_h2_chunk *r = c->r;

	r->len = len;
	r->skip = skip;
	r->kind = kind;
	if (len > RA_H2_CHUNK_MAX)
		return;
	if (bpf_ringbuf_output(&ra_h2_frames, r, offsetof(struct ra_h2_chunk, data) + len,
			       ring_flags(&ra_h2_frames))) {
		stat_inc(RA_STAT_H2_FRAMES_LOST);
		c->lost = true;
	}
}

/* bpf_loop() callback: the next frame header or payload piece. */
static long h2_step(__u64 i, void *ctx)
{
	struct h2_walk *c = ctx;
	struct ra_h2_walk *w = c->w;
	__u32 left = c->n - c->pos, take, k;
	__u8 b[16];

	if (c->pos >= c->n || c->lost)
		return 1;
	if (w->need) {			/* payload */
		take = w->need < left ? w->need : left;
		if (!w->copy) {
			h2_send(c, 0, take, RA_H2_SKIP);
		} else {
			if (take > RA_H2_CHUNK_MAX - 1)	/* a power of two less one: */
				take = RA_H2_CHUNK_MAX - 1;	/* the mask keeps it */
			RA_MASK(take, RA_H2_CHUNK_MAX - 1);
			if (bpf_probe_read_user(c->r->data, take, (void *)(c->buf + c->pos)))
				return 1;
			h2_send(c, take, 0, RA_H2_BYTES);
		}
		w->need -= take;
		c->pos += take;
		return 0;
	}
	/* frame header bytes, which a call may split */
	take = RA_H2_FRAME_HEADER - w->have;
	if (take > left)
		take = left;
	RA_MASK(take, 15);
	if (!take || take > RA_H2_FRAME_HEADER ||
	    bpf_probe_read_user(b, take, (void *)(c->buf + c->pos)))
		return 1;
	for (__u32 j = 0; j < RA_H2_FRAME_HEADER; j++) {
		k = w->have + j;
		if (j < take && k < RA_H2_FRAME_HEADER)
			w->hdr[k] = b[j];
	}
	w->have += take;
	c->pos += take;
	if (w->have < RA_H2_FRAME_HEADER)
		return 0;
	w->have = 0;
	w->need = (__u32)w->hdr[0] << 16 | (__u32)w->hdr[1] << 8 | w->hdr[2];
	w->copy = w->hdr[3] != RA_H2_DATA;
	__builtin_memcpy(c->r->data, w->hdr, RA_H2_FRAME_HEADER);
	h2_send(c, RA_H2_FRAME_HEADER, 0, RA_H2_BYTES);
	return 0;
}

/* Frames in d's plaintext from byte off on; its connection is RA_HTTP_H2.
 * A global function: checked once. */
__noinline int h2_walk(const struct http_data *d, __u32 off)
{
	__u32 zero = 0;
	struct ra_http_conn *hc;
	struct h2_walk c = {};
	__u8 dir;

	if (!d || !d->n || d->n != d->avail)
		return 0;	/* what a Go process read: its size is not known */
	if (d->lib == RA_TLS_GO && d->flow.role == RA_ROLE_SERVER)
		return 0;	/* a Go server's own probes see its streams (h2.bpf.h) */
	hc = bpf_map_lookup_elem(&ra_http_conns, &d->sk);
	c.r = bpf_map_lookup_elem(&ra_h2_chunk_scratch, &zero);
	if (!hc || !c.r)
		return 0;
	dir = (d->flow.role == RA_ROLE_CLIENT) == (d->dir == RA_CNT_BYTES_SENT) ? 0 : 1;
	c.w = &hc->h2[dir & 1];
	if (c.w->lost)
		return 0;
	c.buf = d->buf;
	c.n = d->n > 0xffffffff ? 0xffffffff : d->n;
	c.pos = off;
	c.r->sk = d->sk;
	c.r->ns = d->ns;
	c.r->flow = d->flow;
	c.r->dir = dir;
	c.r->lib = d->lib;
	bpf_loop(RA_H2_WALK_STEPS, h2_step, &c, 0);
	if (c.pos < c.n || c.lost) {	/* given up: the loader forgets it */
		c.w->lost = 1;
		h2_send(&c, 0, 0, RA_H2_LOST);
	}
	return 0;
}

/* A connection whose frames were followed closed. */
static __always_inline void h2_walk_close(const struct ra_http_conn *hc, __u64 sk)
{
	__u32 zero = 0;
	struct ra_h2_chunk *r = bpf_map_lookup_elem(&ra_h2_chunk_scratch, &zero);

	if (!r)
		return;
	r->sk = sk;
	r->flow = hc->key.flow;
	r->len = r->skip = 0;
	r->kind = RA_H2_CLOSE;
	r->ns = bpf_ktime_get_ns();
	if (bpf_ringbuf_output(&ra_h2_frames, r, offsetof(struct ra_h2_chunk, data),
			       ring_flags(&ra_h2_frames)))
		stat_inc(RA_STAT_H2_FRAMES_LOST);
}

#endif /* REQACCT_H2FRAMES_BPF_H */
