// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * explain.c - Adtributor over leaf series (explain.h).
 *
 * Each dimension has its own stretch of the scratch, n elements: the
 * leaves are copied in, sorted by value and merged into one element per
 * value, scored, sorted by decreasing surprise, and the candidate set is
 * taken greedily as the paper's root-cause identification algorithm does
 * and moved to the front of the stretch. The sorts are total orders (ties
 * of surprise broken by EP, then by value), so a run repeats exactly.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"

struct explain_params explain__defaults(void)
{
	return (struct explain_params){
		.t_eep = 0.1, .t_ep = 0.67, .min_change = 0, .max_dims = 3,
	};
}

/* An element's share of the Jensen-Shannon divergence, in bits (a
 * dimension's elements sum to at most 1), with 0 log 0 = 0. Never negative:
 * it is (p + q) (1 - H(p / (p + q))) with H the binary entropy. */
static double surprise(double p, double q)
{
	double s = 0;

	if (p > 0)
		s += p * log2(2 * p / (p + q));
	if (q > 0)
		s += q * log2(2 * q / (p + q));
	return s > 0 ? 0.5 * s : 0;
}

static int by_value(const void *a, const void *b)
{
	const struct explain_elem *x = a, *y = b;

	return strcmp(x->value, y->value);
}

static int by_surprise(const void *a, const void *b)
{
	const struct explain_elem *x = a, *y = b;

	if (x->surprise != y->surprise)
		return x->surprise < y->surprise ? 1 : -1;
	if (x->ep != y->ep)
		return x->ep < y->ep ? 1 : -1;
	return strcmp(x->value, y->value);
}

static int by_rank(const void *a, const void *b)
{
	const struct explain_dim *x = a, *y = b;

	if (x->surprise != y->surprise)
		return x->surprise < y->surprise ? 1 : -1;
	if (x->ep != y->ep)
		return x->ep < y->ep ? 1 : -1;
	return x->dim - y->dim;
}

/* The elements of dimension d into e[0..n), scored and in decreasing
 * surprise; their count. */
static int elements(const struct explain_leaf *leaves, size_t n, int d, double f, double a,
		    struct explain_elem *e)
{
	int m = 0;

	for (size_t i = 0; i < n; i++)
		e[i] = (struct explain_elem){ .dim = d, .value = leaves[i].value[d],
					      .expected = leaves[i].expected,
					      .actual = leaves[i].actual };
	qsort(e, n, sizeof(*e), by_value);
	for (size_t i = 0; i < n; i++) {
		if (m && !strcmp(e[m - 1].value, e[i].value)) {
			e[m - 1].expected += e[i].expected;
			e[m - 1].actual += e[i].actual;
		} else {
			e[m++] = e[i];
		}
	}
	for (int j = 0; j < m; j++) {
		e[j].ep = (e[j].actual - e[j].expected) / (a - f);
		e[j].surprise = surprise(f > 0 ? e[j].expected / f : 0,
					 a > 0 ? e[j].actual / a : 0);
	}
	qsort(e, (size_t)m, sizeof(*e), by_surprise);
	return m;
}

/* The candidate set of the m elements e (decreasing surprise): those with
 * EP above t_eep until their EP sum exceeds t_ep, moved to e[0..dim->n).
 * Whether the dimension explains the change. */
static bool candidates(struct explain_elem *e, int m, const struct explain_params *p,
		       struct explain_dim *dim)
{
	dim->n = 0;
	dim->ep = dim->surprise = 0;
	for (int j = 0; j < m && dim->ep <= p->t_ep; j++) {
		if (e[j].ep <= p->t_eep)
			continue;
		dim->ep += e[j].ep;
		dim->surprise += e[j].surprise;
		e[dim->n++] = e[j];
	}
	return dim->ep > p->t_ep && dim->surprise > EXPLAIN_SURPRISE_MIN;
}

static bool params_valid(const struct explain_params *p)
{
	return p->t_eep >= 0 && p->t_eep <= 1 && p->t_ep >= 0 && p->t_ep <= 1 &&
	       p->min_change >= 0 && isfinite(p->min_change) && p->max_dims >= 1 &&
	       p->max_dims <= EXPLAIN_DIMS_MAX;
}

