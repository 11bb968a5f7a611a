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

/* ---- HTTP over TLS (bpf/tls.bpf.h) ---- */

#ifndef RA_MAX_HTTP_FLOWS
#define RA_MAX_HTTP_FLOWS 4096	/* ra_http_flows: (flow, method, status) */
#endif
#ifndef RA_MAX_HTTP_CONNS
#define RA_MAX_HTTP_CONNS 16384	/* ra_http_conns: TLS connections with a request */
#endif
#ifndef RA_MAX_TLS_SSL
#define RA_MAX_TLS_SSL 16384	/* ra_tls_ssl: (process, SSL object) -> connection */
#endif
#define RA_MAX_TLS_CALLS 4096	/* ra_tls_calls: SSL_read/SSL_write calls in flight */
#define RA_HTTP_TARGET_MAX 256	/* request-target bytes kept (RFC 9112 3.2): a path
				 * and query, cut at 256 bytes */
#define RA_HTTP_UA_MAX 128	/* User-Agent bytes kept (HTTP/2 requests to Go servers) */
#define RA_HTTP_RING_BYTES (1024 * 1024)	/* ra_http_events: 2000 requests of 512 B */
#ifndef RA_MAX_H2_STREAMS
#define RA_MAX_H2_STREAMS 65536	/* ra_h2_streams: open HTTP/2 streams of Go servers (a
				 * watch is one; 5000 nodes x ~10 watches) */
#endif
#define RA_MAX_H2_UNWATCHED 4096	/* ra_h2_unwatched: HTTP/2 server connections not watched */
#ifndef RA_MAX_K8S_CLIENTS
#define RA_MAX_K8S_CLIENTS 16384	/* ra_k8s_clients: local connections to k8s ports */
#endif
#define RA_RING_POLL_MS 100	/* the loader reads every ring this often (and when
				 * one is a quarter full: ring_flags()) */
#define RA_EXEC_RING_BYTES (64 * 1024)	/* ra_exec_events: 2730 events of 24 B */
#ifndef RA_MAX_GO_SOCKS
#define RA_MAX_GO_SOCKS 16384	/* ra_go_socks: the sockets of Go *tls.Conns, a cache */
#endif
#ifndef RA_MAX_GO_CONNS
#define RA_MAX_GO_CONNS 16384	/* ra_go_conns: Go crypto/tls connections */
#endif

/* Methods with their own series (RFC 9110 9.3, RFC 5789); others are OTHER.
 * X(name): the method token is the name. */
#define RA_HTTP_METHODS(X) X(GET) X(POST) X(PUT) X(PATCH) X(DELETE) X(HEAD) X(OPTIONS) \
	X(CONNECT) X(TRACE)
#define RA_HTTP_M_ENUM(name) RA_HTTP_M_##name,
enum ra_http_method { RA_HTTP_METHODS(RA_HTTP_M_ENUM) RA_HTTP_M_OTHER, RA_HTTP_M_MAX };

/* The TLS library whose calls are probed. Go's reads are seen at their
 * entry only, so the size of what a Go process read is not known. */
enum ra_tls_lib {
	RA_TLS_OPENSSL = 0,	/* SSL_read/SSL_write (+_ex), entry and return */
	RA_TLS_GO = 1,		/* crypto/tls.(*Conn).Read/Write, entry only */
	RA_TLS_LIB_MAX,
};

/* Request duration buckets, microseconds; one more slot for +Inf. */
#define RA_HTTP_LAT_BOUNDS_US 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, \
	500000, 1000000, 2500000, 5000000, 10000000, 30000000, 60000000
#define RA_HTTP_LAT_BOUNDS 15
#define RA_HTTP_LAT_SLOTS (RA_HTTP_LAT_BOUNDS + 1)

/* What an HTTP series describes: a TCP flow (the foundation's key, so the
 * byte counters and the requests describe the same connection), a method
 * and a response status. */
