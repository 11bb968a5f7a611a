// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * reqacct.bpf.c - entry points of reqacct's TCP accounting. Logic lives in
 * tcp.bpf.h, maps in maps.bpf.h. Which program serves which kernel:
 *
 *   ra_sock_send, ra_sock_recv  tp_btf sock:sock_{send,recv}_length   6.3+
 *   ra_set_state                tp_btf sock:inet_sock_set_state      5.5+
 *   ra_sockops                  sockops byte deltas (fallback)       5.15+
 *
 *   ra_dns_egress, ra_dns_ingress  cgroup_skb, DNS (dns.bpf.h)      5.15+
 *   ra_dns_bind4, ra_dns_bind6     cgroup/post_bind{4,6}           5.15+
 *   ra_ssl_*                       uprobes on OpenSSL (tls.bpf.h)  6.3+ (the
 *                                  connection comes from handle_io)
 *   ra_go_read, ra_go_write        uprobes on Go crypto/tls         5.11+
 *   ra_h2_*                        uprobes on Go's HTTP/2 server      5.11+
 *                                  (h2.bpf.h)
 *   ra_exec                        tp_btf sched_process_exec: new
 *                                  programs to look at for crypto/tls
 *
 * The loader turns on ra_sockops only where the sock_*_length tracepoints
 * are missing (user/agent.c, setup()). The DNS programs attach to the cgroup
 * given by --cgroup (default: the cgroup2 root); they never drop a packet.
 * Attributing DNS to a process needs bpf_get_current_*() in cgroup programs
 * (6.1+); before, it falls back to the socket's cgroup and "(unknown)".
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "tcp.bpf.h"
#include "dns.bpf.h"
#include "tls.bpf.h"
#include "h2.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Bytes moved by one send or receive call, counted for the calling process. */
static __always_inline int handle_io(struct sock *sk, int ret, int flags, enum ra_counter dir)
{
	struct ra_flow_key key = {};
	struct ra_sk_state *st;
	struct ra_owner o = {};
	struct ra_watch w;
	__u32 tgid;
	__u8 slot;

	if (ret <= 0 || (dir == RA_CNT_BYTES_RECV && (flags & MSG_PEEK)))
		return 0;
	if (!sk || !sk_is_tcp(sk))
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	st = bpf_sk_storage_get(&ra_sk, sk, NULL, 0);
	if (st && io_cached(st, tgid, &key, &slot)) {
		flow_add(&key, slot, tgid, dir, ret);
		tls_io(sk, &key, slot, dir);
		return 0;
	}
	if (!sk_watched(sk, &w))
		return 0;
	if (!st)	/* a socket opened before the agent started */
		st = bpf_sk_storage_get(&ra_sk, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	/* The role is known for sockets opened while the agent ran; older
	 * ones get the role that follows from the watched port. */
	owner_current(&o, &w, st && owner_known(&st->owner) ? st->owner.role : w.role);
	flow_key_of(&key, sk, &w, &o);
	if (st)
		io_cache(st, tgid, &key, w.slot);
	flow_add(&key, w.slot, tgid, dir, ret);
	tls_io(sk, &key, w.slot, dir);
	return 0;
}

/* net/socket.c: trace_sock_send_length(struct sock *sk, int ret, int flags) */
SEC("tp_btf/sock_send_length")
int BPF_PROG(ra_sock_send, struct sock *sk, int ret, int flags)
{
	return handle_io(sk, ret, flags, RA_CNT_BYTES_SENT);
}

/* net/socket.c: trace_sock_recv_length(struct sock *sk, int ret, int flags) */
SEC("tp_btf/sock_recv_length")
int BPF_PROG(ra_sock_recv, struct sock *sk, int ret, int flags)
{
	return handle_io(sk, ret, flags, RA_CNT_BYTES_RECV);
}

static __always_inline void remember_listener(const struct sock *sk, const struct ra_watch *w)
{
	struct ra_listener_key k = listener_key(sk, w->port);
	struct ra_owner o = {};
	long err;

	owner_current(&o, w, RA_ROLE_SERVER);
	err = bpf_map_update_elem(&ra_listeners, &k, &o, BPF_ANY);
	if (err)
		stat_inc(err == -E2BIG ? RA_STAT_LISTENERS_FULL : RA_STAT_LISTENERS_OTHER);
	if (ra_tls_go_on || ra_tls_openssl_on)	/* a server to probe (tls_ports) */
		proc_event(o.tgid, RA_PROC_LISTEN, w->port);
}

/* The owner of an accepted socket is the owner of its listener. */
static __always_inline void passive_owner(const struct sock *sk, const struct ra_watch *w,
					  struct ra_owner *o)
{
	struct ra_listener_key k = listener_key(sk, w->port);
	struct ra_owner *l = bpf_map_lookup_elem(&ra_listeners, &k);

	if (l) {
		*o = *l;
		o->port = w->port;
		return;
	}
	stat_inc(RA_STAT_OWNER_UNKNOWN);
	o->port = w->port;
	o->cgroup_id = sk_cgroup_id(sk);
	__builtin_memcpy(o->comm, RA_COMM_UNKNOWN, sizeof(RA_COMM_UNKNOWN));
	o->role = RA_ROLE_SERVER;
}

/* The events of a socket's opening, where its ports are read from the socket. */
static __always_inline void handle_open(const struct sock *sk, const struct ra_watch *w,
					int old, int new)
{
	struct ra_sk_state *st;

	if (new == TCP_LISTEN) {	/* listen(2): the caller's context */
		if (w->role == RA_ROLE_SERVER)
			remember_listener(sk, w);
		return;
	}
	st = bpf_sk_storage_get(&ra_sk, (struct sock *)sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st) {
		stat_inc(RA_STAT_SK_STORAGE_FAIL);
		return;
	}
	if (new == TCP_SYN_SENT) {	/* connect(2): the caller's context */
		owner_current(&st->owner, w, RA_ROLE_CLIENT);
		return;
	}
	passive_owner(sk, w, &st->owner);	/* accepted: softirq context */
	st->owner.flags |= RA_SK_OPENED;
	owner_add(sk, w, &st->owner, RA_CNT_CONNS_OPENED, 1);
}

#define INTERESTING_STATES ((1 << TCP_LISTEN) | (1 << TCP_SYN_SENT) | (1 << TCP_ESTABLISHED) | \
			    (1 << TCP_CLOSE))

