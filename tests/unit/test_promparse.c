// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_promparse.c - the text exposition reader of `reqacct top`: what the
 * agent's own writer (prom.c) produces reads back exactly, escapes, special
 * values, timestamps, and malformed lines with their exact messages. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "prom.h"
#include "promparse.h"

static int parse(const char *text, struct prom_scrape *s, char *err, size_t errlen)
{
	static char buf[4096];

	strcpy(buf, text);
	return promparse__parse(buf, strlen(buf), s, err, errlen);
}

static void test_roundtrip(void **state)
{
	struct prom_buf buf, *b = &buf;
	struct prom_scrape s;
	char err[128], *text;

	prom__init(b);
	prom__family(b, "reqacct_x_total", "counter", "help with \\ and \n");
	prom__sample_u64(b, "reqacct_x_total", (struct prom_label[]){ { "comm", "a\"b\\c\nd" },
		{ "peer", "::1" } }, 2, 42);
	prom__family(b, "reqacct_y", "gauge", "y");
	prom__sample_f64(b, "reqacct_y", NULL, 0, 0.25);
	text = strndup(b->data, b->len);
	assert_int_equal(promparse__parse(text, strlen(text), &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.s[0].name, "reqacct_x_total");
	assert_int_equal(s.s[0].nlabels, 2);
	assert_string_equal(promparse__label(&s.s[0], "comm"), "a\"b\\c\nd");
	assert_string_equal(promparse__label(&s.s[0], "peer"), "::1");
	assert_null(promparse__label(&s.s[0], "cgroup"));
	assert_true(s.s[0].v == 42);
	assert_string_equal(s.s[1].name, "reqacct_y");
	assert_true(s.s[1].v == 0.25);
	promparse__free(&s);
	free(text);
	prom__free(b);
}

static void test_values(void **state)
{
	struct prom_scrape s;
	char err[128];

	assert_int_equal(parse("a +Inf\nb -Inf\nc NaN\nd 1e3 1700000000000\ne{x=\"1\",} -2.5\n"
			       "\n# comment\nf{} 7\r\n", &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 6);
	assert_true(isinf(s.s[0].v) && s.s[0].v > 0);
	assert_true(isinf(s.s[1].v) && s.s[1].v < 0);
	assert_true(isnan(s.s[2].v));
	assert_true(s.s[3].v == 1000);
	assert_true(s.s[4].v == -2.5);
	assert_string_equal(promparse__label(&s.s[4], "x"), "1");
	assert_string_equal(s.s[5].name, "f");
	assert_true(s.s[5].v == 7);
	promparse__free(&s);
}

static void test_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "1abc 1\n", "line 1, column 1: expected a metric name" },
		{ "a\n", "line 1, column 2: expected a space before the value" },
		{ "ok 1\na{b=1} 2\n", "line 2, column 5: expected '\"' to start a label value" },
		{ "a{b=\"x} 2\n", "line 1, column 10: label value not closed" },
		{ "a{b=\"\\t\"} 2\n", "line 1, column 7: bad escape in a label value (\\\\, \\\" or \\n)" },
		{ "a{b=\"x\" c=\"y\"} 2\n", "line 1, column 8: expected ',' or '}' after a label" },
		{ "a{:b=\"x\"} 2\n", "line 1, column 3: expected a label name" },
		{ "a{b} 2\n", "line 1, column 4: expected '=' after a label name" },
		{ "a one\n", "line 1, column 3: expected a number" },
		{ "a 1 2 3\n", "line 1, column 7: unexpected text after the value" },
	};
	struct prom_scrape s;
	char err[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].text, &s, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, cases[i].msg);
		assert_null(s.s);
	}
}

static void test_nul(void **state)
{
	char text[] = "a 1\nb\0 2\n";
	struct prom_scrape s;
	char err[128];

	assert_int_equal(promparse__parse(text, sizeof(text) - 1, &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "a NUL byte at offset 5");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_nul),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
