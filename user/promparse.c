// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * promparse.c - the Prometheus text format, read (promparse.h). The
 * grammar (prometheus/docs, exposition_formats.md):
 *   sample = name [ "{" label *( "," label ) [","] "}" ] SP value [ SP timestamp ]
 *   label  = name "=" DQUOTE *( escaped-char ) DQUOTE   ; \\ \" \n escapes
 * Values: Go's ParseFloat forms, "+Inf", "-Inf", "NaN".
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "promparse.h"

struct cursor {
	char *p, *line;
	size_t lineno;
	char *err;
	size_t errlen;
};

static int fail(struct cursor *c, const char *what)
{
	return errmsg(c->err, c->errlen, -EINVAL, "line %zu, column %zu: %s", c->lineno,
		      (size_t)(c->p - c->line) + 1, what);
}

static bool name_start(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == ':';
}

static bool name_char(char ch)
{
	return name_start(ch) || (ch >= '0' && ch <= '9');
}

/* A metric or label name at c->p (label names have no ':'); its end. */
static char *name(struct cursor *c, bool label)
{
	char *s = c->p;

	if (!name_start(*s) || (label && *s == ':'))
		return NULL;
	while (name_char(*c->p) && !(label && *c->p == ':'))
		c->p++;
	return c->p;
}

/* A quoted label value, unescaped in place; NUL-terminated. */
static int quoted(struct cursor *c, char **out)
{
	char *w;

	if (*c->p != '"')
		return fail(c, "expected '\"' to start a label value");
	w = *out = ++c->p;
	for (;;) {
		char ch = *c->p;

		if (ch == '"')
			break;
		if (ch == '\0' || ch == '\n')
			return fail(c, "label value not closed");
		if (ch == '\\') {
			ch = *++c->p;
			if (ch == 'n')
				ch = '\n';
			else if (ch != '\\' && ch != '"')
				return fail(c, "bad escape in a label value (\\\\, \\\" or \\n)");
		}
		*w++ = ch;
		c->p++;
	}
	c->p++;
	*w = '\0';
	return 0;
}

static int labels(struct cursor *c, struct prom_sample *s)
{
	char *end;
	int rc;

	c->p++;	/* '{' */
	while (*c->p != '}') {
		if (s->nlabels == PROMPARSE_LABELS_MAX)
			return fail(c, "too many labels");
		s->key[s->nlabels] = c->p;
		end = name(c, true);
		if (!end)
			return fail(c, "expected a label name");
		if (*c->p != '=')
			return fail(c, "expected '=' after a label name");
		c->p++;
		*end = '\0';
		if ((rc = quoted(c, (char **)&s->value[s->nlabels])))
			return rc;
		s->nlabels++;
		if (*c->p == ',')
			c->p++;
		else if (*c->p != '}')
			return fail(c, "expected ',' or '}' after a label");
	}
	c->p++;
	return 0;
}

static int value(struct cursor *c, double *v)
{
	char *end;

	if (!strncmp(c->p, "+Inf", 4) || !strncmp(c->p, "-Inf", 4) || !strncmp(c->p, "NaN", 3)) {
		*v = c->p[0] == 'N' ? NAN : c->p[0] == '-' ? -INFINITY : INFINITY;
		c->p += c->p[0] == 'N' ? 3 : 4;
		return 0;
	}
	if (!(*c->p == '-' || *c->p == '+' || *c->p == '.' || (*c->p >= '0' && *c->p <= '9')))
		return fail(c, "expected a number");
	*v = strtod(c->p, &end);
	if (end == c->p)
		return fail(c, "expected a number");
	c->p = end;
	return 0;
}

static int sample(struct cursor *c, struct prom_sample *s)
{
	char *end;
	int rc;

	memset(s, 0, sizeof(*s));
	s->name = c->p;
	end = name(c, false);
	if (!end)
		return fail(c, "expected a metric name");
	if (*c->p == '{' && (rc = labels(c, s)))
		return rc;
	if (*c->p != ' ' && *c->p != '\t')
		return fail(c, "expected a space before the value");
	while (*c->p == ' ' || *c->p == '\t')
		c->p++;
	*end = '\0';	/* the name's end: '{' or a space, both passed */
	if ((rc = value(c, &s->v)))
		return rc;
	while (*c->p == ' ' || *c->p == '\t')
		c->p++;
	if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9')) {	/* timestamp, ms */
		strtoll(c->p, &end, 10);
		c->p = end;
	}
	while (*c->p == ' ' || *c->p == '\t' || *c->p == '\r')
		c->p++;
	if (*c->p != '\n' && *c->p != '\0')
		return fail(c, "unexpected text after the value");
	return 0;
}

int promparse__parse(char *text, size_t len, struct prom_scrape *out, char *err, size_t errlen)
{
	struct cursor c = { .p = text, .line = text, .lineno = 1, .err = err, .errlen = errlen };
	int rc;

	memset(out, 0, sizeof(*out));
	if (memchr(text, '\0', len))
		return errmsg(err, errlen, -EINVAL, "a NUL byte at offset %zu",
			      (size_t)((char *)memchr(text, '\0', len) - text));
	while (*c.p) {
		char *nl = strchr(c.p, '\n');

		c.line = c.p;
		if (*c.p != '#' && *c.p != '\n' && *c.p != '\r') {
			if (out->n == out->cap) {
				size_t cap = out->cap ? 2 * out->cap : 256;
				struct prom_sample *s;

				if (out->n == PROMPARSE_SAMPLES_MAX) {
					promparse__free(out);
					return errmsg(err, errlen, -E2BIG, "more than %u samples",
						      PROMPARSE_SAMPLES_MAX);
				}
				s = realloc(out->s, cap * sizeof(*s));
				if (!s) {
					promparse__free(out);
					return -ENOMEM;
				}
				out->s = s;
				out->cap = cap;
			}
			if ((rc = sample(&c, &out->s[out->n]))) {
				promparse__free(out);
				return rc;
			}
			out->n++;
			nl = *c.p ? c.p : NULL;
		}
		if (!nl)
			break;
		*nl = '\0';
		c.p = nl + 1;
		c.lineno++;
	}
	return 0;
}

void promparse__free(struct prom_scrape *s)
{
	free(s->s);
	memset(s, 0, sizeof(*s));
}

const char *promparse__label(const struct prom_sample *s, const char *key)
{
	for (int i = 0; i < s->nlabels; i++)
		if (!strcmp(s->key[i], key))
			return s->value[i];
	return NULL;
}
