/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* dns.h - resolv.conf search lists (dns.c), exposed for tests and fuzzing. */
#ifndef REQACCT_DNS_H
#define REQACCT_DNS_H

#include <stdbool.h>
#include <stddef.h>

#define DNS_SEARCH_MAX 8	/* domains kept per search list */
#define DNS_DOMAIN_MAX 254	/* RFC 1035 2.3.4: 253 characters in dotted form */

struct dns_search {
	bool read;		/* looked up (even if there was no file) */
	int n;
	char domain[DNS_SEARCH_MAX][DNS_DOMAIN_MAX];	/* lowercase, no trailing dot */
};

/* The search list of a resolv.conf(5) text: the last "search" or "domain"
 * line. 0, or -EINVAL with what and where in err. */
int dns__parse_resolv(const char *text, size_t len, struct dns_search *s, char *err,
		      size_t errlen);

/* Is name (lowercase, dotted) strictly under one of the search domains? */
bool dns__under_search(const struct dns_search *s, const char *name);

#endif
