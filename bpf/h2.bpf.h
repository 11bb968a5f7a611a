/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * h2.bpf.h - HTTP/2 requests to Go servers, from the server's own decoded
 * state: entry probes (after the stack check, as for crypto/tls) on four
 * methods of the HTTP/2 server, in net/http's bundled copy
 * (net/http.(*http2serverConn)) and in golang.org/x/net/http2 ((*serverConn),
 * which kube-apiserver uses):
 *
 *   processHeaders(f *MetaHeadersFrame)   a request's HEADERS, HPACK-decoded:
 *                                         :method, :path, user-agent
 *   writeHeaders(st, *writeResHeaders)    its response status
 *   writeDataFromHandler(st, data, end)   its response body, per chunk
 *   closeStream(st, err)                  its end (every stream's, also reset)
 *
 * A stream is followed in ra_h2_streams by (serverConn, stream id) and sent
 * when it closes in the HTTP families (ra_http_flows) and, on k8s_ports, to
 * the loader (ra_http_events). Because the headers are
 * taken decoded, requests on connections opened before the agent started
 * are attributed like any other (no HPACK table to rebuild); a stream whose
 * request came before the agent is counted as such (RA_STAT_H2_UNSEEN).
 * Header values other than those three are never read.
 */
#ifndef REQACCT_H2_BPF_H
#define REQACCT_H2_BPF_H

#include "tls.bpf.h"

/* Offsets in x/net/http2 0.7 and Go 1.19's h2_bundle.go (server.go, frame.go,
 * write.go, hpack.go), the versions the tests run; newer ones are not tested
 * yet (a wrong offset shows as reqacct_h2_no_socket_total or no streams):
 * serverConn{srv, hs, conn net.Conn (data word at 24)}, stream{sc, id},
 * MetaHeadersFrame{*HeadersFrame, Fields []hpack.HeaderField},
 * HeadersFrame{FrameHeader{valid, Type, Flags, Length, StreamID}},
 * hpack.HeaderField{Name, Value string; Sensitive bool} (40 bytes),
 * writeResHeaders{streamID uint32, httpResCode int}. */
#define GO_H2_SC_CONN_DATA	24
#define GO_H2_STREAM_ID		8
#define GO_H2_META_FIELDS	8
#define GO_H2_FRAME_STREAM_ID	8
#define GO_H2_RES_CODE		8
#define GO_HPACK_FIELD_SIZE	40
#define GO_H2_FIELDS_MAX	64	/* header fields looked at per request */

struct go_string {
	__u64 ptr;
	__u64 len;
};

struct go_hpack_field {
	struct go_string name, value;
	__u64 sensitive;
};

/* Header fields read from the slice per bpf_probe_read_user(): a read costs
 * about 110 ns here, and reading the fields is 2 of processHeaders' 3.4 us. */
#define H2_FIELDS_BATCH 4

struct h2_fields {
	struct go_string fields;	/* []hpack.HeaderField: data, len */
	struct ra_http_event *e;	/* the stream (ra_h2_scratch) */
	__u64 mm;			/* the process's memory (struct mm_struct *) */
	struct go_hpack_field batch[H2_FIELDS_BATCH];	/* fields i & ~3 on */
	__u8 found;			/* H2_F_* */
};

#define H2_F_METHOD 1
#define H2_F_PATH 2
#define H2_F_UA 4

/* A field's value, up to max bytes (a power of two), into dst; its length. */
static __always_inline __u16 h2_value(char *dst, __u32 max, const struct go_string *v)
{
	__u32 n = v->len < max ? v->len : max;

	RA_MASK(n, max - 1);
	if (!n && v->len)	/* exactly max: the mask made it 0 */
		n = max - 1;
	if (!n || bpf_probe_read_user(dst, n, (void *)v->ptr))
		return 0;
	return n;
}

#define VM_WRITE 0x2	/* include/linux/mm.h */

/* bpf_find_vma() callback: whether the address is in a read-only mapping
 * of a file (a program's read-only data). */
static long h2_in_file(struct task_struct *task, struct vm_area_struct *vma, void *ctx)
{
	*(bool *)ctx = vma->vm_file && !(vma->vm_flags & VM_WRITE);
	return 0;
}

/* Which of the names a request is read for (H2_F_*) a header field's name
 * is, 0 if none. HPACK's decoder gives the names of its static table
 * (":method", ":path", "user-agent", ...; also for values that are not in
 * it) as the Go string constants in the program's read-only data: bytes
 * that stay the same at that address while the process's memory (mm) lives.
 * So the answer for a name in a read-only file mapping is kept, per CPU,
 * by its address (ra_h2_names), and the name is read once instead of at
 * every request. A name the client sent as a literal is on the heap and is
 * read every time. */
static __always_inline __u8 h2_name(const struct go_string *s, __u64 mm)
{
	__u32 slot = ((s->ptr >> 3) ^ (s->ptr >> 13)) & (RA_H2_NAME_SLOTS - 1);
	struct ra_h2_name *c = bpf_map_lookup_elem(&ra_h2_names, &slot);
	bool in_file = false;
	char name[10];
	__u8 kind = 0;

	if (c && c->ptr == s->ptr && c->len == s->len && c->mm == mm)
		return c->kind;
	if (bpf_probe_read_user(name, s->len == 5 ? 5 : s->len == 7 ? 7 : 10, (void *)s->ptr))
		return 0;
	if (s->len == 5 && ra_http_prefix((const __u8 *)name, ":path", 5))
		kind = H2_F_PATH;
	else if (s->len == 10 && ra_http_prefix((const __u8 *)name, "user-agent", 10))
		kind = H2_F_UA;
	else if (s->len == 7 && ra_http_prefix((const __u8 *)name, ":method", 7))
		kind = H2_F_METHOD;
	if (c && !bpf_find_vma(bpf_get_current_task_btf(), s->ptr, h2_in_file, &in_file, 0) &&
	    in_file) {
		c->mm = mm;
		c->ptr = s->ptr;
		c->len = s->len;
		c->kind = kind;
	}
	return kind;
}

/* bpf_loop() callback: header field i of a request. */
static long h2_field(__u64 i, void *ctx)
{
	struct h2_fields *h = ctx;
	struct ra_http_event *e = h->e;
	struct go_hpack_field *f = &h->batch[i & (H2_FIELDS_BATCH - 1)];
	__u8 m[RA_HTTP_PEEK] = {}, kind;
	__u32 n;
	int method;

	if (i >= h->fields.len || h->found == (H2_F_METHOD | H2_F_PATH | H2_F_UA))
		return 1;
	if (!(i & (H2_FIELDS_BATCH - 1))) {	/* the next batch, within the slice */
		n = h->fields.len - i < H2_FIELDS_BATCH ? h->fields.len - i : H2_FIELDS_BATCH;
		RA_MASK(n, H2_FIELDS_BATCH * 2 - 1);	/* 1 to 4 */
		if (!n || bpf_probe_read_user(h->batch, n * sizeof(*f),
					      (void *)(h->fields.ptr + i * GO_HPACK_FIELD_SIZE)))
			return 1;
	}
	if (f->name.len != 5 && f->name.len != 7 && f->name.len != 10)
		return 0;
	kind = h2_name(&f->name, h->mm);
	if (kind == H2_F_PATH) {
		e->target_len = h2_value(e->target, RA_HTTP_TARGET_MAX, &f->value);
		h->found |= H2_F_PATH;
	} else if (kind == H2_F_UA) {
		e->ua_len = h2_value(e->ua, RA_HTTP_UA_MAX, &f->value);
		h->found |= H2_F_UA;
	} else if (kind == H2_F_METHOD) {
		/* as a request line's start, for the one method parser */
		if (!f->value.len || f->value.len > RA_HTTP_PEEK - 2)
			return 0;
		n = f->value.len;
		RA_MASK(n, RA_HTTP_PEEK - 1);
		if (bpf_probe_read_user(m, n, (void *)f->value.ptr))
			return 0;
		m[n & (RA_HTTP_PEEK - 1)] = ' ';
		m[(n + 1) & (RA_HTTP_PEEK - 1)] = '/';
		method = ra_http_method(m, n + 2);
		e->method = method < 0 ? RA_HTTP_M_OTHER : method;
		h->found |= H2_F_METHOD;
	}
	return 0;
}

/* processHeaders(f *MetaHeadersFrame): a request (or trailers) on a stream. */
static __always_inline void h2_request(struct pt_regs *ctx)
{
	__u64 sc = GO_ARG1(ctx), f = GO_ARG2(ctx), hf, conn;
	__u32 zero = 0, tgid = bpf_get_current_pid_tgid() >> 32;
	struct ra_h2_stream_key k = { .sc = sc };
	struct ra_http_event *e;
	struct ra_go_conn *gc;
	struct h2_fields h;
	struct sock *sk;

	if (GO_TO_MORESTACK(ctx))
		return;
	if (bpf_probe_read_user(&hf, sizeof(hf), (void *)f) ||
	    bpf_probe_read_user(&k.id, sizeof(k.id), (void *)(hf + GO_H2_FRAME_STREAM_ID)) ||
	    bpf_map_lookup_elem(&ra_h2_streams, &k))	/* trailers */
		return;
	e = bpf_map_lookup_elem(&ra_h2_scratch, &zero);
	if (!e || bpf_probe_read_user(&conn, sizeof(conn), (void *)(sc + GO_H2_SC_CONN_DATA)))
		return;
	gc = go_tls_conn(conn, tgid, &sk);
	if (!sk) {
		stat_inc(RA_STAT_H2_NO_SOCK);
		return;
	}
	if (!gc) {
		if (!sk_is_tcp(sk) || !sk_watched(sk, &(struct ra_watch){}))
			bpf_map_update_elem(&ra_h2_unwatched, &sc, &(__u8){ 1 }, BPF_ANY);
		return;
	}
	if (!(gc->flags & RA_GO_H2_SERVER))	/* a store only the first time */
		gc->flags |= RA_GO_H2_SERVER;
	__builtin_memset(e, 0, offsetof(struct ra_http_event, target));
	e->flow = gc->flow;
	http_client((__u64)sk, &e->client);
	e->duration_ns = bpf_ktime_get_ns();	/* the start, until it closes */
	e->method = RA_HTTP_M_OTHER;
	e->lib = RA_TLS_GO;
	e->proto = 2;
	h = (struct h2_fields){ .e = e, .mm = (__u64)bpf_get_current_task_btf()->mm };
	if (bpf_probe_read_user(&h.fields, sizeof(h.fields), (void *)(f + GO_H2_META_FIELDS)))
		return;
	bpf_loop(GO_H2_FIELDS_MAX, h2_field, &h, 0);
	if (!(h.found & H2_F_METHOD))
		return;
	if (bpf_map_update_elem(&ra_h2_streams, &k, e, BPF_NOEXIST))
		stat_inc(RA_STAT_H2_STREAMS_FULL);
}

/* The stream of a *stream (its serverConn and id), or NULL. */
static __always_inline struct ra_http_event *h2_stream(__u64 sc, __u64 st)
{
	struct ra_h2_stream_key k = { .sc = sc };

	if (bpf_probe_read_user(&k.id, sizeof(k.id), (void *)(st + GO_H2_STREAM_ID)))
		return NULL;
	return bpf_map_lookup_elem(&ra_h2_streams, &k);
}

/* writeHeaders(st, headerData *writeResHeaders): the final status (1xx are
 * interim, 0 is trailers). */
static __always_inline void h2_status(struct pt_regs *ctx)
{
	struct ra_http_event *e;
	__s64 code;

	if (GO_TO_MORESTACK(ctx))
		return;
	e = h2_stream(GO_ARG1(ctx), GO_ARG2(ctx));
	if (!e || e->status ||
	    bpf_probe_read_user(&code, sizeof(code), (void *)(GO_ARG3(ctx) + GO_H2_RES_CODE)))
		return;
	if (code >= 200 && code <= 599)
		e->status = code;
}

/* writeDataFromHandler(st, data []byte, endStream bool): body bytes. */
static __always_inline void h2_data(struct pt_regs *ctx)
{
	struct ra_http_event *e;

	if (GO_TO_MORESTACK(ctx))
		return;
	e = h2_stream(GO_ARG1(ctx), GO_ARG2(ctx));
	if (e)
		e->resp_bytes += GO_ARG4(ctx);
}

/* A stream closed that is not in ra_h2_streams: on a watched connection its
 * request came before the agent (or the stream was forgotten); on another
 * its server is none of ours (remembered, to look at its socket once). */
static __always_inline void h2_unseen(__u64 sc)
{
	struct ra_go_sock s;
	struct sock *sk;
	struct ra_watch w;
	__u64 conn;

	if (bpf_map_lookup_elem(&ra_h2_unwatched, &sc))
		return;
	if (bpf_probe_read_user(&conn, sizeof(conn), (void *)(sc + GO_H2_SC_CONN_DATA)))
		return;
	sk = go_conn_sock(conn, &s);
	if (sk && sk_is_tcp(sk) && sk_watched(sk, &w))
		stat_inc(RA_STAT_H2_UNSEEN);
	else
		bpf_map_update_elem(&ra_h2_unwatched, &sc, &(__u8){ 1 }, BPF_ANY);
}

/* closeStream(st, err): the stream ended (its last frame was written, or it
 * was reset): counted, and sent to the loader. */
static __always_inline void h2_close(struct pt_regs *ctx)
{
	__u64 sc = GO_ARG1(ctx), now = bpf_ktime_get_ns();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct ra_h2_stream_key k = { .sc = sc };
	struct ra_http_key hk = {};
	struct ra_http_event *e;
	struct ra_http_val *v;

	if (GO_TO_MORESTACK(ctx) ||
	    bpf_probe_read_user(&k.id, sizeof(k.id), (void *)(GO_ARG2(ctx) + GO_H2_STREAM_ID)))
		return;
	e = bpf_map_lookup_elem(&ra_h2_streams, &k);
	if (!e) {
		h2_unseen(sc);
		return;
	}
	e->duration_ns = now > e->duration_ns ? now - e->duration_ns : 1;
	hk.flow = e->flow;
	hk.status = e->status;
	hk.method = e->method;
	hk.lib = RA_TLS_GO;
	v = http_flow(&hk, tgid);
	if (v) {
		__sync_fetch_and_add(&v->requests, 1);
		__sync_fetch_and_add(&v->resp_bytes, e->resp_bytes);
		if (e->status)
			http_latency(v, e->duration_ns);
	}
	if (k8s_port(e->flow.port) &&
	    bpf_ringbuf_output(&ra_http_events, e, sizeof(*e), ring_flags(&ra_http_events)))
		stat_inc(RA_STAT_HTTP_EVENTS_LOST);
	bpf_map_delete_elem(&ra_h2_streams, &k);
}

#endif /* REQACCT_H2_BPF_H */
