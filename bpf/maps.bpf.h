/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * maps.bpf.h - every map of reqacct's BPF programs, with its bound. The
 * inventory with sizes and overflow behaviour is in docs/architecture.md.
 */
#ifndef REQACCT_MAPS_BPF_H
#define REQACCT_MAPS_BPF_H

#include "reqacct_abi.h"
#include "dns_parse.h"

/* Flow counters. A plain (preallocated) hash, not an LRU: an LRU would evict
 * live counters silently. When it is full, new flows go to ra_overflow. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RA_MAX_FLOWS);
	__type(key, struct ra_flow_key);
	__type(value, struct ra_flow_val);
} ra_flows SEC(".maps");

/* The overflow bucket, per (role, port slot). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RA_OVERFLOW_SLOTS);
	__type(key, __u32);
	__type(value, struct ra_flow_val);
} ra_overflow SEC(".maps");

/* Failure counters, indexed by enum ra_stat. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RA_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} ra_stats SEC(".maps");

/* Watched ports: ra_ports[port] is the port's slot + 1, or 0 if not watched. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RA_PORT_SPACE);
	__type(key, __u32);
	__type(value, __u8);
} ra_ports SEC(".maps");

/* Owners of listening sockets on watched ports, to attribute passive opens
 * (which run in softirq context). Written at listen(2) and seeded by the
 * loader from /proc for listeners older than the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RA_MAX_LISTENERS);
	__type(key, struct ra_listener_key);
	__type(value, struct ra_owner);
} ra_listeners SEC(".maps");

/* Per-socket state, freed by the kernel with the socket: bounded by the
 * number of open sockets on watched ports, so it needs no max_entries. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ra_sk_state);
} ra_sk SEC(".maps");

/* DNS counters per flow; like ra_flows, a plain hash that overflows into
 * ra_dns_overflow (per role and DNS port) when full. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RA_MAX_DNS_FLOWS);
	__type(key, struct ra_flow_key);
	__type(value, struct ra_dns_val);
} ra_dns_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RA_ROLE_MAX * RA_MAX_DNS_PORTS);
	__type(key, __u32);
	__type(value, struct ra_dns_val);
} ra_dns_overflow SEC(".maps");

/* Queries awaiting their response (struct ra_dns_pending: a set of
 * RA_DNS_PENDING_WAYS slots per hash of the key). Mappable: the loader's
 * timeout sweep reads and claims slots in place. When a set has no free
 * slot, the query is counted but gets no latency (RA_STAT_DNS_PENDING_FULL). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, RA_MAX_DNS_PENDING);
	__type(key, __u32);
	__type(value, struct ra_dns_pending);
} ra_dns_pending SEC(".maps");

/* Query names per client flow (queries and NXDOMAIN answers). When full, new names
 * are not counted (RA_STAT_DNS_NAMES_FULL); the flow's counters still are. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RA_MAX_DNS_NAMES);
	__type(key, struct ra_dns_name_key);
	__type(value, struct ra_dns_name_val);
} ra_dns_names SEC(".maps");

/* Per-socket DNS state; copied to sockets accepted from a listener. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct ra_dns_sk);
} ra_dns_sk SEC(".maps");

/* Per-CPU scratch for one packet: the payload copy and the parse result do
 * not fit the 512-byte BPF stack. */
struct ra_dns_scratch {
	__u8 buf[RA_DNS_BUF];
	struct ra_dns_msg msg;
	struct ra_dns_name_val name;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ra_dns_scratch);
} ra_dns_scratch SEC(".maps");

