/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * tls.bpf.h - HTTP/1.x over TLS from the plaintext of OpenSSL (uprobes on
 * SSL_write/SSL_read and the _ex variants) and of Go's crypto/tls (entry
 * probes on (*Conn).Write/Read): the start of each buffer (RA_HTTP_PEEK
 * bytes, never headers or bodies) counts requests per (TCP flow, method,
 * status), with sizes and durations.
 *
 * Connection identity: OpenSSL does its socket I/O on the calling thread,
 * inside SSL_write/SSL_read. The entry probe remembers the call by thread
 * (ra_tls_calls); the sock_{send,recv}_length tracepoint that fires inside it
 * (tcp's handle_io) records the socket and the foundation's flow key
 * there, and in ra_tls_ssl for the SSL object; the return probe, which sees
 * the byte count, accounts the plaintext to that connection. An SSL_read
 * served from OpenSSL's buffer (no recv) uses ra_tls_ssl.
 *
 * Go's connection comes from the *tls.Conn (go_conn_sock(), cached by
 * go_tls_conn()); its reads are looked at later, when their bytes are there
 * (go_tls_call()).
 *
 * An exchange (struct ra_http_conn, per connection): a request starts with a
 * request line; its final status line (not 1xx) counts the request under
 * (flow, method, status) with the request's bytes; later response bytes add
 * to it; the duration (first request byte to last response byte) is counted
 * when the next request starts or the connection closes. Which bytes are the
 * request follows from the role: a client writes requests, a server reads them.
 * On k8s_ports the request-target is kept too, and each counted request goes
 * to the loader (ra_http_events) to be resolved by verb and resource.
 */
#ifndef REQACCT_TLS_BPF_H
#define REQACCT_TLS_BPF_H

#include "tcp.bpf.h"
#include "http_parse.h"
#include "bounds.h"

/* Set by the loader for the libraries it probes. */
const volatile bool ra_tls_openssl_on = false;
const volatile bool ra_tls_go_on = false;

static const __u32 ra_http_lat_bounds_us[RA_HTTP_LAT_BOUNDS] = { RA_HTTP_LAT_BOUNDS_US };

/* Inside an SSL call on this thread: note the connection (from handle_io). */
static __always_inline void tls_nested_io(struct sock *sk, const struct ra_flow_key *key,
					  __u8 slot)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct ra_tls_call *c = bpf_map_lookup_elem(&ra_tls_calls, &id);
	struct ra_tls_ssl_key sk_key;
	struct ra_tls_conn conn = {};

	if (!c || c->sk)
		return;
	c->sk = (__u64)sk;
	c->flow = *key;
	c->slot = slot;
	sk_key = (struct ra_tls_ssl_key){ .ssl = c->ssl, .tgid = id >> 32 };
	conn.sk = c->sk;
	conn.flow = *key;
	conn.slot = slot;
	if (bpf_map_update_elem(&ra_tls_ssl, &sk_key, &conn, BPF_ANY))
		stat_inc(RA_STAT_TLS_SSL_FULL);
}

static __always_inline void tls_call_enter(__u64 ssl, __u64 buf, __u64 len_ptr, __u8 dir)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct ra_tls_call c = { .buf = buf, .ssl = ssl, .len_ptr = len_ptr, .dir = dir };

	if (bpf_map_update_elem(&ra_tls_calls, &id, &c, BPF_ANY))
		stat_inc(RA_STAT_TLS_CALLS_FULL);
}

static __always_inline struct ra_http_val *http_flow(const struct ra_http_key *k, __u32 tgid)
{
	static const struct ra_http_val zero;
	__u32 ov = k->flow.role;
	struct ra_http_val *v;
	long err;

	v = bpf_map_lookup_elem(&ra_http_flows, k);
	if (!v) {
		err = bpf_map_update_elem(&ra_http_flows, k, &zero, BPF_NOEXIST);
		if (err && err != -EEXIST)
			stat_inc(RA_STAT_HTTP_FLOWS_FULL);
		v = bpf_map_lookup_elem(&ra_http_flows, k);
		if (!v)
			return bpf_map_lookup_elem(&ra_http_overflow, &ov);
	}
	if (v->last_tgid != tgid)
		v->last_tgid = tgid;
	return v;
}

/* Ports whose HTTP requests are Kubernetes API requests (config k8s_ports):
 * their targets are kept and sent to the loader. */
const volatile __u16 ra_k8s_ports[RA_MAX_PORTS] = {};

static __always_inline bool k8s_port(__u16 port)
{
	return port_in(ra_k8s_ports, RA_MAX_PORTS, port);
}