struct ra_http_key {
	struct ra_flow_key flow;
	__u16 status;		/* 100-599 */
	__u8 method;		/* enum ra_http_method */
	__u8 lib;		/* enum ra_tls_lib: whose plaintext was read */
	__u8 pad[4];
};
_Static_assert(sizeof(struct ra_http_key) == 56, "ra_http_key ABI");

struct ra_http_val {
	__u64 requests;		/* responses with this status to requests with this method */
	__u64 req_bytes;	/* request bytes (line, headers, body) as the application
				 * wrote or read them, before encryption */
	__u64 resp_bytes;
	__u64 lat[RA_HTTP_LAT_SLOTS];	/* first request byte to last response byte */
	__u64 lat_sum_ns;
	__u32 last_tgid;
	__u32 pad;
};
_Static_assert(sizeof(struct ra_http_val) == 168, "ra_http_val ABI");

/* An SSL_read/SSL_write call in flight (ra_tls_calls, by thread): what the
 * return probe needs, and the connection the nested send/recv revealed. */
struct ra_tls_call {
	__u64 buf;		/* user address of the plaintext */
	__u64 ssl;		/* SSL * */
	__u64 len_ptr;		/* SSL_*_ex: size_t * of the byte count, else 0 */
	__u64 sk;		/* struct sock *, 0 until a nested send/recv */
	struct ra_flow_key flow;
	__u8 dir;		/* RA_CNT_BYTES_SENT (write) or RA_CNT_BYTES_RECV (read) */
	__u8 slot;		/* the flow's port slot */
	__u8 pad[6];
};
_Static_assert(sizeof(struct ra_tls_call) == 88, "ra_tls_call ABI");

/* (process, SSL object) -> its connection (ra_tls_ssl), for SSL_read calls
 * served from OpenSSL's buffer without a nested recv. */
struct ra_tls_ssl_key {
	__u64 ssl;
	__u32 tgid;
	__u32 pad;
};
_Static_assert(sizeof(struct ra_tls_ssl_key) == 16, "ra_tls_ssl_key ABI");

struct ra_tls_conn {
	__u64 sk;		/* struct sock * */
	struct ra_flow_key flow;
	__u8 slot;
	__u8 pad[7];
};
_Static_assert(sizeof(struct ra_tls_conn) == 64, "ra_tls_conn ABI");

/*
 * HTTP/2 frames in plaintext whose size is known (OpenSSL; what a Go client
 * writes), on a connection seen from its preface: per direction, where the
 * frames are. Frame headers and every payload but DATA's go to the loader
 * (ra_h2_frames, which decodes HPACK: user/h2flow.c); of a DATA payload
 * only its length.
 */
struct ra_h2_walk {
	__u32 need;		/* bytes left of the current frame's payload */
	__u8 copy;		/* that payload goes to the loader (not DATA) */
	__u8 have;		/* bytes of the next frame header in hdr */
	__u8 hdr[9];		/* RFC 9113 4.1 */
	__u8 lost;		/* a chunk had more frames than one walk takes */
};
_Static_assert(sizeof(struct ra_h2_walk) == 16, "ra_h2_walk ABI");

#define RA_H2_CHUNK_MAX 4096	/* bytes of frames in one ra_h2_frames record */
#define RA_H2_RING_BYTES (1024 * 1024)	/* ra_h2_frames */
enum ra_h2_kind {
	RA_H2_BYTES,	/* len bytes of frames (headers, non-DATA payloads) */
	RA_H2_SKIP,	/* skip bytes of DATA payload */
	RA_H2_CLOSE,	/* the connection closed */
	RA_H2_LOST,	/* its frames were lost track of */
};