int explain__run(const struct explain_leaf *leaves, size_t n, int ndims,
		 const struct explain_params *p, struct explain_result *out)
{
	struct explain_params defaults = explain__defaults();
	struct explain_dim cand[EXPLAIN_DIMS_MAX];
	struct explain_elem *e;
	double f = 0, a = 0;
	int nc = 0, total = 0;

	memset(out, 0, sizeof(*out));
	if (!p)
		p = &defaults;
	if (ndims < 1 || ndims > EXPLAIN_DIMS_MAX || !params_valid(p) || (n && !leaves))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		const struct explain_leaf *l = &leaves[i];

		/* false for NaN too */
		if (!(l->expected >= 0 && isfinite(l->expected) && l->actual >= 0 &&
		      isfinite(l->actual)))
			return -EINVAL;
		for (int d = 0; d < ndims; d++)
			if (!l->value[d])
				return -EINVAL;
		f += l->expected;
		a += l->actual;
	}
	if (!isfinite(f) || !isfinite(a))
		return -EINVAL;
	out->expected = f;
	out->actual = a;
	if (a == f || (a > f ? a - f : f - a) < p->min_change)
		return -ENODATA;
	if (n > (size_t)INT_MAX / (size_t)ndims)
		return -E2BIG;
	if (n * (size_t)ndims > SIZE_MAX / sizeof(*e))
		return -ENOMEM;
	e = malloc(n * (size_t)ndims * sizeof(*e));
	if (!e)
		return -ENOMEM;

	for (int d = 0; d < ndims; d++) {
		struct explain_elem *de = e + (size_t)d * n;
		int m = elements(leaves, n, d, f, a, de);

		if (m > 1 && candidates(de, m, p, &cand[nc])) {
			cand[nc].dim = d;
			cand[nc].first = d * (int)n;
			nc++;
		}
	}
	qsort(cand, (size_t)nc, sizeof(cand[0]), by_rank);
	if (nc > p->max_dims)
		nc = p->max_dims;
	for (int k = 0; k < nc; k++)
		total += cand[k].n;
	if (total) {
		out->elems = malloc((size_t)total * sizeof(*out->elems));
		if (!out->elems) {
			free(e);
			return -ENOMEM;
		}
	}
	for (int k = 0; k < nc; k++) {
		memcpy(out->elems + out->nelems, e + cand[k].first,
		       (size_t)cand[k].n * sizeof(*e));
		out->dims[k] = cand[k];
		out->dims[k].first = out->nelems;
		out->nelems += cand[k].n;
	}
	out->ndims = nc;
	free(e);
	return 0;
}

void explain__free(struct explain_result *r)
{
	free(r->elems);
	r->elems = NULL;
	r->nelems = 0;
	r->ndims = 0;
}

struct out {
	char *buf;
	size_t len, used;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	bool room = o->used < o->len;
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(room ? o->buf + o->used : NULL, room ? o->len - o->used : 0, fmt, ap);
	va_end(ap);
	if (w > 0)
		o->used += (size_t)w;
}

/* s with bytes outside printable ASCII, and '\', as \xNN. */
static void put_escaped(struct out *o, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f && c != '\\')
			put(o, "%c", c);
		else
			put(o, "\\x%02x", c);
	}
}

size_t explain__format(const struct explain_result *r, const char *const dim_names[], char *buf,
		       size_t len)
{
	struct out o = { .buf = buf, .len = len };

	if (len)
		buf[0] = '\0';
	if (!r->ndims)
		put(&o, "no dimension explains the change: actual %.1f  expected %.1f\n", r->actual,
		    r->expected);
	for (int k = 0; k < r->ndims; k++) {
		const struct explain_dim *d = &r->dims[k];

		for (int j = d->first; j < d->first + d->n; j++) {
			const struct explain_elem *el = &r->elems[j];

			if (dim_names && dim_names[el->dim])
				put_escaped(&o, dim_names[el->dim]);
			else
				put(&o, "dim%d", el->dim);
			put(&o, "=");
			put_escaped(&o, el->value);
			put(&o, "  actual %.1f  expected %.1f  share of change %.1f%%",
			    el->actual, el->expected, 100 * el->ep);
			put(&o, "  surprise %.2f\n", el->surprise);
		}
	}
	return o.used;
}