struct target_scan {
	const char *t;		/* the bytes (ra_http_scratch) */
	__u32 n;		/* how many */
	__u32 end;		/* the first space, CR or LF, or n */
};

/* bpf_loop() callback: one byte of a request-target (a loop the verifier
 * checks once, not once per byte and caller). */
static long target_end(__u64 i, void *ctx)
{
	struct target_scan *s = ctx;
	char c;

	if (i >= s->n)
		return 1;
	c = s->t[i & (RA_HTTP_TARGET_MAX - 1)];
	if (c == ' ' || c == '\r' || c == '\n') {
		s->end = i;
		return 1;
	}
	return 0;
}

/* The request-target of a request line (RFC 9112 3.2) starting at buf + off,
 * up to its first space, into hc's target which (0: the current request, 1:
 * the next); nothing after it (the headers) is kept. */
static __always_inline void http_target(struct ra_http_conn *hc, int which, __u64 buf, __u32 off,
					__u32 avail)
{
	__u32 zero = 0, n, i;
	char *t = bpf_map_lookup_elem(&ra_http_scratch, &zero);
	struct target_scan s;

	which &= 1;
	hc->target_len[which] = 0;
	if (!t || off >= avail)
		return;
	n = avail - off < RA_HTTP_TARGET_MAX ? avail - off : RA_HTTP_TARGET_MAX;
	if (bpf_probe_read_user(t, RA_HTTP_TARGET_MAX, (void *)(buf + off))) {
		if (n >= RA_HTTP_TARGET_MAX)
			return;
		RA_MASK(n, RA_HTTP_TARGET_MAX - 1);
		if (!n || bpf_probe_read_user(t, n, (void *)(buf + off)))
			return;
	}
	s = (struct target_scan){ .t = t, .n = n < RA_HTTP_TARGET_MAX ? n : RA_HTTP_TARGET_MAX - 1 };
	s.end = s.n;
	bpf_loop(RA_HTTP_TARGET_MAX, target_end, &s, 0);
	i = s.end;
	RA_MASK(i, RA_HTTP_TARGET_MAX - 1);
	if (i && !bpf_probe_read_kernel(hc->target[which], i, t))
		hc->target_len[which] = i;
}

/* The local process at the other end of a server's connection, if it
 * connected while the agent ran (ra_k8s_clients); else o stays zero. */