/* A record of ra_h2_frames: what one direction of a connection carried. */
struct ra_h2_chunk {
	__u64 sk;		/* the connection's struct sock */
	__u64 ns;		/* when */
	struct ra_flow_key flow;
	__u32 len;		/* bytes in data */
	__u32 skip;
	__u8 dir;		/* 0: client to server, 1: server to client */
	__u8 kind;		/* enum ra_h2_kind */
	__u8 lib;		/* enum ra_tls_lib */
	__u8 pad[5];
	__u8 data[RA_H2_CHUNK_MAX];
};
_Static_assert(sizeof(struct ra_h2_chunk) == 80 + RA_H2_CHUNK_MAX, "ra_h2_chunk ABI");

/* The HTTP exchange in progress on a connection (ra_http_conns, by the
 * address of its struct sock, deleted when the socket closes). */
struct ra_http_conn {
	struct ra_http_key key;	/* method set at the request, status at the response */
	__u64 req_start_ns;	/* first request byte */
	__u64 last_resp_ns;	/* last response byte so far */
	__u64 req_bytes;	/* request bytes so far */
	__u64 interim_bytes;	/* 1xx responses' bytes, added to the final one */
	/* The next request, written before the current one's status was seen */
	__u64 next_start_ns;
	__u64 next_req_bytes;
	__u8 next;		/* there is a next request */
	__u8 next_method;
	__u8 state;		/* RA_HTTP_* */
	__u8 pad;
	/* request-targets, up to their first space, on k8s_ports: [0] of the
	 * current request, [1] of the next; length 0 if not known */
	__u32 target_len[2];
	char target[2][RA_HTTP_TARGET_MAX];
	__u64 resp_bytes;	/* of the current exchange's final response so far */
	struct ra_h2_walk h2[2];	/* RA_HTTP_H2: the frames of each direction */
};
_Static_assert(sizeof(struct ra_http_conn) == 672, "ra_http_conn ABI");

/* An exchange that ended (HTTP/1.x: the next request started, or the
 * connection closed; HTTP/2: its stream closed), with its request's target
 * and user agent, for the loader to resolve as a Kubernetes API request
 * (ra_http_events; only for requests on ra_k8s_ports). An HTTP/2 stream in
 * progress is kept in the same form (ra_h2_streams, duration_ns holding its
 * start). */
struct ra_http_event {
	struct ra_flow_key flow;
	struct ra_owner client;	/* a server's local client (ra_k8s_clients); cgroup_id 0:
				 * remote, or not seen connecting */
	__u64 resp_bytes;	/* the response's (0: none; not known for a Go HTTP/1
				 * client); HTTP/2: DATA payload bytes */
	__u64 duration_ns;	/* first request byte to last response byte, 0: no response */
	__u16 status;		/* 0: no final status was seen */
	__u8 method;		/* enum ra_http_method */
	__u8 lib;		/* enum ra_tls_lib */
	__u8 proto;		/* 1: HTTP/1.x, 2: HTTP/2 */
	__u8 pad;
	__u16 target_len;
	__u16 ua_len;		/* 0: no User-Agent known (HTTP/1.x: not read) */
	__u8 pad2[6];
	char target[RA_HTTP_TARGET_MAX];
	char ua[RA_HTTP_UA_MAX];	/* the User-Agent, cut at RA_HTTP_UA_MAX bytes */
};
_Static_assert(sizeof(struct ra_http_event) == 496, "ra_http_event ABI");

/* An HTTP/2 stream of a Go server (ra_h2_streams): its serverConn and id. */
struct ra_h2_stream_key {
	__u64 sc;		/* *serverConn */
	__u32 id;		/* stream id */
	__u32 pad;
};
_Static_assert(sizeof(struct ra_h2_stream_key) == 16, "ra_h2_stream_key ABI");

/* The local end of a client's connection to a k8s port (ra_k8s_clients), so
 * that the server's side of it names the client process. */
struct ra_client_key {
	__u8 addr[RA_ADDR_LEN];	/* v4-mapped for IPv4 */
	__u16 port;		/* host byte order */
	__u8 pad[6];
};
_Static_assert(sizeof(struct ra_client_key) == 24, "ra_client_key ABI");

