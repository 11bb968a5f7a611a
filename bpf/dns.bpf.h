/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * dns.bpf.h - DNS accounting from cgroup_skb packets, both directions, UDP
 * and TCP: queries by type, responses by code, latency (a response matched to
 * its query by socket, peer and id), and query names per client flow.
 *
 * Whose packet: the owner of the socket, recorded at bind(2) of a DNS port
 * (cgroup/post_bind: the server) or at the socket's first egress packet with
 * payload (the sendmsg(2) of a client's first query: the caller's context). TCP sockets
 * accepted from a listener inherit its owner (ra_dns_sk has BPF_F_CLONE).
 * A packet that arrives on a socket whose owner is not known yet (a server
 * bound before the agent started, until its first answer) is attributed to
 * the socket's cgroup with comm "(unknown)".
 *
 * Which side: a packet to a DNS port is a query, one from a DNS port a
 * response; sent queries and received responses are the client's, received
 * queries and sent responses the server's. A message whose QR bit disagrees
 * is malformed.
 */
#ifndef REQACCT_DNS_BPF_H
#define REQACCT_DNS_BPF_H

#include "tcp.bpf.h"
#include "dns_parse.h"

#define ETH_P_IP	0x0800	/* include/uapi/linux/if_ether.h */
#define ETH_P_IPV6	0x86DD
#define IP_OFFSET	0x1fff	/* include/net/ip.h */
#define RA_DNS_TCP_MSGS	2	/* messages parsed per TCP segment */

const volatile __u16 ra_dns_ports[RA_MAX_DNS_PORTS] = { 53 };
const volatile bool ra_have_current = true;	/* bpf_get_current_* in cgroup_skb (6.1+) */

static const __u32 ra_dns_lat_bounds_us[RA_DNS_LAT_BOUNDS] = { RA_DNS_LAT_BOUNDS_US };

/* What one packet is, before its DNS payload is parsed. */
struct ra_dns_pkt {
	struct ra_flow_key flow;	/* cgroup, comm, peer, port, role */
	__u64 cookie;
	__u32 tgid;
	__u32 l4_off;		/* transport header offset */
	__u32 payload;		/* payload offset */
	__u32 seq;		/* TCP sequence number */
	__u32 len;		/* skb->len */
	__u16 peer_port;
	__u8 port_slot;		/* the DNS port's slot in ra_dns_ports */
	__u8 proto;		/* IPPROTO_UDP or IPPROTO_TCP */
	__u8 dir;		/* enum ra_dir */
};

/* The port's slot in ra_dns_ports + 1, or 0 if it is not a DNS port. */
static __always_inline __u32 dns_port(__u16 port)
{
	return port_in(ra_dns_ports, RA_MAX_DNS_PORTS, port);
}

static __always_inline __u32 dns_qtype_slot(__u16 qtype)
{
#define RA_DNS_QT_CASE(name, num) case num: return RA_DNS_QT_##name;
	switch (qtype) {
	RA_DNS_QTYPES(RA_DNS_QT_CASE)
	}
#undef RA_DNS_QT_CASE
	return RA_DNS_QT_OTHER;
}

static __always_inline __u32 dns_lat_slot(__u64 ns)
{
	__u32 i;

	for (i = 0; i < RA_DNS_LAT_BOUNDS; i++)
		if (ns <= (__u64)ra_dns_lat_bounds_us[i] * 1000)
			break;
	return i;
}

/*
 * The IP and transport headers: addresses, ports, which side of DNS this
 * packet is. Returns false for anything that is not DNS (or a non-first
 * IPv4 fragment, or IPv6 with extension headers before UDP/TCP).
 */