static __always_inline void http_client(__u64 skp, struct ra_owner *o)
{
	const struct sock *sk = (const struct sock *)skp;
	struct ra_client_key k = {};
	struct ra_owner *c;

	if (BPF_CORE_READ(sk, __sk_common.skc_family) == AF_INET)
		peer_v4(k.addr, BPF_CORE_READ(sk, __sk_common.skc_daddr));
	else
		BPF_CORE_READ_INTO(&k.addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	k.port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	c = bpf_map_lookup_elem(&ra_k8s_clients, &k);
	if (c)
		*o = *c;
}

/* A client connected to a k8s port (established: its local port is set). */
static __always_inline void http_client_add(const struct sock *sk, const struct ra_owner *o)
{
	struct ra_client_key k = {};

	if (sk->__sk_common.skc_family == AF_INET)
		peer_v4(k.addr, sk->__sk_common.skc_rcv_saddr);
	else
		__builtin_memcpy(k.addr, sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8,
				 RA_ADDR_LEN);
	k.port = sk->__sk_common.skc_num;
	bpf_map_update_elem(&ra_k8s_clients, &k, o, BPF_ANY);
}

/* The current exchange of hc (on socket sk) ended: its request, status (0:
 * not seen), response bytes and duration, for the loader to resolve as a
 * Kubernetes API request. */
static __always_inline void http_event(const struct ra_http_conn *hc, __u64 sk, __u64 ns)
{
	struct ra_http_event *e;

	if (!hc->target_len[0] || !k8s_port(hc->key.flow.port))
		return;
	e = bpf_ringbuf_reserve(&ra_http_events, sizeof(*e), 0);
	if (!e) {
		stat_inc(RA_STAT_HTTP_EVENTS_LOST);
		return;
	}
	__builtin_memset(e, 0, offsetof(struct ra_http_event, target));
	e->flow = hc->key.flow;
	if (hc->key.flow.role == RA_ROLE_SERVER)
		http_client(sk, &e->client);
	e->resp_bytes = hc->resp_bytes;
	e->duration_ns = ns;
	e->status = hc->key.status;
	e->method = hc->key.method;
	e->lib = hc->key.lib;
	e->proto = 1;
	e->target_len = hc->target_len[0];
	__builtin_memcpy(e->target, hc->target[0], sizeof(e->target));
	__builtin_memset(e->ua, 0, sizeof(e->ua));
	bpf_ringbuf_submit(e, ring_flags(&ra_http_events));
}

/* Count the current request of hc, with the response bytes so far. */
static __always_inline void http_count(struct ra_http_conn *hc, __u64 resp_bytes, __u32 tgid)
{
	struct ra_http_val *v = http_flow(&hc->key, tgid);

	if (!v)
		return;
	__sync_fetch_and_add(&v->requests, 1);
	__sync_fetch_and_add(&v->req_bytes, hc->req_bytes);
	__sync_fetch_and_add(&v->resp_bytes, resp_bytes);
}

/* Count a request's duration in v (may be NULL). */
static __always_inline void http_latency(struct ra_http_val *v, __u64 ns)
{
	__u32 i;

	if (!v)
		return;
	for (i = 0; i < RA_HTTP_LAT_BOUNDS; i++)
		if (ns <= (__u64)ra_http_lat_bounds_us[i] * 1000)
			break;
	__sync_fetch_and_add(&v->lat[i % RA_HTTP_LAT_SLOTS], 1);
	__sync_fetch_and_add(&v->lat_sum_ns, ns);
}

/*
 * End the current exchange on hc: count its duration if its response
 * started, or count the request with status 0 ("unknown") if no final
 * status was seen (the connection closed first, or a later response came),
 * except on a Go server, which answers every request it reads: there such a
 * request is a read's buffer looked at again after the Read failed (at the
 * connection's end), and, as in the server's own log, only requests with a
 * response are counted.
 * A next request waiting becomes the current one.
 */
static __always_inline void http_finish(struct ra_http_conn *hc, __u64 sk, __u32 tgid)
{
	__u64 ns;

	if (hc->state == RA_HTTP_REQUEST &&
	    !(hc->key.lib == RA_TLS_GO && hc->key.flow.role == RA_ROLE_SERVER)) {
		hc->key.status = 0;
		hc->resp_bytes = 0;
		http_count(hc, hc->interim_bytes, tgid);
		http_event(hc, sk, 0);
	} else if (hc->state == RA_HTTP_RESPONSE) {
		ns = hc->last_resp_ns - hc->req_start_ns;
		http_event(hc, sk, ns ? ns : 1);
		http_latency(http_flow(&hc->key, tgid), ns);
	}
	hc->state = RA_HTTP_IDLE;
	if (!hc->next)
		return;
	hc->key.method = hc->next_method;
	hc->key.status = 0;
	hc->req_start_ns = hc->next_start_ns;
	hc->req_bytes = hc->next_req_bytes;
	hc->interim_bytes = 0;
	hc->state = RA_HTTP_REQUEST;
	hc->target_len[0] = hc->target_len[1];
	if (hc->target_len[1])
		__builtin_memcpy(hc->target[0], hc->target[1], sizeof(hc->target[0]));
	hc->next = 0;
}

/* Plaintext that moved on a connection, as a probe saw it. No pointers: it
 * is the argument of a global function (http_data()), which the verifier
 * types as plain memory. */
struct http_data {
	__u64 sk;		/* the connection's struct sock (ra_http_conns key) */
	struct ra_flow_key flow;
	__u64 buf;		/* user address of the plaintext */
	__u64 n;		/* its length; 0 when unknown (what Go read) */
	__u64 ns;		/* when it moved */
	__u32 avail;		/* bytes readable at buf */
	__u32 tgid;
	__u8 dir;		/* RA_CNT_BYTES_SENT or _RECV, for the local side */
	__u8 lib;		/* enum ra_tls_lib */
	__u8 before;		/* Go reads: the byte before buf, else 0 */
	__u8 pad[5];
};

#include "h2frames.bpf.h"

/* A connection ended: its open exchange and a next request counted. */
static __always_inline void http_end(struct ra_http_conn *hc, __u64 sk, __u32 tgid)
{
	if (hc->state == RA_HTTP_H2)
		h2_walk_close(hc, sk);
	http_finish(hc, sk, tgid);
	http_finish(hc, sk, tgid);	/* a next request */
}

/*
 * The method of a request whose first byte is the one before the buffer.
 * Go's net/http server reads one byte in the background while a handler
 * runs (connReader.backgroundRead); when the next request's first byte
 * arrives there, it is copied to the start of the read buffer and the
 * connection is read into the rest (connReader.Read: rwc.Read(p[1:])), so
 * the Read shows "ET / HTTP/1.1". m is what the buffer alone gave.
 */
static __always_inline int http_method_after(const __u8 b[RA_HTTP_PEEK], __u32 peek, __u8 before,
					     int m)
{
	__u8 w[RA_HTTP_PEEK];
	int m2;

	w[0] = before;
	for (int i = 1; i < RA_HTTP_PEEK; i++)
		w[i] = b[i - 1];
	m2 = ra_http_method(w, peek < RA_HTTP_PEEK ? peek + 1 : RA_HTTP_PEEK);
	return m2 >= 0 && m2 != RA_HTTP_M_OTHER ? m2 : m;
}

enum http_start { HTTP_NONE, HTTP_REQUEST_LINE, HTTP_STATUS_LINE };

/* Count plaintext on its connection's exchange. Returns what message it
 * started (enum http_start). A global function: the verifier checks it
 * once, not once per caller and path (its callers are many and large). */
__noinline int http_data(const struct http_data *d)
{
	bool request;
	__u32 peek;
	static const struct ra_http_conn fresh;	/* too large for the stack */
	struct ra_http_conn *hc;
	__u8 b[RA_HTTP_PEEK] = {};
	struct ra_http_val *v;
	__u32 sp;
	bool target;
	int m, s;

	if (!d)
		return HTTP_NONE;
	peek = d->avail < RA_HTTP_PEEK ? d->avail : RA_HTTP_PEEK;
	request = (d->flow.role == RA_ROLE_CLIENT) == (d->dir == RA_CNT_BYTES_SENT);

	/* Whole peek window at once; a short buffer at the end of a mapping may
	 * fault there, so then only its own bytes (fewer than RA_HTTP_PEEK, a
	 * power of two: the mask is for the verifier). */
	if (bpf_probe_read_user(b, sizeof(b), (void *)d->buf)) {
		if (!peek || peek >= RA_HTTP_PEEK)
			return HTTP_NONE;
		RA_MASK(peek, RA_HTTP_PEEK - 1);
		if (bpf_probe_read_user(b, peek, (void *)d->buf))
			return HTTP_NONE;
	}
	hc = bpf_map_lookup_elem(&ra_http_conns, &d->sk);
	if (hc && hc->state != RA_HTTP_IDLE && !same_conn(&hc->key.flow, &d->flow)) {
		/* Another connection's state on a reused struct sock: what a Go
		 * process read is counted at its next call, which can come after
		 * the close that forgot the connection (http_close) and so make
		 * the entry again. Left alone, its role and peer would be this
		 * connection's (test_scale: one request in ~100k counted on the
		 * client's side). End the old one (its events, with its own
		 * flow) and start afresh. */
		http_end(hc, d->sk, d->tgid);
		stat_inc(RA_STAT_HTTP_CONN_REUSED);
		if (bpf_map_update_elem(&ra_http_conns, &d->sk, &fresh, BPF_EXIST))
			return HTTP_NONE;
		hc = bpf_map_lookup_elem(&ra_http_conns, &d->sk);
	}
	if (hc && hc->state == RA_HTTP_H2) {
		h2_walk(d, 0);
		return HTTP_NONE;
	}
	if (request) {
		m = ra_http_method(b, peek);
		if ((m < 0 || m == RA_HTTP_M_OTHER) && d->before >= 'A' && d->before <= 'Z')
			m = http_method_after(b, peek, d->before, m);
		if (m < 0) {	/* a request's continuation (body), or not HTTP */
			if (hc && hc->next)
				hc->next_req_bytes += d->n;
			else if (hc && hc->state == RA_HTTP_REQUEST)
				hc->req_bytes += d->n;
			return HTTP_NONE;
		}
		if (!hc) {
			if (bpf_map_update_elem(&ra_http_conns, &d->sk, &fresh, BPF_NOEXIST) &&
			    !bpf_map_lookup_elem(&ra_http_conns, &d->sk)) {
				stat_inc(RA_STAT_HTTP_CONNS_FULL);
				return HTTP_NONE;
			}
			hc = bpf_map_lookup_elem(&ra_http_conns, &d->sk);
			if (!hc)
				return HTTP_NONE;
		}
		if (m == RA_HTTP_M_OTHER && peek == RA_HTTP_PEEK &&
		    ra_http_prefix(b, RA_H2_PREFACE_START, RA_HTTP_PEEK)) {
			hc->state = RA_HTTP_H2;
			hc->key.flow = d->flow;
			hc->key.lib = d->lib;
			h2_walk(d, RA_H2_PREFACE_LEN);
			return HTTP_NONE;
		}
		/* A request written before the current one's status was seen
		 * waits (a Go client's reader sees a status after its writer
		 * wrote the next request); responses come in order (RFC 9112 9.3.2). */
		if (hc->state != RA_HTTP_REQUEST || hc->next)
			http_finish(hc, d->sk, d->tgid);
		/* the target starts after the space that ends the method, also
		 * when the method's first byte was before buf */
		for (sp = 0; sp < RA_HTTP_PEEK - 1; sp++)
			if (sp >= peek || b[sp] == ' ')
				break;
		target = k8s_port(d->flow.port) && sp < peek && b[sp & (RA_HTTP_PEEK - 1)] == ' ';
		if (hc->state == RA_HTTP_REQUEST) {
			hc->next = 1;
			hc->next_method = m;
			hc->next_start_ns = d->ns;
			hc->next_req_bytes = d->n;
			hc->target_len[1] = 0;
			if (target)
				http_target(hc, 1, d->buf, sp + 1, d->avail);
			return HTTP_REQUEST_LINE;
		}
		hc->key.flow = d->flow;
		hc->key.method = m;
		hc->key.status = 0;
		hc->key.lib = d->lib;
		hc->req_start_ns = d->ns;
		hc->req_bytes = d->n;
		hc->interim_bytes = 0;
		hc->state = RA_HTTP_REQUEST;
		hc->target_len[0] = 0;
		if (target)
			http_target(hc, 0, d->buf, sp + 1, d->avail);
		return HTTP_REQUEST_LINE;
	}
	if (!hc || hc->state == RA_HTTP_IDLE)
		return HTTP_NONE;	/* a response to a request not seen */
	s = ra_http_status(b, peek);
	if (hc->state == RA_HTTP_RESPONSE) {
		if (s < 0 || !hc->next) {	/* the response goes on */
			hc->last_resp_ns = d->ns;
			hc->resp_bytes += d->n;
			v = http_flow(&hc->key, d->tgid);
			if (v)
				__sync_fetch_and_add(&v->resp_bytes, d->n);
			return HTTP_NONE;
		}
		http_finish(hc, d->sk, d->tgid);	/* the next request's response */
	}
	if (s < 0)
		return HTTP_NONE;
	if (s < 200) {	/* interim (100 Continue): its bytes go to the final one */
		hc->interim_bytes += d->n;
		return HTTP_NONE;
	}
	hc->key.status = s;
	hc->state = RA_HTTP_RESPONSE;
	hc->last_resp_ns = d->ns;
	hc->resp_bytes = d->n + hc->interim_bytes;
	http_count(hc, hc->resp_bytes, d->tgid);
	return HTTP_STATUS_LINE;
}

/* The return of an SSL call: ret is its return value. */
static __always_inline void tls_call_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid(), n = ret;
	struct ra_tls_call *c = bpf_map_lookup_elem(&ra_tls_calls, &id);
	struct ra_tls_ssl_key sk_key;
	struct ra_tls_conn *conn;

	if (!c)
		return;
	if (c->len_ptr) {	/* SSL_*_ex: 1 on success, the count in *len_ptr */
		if (ret != 1 || bpf_probe_read_user(&n, sizeof(n), (void *)c->len_ptr))
			n = 0;
	}
	if (ret > 0 && n > 0) {
		struct http_data d = { .sk = c->sk, .flow = c->flow, .buf = c->buf, .n = n,
				       .ns = bpf_ktime_get_ns(), .avail = n, .tgid = id >> 32,
				       .dir = c->dir, .lib = RA_TLS_OPENSSL };

		if (!c->sk) {	/* served from OpenSSL's buffer: no nested I/O */
			sk_key = (struct ra_tls_ssl_key){ .ssl = c->ssl, .tgid = id >> 32 };
			conn = bpf_map_lookup_elem(&ra_tls_ssl, &sk_key);
			if (conn) {
				d.sk = conn->sk;
				d.flow = conn->flow;
			}
		}
		if (d.sk)
			http_data(&d);
		else
			stat_inc(RA_STAT_TLS_NO_CONN);
	}
	bpf_map_delete_elem(&ra_tls_calls, &id);
}