#define RA_HTTP_IDLE		0	/* no request, or its duration was counted */
#define RA_HTTP_REQUEST		1	/* request seen, no final response yet */
#define RA_HTTP_RESPONSE	2	/* final response started; duration open */
#define RA_HTTP_H2		3	/* the connection speaks HTTP/2 (its preface was
					 * seen): no HTTP/1.x exchanges on it */

/*
 * A Go crypto/tls connection (ra_go_conns, by struct sock address). A Read is
 * seen at its entry, so its buffer is remembered and read at the next Read
 * or Write entry of the same goroutine, which starts after the Read returned.
 * Different goroutines read one connection (net/http's background read, a
 * client's body reads), so there is a slot per goroutine; the one whose
 * reads start messages keeps its slot, the others share the rest. The
 * kernel's receive times (handle_io) give what an entry probe cannot: when
 * a server's request arrived and when a client's response ended.
 */
#define RA_GO_READS 3
struct ra_go_read {
	__u64 g;		/* the goroutine (runtime.g address), 0 = free */
	__u64 buf;		/* user address of the Read's buffer */
	__u64 ns;		/* when the Read started */
	__u32 len;		/* the buffer's length */
	__u32 pad;
};
_Static_assert(sizeof(struct ra_go_read) == 32, "ra_go_read ABI");

struct ra_go_conn {
	struct ra_flow_key flow;	/* of the process below, built at its first call */
	struct ra_go_read rd[RA_GO_READS];
	__u64 head_g;		/* the goroutine whose reads start messages */
	__u64 rx_first_ns;	/* first receive since the last request started */
	__u64 rx_last_ns;	/* last receive */
	__u32 tgid;		/* the process that calls crypto/tls on it */
	__u32 flags;		/* RA_GO_* */
	__u64 tls_conn;		/* its *tls.Conn, when in ra_go_socks */
};
_Static_assert(sizeof(struct ra_go_conn) == 184, "ra_go_conn ABI");
/* Its requests are read from the HTTP/2 server's state (h2.bpf.h): the
 * crypto/tls probes have nothing to do on it. */
#define RA_GO_H2_SERVER 1

/* ra_go_socks: the socket of a Go *tls.Conn, cached (bpf/maps.bpf.h). */
struct ra_go_sock_key {
	__u64 conn;		/* *tls.Conn */
	__u32 tgid;
	__u32 pad;
};

struct ra_go_sock {
	__u64 sk;		/* struct sock * */
	__u64 tcpconn;		/* the *net.TCPConn in the *tls.Conn */
	__u64 file;		/* struct file * of fd */
	__s64 fd;
};
_Static_assert(sizeof(struct ra_go_sock_key) == 16 && sizeof(struct ra_go_sock) == 32, "ra_go_sock ABI");

/* A process to look at for TLS (ra_exec_events): it started a program, or
 * it listens on a watched port (for tls_ports). */