static __always_inline bool dns_headers(struct __sk_buff *skb, struct ra_dns_pkt *p)
{
	__u16 sport, dport, rport, port;
	__u8 *peer = p->flow.peer;
	__u32 slot;
	bool to_dns, from_dns;

	p->len = skb->len;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) || (bpf_ntohs(ip.frag_off) & IP_OFFSET))
			return false;
		p->proto = ip.protocol;
		p->l4_off = ip.ihl * 4;
		peer[10] = peer[11] = 0xff;
		__builtin_memcpy(&peer[12], p->dir == RA_DIR_EGRESS ? &ip.daddr : &ip.saddr, 4);
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return false;
		p->proto = ip6.nexthdr;
		p->l4_off = sizeof(ip6);
		__builtin_memcpy(peer, p->dir == RA_DIR_EGRESS ? ip6.daddr.in6_u.u6_addr8 :
								 ip6.saddr.in6_u.u6_addr8, RA_ADDR_LEN);
	} else {
		return false;
	}
	if (p->proto != IPPROTO_UDP && p->proto != IPPROTO_TCP)
		return false;
	if (p->proto == IPPROTO_UDP) {
		struct udphdr uh;

		if (bpf_skb_load_bytes(skb, p->l4_off, &uh, sizeof(uh)))
			return false;
		sport = bpf_ntohs(uh.source);
		dport = bpf_ntohs(uh.dest);
		p->payload = p->l4_off + sizeof(uh);
	} else {
		struct tcphdr th;

		if (bpf_skb_load_bytes(skb, p->l4_off, &th, sizeof(th)))
			return false;
		sport = bpf_ntohs(th.source);
		dport = bpf_ntohs(th.dest);
		p->payload = p->l4_off + th.doff * 4;
		p->seq = bpf_ntohl(th.seq);
	}
	if (p->dir == RA_DIR_EGRESS) {
		to_dns = slot = dns_port(dport);
		from_dns = !to_dns && (slot = dns_port(sport));
		rport = dport;
		port = to_dns ? dport : sport;
	} else {
		from_dns = slot = dns_port(sport);
		to_dns = !from_dns && (slot = dns_port(dport));
		rport = sport;
		port = from_dns ? sport : dport;
	}
	if (!to_dns && !from_dns)
		return false;
	p->port_slot = slot - 1;
	/* Sent to a DNS port or received from one: the client's side. */
	p->flow.role = (to_dns == (p->dir == RA_DIR_EGRESS)) ? RA_ROLE_CLIENT : RA_ROLE_SERVER;
	p->flow.port = port;
	p->peer_port = rport;
	return true;
}

/* The calling thread owns the socket. (Its cgroup is not kept: a packet's
 * flow takes the socket's, bpf_skb_cgroup_id().) */
static __always_inline void dns_owner_current(struct ra_dns_sk *st)
{
	st->owner.tgid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(st->owner.comm, sizeof(st->owner.comm));
}

/* The socket's owner into p->flow, recorded first if this is an egress
 * packet with payload (sendmsg(2): the sender's context; a bare TCP ACK may
 * be sent from softirq, in whatever task it interrupted) of a socket
 * without one. */
