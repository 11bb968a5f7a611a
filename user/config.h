/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * config.h - the agent's configuration: defaults, a `key = value` file and
 * command-line options, in that order of precedence (last wins). Every
 * parse error names the source, the line and what is wrong.
 */
#ifndef REQACCT_CONFIG_H
#define REQACCT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "reqacct_abi.h"

enum hook_mode {
	HOOK_AUTO,		/* tracepoints where the kernel has them, else sockops */
	HOOK_TRACEPOINT,	/* sock:sock_{send,recv}_length (Linux 6.3+) */
	HOOK_SOCKOPS,		/* sockops byte deltas (fallback, Linux 5.15+) */
};

/* Peers with series of their own per process, role and port (peers.h): a
 * server's busiest clients stay visible, and a server with 100k clients
 * costs hundreds of series per family, not 100k. */
#define MAX_PEERS_DEFAULT 100
#define CONFIG_PATH_MAX 4096
#define CONFIG_ERR_MAX 512
#define CONFIG_TLS_LIBS_MAX 8

struct ra_config {
	char listen[128];		/* ADDR:PORT of the metrics endpoint */
	__u16 ports[RA_MAX_PORTS];	/* watched TCP ports */
	__u32 nports;
	__u32 max_flows;		/* ra_flows entries */
	__u32 max_peers;		/* peers with series of their own per process, role, port */
	__u32 max_listeners;		/* ra_listeners entries */
	enum hook_mode hook;
	char cgroup[CONFIG_PATH_MAX];	/* cgroup v2 dir for the sockops fallback; "" = root */
	char cgroupfs[CONFIG_PATH_MAX];	/* cgroup v2 mount; "" = from /proc/self/mountinfo */
	char pod_logs_dir[CONFIG_PATH_MAX];	/* the kubelet's pod log directories */
	char snapshot_file[CONFIG_PATH_MAX];	/* "": no snapshots */
	bool dns;			/* DNS accounting on (cgroup_skb programs) */
	__u16 dns_ports[RA_MAX_DNS_PORTS];
	__u32 ndns_ports;
	__u32 dns_timeout_ms;		/* a query unanswered this long timed out */
	__u32 dns_top_names;		/* query names exported per flow */
	__u32 dns_max_flows;		/* ra_dns_flows entries */
	__u8 tls;			/* HTTP over TLS: CONFIG_TLS_* libraries probed */
	char tls_libs[CONFIG_TLS_LIBS_MAX][CONFIG_PATH_MAX];	/* more libssl files */
	__u32 ntls_libs;
	__u32 tls_rescan_s;		/* look for new libssl files this often; 0: never */
	char tls_comms[CONFIG_TLS_LIBS_MAX][16];	/* probe only these processes */
	__u32 ntls_comms;
	__u16 tls_ports[RA_MAX_PORTS];	/* and those listening on these ports */
	__u32 ntls_ports;
	__u16 k8s_ports[RA_MAX_PORTS];	/* HTTP on these is the Kubernetes API */
	__u32 nk8s_ports;
	__u32 k8s_max_series;		/* rows of each Kubernetes request table */
	__u32 k8s_top_clients;		/* clients of a server with rows of their own */
	__u32 k8s_top_window_s;		/* over which their cost is compared */
	__u32 h2_stream_max_age_s;	/* HTTP/2 streams open longer are forgotten */
	__u32 netns_scan_s;		/* network namespace addresses read this often */
	__u32 snapshot_s;		/* the metrics written to snapshot_file this often */
	/* The scrape endpoint (websec.h): TLS when both files are set, basic
	 * auth when the users file is. */
	char web_tls_cert_file[CONFIG_PATH_MAX];
	char web_tls_key_file[CONFIG_PATH_MAX];
	char web_basic_auth_file[CONFIG_PATH_MAX];
	char config_file[CONFIG_PATH_MAX];	/* -c FILE ("": none), re-read on SIGHUP */
};

/* The TLS libraries whose plaintext is read (config key tls). */
#define CONFIG_TLS_GO		0x1	/* Go crypto/tls: entry probes, ~1 us a call */
#define CONFIG_TLS_OPENSSL	0x2	/* OpenSSL: entry + return probes, ~15 us a call */

/* Defaults: ports of the apiserver (6443, 443), etcd (2379), kubelet (10250), DNS (53);
 * DNS accounting on port 53, 5 s timeout (glibc's and Go's resolver default). */
void config__defaults(struct ra_config *c);

/* Parse text (a config file's content, named name in errors). 0 or -EINVAL
 * with a message in err. */
int config__parse_text(struct ra_config *c, const char *text, const char *name,
		       char *err, size_t errlen);
int config__parse_file(struct ra_config *c, const char *path, char *err, size_t errlen);

/* Set one key, as the file and the command line do; src names the source. */
int config__set(struct ra_config *c, const char *key, const char *val, const char *src,
		char *err, size_t errlen);

/* Parse "ADDR:PORT", "[V6ADDR]:PORT" or ":PORT" (all addresses). */
int config__parse_listen(const char *s, char *host, size_t hostlen, __u16 *port);

const char *config__hook_name(enum hook_mode m);

/*
 * The keys as a reload sees them: whether a running agent can take a new
 * value (live: read by user space at each use) or needs a restart (map
 * sizes, programs, attachments, the listening socket).
 */
enum config_kind { CONFIG_U32, CONFIG_U8, CONFIG_BOOL, CONFIG_ENUM, CONFIG_STR, CONFIG_LIST };
struct config_key {
	const char *key;
	enum config_kind kind;
	size_t off;		/* of the value in struct ra_config */
	size_t elem;		/* CONFIG_LIST: bytes of an element */
	size_t count_off;	/* CONFIG_LIST: of the __u32 count */
	bool live;
};
extern const struct config_key config_keys[];
extern const size_t config_nkeys;
/* Does key k differ between a and b? */
bool config__differs(const struct ra_config *a, const struct ra_config *b,
		     const struct config_key *k);
/* Copy key k's value from src to dst (a live key's, with atomic stores for
 * the numbers other threads read). */
void config__copy(struct ra_config *dst, const struct ra_config *src, const struct config_key *k);

/* Is port one of ports[0..n)? */
bool config__has_port(const __u16 *ports, __u32 n, __u16 port);

#endif