#define RA_PROC_EXEC	0
#define RA_PROC_LISTEN	1
struct ra_exec_event {
	__u64 ns;		/* bpf_ktime_get_ns() at the event (CLOCK_MONOTONIC) */
	__u32 pid;		/* its process */
	__u16 port;		/* RA_PROC_LISTEN: the port */
	__u8 kind;		/* RA_PROC_* */
	__u8 pad;
};
_Static_assert(sizeof(struct ra_exec_event) == 16, "ra_exec_event ABI");

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
	RA_STAT_DNS_FLOWS_FULL,	/* ra_dns_flows had no room: went to ra_dns_overflow */
	RA_STAT_DNS_FLOWS_OTHER,
	RA_STAT_DNS_PENDING_FULL,/* a query could not wait for its answer (no latency) */
	RA_STAT_DNS_NAMES_FULL,	/* a query name could not be counted */
	RA_STAT_DNS_SK_STORAGE_FAIL,
	RA_STAT_DNS_TCP_LOST,	/* TCP DNS stream whose message boundaries were lost */
	RA_STAT_DNS_PARTIAL,	/* TCP message whose question was not in one segment */
	RA_STAT_HTTP_FLOWS_FULL,/* ra_http_flows had no room: went to ra_http_overflow */
	RA_STAT_HTTP_CONNS_FULL,/* a connection's exchange could not be followed */
	RA_STAT_TLS_CALLS_FULL,	/* an SSL call could not be remembered */
	RA_STAT_TLS_SSL_FULL,	/* an SSL object's connection could not be remembered */
	RA_STAT_TLS_NO_CONN,	/* plaintext whose connection was never seen */
	RA_STAT_GO_NO_SOCK,	/* a *tls.Conn whose socket could not be found */
	RA_STAT_GO_CONNS_FULL,	/* a Go connection could not be followed */
	RA_STAT_EXEC_LOST,	/* a started program not reported (ring full) */
	RA_STAT_HTTP_EVENTS_LOST,/* a Kubernetes request not resolved (ring full) */
	RA_STAT_H2_STREAMS_FULL,/* an HTTP/2 stream could not be followed (ra_h2_streams) */
	RA_STAT_H2_UNSEEN,	/* an HTTP/2 stream closed whose request was not seen
				 * (it started before the agent) */
	RA_STAT_H2_NO_SOCK,	/* an HTTP/2 server connection whose socket was not found
				 * (not over TLS: h2c) */
	RA_STAT_H2_FRAMES_LOST,	/* HTTP/2 frames not sent to the loader (ring full) */
	RA_STAT_HTTP_CONN_REUSED,	/* HTTP state found on a reused struct sock: finished then */
	RA_STAT_MAX,
};

/* The overflow bucket: what could not get its own flow, per role and port slot. */
#define RA_OVERFLOW_SLOTS (RA_ROLE_MAX * RA_MAX_PORTS)

/* ---- DNS (bpf/dns.bpf.h) ---- */

#ifndef RA_MAX_DNS_FLOWS
#define RA_MAX_DNS_FLOWS 4096	/* ra_dns_flows: DNS counters per flow */
#endif
#ifndef RA_MAX_DNS_PENDING
#define RA_MAX_DNS_PENDING 16384	/* ra_dns_pending slots: queries awaiting their
					 * answer (a power of two) */
#endif
#define RA_DNS_PENDING_WAYS 4	/* slots per set of ra_dns_pending */
#ifndef RA_MAX_DNS_NAMES
#define RA_MAX_DNS_NAMES 8192	/* ra_dns_names: (flow, query name) counters */
#endif
#define RA_MAX_DNS_PORTS 4	/* DNS ports (config dns_ports) */
#define RA_DNS_NAME_MAX 128	/* bytes of a query name kept (power of two), NUL included */

/* Query types with their own series (IANA DNS parameters registry); others
 * are counted as OTHER. X(label, number). */
#define RA_DNS_QTYPES(X) X(A, 1) X(NS, 2) X(CNAME, 5) X(SOA, 6) X(PTR, 12) X(MX, 15) \
	X(TXT, 16) X(AAAA, 28) X(SRV, 33) X(SVCB, 64) X(HTTPS, 65) X(ANY, 255)
#define RA_DNS_QT_ENUM(name, num) RA_DNS_QT_##name,
enum ra_dns_qtype_slot { RA_DNS_QTYPES(RA_DNS_QT_ENUM) RA_DNS_QT_OTHER, RA_DNS_QT_MAX };

/* Response codes 0-5 (RFC 1035 4.1.1) have their own slot; 6-15 share OTHER. */
#define RA_DNS_RCODE_NXDOMAIN 3
#define RA_DNS_RC_OTHER 6
#define RA_DNS_RC_MAX 7

/* Latency histogram upper bounds, microseconds; one more slot for +Inf. */
#define RA_DNS_LAT_BOUNDS_US 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, \
	250000, 500000, 1000000, 2500000, 5000000