static __always_inline struct ra_dns_sk *dns_owner(struct __sk_buff *skb, struct ra_dns_pkt *p)
{
	struct bpf_sock *sk = skb->sk;
	struct ra_dns_sk *st = NULL;

	p->flow.cgroup_id = bpf_skb_cgroup_id(skb);
	if (sk)
		sk = bpf_sk_fullsock(sk);
	if (sk) {
		st = bpf_sk_storage_get(&ra_dns_sk, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
		if (!st)
			stat_inc(RA_STAT_DNS_SK_STORAGE_FAIL);
	}
	if (st && !st->owner.tgid && p->dir == RA_DIR_EGRESS && p->payload < p->len &&
	    ra_have_current) {
		dns_owner_current(st);
	}
	if (st && st->owner.tgid) {
		__builtin_memcpy(p->flow.comm, st->owner.comm, RA_COMM_LEN);
		p->tgid = st->owner.tgid;
	} else {
		__builtin_memcpy(p->flow.comm, RA_COMM_UNKNOWN, sizeof(RA_COMM_UNKNOWN));
	}
	p->cookie = bpf_get_socket_cookie(skb);
	return st;
}

static __always_inline struct ra_dns_val *dns_flow(const struct ra_dns_pkt *p)
{
	static const struct ra_dns_val zero;
	__u32 ov = p->flow.role * RA_MAX_DNS_PORTS + p->port_slot;
	struct ra_dns_val *v;
	long err;

	v = bpf_map_lookup_elem(&ra_dns_flows, &p->flow);
	if (v)
		goto out;
	err = bpf_map_update_elem(&ra_dns_flows, &p->flow, &zero, BPF_NOEXIST);
	if (err && err != -EEXIST)
		stat_inc(err == -E2BIG ? RA_STAT_DNS_FLOWS_FULL : RA_STAT_DNS_FLOWS_OTHER);
	v = bpf_map_lookup_elem(&ra_dns_flows, &p->flow);
	if (!v)
		return bpf_map_lookup_elem(&ra_dns_overflow, &ov);
out:
	v->last_tgid = p->tgid;
	return v;
}

static __always_inline void dns_count_name(const struct ra_dns_pkt *p, const struct ra_dns_msg *m,
					   bool query, struct ra_dns_name_val *scratch)
{
	struct ra_dns_name_key k = { .flow = p->flow, .hash = m->name_hash };
	struct ra_dns_name_val *v;
	long err;

	v = bpf_map_lookup_elem(&ra_dns_names, &k);
	if (!v) {
		__builtin_memset(scratch, 0, sizeof(*scratch));
		__builtin_memcpy(scratch->name, m->name, RA_DNS_NAME_MAX);
		scratch->cut = m->name_cut;
		err = bpf_map_update_elem(&ra_dns_names, &k, scratch, BPF_NOEXIST);
		if (err && err != -EEXIST)
			stat_inc(RA_STAT_DNS_NAMES_FULL);
		v = bpf_map_lookup_elem(&ra_dns_names, &k);
		if (!v)
			return;
	}
	v->last_tgid = p->tgid;
	__sync_fetch_and_add(query ? &v->queries : &v->nxdomain, 1);
}

/* The first slot of a pending key's set (a multiplicative hash of its words). */
static __always_inline __u32 pending_set(const struct ra_dns_pending_key *k)
{
	const __u64 *w = (const __u64 *)k;
	__u64 h = 0;

	for (int i = 0; i < (int)(sizeof(*k) / sizeof(__u64)); i++)
		h = (h ^ w[i]) * 0x9E3779B97F4A7C15ULL;	/* 2^64 / golden ratio */
	return (__u32)(h >> 32) & (RA_MAX_DNS_PENDING - RA_DNS_PENDING_WAYS);
}

static __always_inline bool pending_key_eq(const struct ra_dns_pending_key *a,
					   const struct ra_dns_pending_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/* Remember a query: claim a free slot of its set, fill it, then publish its time. */
static __always_inline void pending_add(const struct ra_dns_pending_key *k,
					const struct ra_flow_key *flow)
{
	__u32 idx = pending_set(k);

	for (int i = 0; i < RA_DNS_PENDING_WAYS; i++, idx++) {
		struct ra_dns_pending *e = bpf_map_lookup_elem(&ra_dns_pending, &idx);

		if (!e || e->sent_ns || __sync_val_compare_and_swap(&e->sent_ns, 0, RA_DNS_SLOT_BUSY))
			continue;
		e->key = *k;
		e->flow = *flow;
		__sync_lock_test_and_set(&e->sent_ns, bpf_ktime_get_ns());
		return;
	}
	stat_inc(RA_STAT_DNS_PENDING_FULL);
}

/* The answer to a remembered query: claim its slot; the time it was sent, or 0. */
static __always_inline __u64 pending_take(const struct ra_dns_pending_key *k)
{
	__u32 idx = pending_set(k);

	for (int i = 0; i < RA_DNS_PENDING_WAYS; i++, idx++) {
		struct ra_dns_pending *e = bpf_map_lookup_elem(&ra_dns_pending, &idx);
		__u64 sent;

		if (!e)
			continue;
		sent = e->sent_ns;
		if (sent > RA_DNS_SLOT_BUSY && pending_key_eq(&e->key, k) &&
		    __sync_val_compare_and_swap(&e->sent_ns, sent, 0) == sent)
			return sent;
	}
	return 0;
}

/*
 * One DNS message at offset off of the skb: msg_len bytes, of which avail
 * are in this skb. A global function: the verifier checks it once, whatever
 * state its three callers (UDP, two TCP messages) are in. Inlined, the name
 * loop's bpf_loop() callback was checked again for each caller state that
 * did not prune, past the 1M-instruction budget on Linux 6.18.44. Linux 6.1
 * takes no pointer argument (PTR_TO_MEM) as a map key: p is a copy of *pkt
 * on this function's stack.
 */
__noinline int dns_message(struct __sk_buff *skb, const struct ra_dns_pkt *pkt, __u32 off,
			   __u32 avail, __u32 msg_len)
{
	struct ra_dns_pending_key pk = {};
	struct ra_dns_pkt copy, *p = &copy;
	struct ra_dns_scratch *s;
	__u32 k0 = 0;
	__u64 n = avail < RA_DNS_PARSE_MAX ? avail : RA_DNS_PARSE_MAX;
	struct ra_dns_val *v;
	struct ra_dns_msg *m;
	bool query;
	__u64 sent;
	int err;

	if (!pkt || n < 1)	/* a global function's pointers may be NULL */
		return 0;
	copy = *pkt;
	s = bpf_map_lookup_elem(&ra_dns_scratch, &k0);
	if (!s)
		return 0;
	m = &s->msg;
	query = (p->flow.role == RA_ROLE_CLIENT) == (p->dir == RA_DIR_EGRESS);
	/* A length the verifier can bound on both sides: 1 to RA_DNS_BUF
	 * (bpf_skb_load_bytes() takes no 0, and Linux 6.1 learns no lower
	 * bound from n != 0). */
	n--;
	RA_MASK(n, RA_DNS_MASK);
	n++;
	if (bpf_skb_load_bytes(skb, off, s->buf, n))
		return 0;
	err = ra_dns_parse(s->buf, n, msg_len, m);
	if (err == RA_DNS_E_PARTIAL) {
		stat_inc(RA_STAT_DNS_PARTIAL);
		return 0;
	}
	v = dns_flow(p);
	if (!v)
		return 0;
	if (err || m->qr == query) {
		__sync_fetch_and_add(&v->malformed, 1);
		return 0;
	}
	__builtin_memcpy(pk.peer, p->flow.peer, RA_ADDR_LEN);
	pk.cookie = p->cookie;
	pk.peer_port = p->peer_port;
	pk.id = m->id;
	if (query) {
		__sync_fetch_and_add(&v->queries[dns_qtype_slot(m->qtype) % RA_DNS_QT_MAX], 1);
		pending_add(&pk, &p->flow);
		if (p->flow.role == RA_ROLE_CLIENT)	/* names are counted per client */
			dns_count_name(p, m, true, &s->name);
		return 0;
	}
	__sync_fetch_and_add(&v->responses[m->rcode < RA_DNS_RC_OTHER ? m->rcode : RA_DNS_RC_OTHER], 1);
	if (m->tc)
		__sync_fetch_and_add(&v->truncated, 1);
	sent = pending_take(&pk);
	if (sent) {
		__u64 ns = bpf_ktime_get_ns() - sent;

		__sync_fetch_and_add(&v->lat[dns_lat_slot(ns) % RA_DNS_LAT_SLOTS], 1);
		__sync_fetch_and_add(&v->lat_sum_ns, ns);
	} else {
		__sync_fetch_and_add(&v->unmatched, 1);
	}
	if (m->rcode == RA_DNS_RCODE_NXDOMAIN && p->flow.role == RA_ROLE_CLIENT)
		dns_count_name(p, m, false, &s->name);
	return 0;
}

/*
 * TCP: messages carry a 2-byte length prefix (RFC 1035 4.2.2) and may span
 * segments. next_seq tracks where the next prefix starts, per direction; the
 * first payload seen in a direction is taken to start a message.
 */
static __always_inline void dns_tcp(struct __sk_buff *skb, struct ra_dns_pkt *p,
				    struct ra_dns_sk *st)
{
	__u32 payload = p->payload, seg_len, seq = p->seq;
	__u8 d = p->dir & 1;

	if (!st || payload >= p->len)
		return;
	seg_len = p->len - payload;
	if (st->seq_state[d] == RA_DNS_SEQ_LOST)
		return;
	if (st->seq_state[d] == RA_DNS_SEQ_UNKNOWN) {
		st->seq_state[d] = RA_DNS_SEQ_TRACKING;
		st->next_seq[d] = seq;
	}
	for (int i = 0; i < RA_DNS_TCP_MSGS; i++) {
		__u32 delta = st->next_seq[d] - seq;	/* mod 2^32 */
		__u16 prefix;

		if (delta >= seg_len)	/* in a later segment, or a retransmission */
			return;
		if (delta + 2 > seg_len ||
		    bpf_skb_load_bytes(skb, payload + delta, &prefix, sizeof(prefix))) {
			st->seq_state[d] = RA_DNS_SEQ_LOST;
			stat_inc(RA_STAT_DNS_TCP_LOST);
			return;
		}
		prefix = bpf_ntohs(prefix);
		st->next_seq[d] += 2 + prefix;
		dns_message(skb, p, payload + delta + 2, seg_len - delta - 2, prefix);
	}
}

static __always_inline int dns_skb(struct __sk_buff *skb, enum ra_dir dir)
{
	struct ra_dns_pkt p = { .dir = dir };
	struct ra_dns_sk *st;

	/* Most packets are not DNS. A connected socket (TCP, connected UDP)
	 * tells its ports without a packet read; remote_port is in network
	 * byte order in the field's first two bytes (bpf_convert_ctx_access). */
	if (skb->remote_port && !dns_port(bpf_ntohl(skb->remote_port) & 0xffff) &&
	    !dns_port(skb->local_port))
		return 1;
	if (!dns_headers(skb, &p))
		return 1;
	st = dns_owner(skb, &p);
	if (p.proto == IPPROTO_UDP) {
		if (p.payload < p.len)
			dns_message(skb, &p, p.payload, p.len - p.payload, p.len - p.payload);
	} else {
		dns_tcp(skb, &p, st);
	}
	return 1;	/* fail open: never drop */
}

/* bind(2) to a DNS port: the caller is the server. */
static __always_inline int dns_bind(struct bpf_sock *sk)
{
	struct ra_dns_sk *st;

	if (!dns_port(sk->src_port) || !ra_have_current)
		return 1;
	st = bpf_sk_storage_get(&ra_dns_sk, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st) {
		stat_inc(RA_STAT_DNS_SK_STORAGE_FAIL);
		return 1;
	}
	dns_owner_current(st);
	return 1;
}

#endif /* REQACCT_DNS_BPF_H */