/*
 * Go's crypto/tls: entry probes only (a return probe rewrites the return
 * address on a goroutine stack, which Go moves and walks). The probe sits on
 * the conditional jump after the stack-bound check (the kernel emulates it;
 * reqacct inspect shows the offset), where the arguments are still in their
 * registers (Go's register ABI, Go 1.17+ amd64, 1.18+ arm64).
 */
#if defined(__TARGET_ARCH_x86)
#define GO_ARG1(x) ((x)->ax)
#define GO_ARG2(x) ((x)->bx)
#define GO_ARG3(x) ((x)->cx)
#define GO_ARG4(x) ((x)->di)
#define GO_G(x) ((x)->r14)
/* The jump goes to runtime.morestack, which grows the stack and runs the
 * function again from its entry (so the probe fires twice): jbe, taken on
 * CF or ZF of the EFLAGS register. */
#define GO_TO_MORESTACK(x) (((x)->flags & 0x41) != 0)
#elif defined(__TARGET_ARCH_arm64)
#define GO_ARG1(x) PT_REGS_PARM1(x)
#define GO_ARG2(x) PT_REGS_PARM2(x)
#define GO_ARG3(x) PT_REGS_PARM3(x)
#define GO_ARG4(x) PT_REGS_PARM4(x)
#define GO_G(x) (((const struct user_pt_regs *)(x))->regs[28])
/* b.ls: taken when C is clear or Z is set (PSTATE bits 29 and 30). */
#define GO_TO_MORESTACK(x) \
	((((const struct user_pt_regs *)(x))->pstate & (3ULL << 29)) != (1ULL << 29))
