/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * tcp.bpf.h - per-flow TCP accounting: which side of a socket is watched, who
 * owns it, and the counter updates with their overflow path.
 *
 * Attribution rules (docs/architecture.md has the full data flow):
 *  - bytes seen by the sock_{send,recv}_length tracepoints run in the context
 *    of the process doing the I/O, which is the flow's process;
 *  - connection events can run in softirq context, so they use the socket's
 *    owner, recorded at connect(2) or, for accepted sockets, at listen(2).
 *
 * Every program here gets a BTF-typed socket (tp_btf arguments, or
 * bpf_skc_to_tcp_sock() in sockops), so fields are read with direct,
 * CO-RE-relocated loads: a bpf_probe_read_kernel() per field (what
 * BPF_CORE_READ does) costs tens of ns on every send and receive.
 */
#ifndef REQACCT_TCP_BPF_H
#define REQACCT_TCP_BPF_H

#include "maps.bpf.h"

#define AF_INET		2	/* include/linux/socket.h */
#define AF_INET6	10	/* include/linux/socket.h */
#define MSG_PEEK	2	/* include/linux/socket.h */
#define E2BIG		7	/* include/uapi/asm-generic/errno-base.h */
#define ENOMEM		12	/* include/uapi/asm-generic/errno-base.h */
#define EEXIST		17	/* include/uapi/asm-generic/errno-base.h */

/* The side of a socket that is watched. */
struct ra_watch {
	__u16 port;	/* the watched port */
	__u8 role;	/* enum ra_role that follows from the port */
	__u8 slot;	/* the port's slot in the watched set */
};

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&ra_stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/* The slot + 1 of port in a list of n ports set by the loader (0: an unused
 * entry), or 0 if it is not there. */
/* Flags for a ring buffer record the loader needs soon but not at once:
 * wake it only when the ring is a quarter full. It reads every ring each
 * RA_RING_POLL_MS anyway (agent.c), and a wakeup per record costs the
 * traced process microseconds per request (BENCHMARKS.md, HTTP/2). */
static __always_inline __u64 ring_flags(void *ring)
{
	return bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA) >
			       bpf_ringbuf_query(ring, BPF_RB_RING_SIZE) / 4 ?
		       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline __u32 port_in(const volatile __u16 *ports, int n, __u16 port)
{
	for (int i = 0; i < n; i++)
		if (ports[i] && ports[i] == port)
			return i + 1;
	return 0;
}

static __always_inline __u8 port_slot1(__u16 port)
{
	__u32 k = port;
	__u8 *v = bpf_map_lookup_elem(&ra_ports, &k);

	return v ? *v : 0;
}

/*
 * A socket is watched when its local port (it is then the server) or its
 * remote port (client) is in the watched set. The local port wins: a socket
 * bound to a watched port is that port's server. Ports in host byte order.
 */
static __always_inline bool ports_watched(__u16 lport, __u16 rport, struct ra_watch *w)
{
	__u8 s;

	if ((s = port_slot1(lport))) {
		w->port = lport;
		w->role = RA_ROLE_SERVER;
	} else if ((s = port_slot1(rport))) {
		w->port = rport;
		w->role = RA_ROLE_CLIENT;
	} else {
		return false;
	}
	w->slot = s - 1;
	return true;
}

static __always_inline bool sk_watched(const struct sock *sk, struct ra_watch *w)
{
	return ports_watched(sk->__sk_common.skc_num, bpf_ntohs(sk->__sk_common.skc_dport), w);
}

/* The watched side of a socket that has state: its port as recorded at open.
 * (The kernel clears the local port before the CLOSE event, in
 * tcp_set_state() -> inet_put_port(), so it cannot be read then.) */
static __always_inline bool owner_watch(const struct ra_owner *o, struct ra_watch *w)
{
	__u8 s = port_slot1(o->port);

	if (!s)
		return false;
	w->port = o->port;
	w->role = o->role;
	w->slot = s - 1;
	return true;
}

static __always_inline bool sk_is_tcp(const struct sock *sk)
{
	__u16 family = sk->__sk_common.skc_family;

	return (family == AF_INET || family == AF_INET6) && sk->sk_protocol == IPPROTO_TCP &&
	       sk->sk_type == SOCK_STREAM;
}

/* An IPv4 address as v4-mapped IPv6 (RFC 4291 2.5.5.2), as peers are kept. */
static __always_inline void peer_v4(__u8 peer[RA_ADDR_LEN], __be32 a)
{
	peer[10] = 0xff;
	peer[11] = 0xff;
	__builtin_memcpy(&peer[12], &a, sizeof(a));
}

/* Whether two flow keys are of one side of one connection: role, port and
 * peer (a struct sock freed and reused for another connection differs in
 * one of them, unless the same peer connects again in the same role). */
static __always_inline bool same_conn(const struct ra_flow_key *a, const struct ra_flow_key *b)
{
	const __u64 *pa = (const __u64 *)a->peer, *pb = (const __u64 *)b->peer;

	return a->role == b->role && a->port == b->port && pa[0] == pb[0] && pa[1] == pb[1];
}

/* The remote address of a socket. */
static __always_inline void sk_peer(const struct sock *sk, __u8 peer[RA_ADDR_LEN])
{
	if (sk->__sk_common.skc_family == AF_INET) {
		peer_v4(peer, sk->__sk_common.skc_daddr);
	} else {
		__builtin_memcpy(peer, sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8, RA_ADDR_LEN);
	}
}

