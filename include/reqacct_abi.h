/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * reqacct_abi.h - the types and limits shared by the BPF programs (bpf/) and
 * the loader (user/). Only fixed-width types; every struct is size-checked.
 * Nothing else belongs here.
 */
#ifndef REQACCT_ABI_H
#define REQACCT_ABI_H

/* Map sizes. Each can be overridden at build time, and the flow table also at
 * run time (config key max_flows), through bpf_map__set_max_entries(). */
#ifndef RA_MAX_FLOWS
#define RA_MAX_FLOWS 16384	/* ra_flows: (cgroup, comm, role, port, peer) */
#endif
#ifndef RA_MAX_LISTENERS
#define RA_MAX_LISTENERS 1024	/* ra_listeners: (netns, port) of listening sockets */
#endif
#define RA_MAX_PORTS 16		/* watched ports; slot 0 means "not watched" */
#define RA_PORT_SPACE 65536	/* ra_ports: one u8 slot per TCP port */

#define RA_COMM_LEN 16		/* TASK_COMM_LEN, include/linux/sched.h */
#define RA_ADDR_LEN 16		/* IPv6 address; IPv4 is stored v4-mapped */

enum ra_role {
	RA_ROLE_CLIENT = 0,	/* the local side opened the connection */
	RA_ROLE_SERVER = 1,	/* the local side accepted it */
	RA_ROLE_MAX,
};

/* The counters of a flow; the first two double as the direction of a transfer. */
enum ra_counter {
	RA_CNT_BYTES_SENT = 0,	/* payload bytes the local side sent */
	RA_CNT_BYTES_RECV = 1,	/* payload bytes the local side received */
	RA_CNT_CONNS_OPENED,	/* reached ESTABLISHED */
	RA_CNT_CONNS_CLOSED,	/* reached CLOSE after being counted as opened */
	RA_CNT_CONNECT_ERRORS,	/* SYN_SENT -> CLOSE: refused, timed out, reset */
	RA_CNT_MAX,
};

/*
 * A flow: what one series of reqacct_tcp_* describes. The process is named by
 * its comm and cgroup (not its pid) so that short-lived clients do not grow the
 * table; the last pid seen is kept in the value for the top view.
 * peer is the remote address (no port): the server for a client flow, the
 * client for a server flow. port is the watched port (the server's port).
 */
struct ra_flow_key {
	__u64 cgroup_id;	/* cgroup v2 id (inode of its cgroupfs directory) */
	__u8 peer[RA_ADDR_LEN];
	char comm[RA_COMM_LEN];
	__u16 port;		/* host byte order */
	__u8 role;		/* enum ra_role */
	__u8 pad[5];
};
_Static_assert(sizeof(struct ra_flow_key) == 48, "ra_flow_key ABI");

/* Monotonic counters of one flow. Only ever increased (atomically). */
struct ra_flow_val {
	__u64 cnt[RA_CNT_MAX];	/* indexed by enum ra_counter */
	__u32 last_tgid;
	__u32 pad;
};
_Static_assert(sizeof(struct ra_flow_val) == 48, "ra_flow_val ABI");

/*
 * Owner of a socket (ra_sk sk_storage and ra_listeners values): who opened it
 * (connect(2) or listen(2), both run in the caller's context) so that events
 * that run in softirq context (the passive open, the close) can be attributed.
 */
struct ra_owner {
	__u64 cgroup_id;
	char comm[RA_COMM_LEN];
	__u32 tgid;
	__u16 port;		/* the watched port; kept because the kernel clears
				 * the local port of a socket before its CLOSE event */
	__u8 role;		/* enum ra_role */
	__u8 flags;		/* RA_SK_* */
};
_Static_assert(sizeof(struct ra_owner) == 32, "ra_owner ABI");

#define RA_SK_OPENED	0x1	/* conns_opened was counted for this socket */
#define RA_COMM_UNKNOWN	"(unknown)"	/* comm of an accepted socket whose listener
					 * the agent never saw */

/*
 * Per-socket state (ra_sk): the owner recorded at open (owner.port != 0), the
 * sockops byte counters already counted, and a cache of the flow of the last
 * process that did I/O on the socket, so that a send or receive costs one
 * helper call and one hash update instead of rebuilding the key. io_seq is a
 * sequence lock: odd while io_key is being written, 0 until first written.
 */
struct ra_sk_state {
	struct ra_owner owner;
	__u64 seen[2];		/* sockops: bytes_acked / bytes_received already
				 * counted, indexed by RA_CNT_BYTES_SENT / _RECV */
	struct ra_flow_key io_key;
	__u64 io_seq;		/* 64 bits: BPF atomics before -mcpu=v3 */
	__u32 io_tgid;
	__u8 io_slot;
	__u8 pad[3];
};
_Static_assert(sizeof(struct ra_sk_state) == 112, "ra_sk_state ABI");

struct ra_listener_key {
	__u32 netns_ino;	/* inode of the network namespace (/proc/PID/ns/net) */
	__u16 port;		/* host byte order */
	__u16 pad;
};
_Static_assert(sizeof(struct ra_listener_key) == 8, "ra_listener_key ABI");

/*
 * Global counters (ra_stats, a per-CPU array indexed by this enum): every
 * update the programs could not make is counted here, never lost silently.
 */
enum ra_stat {
	RA_STAT_FLOWS_FULL,	/* ra_flows had no room: event went to ra_overflow */
	RA_STAT_FLOWS_NOMEM,	/* ra_flows update failed with -ENOMEM */
	RA_STAT_FLOWS_OTHER,	/* ra_flows update failed otherwise */
	RA_STAT_LISTENERS_FULL,	/* ra_listeners had no room */
	RA_STAT_LISTENERS_OTHER,
	RA_STAT_SK_STORAGE_FAIL,/* bpf_sk_storage_get(F_CREATE) returned NULL */
	RA_STAT_OWNER_UNKNOWN,	/* passive open on a listener the agent never saw */
	RA_STAT_MAX,
};

/* The overflow bucket: what could not get its own flow, per role and port slot. */
#define RA_OVERFLOW_SLOTS (RA_ROLE_MAX * RA_MAX_PORTS)

#endif /* REQACCT_ABI_H */