#endif

/* Offsets in Go's structures, the same from Go 1.17 to 1.26
 * (shared/research/go_tls_design.md 5; the integration tests check them on
 * Go 1.19, 1.22-1.24 (kubectl) and 1.26 (esbuild) binaries): *tls.Conn ->
 * conn (a net.Conn interface at 0,
 * its data word at 8) -> *net.TCPConn -> conn.fd (*netFD at 0) -> pfd
 * (poll.FD at 0) -> Sysfd, after the 16-byte fdMutex. */
#define GO_TLS_CONN_CONN_DATA	8
#define GO_TCPCONN_FD		0
#define GO_NETFD_SYSFD		16

/* A kernel object whose address came from memory, as a read-only BTF
 * pointer: loads through it are plain loads (fault-safe) instead of helper
 * calls (kernel/bpf/helpers.c, Linux 6.2+; the TLS probes need 6.3+). */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;
#define RA_CAST(p, type) ((type *)bpf_rdonly_cast((p), bpf_core_type_id_kernel(type)))

/* The file of descriptor fd of the calling process, or 0. */
static __always_inline __u64 fd_file(__s64 fd)
{
	struct fdtable *fdt = bpf_get_current_task_btf()->files->fdt;
	struct file *fp;

	if (fd < 0 || fd >= fdt->max_fds || bpf_probe_read_kernel(&fp, sizeof(fp), &fdt->fd[fd]))
		return 0;
	return (__u64)fp;
}

