/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * tls.bpf.h - HTTP/1.x over TLS from OpenSSL's plaintext: uprobes on
 * SSL_write/SSL_read (and the _ex variants) read the start of each buffer
 * (RA_HTTP_PEEK bytes, never headers or bodies) and count requests per
 * (TCP flow, method, status), with sizes and durations.
 *
 * Connection identity: OpenSSL does its socket I/O on the calling thread,
 * inside SSL_write/SSL_read. The entry probe remembers the call by thread
 * (ra_tls_calls); the sock_{send,recv}_length tracepoint that fires inside it
 * (tcp's handle_io) records the socket's cookie and the foundation's flow key
 * there, and in ra_tls_ssl for the SSL object; the return probe, which sees
 * the byte count, accounts the plaintext to that connection. An SSL_read
 * served from OpenSSL's buffer (no recv) uses ra_tls_ssl.
 *
 * An exchange (struct ra_http_conn, per connection): a request starts with a
 * request line; its final status line (not 1xx) counts the request under
 * (flow, method, status) with the request's bytes; later response bytes add
 * to it; the duration (first request byte to last response byte) is counted
 * when the next request starts or the connection closes. Which bytes are the
 * request follows from the role: a client writes requests, a server reads them.
 */
#ifndef REQACCT_TLS_BPF_H
#define REQACCT_TLS_BPF_H

#include "tcp.bpf.h"
#include "http_parse.h"

const volatile bool ra_tls_on = false;	/* set by the loader when the uprobes attach */

static const __u32 ra_http_lat_bounds_us[RA_HTTP_LAT_BOUNDS] = { RA_HTTP_LAT_BOUNDS_US };

/* Inside an SSL call on this thread: note the connection (from handle_io). */
static __always_inline void tls_nested_io(struct sock *sk, const struct ra_flow_key *key,
					  __u8 slot)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct ra_tls_call *c = bpf_map_lookup_elem(&ra_tls_calls, &id);
	struct ra_tls_ssl_key sk_key;
	struct ra_tls_conn conn = {};

	if (!c || c->cookie)
		return;
	c->cookie = bpf_get_socket_cookie(sk);
	c->flow = *key;
	c->slot = slot;
	sk_key = (struct ra_tls_ssl_key){ .ssl = c->ssl, .tgid = id >> 32 };
	conn.cookie = c->cookie;
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

/* The duration of the exchange on hc, if its response started. */
static __always_inline void http_finish(struct ra_http_conn *hc, __u32 tgid)
{
	struct ra_http_val *v;
	__u64 ns;
	__u32 i;

	if (hc->state != RA_HTTP_RESPONSE)
		return;
	hc->state = RA_HTTP_IDLE;
	v = http_flow(&hc->key, tgid);
	if (!v)
		return;
	ns = hc->last_resp_ns - hc->req_start_ns;
	for (i = 0; i < RA_HTTP_LAT_BOUNDS; i++)
		if (ns <= (__u64)ra_http_lat_bounds_us[i] * 1000)
			break;
	__sync_fetch_and_add(&v->lat[i % RA_HTTP_LAT_SLOTS], 1);
	__sync_fetch_and_add(&v->lat_sum_ns, ns);
}

/* n plaintext bytes at buf went out (dir = sent) or came in on a connection. */
static __always_inline void http_data(__u64 cookie, const struct ra_flow_key *flow, __u8 dir,
				      __u64 buf, __u64 n, __u32 tgid)
{
	bool request = (flow->role == RA_ROLE_CLIENT) == (dir == RA_CNT_BYTES_SENT);
	__u8 b[RA_HTTP_PEEK] = {};
	struct ra_http_conn *hc, fresh = {};
	struct ra_http_val *v;
	__u32 peek = n < RA_HTTP_PEEK ? n : RA_HTTP_PEEK;
	__u64 now = bpf_ktime_get_ns();
	int m, s;

	/* Whole peek window at once; a short buffer at the end of a mapping may
	 * fault there, so then only its own bytes. */
	if (bpf_probe_read_user(b, sizeof(b), (void *)buf) &&
	    (!peek || peek > RA_HTTP_PEEK || bpf_probe_read_user(b, peek, (void *)buf)))
		return;
	hc = bpf_map_lookup_elem(&ra_http_conns, &cookie);
	if (request) {
		m = ra_http_method(b, peek);
		if (m < 0) {	/* a request's continuation (body), or not HTTP */
			if (hc && hc->state == RA_HTTP_REQUEST)
				__sync_fetch_and_add(&hc->req_bytes, n);
			return;
		}
		if (!hc) {
			if (bpf_map_update_elem(&ra_http_conns, &cookie, &fresh, BPF_NOEXIST) &&
			    !bpf_map_lookup_elem(&ra_http_conns, &cookie)) {
				stat_inc(RA_STAT_HTTP_CONNS_FULL);
				return;
			}
			hc = bpf_map_lookup_elem(&ra_http_conns, &cookie);
			if (!hc)
				return;
		}
		http_finish(hc, tgid);
		hc->key.flow = *flow;
		hc->key.method = m;
		hc->key.status = 0;
		hc->req_start_ns = now;
		hc->req_bytes = n;
		hc->interim_bytes = 0;
		hc->state = RA_HTTP_REQUEST;
		return;
	}
	if (!hc || hc->state == RA_HTTP_IDLE)
		return;		/* a response to a request not seen */
	if (hc->state == RA_HTTP_REQUEST) {
		s = ra_http_status(b, peek);
		if (s < 0)
			return;
		if (s < 200) {	/* interim (100 Continue): its bytes go to the final one */
			hc->interim_bytes += n;
			return;
		}
		hc->key.status = s;
		hc->state = RA_HTTP_RESPONSE;
		hc->last_resp_ns = now;
		v = http_flow(&hc->key, tgid);
		if (!v)
			return;
		__sync_fetch_and_add(&v->requests, 1);
		__sync_fetch_and_add(&v->req_bytes, hc->req_bytes);
		__sync_fetch_and_add(&v->resp_bytes, n + hc->interim_bytes);
		return;
	}
	hc->last_resp_ns = now;
	v = http_flow(&hc->key, tgid);
	if (v)
		__sync_fetch_and_add(&v->resp_bytes, n);
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
		if (c->cookie) {
			http_data(c->cookie, &c->flow, c->dir, c->buf, n, id >> 32);
		} else {
			sk_key = (struct ra_tls_ssl_key){ .ssl = c->ssl, .tgid = id >> 32 };
			conn = bpf_map_lookup_elem(&ra_tls_ssl, &sk_key);
			if (conn)
				http_data(conn->cookie, &conn->flow, c->dir, c->buf, n, id >> 32);
			else
				stat_inc(RA_STAT_TLS_NO_CONN);
		}
	}
	bpf_map_delete_elem(&ra_tls_calls, &id);
}

/* A connection closed: count its open exchange, forget it. */
static __always_inline void http_close(const struct sock *sk)
{
	__u64 cookie = bpf_get_socket_cookie((struct sock *)sk);
	struct ra_http_conn *hc = bpf_map_lookup_elem(&ra_http_conns, &cookie);

	if (!hc)
		return;
	http_finish(hc, bpf_get_current_pid_tgid() >> 32);
	bpf_map_delete_elem(&ra_http_conns, &cookie);
}

#endif /* REQACCT_TLS_BPF_H */
