/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * prom.h - a writer for the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/): HELP and
 * TYPE once per family, the samples of a family together, label values
 * escaped and made valid UTF-8, and gzip for scrapers that ask for it.
 */
#ifndef REQACCT_PROM_H
#define REQACCT_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct prom_label {
	const char *name;
	const char *value;
};

struct prom_buf {
	char *data;
	size_t len, cap;
	int err;		/* first error (-errno); the buffer is unusable then */
	char **families;	/* names declared so far, to refuse a second HELP */
	size_t nfamilies;
	const char *family;	/* the family samples are being written for */
};

void prom__init(struct prom_buf *b);
void prom__free(struct prom_buf *b);

/* Start a family. type is "counter", "gauge", "histogram", "summary" or "untyped". */
void prom__family(struct prom_buf *b, const char *name, const char *type, const char *help);
/* A sample of the current family; name may add _bucket, _sum or _count. */
void prom__sample_u64(struct prom_buf *b, const char *name, const struct prom_label *l,
		      size_t nl, __u64 v);
void prom__sample_f64(struct prom_buf *b, const char *name, const struct prom_label *l,
		      size_t nl, double v);

/* Append s to b escaped as a label value ('\\', '"', '\n'; invalid UTF-8
 * bytes become U+FFFD). Exposed for tests. */
void prom__escape_label(struct prom_buf *b, const char *s);

/* Does an Accept-Encoding header value accept gzip (RFC 9110 12.5.3)? */
bool prom__accepts_gzip(const char *accept_encoding);

/* gzip (RFC 1952) in into a malloc'ed *out. 0 or -errno. */
int prom__gzip(const char *in, size_t len, char **out, size_t *outlen);

#endif
