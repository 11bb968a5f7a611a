/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * peers.h - the peer budget: at most max_peers peer addresses with series
 * of their own per (process, role, port), the rest shown as peer="other".
 *
 * A server with 100,000 clients would otherwise export a row per client in
 * every per-flow family (TCP, HTTP): 150,000 samples and 23 MB per scrape
 * at the default flow table size. The per-client cost of an API server's
 * clients is in the reqacct_k8s_* families, ranked; these families keep
 * the first max_peers peers of each process (the larger first among those
 * first seen at one scrape) and sum the others.
 *
 * A flow is judged once, when a scrape first sees it, and keeps its
 * verdict: the kernel's counters never decrease and the set of flows summed
 * into "other" only grows, so every series stays monotonic.
 */
#ifndef REQACCT_PEERS_H
#define REQACCT_PEERS_H

#include <stddef.h>
#include <linux/types.h>

#include "reqacct_abi.h"

struct peers;

/* max_peers per (cgroup, comm, role, port); at most cap flows judged. */
struct peers *peers__new(__u32 max_peers, __u32 cap);
void peers__free(struct peers *p);

/* Fold the n entries of a dumped map in place: keys (ksz bytes each, a
 * struct ra_flow_key first) and values (vsz bytes, their first nsum __u64
 * summed) of flows beyond the budget get the peer PEERS_OTHER and are
 * merged into one entry per key. weight(val) orders the flows first seen
 * now (larger first). Returns the new count. Not thread-safe: the caller
 * holds the collection lock. */
__u32 peers__fold(struct peers *p, void *keys, void *vals, __u32 n, size_t ksz, size_t vsz,
		  size_t nsum, __u64 (*weight)(const void *val));

/* The peer address of the folded flows: all ones, which no peer has. */
extern const __u8 PEERS_OTHER[RA_ADDR_LEN];

#endif