/* The socket of a *tls.Conn over TCP, through the calling process's file
 * descriptor table (what led there in s), or NULL. */
static __always_inline struct sock *go_conn_sock(__u64 conn, struct ra_go_sock *s)
{
	struct socket *so;
	struct file *f;
	__u64 netfd;

	if (bpf_probe_read_user(&s->tcpconn, sizeof(s->tcpconn),
				(void *)(conn + GO_TLS_CONN_CONN_DATA)) ||
	    bpf_probe_read_user(&netfd, sizeof(netfd), (void *)(s->tcpconn + GO_TCPCONN_FD)) ||
	    bpf_probe_read_user(&s->fd, sizeof(s->fd), (void *)(netfd + GO_NETFD_SYSFD)))
		return NULL;
	s->file = fd_file(s->fd);
	if (!s->file)
		return NULL;
	f = RA_CAST((void *)s->file, struct file);
	so = RA_CAST(f->private_data, struct socket);
	if (!so || (__u64)so->file != s->file)	/* not a socket */
		return NULL;
	s->sk = (__u64)so->sk;
	return so->sk;
}

/* The flow of the calling process on a socket, if it is a watched TCP one. */
static __always_inline bool go_flow(struct sock *sk, struct ra_flow_key *key)
{
	struct ra_owner o = {};
	struct ra_watch w;

	if (!sk_is_tcp(sk) || !sk_watched(sk, &w))
		return false;
	owner_current(&o, &w, w.role);
	flow_key_of(key, sk, &w, &o);
	return true;
}

/* The state of a Go connection on sk, made at the first call of process
 * tgid on it (which caches its flow), or NULL if it is not watched. Not
 * inlined: one copy for its callers (the BPF stack holds 512 bytes for all
 * frames of a chain; a new entry is made in ra_go_conn_scratch, not there). */
