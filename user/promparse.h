/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * promparse.h - a reader of the Prometheus text exposition format (0.0.4),
 * for `reqacct top`, which reads a running agent's /metrics. Untrusted
 * bytes: a malformed line is rejected with its line and column; bounded
 * (at most PROMPARSE_SAMPLES_MAX samples, PROMPARSE_LABELS_MAX labels each);
 * fuzzed (tests/fuzz/fuzz_promparse.c).
 */
#ifndef REQACCT_PROMPARSE_H
#define REQACCT_PROMPARSE_H

#include <stddef.h>

#define PROMPARSE_LABELS_MAX 24
#define PROMPARSE_SAMPLES_MAX (1u << 20)

struct prom_sample {
	const char *name;
	const char *key[PROMPARSE_LABELS_MAX], *value[PROMPARSE_LABELS_MAX];
	int nlabels;
	double v;
};

/* Samples of one exposition. Strings point into text, which the parse
 * rewrites in place (label values unescaped, NULs after each token). */
struct prom_scrape {
	struct prom_sample *s;
	size_t n, cap;
};

/* Parse text (len bytes, NUL-terminated at len) into out. 0, or -EINVAL
 * with "line N, column M: what" in err; -ENOMEM; -E2BIG past
 * PROMPARSE_SAMPLES_MAX samples. HELP and TYPE lines and comments are
 * skipped; a timestamp after the value is accepted and ignored. */
int promparse__parse(char *text, size_t len, struct prom_scrape *out, char *err, size_t errlen);
void promparse__free(struct prom_scrape *s);

/* The value of label key of s, or NULL. */
const char *promparse__label(const struct prom_sample *s, const char *key);

#endif