/* The cgroup v2 id the socket was created in (cloned from the listener for
 * accepted sockets). sk_cgrp_data.cgroup exists since 5.15 (commit
 * 8520e224f547 "bpf, cgroups: Fix cgroup v2 fallback on v1/v2 mixed mode"). */
static __always_inline __u64 sk_cgroup_id(const struct sock *sk)
{
	if (!bpf_core_field_exists(sk->sk_cgrp_data.cgroup))
		return 0;
	return sk->sk_cgrp_data.cgroup->kn->id;
}

/* The calling process as an owner. The comm is the process's (its thread
 * group leader's, as /proc/PID/comm), not the calling thread's. Only in
 * tracing programs, which run in the caller's context. */
static __always_inline void owner_current(struct ra_owner *o, const struct ra_watch *w, __u8 role)
{
	struct task_struct *t = bpf_get_current_task_btf();

	o->port = w->port;
	o->cgroup_id = bpf_get_current_cgroup_id();
	o->tgid = t->tgid;
	bpf_probe_read_kernel_str(o->comm, sizeof(o->comm), t->group_leader->comm);
	o->role = role;
}

/* Was the owner recorded when the socket opened (connect, accept)? */
static __always_inline bool owner_known(const struct ra_owner *o)
{
	return o->port != 0;
}

static __always_inline void overflow_add(const struct ra_flow_key *key, __u8 slot,
					 enum ra_counter c, __u64 n)
{
	__u32 idx = (__u32)key->role * RA_MAX_PORTS + slot;
	struct ra_flow_val *v;

	if (idx >= RA_OVERFLOW_SLOTS || c >= RA_CNT_MAX)
		return;
	v = bpf_map_lookup_elem(&ra_overflow, &idx);
	if (v)
		__sync_fetch_and_add(&v->cnt[c], n);
}

/* Add n to counter c of a flow; if the flow cannot get an entry, add it to the
 * overflow bucket and count why. Never lost, never reset. */
static __always_inline void flow_add(const struct ra_flow_key *key, __u8 slot, __u32 tgid,
				     enum ra_counter c, __u64 n)
{
	struct ra_flow_val *v;
	long err;

	if (c >= RA_CNT_MAX)
		return;
	v = bpf_map_lookup_elem(&ra_flows, key);
	if (!v) {
		struct ra_flow_val zero = {};

		err = bpf_map_update_elem(&ra_flows, key, &zero, BPF_NOEXIST);
		if (err && err != -EEXIST) {
			stat_inc(err == -E2BIG	  ? RA_STAT_FLOWS_FULL :
				 err == -ENOMEM ? RA_STAT_FLOWS_NOMEM :
						  RA_STAT_FLOWS_OTHER);
			overflow_add(key, slot, c, n);
			return;
		}
		v = bpf_map_lookup_elem(&ra_flows, key);
		if (!v) {
			stat_inc(RA_STAT_FLOWS_OTHER);
			overflow_add(key, slot, c, n);
			return;
		}
	}
	__sync_fetch_and_add(&v->cnt[c], n);
	if (v->last_tgid != tgid)	/* no store, no cache line bounce, when unchanged */
		v->last_tgid = tgid;
}

/* A flow key for a socket and an owner (process + role). */
static __always_inline void flow_key_of(struct ra_flow_key *key, const struct sock *sk,
					const struct ra_watch *w, const struct ra_owner *o)
{
	key->cgroup_id = o->cgroup_id;
	__builtin_memcpy(key->comm, o->comm, sizeof(key->comm));
	key->port = w->port;
	key->role = o->role;
	sk_peer(sk, key->peer);
}

static __always_inline void owner_add(const struct sock *sk, const struct ra_watch *w,
				      const struct ra_owner *o, enum ra_counter c, __u64 n)
{
	struct ra_flow_key key = {};

	flow_key_of(&key, sk, w, o);
	flow_add(&key, w->slot, o->tgid, c, n);
}

static __always_inline struct ra_listener_key listener_key(const struct sock *sk, __u16 port)
{
	struct ra_listener_key k = {
		.netns_ino = sk->__sk_common.skc_net.net->ns.inum,
		.port = port,
	};

	return k;
}

/*
 * The I/O flow cache of a socket (struct ra_sk_state), a sequence lock:
 * readers copy the key and check that io_seq did not move; a writer takes
 * io_seq from even to odd with a compare-and-swap (so writers exclude each
 * other; a loser just does not cache) and back to even when done. The
 * atomic operations are full barriers (Documentation/bpf/standardization).
 */
static __always_inline bool io_cached(struct ra_sk_state *st, __u32 tgid,
				      struct ra_flow_key *key, __u8 *slot)
{
	__u64 seq = __sync_fetch_and_add(&st->io_seq, 0);

	if (!seq || (seq & 1) || st->io_tgid != tgid)
		return false;
	__builtin_memcpy(key, &st->io_key, sizeof(*key));
	*slot = st->io_slot;
	return __sync_fetch_and_add(&st->io_seq, 0) == seq;
}

static __always_inline void io_cache(struct ra_sk_state *st, __u32 tgid,
				     const struct ra_flow_key *key, __u8 slot)
{
	__u64 seq = st->io_seq;

	if ((seq & 1) || __sync_val_compare_and_swap(&st->io_seq, seq, seq + 1) != seq)
		return;
	__builtin_memcpy(&st->io_key, key, sizeof(*key));
	st->io_tgid = tgid;
	st->io_slot = slot;
	__sync_fetch_and_add(&st->io_seq, 1);
}

#endif /* REQACCT_TCP_BPF_H */