static __noinline struct ra_go_conn *go_conn(struct sock *sk, __u32 tgid)
{
	__u64 skey = (__u64)sk;
	struct ra_go_conn *gc = bpf_map_lookup_elem(&ra_go_conns, &skey), *fresh;
	__u64 peer[RA_ADDR_LEN / 8] = {};
	__u32 zero = 0;

	sk_peer(sk, (__u8 *)peer);
	/* The same process on a reused struct sock is another connection:
	 * its peer tells (see http_data()). */
	if (gc && gc->tgid == tgid && ((__u64 *)gc->flow.peer)[0] == peer[0] &&
	    ((__u64 *)gc->flow.peer)[1] == peer[1])
		return gc;
	fresh = bpf_map_lookup_elem(&ra_go_conn_scratch, &zero);
	if (!fresh)
		return NULL;
	__builtin_memset(fresh, 0, sizeof(*fresh));
	fresh->tgid = tgid;
	if (!go_flow(sk, &fresh->flow))
		return NULL;
	if (bpf_map_update_elem(&ra_go_conns, &skey, fresh, BPF_ANY)) {
		stat_inc(RA_STAT_GO_CONNS_FULL);
		return NULL;
	}
	return bpf_map_lookup_elem(&ra_go_conns, &skey);
}

/* The Go connection of *tls.Conn conn in process tgid, and its socket in
 * *skp (NULL: none found), or NULL if it is not watched. The socket comes
 * from ra_go_socks while the *tls.Conn still holds the same *net.TCPConn
 * and its descriptor the same file (one user read instead of three), else
 * through the file table, and is then cached. */
static __always_inline struct ra_go_conn *go_tls_conn(__u64 conn, __u32 tgid, struct sock **skp)
{
	struct ra_go_sock_key k = { .conn = conn, .tgid = tgid };
	struct ra_go_sock *c = bpf_map_lookup_elem(&ra_go_socks, &k), s;
	struct ra_go_conn *gc;
	__u64 tcpconn;
	bool cached;

	cached = c && !bpf_probe_read_user(&tcpconn, sizeof(tcpconn),
					   (void *)(conn + GO_TLS_CONN_CONN_DATA)) &&
		 tcpconn == c->tcpconn && fd_file(c->fd) == c->file;
	if (cached)
		*skp = RA_CAST((void *)c->sk, struct sock);	/* a kernel object again */
	else
		*skp = go_conn_sock(conn, &s);
	if (!*skp)
		return NULL;
	gc = go_conn(*skp, tgid);
	if (!gc || (!cached && bpf_map_update_elem(&ra_go_socks, &k, &s, BPF_ANY)))
		return gc;
	/* to leave the cache at close (go_sock_forget()); written only when it
	 * changes (gc was made anew), not at every call */
	if (gc->tls_conn != conn)
		gc->tls_conn = conn;
	return gc;
}

/* The connection on sk starts to close (close() or a reset: before Go can
 * free its *tls.Conn, whose address a new one may then take): out of the
 * cache. */
static __always_inline void go_sock_forget(const struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct ra_go_conn *gc = bpf_map_lookup_elem(&ra_go_conns, &key);
	struct ra_go_sock_key k = {};

	if (!gc || !gc->tls_conn)
		return;
	k.conn = gc->tls_conn;
	k.tgid = gc->tgid;
	bpf_map_delete_elem(&ra_go_socks, &k);
	gc->tls_conn = 0;
}

/* A Go Read that returned: count what its buffer holds. A server's request
 * started when its first byte arrived, a client's response ended at its
 * last (the receive times of handle_io). Not inlined: called in a loop. */
static __noinline enum http_start go_read_done(struct ra_go_conn *gc, const struct ra_go_read *r,
					       struct http_data *d, __u64 now)
{
	enum http_start start;

	d->buf = r->buf;
	d->avail = r->len;
	d->n = 0;
	if (bpf_probe_read_user(&d->before, 1, (void *)(r->buf - 1)))
		d->before = 0;
	d->dir = RA_CNT_BYTES_RECV;
	d->ns = gc->flow.role == RA_ROLE_SERVER ? gc->rx_first_ns : gc->rx_last_ns;
	if (!d->ns)
		d->ns = now;
	start = http_data(d);
	if (start == HTTP_REQUEST_LINE)
		gc->rx_first_ns = 0;
	return start;
}

