/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* netns.h - the addresses of this node's network namespaces (netns.c). */
#ifndef REQACCT_NETNS_H
#define REQACCT_NETNS_H

#include <arpa/inet.h>
#include <stdbool.h>

struct netns_state;
struct prom_buf;

struct netns_state *netns__new(void);
void netns__free(struct netns_state *s);
void netns__scan(struct netns_state *s);	/* main thread */
void netns__collect(struct netns_state *s, struct prom_buf *b);	/* scrape thread */

/* The local IPv4 addresses (not 127/8) of a /proc/PID/net/fib_trie text,
 * and the global IPv6 ones (not ::1) of an if_inet6 text: up to max into
 * out; how many. Exposed for tests and the fuzzer. */
int netns__fib_local(const char *text, char out[][INET6_ADDRSTRLEN], int max);
int netns__inet6_global(const char *text, char out[][INET6_ADDRSTRLEN], int max);

#endif