/* SSL_read/SSL_write calls in flight, by thread (deleted at return). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RA_MAX_TLS_CALLS);
	__type(key, __u64);
	__type(value, struct ra_tls_call);
} ra_tls_calls SEC(".maps");

/* (process, SSL object) -> connection. An LRU: SSL objects are freed without
 * a probe telling, so old entries must make room; losing one costs only the
 * attribution of a later buffered SSL_read (RA_STAT_TLS_NO_CONN). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, RA_MAX_TLS_SSL);
	__type(key, struct ra_tls_ssl_key);
	__type(value, struct ra_tls_conn);
} ra_tls_ssl SEC(".maps");

/* The HTTP exchange in progress per connection (struct sock address),
 * deleted when the connection closes. Allocated per entry: memory follows
 * the open connections (632 B each), not the capacity. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, RA_MAX_HTTP_CONNS);
	__type(key, __u64);
	__type(value, struct ra_http_conn);
} ra_http_conns SEC(".maps");

/* Go crypto/tls connections (struct sock address): the reads waiting to be
 * looked at, receive times. Deleted when the connection closes; allocated
 * per entry. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, RA_MAX_GO_CONNS);
	__type(key, __u64);
	__type(value, struct ra_go_conn);
} ra_go_conns SEC(".maps");

/* The socket of a Go *tls.Conn (in a process), found once through the
 * process's file table (go_conn_sock(): three user memory reads, ~110 ns each)
 * and then taken from here (go_tls_conn()) after two checks: the *tls.Conn
 * still holds the same *net.TCPConn, and the file descriptor the same file.
 * Entries go when their connection starts to close (handle_state(): before
 * Go can free the *tls.Conn and reuse its memory). An LRU: an evicted entry
 * is only found the slow way again. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, RA_MAX_GO_SOCKS);
	__type(key, struct ra_go_sock_key);
	__type(value, struct ra_go_sock);
} ra_go_socks SEC(".maps");

/* Pids of programs just started (ra_exec), for the loader to probe. Full:
 * RA_STAT_EXEC_LOST, and the periodic rescan finds them. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RA_EXEC_RING_BYTES);
} ra_exec_events SEC(".maps");

/* Requests on Kubernetes API ports with their targets, for the loader to
 * resolve (verb, resource). Full: RA_STAT_HTTP_EVENTS_LOST. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RA_HTTP_RING_BYTES);
} ra_http_events SEC(".maps");

/* HTTP/2 streams of Go servers in progress (serverConn, stream id), from
 * their request (processHeaders) to their close (closeStream). Allocated per
 * entry; full: RA_STAT_H2_STREAMS_FULL. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, RA_MAX_H2_STREAMS);
	__type(key, struct ra_h2_stream_key);
	__type(value, struct ra_http_event);
} ra_h2_streams SEC(".maps");

/* serverConns of Go's HTTP/2 server on connections that are not watched
 * (their streams are not followed), so that their streams' closes are not
 * taken for streams whose request came before the agent. An LRU: a
 * forgotten one is looked up again (its socket, once). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, RA_MAX_H2_UNWATCHED);
	__type(key, __u64);
	__type(value, __u8);
} ra_h2_unwatched SEC(".maps");

/* The local ends of connections to k8s ports -> the client process, for the
 * server's side to name it. An LRU: a closed connection's entry stays until
 * its address and port are reused or room is needed (the kernel has cleared
 * the local port when the close is seen). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, RA_MAX_K8S_CLIENTS);
	__type(key, struct ra_client_key);
	__type(value, struct ra_owner);
} ra_k8s_clients SEC(".maps");

/* HTTP/2 frames of connections seen from their preface, for the loader to
 * decode (user/h2flow.c). Full: RA_STAT_H2_FRAMES_LOST, and the connection
 * is given up. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RA_H2_RING_BYTES);
} ra_h2_frames SEC(".maps");

/* Per-CPU room for a record of ra_h2_frames. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ra_h2_chunk);
} ra_h2_chunk_scratch SEC(".maps");

/* HTTP/2 header names in programs' read-only data (h2_name()): per CPU,
 * direct-mapped by address; a slot taken by another name is read again. */
#define RA_H2_NAME_SLOTS 256

struct ra_h2_name {
	__u64 mm;		/* struct mm_struct * of the process */
	__u64 ptr;		/* the name's address there */
	__u32 len;
	__u32 kind;		/* H2_F_* or 0 */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RA_H2_NAME_SLOTS);
	__type(key, __u32);
	__type(value, struct ra_h2_name);
} ra_h2_names SEC(".maps");

/* Per-CPU room for a new entry of ra_go_conns. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ra_go_conn);
} ra_go_conn_scratch SEC(".maps");

/* Per-CPU room for an HTTP/2 stream while its request is read. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ra_http_event);
} ra_h2_scratch SEC(".maps");

/* Per-CPU room for a request-target while its end is looked for. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[RA_HTTP_TARGET_MAX]);
} ra_http_scratch SEC(".maps");

/* HTTP counters per (flow, method, status); full: ra_http_overflow. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RA_MAX_HTTP_FLOWS);
	__type(key, struct ra_http_key);
	__type(value, struct ra_http_val);
} ra_http_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RA_ROLE_MAX);
	__type(key, __u32);
	__type(value, struct ra_http_val);
} ra_http_overflow SEC(".maps");

#endif /* REQACCT_MAPS_BPF_H */
