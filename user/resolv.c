// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* resolv.c - search lists of resolv.conf(5) files (see resolv.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "resolv.h"

static void add_domain(struct resolv_search *s, const char *tok, size_t n)
{
	while (n && tok[n - 1] == '.')	/* "cluster.local." is "cluster.local" */
		n--;
	if (!n || n >= sizeof(s->domain[0]) || s->n == RESOLV_SEARCH_MAX)
		return;
	for (size_t i = 0; i < n; i++)
		s->domain[s->n][i] = tok[i] >= 'A' && tok[i] <= 'Z' ? tok[i] + 32 : tok[i];
	s->domain[s->n][n] = '\0';
	s->n++;
}

int resolv__parse(const char *text, size_t len, struct resolv_search *s, char *err, size_t errlen)
{
	const char *p = text, *end = text + len;
	int lineno = 0;

	memset(s, 0, sizeof(*s));
	if (memchr(text, '\0', len)) {
		snprintf(err, errlen, "resolv.conf: contains a NUL byte");
		return -EINVAL;
	}
	while (p < end) {
		const char *eol = memchr(p, '\n', end - p), *q;
		bool search, domain;

		if (!eol)
			eol = end;
		lineno++;
		for (q = p; q < eol && (*q == ' ' || *q == '\t'); q++)
			;
		search = eol - q > 7 && !strncmp(q, "search", 6) && (q[6] == ' ' || q[6] == '\t');
		domain = eol - q > 7 && !strncmp(q, "domain", 6) && (q[6] == ' ' || q[6] == '\t');
		/* resolv.conf(5): the last "search" or "domain" line wins. */
		if (search || domain) {
			s->n = 0;
			for (q += 6; q < eol;) {
				const char *t;

				while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r'))
					q++;
				if (q < eol && (*q == '#' || *q == ';'))
					break;
				for (t = q; t < eol && *t != ' ' && *t != '\t' && *t != '\r'; t++)
					;
				if (t > q && (size_t)(t - q) >= sizeof(s->domain[0])) {
					snprintf(err, errlen, "resolv.conf:%d: search domain longer than %zu bytes",
						 lineno, sizeof(s->domain[0]) - 1);
					return -EINVAL;
				}
				if (t > q)
					add_domain(s, q, t - q);
				q = t;
				if (domain)
					break;
			}
		}
		p = eol + 1;
	}
	return 0;
}

bool resolv__under_search(const struct resolv_search *s, const char *name)
{
	size_t n = strlen(name);

	for (int i = 0; i < s->n; i++) {
		size_t dl = strlen(s->domain[i]);

		if (n > dl + 1 && name[n - dl - 1] == '.' && !strcmp(name + n - dl, s->domain[i]))
			return true;
	}
	return false;
}
