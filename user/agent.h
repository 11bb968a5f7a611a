/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* agent.h - the running agent: loaded programs, configuration, caches. */
#ifndef REQACCT_AGENT_H
#define REQACCT_AGENT_H

#include <stdbool.h>
#include <linux/types.h>

#include "config.h"
#include "reqacct_abi.h"

struct reqacct_bpf;
struct cgroup_names;

struct agent {
	struct ra_config cfg;
	struct reqacct_bpf *skel;
	struct cgroup_names *cgroups;
	enum hook_mode hook;		/* resolved: HOOK_TRACEPOINT or HOOK_SOCKOPS */
	double last_scrape_seconds;	/* duration of the previous collection */
	__u64 scrapes;
	__u64 reloads_ok, reloads_error;	/* SIGHUP re-reads of the config file */
	__u64 reload_success_time;	/* Unix time (s) of the last good load (start, reload) */
	__u64 listeners_seeded;
	int ncpus;
	bool dns_have_current;		/* DNS attributed to processes (Linux 6.1+) */
	struct dns_state *dns;		/* timeouts and names kept in user space (dns.c) */
	struct tls_state *tls;		/* probed TLS libraries, programs, links (tls.c) */
	struct k8s_state *k8s;		/* Kubernetes API requests by verb, resource (k8s.c) */
	struct h2flow_state *h2flow;	/* HTTP/2 decoded from frames (h2flow.c) */
	struct netns_state *netns;	/* addresses of this node's namespaces (netns.c) */
	struct pods_state *pods;	/* what the cgroups are (pods.c) */
	struct peers *peers;		/* the peer budget of the flow families (peers.c) */
};

int do_agent(int argc, char **argv);

/* Defaults, then the --config file, then the other options: the last word
 * wins. 0, 1 for --help, or -EINVAL with a message in err. */
int agent__parse_args(struct ra_config *cfg, int argc, char **argv, char *err, size_t errlen);

/* Write every metric of the agent into a prom_buf (collect.c). */
struct prom_buf;
void collect__metrics(struct agent *a, struct prom_buf *b);
/* The metrics into path (written to path.tmp, then renamed over it). 0 or -errno. */
int collect__snapshot(struct agent *a, const char *path);

/* The label values of a flow (collect.c), shared by the TCP and DNS families. */
#define FLOW_LABELS 5	/* role, cgroup, comm, port, peer */
#define PEER_OVERFLOW "overflow"	/* every label of an overflow bucket */
#define PEER_OTHER "other"	/* the peers beyond the budget (peers.h) */
struct ra_flow_key;
struct prom_label;
struct flow_names {
	const char *role;
	const char *cgroup;	/* the cgroup's path, or cgroup_buf */
	char cgroup_buf[32];	/* "id:N" for an id without a name */
	char comm[RA_COMM_LEN + 1];
	char peer[46];		/* INET6_ADDRSTRLEN */
	char port[8];
};
extern const char *const role_names[];
void flow_names(struct agent *a, const struct ra_flow_key *k, struct flow_names *n);
void flow_names_overflow(struct flow_names *n, __u8 role, __u16 port);
int flow_names_cmp(const struct flow_names *a, const struct flow_names *b);
/* l[0..FLOW_LABELS) = the flow's labels, pointing into n. */
void flow_labels(const struct flow_names *n, struct prom_label *l);

/* The samples of one histogram series: buckets[0..nbounds] are per bucket
 * (not cumulative; the last is +Inf), bounds in microseconds. l has room for
 * nl + 1 labels (le). */
void histogram_samples(struct prom_buf *b, const char *family, struct prom_label *l, size_t nl,
		       const __u64 *buckets, const __u32 *bounds_us, int nbounds, __u64 sum_ns);

/* Read up to max entries of a hash map (in batches where the kernel can). */
int dump_hash(int fd, size_t ksz, size_t vsz, __u32 max, void *keys, void *vals, __u32 *n);
/* A per-CPU map's value at key: vsz bytes for each CPU into vals. 0 or -errno. */
int percpu_lookup(struct agent *a, int fd, const void *key, void *vals, size_t vsz);
/* Entries of a hash map (key by key: for maps whose entries are few). */
__u32 count_entries(int fd, size_t ksz);

/* DNS state kept in user space (dns.c): timeouts, top names, search-path waste. */
struct dns_state *dns__new(struct agent *a);
void dns__free(struct dns_state *d);
/* Count queries pending longer than the timeout as timed out. Every second. */
void dns__sweep(struct agent *a);
/* Queries awaiting an answer at the last sweep (entries of ra_dns_pending). */
__u32 dns__pending(struct agent *a);
/* Entries of maps that a collection reads anyway, for the self-metrics. */
struct map_entries {
	__u32 dns_flows, dns_names, http_flows;
};
void dns__collect(struct agent *a, struct prom_buf *b, struct map_entries *e);

/* HTTP over TLS (tls.c): probe the OpenSSL libraries and Go programs found;
 * families. */
int tls__attach(struct agent *a);
/* Probe libssl files mapped by processes started since (new containers). */
void tls__rescan(struct agent *a);
/* Programs started (ra_exec): an fd to wait on (-1: none), and reading it. */
int tls__exec_fd(struct agent *a);
void tls__exec_events(struct agent *a);
void tls__poll(struct agent *a);	/* read the ring buffers, every RA_RING_POLL_MS */
void tls__free(struct tls_state *t);
void tls__collect(struct agent *a, struct prom_buf *b, struct map_entries *e);
/* "GET", ..., "other": the name of an enum ra_http_method. */
const char *http__method_name(__u8 m);

/* Kubernetes API requests (k8s.c): ra_http_events resolved and counted. */
struct k8s_state *k8s__new(__u32 max_series, __u32 top_clients, __u32 top_window_s);
void k8s__free(struct k8s_state *s);
int k8s__on_request(void *ctx, void *data, size_t len);	/* a ring_buffer callback */
void k8s__collect(struct agent *a, struct prom_buf *b);
void k8s__sweep(struct agent *a);	/* forget HTTP/2 streams open too long */
/* New k8s_top_clients and k8s_top_window_s (a reload): from the next window. */
void k8s__set_top(struct k8s_state *s, __u32 top_clients, __u32 top_window_s);

/* HTTP/2 decoded from frames (h2flow.c): ra_h2_frames records. */
struct h2flow_state *h2flow__new(void);
void h2flow__free(struct h2flow_state *s);
int h2flow__on_chunk(void *ctx, void *data, size_t len);	/* a ring_buffer callback */
void h2flow__collect(struct agent *a, struct prom_buf *b);

/* Record owners of listening sockets that predate the agent (listeners.c).
 * Returns the number of listeners written, or -errno. */
int listeners__seed(struct agent *a);

#endif
