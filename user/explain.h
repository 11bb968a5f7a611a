/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * explain.h - which dimension values explain a change in an additive metric
 * (apiserver server time per second, requests per second), for the `top`
 * view's spike explanation: Adtributor (R. Bhagwan, R. Kumar, R. Ramjee,
 * G. Varghese, S. Mohapatra, H. Manoharan, P. Shah, "Adtributor: Revenue
 * Debugging in Advertising Systems", USENIX NSDI 2014).
 *
 * The input is the leaf series, one per combination of dimension values
 * (client, user agent, verb, resource), each with its expected value (the
 * recent baseline) and its actual value now. Per dimension, the leaves are
 * summed per value (an element); each element gets
 *
 *	explanatory power  EP = (A_ij - F_ij) / (A - F)
 *	surprise           S  = 0.5 * (p log2(2p / (p + q)) + q log2(2q / (p + q)))
 *	                        with p = F_ij / F, q = A_ij / A, 0 log 0 = 0
 *
 * (F, A: expected and actual totals; F_ij, A_ij: the element's). Elements
 * are taken in decreasing surprise, those with EP > t_eep, until their EP
 * sum exceeds t_ep: the dimension's candidate set. Dimensions whose set
 * reached t_ep are ranked by the set's total surprise and the first
 * max_dims kept. docs/spike-explanation.md has the why and the limits.
 *
 * Departures from the paper, for degenerate input: a dimension with a
 * single value, or whose set has no surprise (at most EXPLAIN_SURPRISE_MIN:
 * its values' shares did not move), is not reported, as it localises
 * nothing; when F = 0 every p is 0 and when A = 0 every q is 0 (S is then
 * half the element's share: with no baseline, the values that carry the
 * load).
 *
 * Pure: no global state, no I/O. Allocation is bounded by the input:
 * explain__run allocates n * ndims elements of scratch, freed before it
 * returns, and the result's elements (at most max_dims * n).
 */
#ifndef REQACCT_EXPLAIN_H
#define REQACCT_EXPLAIN_H

#include <stddef.h>

#define EXPLAIN_DIMS_MAX 8
#define EXPLAIN_SURPRISE_MIN 1e-9	/* a candidate set's surprise at most this is none
					 * (a share moving by 0.01% gives about 1e-9) */

struct explain_leaf {
	const char *value[EXPLAIN_DIMS_MAX];	/* value of dimensions 0..ndims-1; not
						 * copied: the result points to them */
	double expected, actual;	/* finite, >= 0 */
};

struct explain_params {
	double t_eep;		/* an element's EP must exceed this to be taken (0.1) */
	double t_ep;		/* a dimension's set must exceed this EP sum (0.67) */
	double min_change;	/* |A - F| below this is no change (0) */
	int max_dims;		/* dimensions reported, 1..EXPLAIN_DIMS_MAX (3) */
};

struct explain_elem {
	int dim;		/* index into explain_leaf.value */
	const char *value;
	double expected, actual;	/* F_ij, A_ij */
	double ep, surprise;	/* EP (a fraction: 0.97 is 97% of the change), S */
};

struct explain_dim {
	int dim;
	double surprise, ep;	/* sums over the candidate set */
	int first, n;		/* its elements: elems[first..first+n), in decreasing
				 * surprise */
};

struct explain_result {
	double expected, actual;	/* F and A */
	int ndims;		/* dimensions that explain the change, most surprising first */
	struct explain_dim dims[EXPLAIN_DIMS_MAX];
	struct explain_elem *elems;	/* candidate sets of dims[0..ndims), in that order */
	int nelems;
};

/* The paper's thresholds: t_eep 0.1, t_ep 0.67, top 3; min_change 0. */
struct explain_params explain__defaults(void);

/*
 * Explain the change of the n leaves over dimensions 0..ndims-1 with
 * parameters p (NULL: the defaults). out is always set and must be given
 * to explain__free. Returns 0 (out->ndims may be 0: no dimension localises
 * the change), -ENODATA when |A - F| is 0 or below p->min_change (out has
 * the totals), -EINVAL for an expected or actual value that is negative,
 * NaN or infinite, totals that overflow, a NULL value, ndims outside
 * 1..EXPLAIN_DIMS_MAX or parameters out of range, -E2BIG when n * ndims
 * exceeds INT_MAX, -ENOMEM.
 */
int explain__run(const struct explain_leaf *leaves, size_t n, int ndims,
		 const struct explain_params *p, struct explain_result *out);

void explain__free(struct explain_result *r);

/*
 * One line per element of each dimension of r, in order:
 * "user_agent=node-agent/v2.3.1  actual 812.0  expected 40.3  share of change 97.1%  surprise 0.41"
 * dim_names[dim] names a dimension (NULL, or a NULL entry: "dim<N>"). Bytes
 * of names and values outside printable ASCII are written as \xNN (values
 * come from the wire and go to a terminal). With no dimension, one line
 * saying so. Like snprintf: the length the text needs, written truncated
 * and NUL-terminated into buf when len > 0.
 */
size_t explain__format(const struct explain_result *r, const char *const dim_names[], char *buf,
		       size_t len);

#endif