/* Where a connection starts to close: close() (FIN_WAIT1, LAST_ACK) or a
 * reset (CLOSE). */
#define GO_CLOSING_STATES ((1 << TCP_FIN_WAIT1) | (1 << TCP_LAST_ACK) | (1 << TCP_CLOSE))

static __always_inline void handle_state(const struct sock *sk, int old, int new)
{
	struct ra_sk_state *st;
	struct ra_watch w;

	if (ra_tls_go_on && ((1 << new) & GO_CLOSING_STATES))
		go_sock_forget(sk);
	/* Most transitions (FIN_WAIT*, CLOSE_WAIT, ...) matter to no counter. */
	if (!((1 << new) & INTERESTING_STATES) || !sk_is_tcp(sk))
		return;
	/* Every socket, those older than the agent too. */
	if (new == TCP_CLOSE && (ra_tls_openssl_on || ra_tls_go_on))
		http_close(sk);
	if (new == TCP_LISTEN || (old == TCP_CLOSE && new == TCP_SYN_SENT) ||
	    (old == TCP_SYN_RECV && new == TCP_ESTABLISHED)) {
		if (sk_watched(sk, &w))
			handle_open(sk, &w, old, new);
		return;
	}
	st = bpf_sk_storage_get(&ra_sk, (struct sock *)sk, NULL, 0);
	if (!st || !owner_watch(&st->owner, &w))
		return;		/* not watched, or opened before the agent started */
	if (old == TCP_SYN_SENT && new == TCP_ESTABLISHED) {
		st->owner.flags |= RA_SK_OPENED;
		owner_add(sk, &w, &st->owner, RA_CNT_CONNS_OPENED, 1);
		if (w.role == RA_ROLE_CLIENT && k8s_port(w.port))
			http_client_add(sk, &st->owner);
	} else if (new == TCP_CLOSE) {
		if (st->owner.flags & RA_SK_OPENED) {
			st->owner.flags &= ~RA_SK_OPENED;
			owner_add(sk, &w, &st->owner, RA_CNT_CONNS_CLOSED, 1);
		} else if (old == TCP_SYN_SENT) {
			owner_add(sk, &w, &st->owner, RA_CNT_CONNECT_ERRORS, 1);
		}
	}
}

