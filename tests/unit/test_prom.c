// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_prom.c - the exposition writer: escaping, grouping, numbers, gzip. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <zlib.h>
#include <cmocka.h>

#include "prom.h"

static const struct {
	const char *desc, *in, *out;
} escapes[] = {
	{ "plain", "curl", "curl" },
	{ "quote", "a\"b", "a\\\"b" },
	{ "backslash", "a\\b", "a\\\\b" },
	{ "newline", "a\nb", "a\\nb" },
	{ "all three", "q\"b\\s\nn", "q\\\"b\\\\s\\nn" },
	{ "valid UTF-8 kept", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
	{ "stray continuation byte", "a\x80z", "a\xef\xbf\xbdz" },
	{ "truncated sequence", "a\xc3", "a\xef\xbf\xbd" },
	{ "overlong encoding", "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },
	{ "UTF-16 surrogate", "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "above U+10FFFF", "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "tab and CR are legal", "a\tb\rc", "a\tb\rc" },
};

static void test_escape(void **state)
{
	for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
		struct prom_buf b;

		prom__init(&b);
		prom__escape_label(&b, escapes[i].in);
		if (!b.data || strcmp(b.data, escapes[i].out))
			fail_msg("%s: got '%s', want '%s'", escapes[i].desc, b.data ? b.data : "(null)",
				 escapes[i].out);
		prom__free(&b);
	}
}

static void test_family_and_samples(void **state)
{
	struct prom_label l[] = { { "comm", "a\"b" }, { "port", "443" } };
	struct prom_buf b;

	prom__init(&b);
	prom__family(&b, "reqacct_x_total", "counter", "Help with \\ and\nnewline.");
	prom__sample_u64(&b, "reqacct_x_total", l, 2, 18446744073709551615ull);
	prom__sample_u64(&b, "reqacct_x_total", NULL, 0, 0);
	prom__family(&b, "reqacct_d_seconds", "histogram", "Durations.");
	prom__sample_u64(&b, "reqacct_d_seconds_bucket", (struct prom_label[]){ { "le", "+Inf" } }, 1, 3);
	prom__sample_f64(&b, "reqacct_d_seconds_sum", NULL, 0, 0.1);
	prom__sample_f64(&b, "reqacct_d_seconds_count", NULL, 0, 3);
	prom__family(&b, "reqacct_g", "gauge", "G.");
	prom__sample_f64(&b, "reqacct_g", NULL, 0, 1.0 / 3);
	assert_int_equal(b.err, 0);
	assert_string_equal(b.data,
		"# HELP reqacct_x_total Help with \\\\ and\\nnewline.\n"
		"# TYPE reqacct_x_total counter\n"
		"reqacct_x_total{comm=\"a\\\"b\",port=\"443\"} 18446744073709551615\n"
		"reqacct_x_total 0\n"
		"# HELP reqacct_d_seconds Durations.\n"
		"# TYPE reqacct_d_seconds histogram\n"
		"reqacct_d_seconds_bucket{le=\"+Inf\"} 3\n"
		"reqacct_d_seconds_sum 0.1\n"
		"reqacct_d_seconds_count 3\n"
		"# HELP reqacct_g G.\n"
		"# TYPE reqacct_g gauge\n"
		"reqacct_g 0.33333333333333331\n");
	prom__free(&b);
}

static void test_grouping_enforced(void **state)
{
	struct prom_buf b;

	prom__init(&b);
	prom__family(&b, "a_total", "counter", "A.");
	prom__family(&b, "b_total", "counter", "B.");
	prom__sample_u64(&b, "a_total", NULL, 0, 1);	/* a's sample after b's HELP */
	assert_int_equal(b.err, -EINVAL);
	prom__free(&b);

	prom__init(&b);
	prom__family(&b, "a_total", "counter", "A.");
	prom__family(&b, "a_total", "counter", "A again.");	/* one family, two groups */
	assert_int_equal(b.err, -EEXIST);
	prom__free(&b);

	prom__init(&b);
	prom__sample_u64(&b, "a_total", NULL, 0, 1);	/* no family at all */
	assert_int_equal(b.err, -EINVAL);
	prom__free(&b);

	prom__init(&b);
	prom__family(&b, "a", "gauge", "A.");
	prom__sample_u64(&b, "ab", NULL, 0, 1);		/* a prefix is not the family */
	assert_int_equal(b.err, -EINVAL);
	prom__free(&b);
}

static void test_special_floats(void **state)
{
	struct prom_buf b;

	prom__init(&b);
	prom__family(&b, "g", "gauge", "G.");
	prom__sample_f64(&b, "g", NULL, 0, 1.0 / 0.0);
	prom__sample_f64(&b, "g", NULL, 0, -1.0 / 0.0);
	prom__sample_f64(&b, "g", NULL, 0, 0.0 / 0.0);
	prom__sample_f64(&b, "g", NULL, 0, 1e300);
	assert_non_null(strstr(b.data, "g +Inf\ng -Inf\ng NaN\ng 1e+300\n"));
	prom__free(&b);
}

static const struct {
	const char *desc, *hdr;
	bool gzip;
} encodings[] = {
	{ "gzip alone", "gzip", true },
	{ "Prometheus' header", "gzip", true },
	{ "list", "deflate, gzip;q=1.0, *;q=0.5", true },
	{ "case-insensitive", "GZIP", true },
	{ "x-gzip", "x-gzip", true },
	{ "wildcard", "*", true },
	{ "refused with q=0", "gzip;q=0", false },
	{ "refused with q=0.000", "gzip; q=0.000", false },
	{ "identity only", "identity", false },
	{ "empty", "", false },
	{ "gzipped is not gzip", "gzipped", false },
	{ "garbage", ";;;,,,=", false },
};

static void test_accept_encoding(void **state)
{
	for (size_t i = 0; i < sizeof(encodings) / sizeof(encodings[0]); i++)
		if (prom__accepts_gzip(encodings[i].hdr) != encodings[i].gzip)
			fail_msg("%s: '%s' should %saccept gzip", encodings[i].desc, encodings[i].hdr,
				 encodings[i].gzip ? "" : "not ");
}

static void test_gzip_roundtrip(void **state)
{
	size_t n = 200000, outlen;
	char *in = malloc(n), *out, *back = malloc(n);
	uLongf backlen = n;
	z_stream zs = {};

	for (size_t i = 0; i < n; i++)
		in[i] = "reqacct_tcp_bytes_total{}\n"[i % 26];
	assert_int_equal(prom__gzip(in, n, &out, &outlen), 0);
	assert_true(outlen < n / 10);
	assert_int_equal((unsigned char)out[0], 0x1f);	/* gzip magic, RFC 1952 2.3.1 */
	assert_int_equal((unsigned char)out[1], 0x8b);
	assert_int_equal(inflateInit2(&zs, MAX_WBITS + 16), Z_OK);
	zs.next_in = (Bytef *)out;
	zs.avail_in = outlen;
	zs.next_out = (Bytef *)back;
	zs.avail_out = backlen;
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	assert_int_equal(zs.total_out, n);
	assert_memory_equal(in, back, n);
	inflateEnd(&zs);
	free(in);
	free(out);
	free(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_family_and_samples),
		cmocka_unit_test(test_grouping_enforced),
		cmocka_unit_test(test_special_floats),
		cmocka_unit_test(test_accept_encoding),
		cmocka_unit_test(test_gzip_roundtrip),
	};

	return cmocka_run_group_tests_name("prom", tests, NULL, NULL);
}