/* Entry of crypto/tls.(*Conn).Write (dir sent) or .Read (dir received). */
static __always_inline void go_tls_call(struct pt_regs *ctx, __u8 dir)
{
	__u64 g = GO_G(ctx), now = bpf_ktime_get_ns(), id = bpf_get_current_pid_tgid();
	__u64 buf = GO_ARG2(ctx), len = GO_ARG3(ctx);
	struct http_data d = { .tgid = id >> 32, .lib = RA_TLS_GO };
	__u32 slot = RA_GO_READS;
	__u64 oldest = ~0ULL;
	struct ra_go_conn *gc;
	struct sock *sk;

	if (GO_TO_MORESTACK(ctx))
		return;
	gc = go_tls_conn(GO_ARG1(ctx), d.tgid, &sk);
	if (!sk) {
		stat_inc(RA_STAT_GO_NO_SOCK);
		return;
	}
	if (!gc || (gc->flags & RA_GO_H2_SERVER))
		return;
	d.sk = (__u64)sk;
	d.flow = gc->flow;
	/* Reads whose bytes are in their buffers now (their count is not
	 * known), oldest first: this goroutine's earlier one (it returned
	 * before this call), and any into the buffer this Read is about to
	 * overwrite (a bufio.Reader's buffer goes from net/http's reading
	 * goroutine to the one reading the body; a Go program does not read
	 * into one buffer from two goroutines at once). */
	for (int k = 0; k < RA_GO_READS; k++) {
		struct ra_go_read *r;
		__u32 pick = RA_GO_READS;
		__u64 first = ~0ULL;

		for (int i = 0; i < RA_GO_READS; i++) {
			r = &gc->rd[i];
			if (!r->g || r->ns >= first ||
			    (r->g != g && !(dir == RA_CNT_BYTES_RECV && r->buf < buf + len &&
					    buf < r->buf + RA_HTTP_PEEK)))
				continue;
			first = r->ns;
			pick = i;
		}
		if (pick >= RA_GO_READS)
			break;
		r = &gc->rd[pick];
		if (go_read_done(gc, r, &d, now) != HTTP_NONE)
			gc->head_g = r->g;
		r->g = 0;
		r->ns = 0;
	}
	/* The goroutine that reads requests or statuses keeps its slot; other
	 * readers share the rest, the oldest giving way. */
	for (int i = 0; i < RA_GO_READS; i++) {
		struct ra_go_read *r = &gc->rd[i];

		if (r->g && r->g == gc->head_g)
			continue;
		if (r->ns < oldest) {	/* a free slot has ns 0 */
			oldest = r->ns;
			slot = i;
		}
	}
	if (dir == RA_CNT_BYTES_RECV) {
		if (slot < RA_GO_READS)
			gc->rd[slot] = (struct ra_go_read){
				.g = g, .buf = buf, .ns = now,
				.len = len > 0xffffffff ? 0xffffffff : len };
		return;
	}
	d.buf = buf;
	d.avail = len > 0xffffffff ? 0xffffffff : len;
	d.n = len;
	d.before = 0;
	d.dir = RA_CNT_BYTES_SENT;
	d.ns = now;
	http_data(&d);
}

/* A receive on a socket (handle_io): the times a Go connection needs. */
static __always_inline void go_recv(const struct sock *sk)
{
	__u64 key = (__u64)sk, now;
	struct ra_go_conn *gc = bpf_map_lookup_elem(&ra_go_conns, &key);

	if (!gc)
		return;
	now = bpf_ktime_get_ns();
	if (!gc->rx_first_ns)
		gc->rx_first_ns = now;
	gc->rx_last_ns = now;
}

/* Socket I/O (handle_io): what the TLS probes need from it. */
static __always_inline void tls_io(struct sock *sk, const struct ra_flow_key *key, __u8 slot,
				   enum ra_counter dir)
{
	if (ra_tls_openssl_on)
		tls_nested_io(sk, key, slot);
	if (ra_tls_go_on && dir == RA_CNT_BYTES_RECV)
		go_recv(sk);
}

/* Tell the loader about a process to look at (ra_exec_events). */
static __always_inline void proc_event(__u32 pid, __u8 kind, __u16 port)
{
	struct ra_exec_event e = { .ns = bpf_ktime_get_ns(), .pid = pid, .port = port, .kind = kind };

	if (bpf_ringbuf_output(&ra_exec_events, &e, sizeof(e), 0))
		stat_inc(RA_STAT_EXEC_LOST);
}

/* A connection closed: count its open exchange, forget it. */
static __always_inline void http_close(const struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct ra_http_conn *hc = bpf_map_lookup_elem(&ra_http_conns, &key);

	bpf_map_delete_elem(&ra_go_conns, &key);
	if (!hc)
		return;
	http_end(hc, key, bpf_get_current_pid_tgid() >> 32);
	bpf_map_delete_elem(&ra_http_conns, &key);
}

#endif /* REQACCT_TLS_BPF_H */
