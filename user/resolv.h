/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* resolv.h - the search list of a resolv.conf(5) file, for DNS search-path
 * waste (dns.c). A parser of untrusted text (a container's file): fuzzed. */
#ifndef REQACCT_RESOLV_H
#define REQACCT_RESOLV_H

#include <stdbool.h>
#include <stddef.h>

#define RESOLV_SEARCH_MAX 8	/* domains kept per search list */
#define RESOLV_DOMAIN_MAX 254	/* RFC 1035 2.3.4: 253 characters in dotted form */

struct resolv_search {
	bool read;		/* looked up (even if there was no file) */
	int n;
	char domain[RESOLV_SEARCH_MAX][RESOLV_DOMAIN_MAX];	/* lowercase, no trailing dot */
};

/* The search list of a resolv.conf(5) text: the last "search" or "domain"
 * line. 0, or -EINVAL with what and where in err. */
int resolv__parse(const char *text, size_t len, struct resolv_search *s, char *err,
		      size_t errlen);

/* Is name (lowercase, dotted) strictly under one of the search domains? */
bool resolv__under_search(const struct resolv_search *s, const char *name);

#endif