/* include/trace/events/sock.h:
 * inet_sock_set_state(const struct sock *sk, const int oldstate, const int newstate) */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(ra_set_state, const struct sock *sk, int oldstate, int newstate)
{
	handle_state(sk, oldstate, newstate);
	return 0;
}

/*
 * Fallback byte counting for kernels without sock_*_length (before 6.3):
 * tcp_sock's bytes_acked and bytes_received (RFC 4898 counters), read at
 * every RTT sample and state change, added as deltas to the socket owner's
 * flow. Only sockets opened while the agent runs are seen, and bytes are
 * counted when acknowledged or received, not when the process reads them.
 *
 * Both counters include the FIN's sequence number once it is acknowledged
 * (ours) or received (the peer's); payload bytes leave it out. Our FIN was
 * sent in the states below and is acknowledged when snd_una reaches
 * write_seq; the peer's FIN sets SOCK_DONE (tcp_fin(), tcp_input.c).
 */
#define FIN_SENT_STATES ((1 << TCP_FIN_WAIT1) | (1 << TCP_FIN_WAIT2) | (1 << TCP_CLOSING) | \
			 (1 << TCP_LAST_ACK) | (1 << TCP_TIME_WAIT))

static __always_inline void sockops_account(struct bpf_sock_ops *ops, int state, bool first)
{
	struct bpf_sock *bsk = ops->sk;
	struct ra_sk_state *st;
	struct tcp_sock *tp;
	struct ra_watch w;
	struct sock *sk;
	__u64 cur[2];

	if (!bsk)
		return;
	tp = bpf_skc_to_tcp_sock(bsk);
	if (!tp)
		return;
	sk = (struct sock *)tp;
	st = bpf_sk_storage_get(&ra_sk, sk, NULL, 0);
	if (!st || !owner_watch(&st->owner, &w))
		return;
	cur[RA_CNT_BYTES_SENT] = ops->bytes_acked;
	cur[RA_CNT_BYTES_RECV] = ops->bytes_received;
	if (((1 << state) & FIN_SENT_STATES) &&
	    tp->snd_una == tp->write_seq && cur[RA_CNT_BYTES_SENT])
		cur[RA_CNT_BYTES_SENT]--;
	if ((sk->__sk_common.skc_flags & (1UL << SOCK_DONE)) && cur[RA_CNT_BYTES_RECV])
		cur[RA_CNT_BYTES_RECV]--;
	/* Unrolled: Linux 6.1's check_cfg() rejects this two-pass loop as
	 * clang lays it out (its back-edge a fall-through, not a jump). */
#pragma unroll
	for (int d = RA_CNT_BYTES_SENT; d <= RA_CNT_BYTES_RECV; d++) {
		if (!first && cur[d] > st->seen[d])
			owner_add(sk, &w, &st->owner, d, cur[d] - st->seen[d]);
		if (first || cur[d] > st->seen[d])
			st->seen[d] = cur[d];
	}
}

SEC("sockops")
int ra_sockops(struct bpf_sock_ops *ops)
{
	switch (ops->op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		bpf_sock_ops_cb_flags_set(ops, ops->bpf_sock_ops_cb_flags |
						       BPF_SOCK_OPS_RTT_CB_FLAG |
						       BPF_SOCK_OPS_STATE_CB_FLAG);
		sockops_account(ops, ops->state, true);
		break;
	case BPF_SOCK_OPS_RTT_CB:
		sockops_account(ops, ops->state, false);
		break;
	case BPF_SOCK_OPS_STATE_CB:	/* args: old state, new state; before the change */
		sockops_account(ops, ops->args[0], false);
		break;
	}
	return 1;
}