#define RA_DNS_LAT_BOUNDS 14
#define RA_DNS_LAT_SLOTS (RA_DNS_LAT_BOUNDS + 1)

/* DNS counters of a flow (key: struct ra_flow_key, port = the DNS port). */
struct ra_dns_val {
	__u64 queries[RA_DNS_QT_MAX];	/* by enum ra_dns_qtype_slot */
	__u64 responses[RA_DNS_RC_MAX];	/* by rcode slot */
	__u64 lat[RA_DNS_LAT_SLOTS];	/* answered queries by latency bucket (not cumulative) */
	__u64 lat_sum_ns;
	__u64 truncated;		/* responses with TC set */
	__u64 malformed;		/* messages the parser rejected */
	__u64 unmatched;		/* responses to no pending query */
	__u32 last_tgid;
	__u32 pad;
};
_Static_assert(sizeof(struct ra_dns_val) == 320, "ra_dns_val ABI");

/* A query awaiting its response: matched by socket, peer port and id. */
struct ra_dns_pending_key {
	__u64 cookie;		/* socket cookie (bpf_get_socket_cookie) */
	__u8 peer[RA_ADDR_LEN];
	__u16 peer_port;	/* host byte order */
	__u16 id;		/* DNS transaction id */
	__u32 pad;
};
_Static_assert(sizeof(struct ra_dns_pending_key) == 32, "ra_dns_pending_key ABI");

/*
 * A slot of ra_dns_pending, a set-associative table in an array (no
 * allocation per query, unlike a hash map). sent_ns is the slot's state,
 * changed only with compare-and-swap: 0 free, RA_DNS_SLOT_BUSY while the
 * query's program fills it, else the query's bpf_ktime_get_ns()
 * (CLOCK_MONOTONIC). Whoever swaps a time for 0 owns the query: the answer
 * (a latency) or the loader's timeout sweep (a timeout).
 */
struct ra_dns_pending {
	struct ra_dns_pending_key key;
	struct ra_flow_key flow;	/* where its timeout is counted */
	__u64 sent_ns;
};
_Static_assert(sizeof(struct ra_dns_pending) == 88, "ra_dns_pending ABI");
#define RA_DNS_SLOT_BUSY 1

/* Query names per flow, hashed in the kernel; user space keeps the top K. */
struct ra_dns_name_key {
	struct ra_flow_key flow;
	__u64 hash;		/* FNV-1a 64 of the lowercased dotted name */
};
_Static_assert(sizeof(struct ra_dns_name_key) == 56, "ra_dns_name_key ABI");

struct ra_dns_name_val {
	__u64 queries;
	__u64 nxdomain;		/* NXDOMAIN responses for this name */
	__u32 last_tgid;
	__u8 cut;		/* name holds only its first RA_DNS_NAME_MAX - 1 bytes */
	__u8 pad[3];
	char name[RA_DNS_NAME_MAX];
};
_Static_assert(sizeof(struct ra_dns_name_val) == 152, "ra_dns_name_val ABI");

/* Per-socket DNS state (ra_dns_sk, cloned to accepted sockets). */
struct ra_dns_sk {
	struct ra_owner owner;	/* tgid != 0 once known */
	__u32 next_seq[2];	/* TCP: sequence number of the next message's length
				 * prefix, by direction (RA_DIR_*) */
	__u8 seq_state[2];	/* RA_DNS_SEQ_* */
	__u8 pad[6];
};
_Static_assert(sizeof(struct ra_dns_sk) == 48, "ra_dns_sk ABI");

enum ra_dir { RA_DIR_EGRESS = 0, RA_DIR_INGRESS = 1 };
#define RA_DNS_SEQ_UNKNOWN	0	/* no payload seen yet in this direction */
#define RA_DNS_SEQ_TRACKING	1	/* next_seq is where the next message starts */
#define RA_DNS_SEQ_LOST		2	/* a length prefix straddled segments: given up */

#endif /* REQACCT_ABI_H */
