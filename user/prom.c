// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* prom.c - Prometheus text format 0.0.4 writer (see prom.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "prom.h"

void prom__init(struct prom_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void prom__free(struct prom_buf *b)
{
	for (size_t i = 0; i < b->nfamilies; i++)
		free(b->families[i]);
	free(b->families);
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static int reserve(struct prom_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->err)
		return b->err;
	if (b->len + n + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return b->err = -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

static void put(struct prom_buf *b, const char *s, size_t n)
{
	if (reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void puts_(struct prom_buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void printf_(struct prom_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_(struct prom_buf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->err = b->err ?: -EOVERFLOW;
		return;
	}
	put(b, tmp, n);
}

/* Length of the valid UTF-8 sequence at s (RFC 3629 section 4), or 0. */
static size_t utf8_seq(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		unsigned char lo = s[0] == 0xe0 ? 0xa0 : 0x80;	/* no overlongs */
		unsigned char hi = s[0] == 0xed ? 0x9f : 0xbf;	/* no surrogates */

		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		unsigned char lo = s[0] == 0xf0 ? 0x90 : 0x80;
		unsigned char hi = s[0] == 0xf4 ? 0x8f : 0xbf;	/* <= U+10FFFF */

		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 &&
			       (s[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

void prom__escape_label(struct prom_buf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		size_t n;

		switch (*s) {
		case '\\': puts_(b, "\\\\"); s++; continue;
		case '"': puts_(b, "\\\""); s++; continue;
		case '\n': puts_(b, "\\n"); s++; continue;
		default: break;
		}
		n = utf8_seq(s);
		if (n) {
			put(b, (const char *)s, n);
			s += n;
		} else {
			puts_(b, "\xef\xbf\xbd");	/* U+FFFD REPLACEMENT CHARACTER */
			s++;
		}
	}
}

/* HELP text escapes only '\\' and '\n'. */
static void escape_help(struct prom_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			puts_(b, "\\\\");
		else if (*s == '\n')
			puts_(b, "\\n");
		else
			put(b, s, 1);
	}
}

void prom__family(struct prom_buf *b, const char *name, const char *type, const char *help)
{
	char **f;

	if (b->err)
		return;
	for (size_t i = 0; i < b->nfamilies; i++) {
		if (!strcmp(b->families[i], name)) {
			b->err = -EEXIST;	/* a family must be written in one group */
			return;
		}
	}
	f = realloc(b->families, (b->nfamilies + 1) * sizeof(*f));
	if (!f || !(f[b->nfamilies] = strdup(name))) {
		if (f)
			b->families = f;
		b->err = -ENOMEM;
		return;
	}
	b->families = f;
	b->family = b->families[b->nfamilies++];
	puts_(b, "# HELP ");
	puts_(b, name);
	puts_(b, " ");
	escape_help(b, help);
	puts_(b, "\n# TYPE ");
	puts_(b, name);
	puts_(b, " ");
	puts_(b, type);
	puts_(b, "\n");
}

static bool in_family(const char *family, const char *name)
{
	static const char *const suffixes[] = { "", "_bucket", "_sum", "_count" };
	size_t n = strlen(family);

	if (strncmp(family, name, n))
		return false;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (!strcmp(name + n, suffixes[i]))
			return true;
	return false;
}

static void sample_head(struct prom_buf *b, const char *name, const struct prom_label *l, size_t nl)
{
	if (!b->err && (!b->family || !in_family(b->family, name)))
		b->err = -EINVAL;	/* sample outside its family's group */
	puts_(b, name);
	if (nl) {
		puts_(b, "{");
		for (size_t i = 0; i < nl; i++) {
			if (i)
				puts_(b, ",");
			puts_(b, l[i].name);
			puts_(b, "=\"");
			prom__escape_label(b, l[i].value ? l[i].value : "");
			puts_(b, "\"");
		}
		puts_(b, "}");
	}
}

void prom__sample_u64(struct prom_buf *b, const char *name, const struct prom_label *l,
		      size_t nl, __u64 v)
{
	sample_head(b, name, l, nl);
	printf_(b, " %llu\n", (unsigned long long)v);
}

/* The shortest of %.15g and %.17g that reads back as the same double. */
static const char *shortest(double v, char *buf, size_t len)
{
	snprintf(buf, len, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, len, "%.17g", v);
	return buf;
}

void prom__sample_f64(struct prom_buf *b, const char *name, const struct prom_label *l,
		      size_t nl, double v)
{
	char tmp[32];

	sample_head(b, name, l, nl);
	if (isnan(v))
		puts_(b, " NaN\n");
	else if (isinf(v))
		puts_(b, v > 0 ? " +Inf\n" : " -Inf\n");
	else
		printf_(b, " %s\n", shortest(v, tmp, sizeof(tmp)));
}

/* Accept-Encoding: a comma-separated list of codings, each with an optional
 * ";q=" weight; q=0 refuses a coding (RFC 9110 12.4.2, 12.5.3). */
bool prom__accepts_gzip(const char *ae)
{
	const char *p = ae;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char tok[64];
		char *semi, *q, *name;
		size_t nlen;

		if (len < sizeof(tok)) {
			memcpy(tok, p, len);
			tok[len] = '\0';
			semi = strchr(tok, ';');
			if (semi)
				*semi = '\0';
			name = tok + strspn(tok, " \t");
			nlen = strcspn(name, " \t");
			name[nlen] = '\0';
			if (!strcasecmp(name, "gzip") || !strcasecmp(name, "x-gzip") ||
			    !strcmp(name, "*")) {
				q = semi ? strcasestr(semi + 1, "q=") : NULL;
				if (!q || strtod(q + 2, NULL) > 0)
					return true;
			}
		}
		p = end ? end + 1 : NULL;
	}
	return false;
}

int prom__gzip(const char *in, size_t len, char **out, size_t *outlen)
{
	z_stream zs = {};
	size_t cap;
	char *buf;
	int rc;

	/* windowBits 15 + 16: a gzip header and trailer instead of zlib's */
	if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, MAX_WBITS + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	cap = deflateBound(&zs, len);
	buf = malloc(cap);
	if (!buf) {
		deflateEnd(&zs);
		return -ENOMEM;
	}
	zs.next_in = (Bytef *)in;
	zs.avail_in = len;
	zs.next_out = (Bytef *)buf;
	zs.avail_out = cap;
	rc = deflate(&zs, Z_FINISH);
	*outlen = zs.total_out;
	deflateEnd(&zs);
	if (rc != Z_STREAM_END) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	return 0;
}