SEC("cgroup_skb/egress")
int ra_dns_egress(struct __sk_buff *skb)
{
	return dns_skb(skb, RA_DIR_EGRESS);
}

SEC("cgroup_skb/ingress")
int ra_dns_ingress(struct __sk_buff *skb)
{
	return dns_skb(skb, RA_DIR_INGRESS);
}

SEC("cgroup/post_bind4")
int ra_dns_bind4(struct bpf_sock *sk)
{
	return dns_bind(sk);
}

SEC("cgroup/post_bind6")
int ra_dns_bind6(struct bpf_sock *sk)
{
	return dns_bind(sk);
}

/* OpenSSL (ssl/ssl_lib.c): int SSL_write(SSL *s, const void *buf, int num) */
SEC("uprobe")
int BPF_KPROBE(ra_ssl_write, void *ssl, const void *buf, int num)
{
	tls_call_enter((__u64)ssl, (__u64)buf, 0, RA_CNT_BYTES_SENT);
	return 0;
}

/* int SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *written) */
SEC("uprobe")
int BPF_KPROBE(ra_ssl_write_ex, void *ssl, const void *buf, size_t num, size_t *written)
{
	tls_call_enter((__u64)ssl, (__u64)buf, (__u64)written, RA_CNT_BYTES_SENT);
	return 0;
}

/* int SSL_read(SSL *s, void *buf, int num) */
SEC("uprobe")
int BPF_KPROBE(ra_ssl_read, void *ssl, void *buf, int num)
{
	tls_call_enter((__u64)ssl, (__u64)buf, 0, RA_CNT_BYTES_RECV);
	return 0;
}

/* int SSL_read_ex(SSL *s, void *buf, size_t num, size_t *readbytes) */
SEC("uprobe")
int BPF_KPROBE(ra_ssl_read_ex, void *ssl, void *buf, size_t num, size_t *readbytes)
{
	tls_call_enter((__u64)ssl, (__u64)buf, (__u64)readbytes, RA_CNT_BYTES_RECV);
	return 0;
}

/* The return of any of the four (C ABI: return probes are safe here). */
SEC("uretprobe")
int BPF_KRETPROBE(ra_ssl_ret, int ret)
{
	tls_call_exit(ret);
	return 0;
}

/* Go (crypto/tls/conn.go): func (c *Conn) Write(b []byte) (int, error) */
SEC("uprobe")
int ra_go_write(struct pt_regs *ctx)
{
	go_tls_call(ctx, RA_CNT_BYTES_SENT);
	return 0;
}

/* func (c *Conn) Read(b []byte) (int, error) */
SEC("uprobe")
int ra_go_read(struct pt_regs *ctx)
{
	go_tls_call(ctx, RA_CNT_BYTES_RECV);
	return 0;
}

/* Go's HTTP/2 server (h2.bpf.h), x/net/http2/server.go and net/http's copy:
 * func (sc *serverConn) processHeaders(f *MetaHeadersFrame) error */
SEC("uprobe")
int ra_h2_headers(struct pt_regs *ctx)
{
	h2_request(ctx);
	return 0;
}

/* func (sc *serverConn) writeHeaders(st *stream, headerData *writeResHeaders) error */
SEC("uprobe")
int ra_h2_status(struct pt_regs *ctx)
{
	h2_status(ctx);
	return 0;
}

/* func (sc *serverConn) writeDataFromHandler(stream *stream, data []byte, endStream bool) error */
SEC("uprobe")
int ra_h2_data(struct pt_regs *ctx)
{
	h2_data(ctx);
	return 0;
}

/* func (sc *serverConn) closeStream(st *stream, err error) */
SEC("uprobe")
int ra_h2_close(struct pt_regs *ctx)
{
	h2_close(ctx);
	return 0;
}

/* A program started (fs/exec.c, exec_binprm(), after the new image is
 * loaded): the loader looks for crypto/tls in it at once, so that a Go
 * program is probed before its first connection. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(ra_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	proc_event(p->tgid, RA_PROC_EXEC, 0);
	return 0;
}
