// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_dns.c - the DNS wire parser that the BPF programs run (bpf/dns_parse.h,
 * compiled here for the host), with crafted malformed messages, and the
 * resolv.conf search-list parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "dns_parse.h"
#include "resolv.h"

/* A message: header fields, then raw question/answer bytes. */
static size_t msg(__u8 *out, __u16 id, __u8 flags2, __u8 flags3, __u16 qd, __u16 an,
		  const void *rest, size_t restlen)
{
	__u8 h[RA_DNS_HDR_LEN] = { id >> 8, id & 0xff, flags2, flags3, qd >> 8, qd & 0xff,
				   an >> 8, an & 0xff, 0, 0, 0, 0 };

	memcpy(out, h, sizeof(h));
	memcpy(out + sizeof(h), rest, restlen);
	return sizeof(h) + restlen;
}

/* Parse a message of n bytes, all available, from a buffer of RA_DNS_BUF. */
static int parse(const __u8 *m, size_t n, struct ra_dns_msg *out)
{
	static __u8 buf[RA_DNS_BUF];

	memset(buf, 0, sizeof(buf));
	memcpy(buf, m, n < RA_DNS_PARSE_MAX ? n : RA_DNS_PARSE_MAX);
	memset(out, 0, sizeof(*out));
	return ra_dns_parse(buf, n, n, out);
}

static __u64 fnv(const char *s)
{
	__u64 h = RA_FNV64_OFFSET;

	for (; *s; s++)
		h = (h ^ (__u8)*s) * RA_FNV64_PRIME;
	return h;
}

#define Q_WWW "\3WwW\7Example\3COM\0\0\1\0\1"	/* www.example.com A IN */

static void test_query(void **state)
{
	__u8 m[512];
	struct ra_dns_msg d;
	size_t n = msg(m, 0xbeef, 0x01, 0x00, 1, 0, Q_WWW, sizeof(Q_WWW) - 1);

	assert_int_equal(parse(m, n, &d), RA_DNS_OK);
	assert_int_equal(d.id, 0xbeef);
	assert_int_equal(d.qr, 0);
	assert_int_equal(d.qtype, 1);
	assert_int_equal(d.qclass, 1);
	assert_string_equal(d.name, "www.example.com");
	assert_int_equal(d.name_len, 15);
	assert_int_equal(d.name_cut, 0);
	assert_true(d.name_hash == fnv("www.example.com"));
}

static void test_response_nxdomain_tc(void **state)
{
	static const __u8 q[] = "\3foo\4test\0\0\x1c\0\1";	/* foo.test AAAA */
	__u8 m[512];
	struct ra_dns_msg d;
	size_t n = msg(m, 7, 0x80 | 0x02, 0x03, 1, 0, q, sizeof(q) - 1);

	assert_int_equal(parse(m, n, &d), RA_DNS_OK);
	assert_int_equal(d.qr, 1);
	assert_int_equal(d.tc, 1);
	assert_int_equal(d.rcode, RA_DNS_RCODE_NXDOMAIN);
	assert_int_equal(d.qtype, 28);
	assert_string_equal(d.name, "foo.test");
}

static void test_root_name(void **state)
{
	static const __u8 q[] = "\0\0\2\0\1";	/* . NS */
	__u8 m[64];
	struct ra_dns_msg d;

	assert_int_equal(parse(m, msg(m, 1, 0, 0, 1, 0, q, sizeof(q) - 1), &d), RA_DNS_OK);
	assert_string_equal(d.name, ".");
	assert_int_equal(d.qtype, 2);
}

/* A 253-character name: kept cut to RA_DNS_NAME_MAX - 1, hashed whole. */
static void test_long_name_cut(void **state)
{
	__u8 q[300], m[512];
	char dotted[300] = "";
	struct ra_dns_msg d;
	size_t qn = 0;

	for (int l = 0; l < 4; l++) {	/* 63+62+62+63 characters + 3 dots = 253 */
		int len = (l == 0 || l == 3) ? 63 : 62;

		q[qn++] = len;
		for (int i = 0; i < len; i++) {
			q[qn++] = 'a' + l;
			dotted[strlen(dotted) + 1] = '\0';
			dotted[strlen(dotted)] = 'a' + l;
		}
		if (l < 3)
			strcat(dotted, ".");
	}
	q[qn++] = 0;
	memcpy(q + qn, "\0\1\0\1", 4);
	qn += 4;
	assert_int_equal(strlen(dotted), 253);
	assert_int_equal(parse(m, msg(m, 1, 0, 0, 1, 0, q, qn), &d), RA_DNS_OK);
	assert_int_equal(d.name_cut, 1);
	assert_int_equal(d.name_len, RA_DNS_NAME_MAX - 1);
	assert_memory_equal(d.name, dotted, RA_DNS_NAME_MAX - 1);
	assert_true(d.name_hash == fnv(dotted));
	assert_int_equal(d.qtype, 1);
}

static const struct {
	const char *desc;
	__u16 qd, an;
	const char *rest;
	size_t restlen;
	int want;
} bad[] = {
#define B(desc, qd, an, rest, want) { desc, qd, an, rest, sizeof(rest) - 1, want }
	B("pointer as the whole name", 1, 0, "\xc0\x0c\0\1\0\1", RA_DNS_E_POINTER),
	B("pointer loop to itself", 1, 0, "\3www\xc0\x10\0\1\0\1", RA_DNS_E_POINTER),
	B("label type 01 (EDNS0 extended label)", 1, 0, "\x41x\0\0\1\0\1", RA_DNS_E_LABEL_TYPE),
	B("label type 10", 1, 0, "\x81x\0\0\1\0\1", RA_DNS_E_LABEL_TYPE),
	B("label longer than the packet", 1, 0, "\x3fwwwwwwwww", RA_DNS_E_TRUNCATED),
	B("no root label", 1, 0, "\3www\3com", RA_DNS_E_TRUNCATED),
	B("qtype cut", 1, 0, "\3www\0\0", RA_DNS_E_TRUNCATED),
	B("qdcount 0", 0, 0, "\3www\0\0\1\0\1", RA_DNS_E_NO_QUESTION),
	B("answer count larger than the packet", 1, 1000, "\3www\0\0\1\0\1", RA_DNS_E_COUNTS),
	B("question count larger than the packet", 4, 0, "\3www\0\0\1\0\1", RA_DNS_E_COUNTS),
#undef B
};

static void test_malformed(void **state)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		__u8 m[512];
		struct ra_dns_msg d;
		size_t n = msg(m, 9, 0, 0, bad[i].qd, bad[i].an, bad[i].rest, bad[i].restlen);
		int got = parse(m, n, &d);

		if (got != bad[i].want)
			fail_msg("%s: got %d, want %d", bad[i].desc, got, bad[i].want);
	}
}

static void test_short(void **state)
{
	__u8 m[RA_DNS_HDR_LEN] = { 0 };
	struct ra_dns_msg d;

	for (size_t n = 0; n < RA_DNS_HDR_LEN; n++)
		assert_int_equal(parse(m, n, &d), RA_DNS_E_SHORT);
}

/* 255 wire bytes of labels without the root label: too long. */
static void test_name_too_long(void **state)
{
	__u8 q[400], m[512];
	struct ra_dns_msg d;
	size_t qn = 0;

	for (int l = 0; l < 5; l++) {
		q[qn++] = 63;
		memset(q + qn, 'x', 63);
		qn += 63;
	}
	q[qn++] = 0;
	memcpy(q + qn, "\0\1\0\1", 4);
	qn += 4;
	assert_int_equal(parse(m, msg(m, 1, 0, 0, 1, 0, q, qn), &d), RA_DNS_E_NAME_LONG);
}

/* TCP: the message is longer than what one segment holds. */
static void test_partial(void **state)
{
	__u8 m[512], buf[RA_DNS_BUF] = { 0 };
	struct ra_dns_msg d;
	size_t n = msg(m, 1, 0, 0, 1, 0, Q_WWW, sizeof(Q_WWW) - 1);

	memcpy(buf, m, n);
	assert_int_equal(ra_dns_parse(buf, 20, n, &d), RA_DNS_E_PARTIAL);
	assert_int_equal(ra_dns_parse(buf, 8, n, &d), RA_DNS_E_PARTIAL);
	assert_int_equal(ra_dns_parse(buf, n, n, &d), RA_DNS_OK);
	/* Bytes past the message (the next message in a segment) are not read. */
	assert_int_equal(ra_dns_parse(buf, n + 100, n - 2, &d), RA_DNS_E_TRUNCATED);
}

static void test_resolv(void **state)
{
	static const char conf[] =
		"nameserver 10.96.0.10\n"
		"domain ignored.example\n"
		"search default.svc.cluster.local svc.cluster.local. Cluster.Local # k8s\n"
		"options ndots:5\n";
	struct resolv_search s;
	char err[128];

	assert_int_equal(resolv__parse(conf, strlen(conf), &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.domain[0], "default.svc.cluster.local");
	assert_string_equal(s.domain[1], "svc.cluster.local");
	assert_string_equal(s.domain[2], "cluster.local");
	assert_true(resolv__under_search(&s, "kubernetes.default.svc.cluster.local"));
	assert_true(resolv__under_search(&s, "api.cluster.local"));
	assert_false(resolv__under_search(&s, "cluster.local"));
	assert_false(resolv__under_search(&s, "xcluster.local"));
	assert_false(resolv__under_search(&s, "example.com"));

	assert_int_equal(resolv__parse("search a\ndomain b.test\n", 23, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.domain[0], "b.test");
	assert_int_equal(resolv__parse("", 0, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(resolv__parse("searchx a\n", 10, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 0);
}

static void test_resolv_bad(void **state)
{
	char conf[600] = "nameserver 1.1.1.1\nsearch ";
	struct resolv_search s;
	char err[128];

	assert_int_equal(resolv__parse("search a\0b\n", 11, &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "resolv.conf: contains a NUL byte");
	memset(conf + strlen(conf), 'a', 300);
	assert_int_equal(resolv__parse(conf, strlen(conf), &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "resolv.conf:2: search domain longer than 253 bytes");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_response_nxdomain_tc),
		cmocka_unit_test(test_root_name),
		cmocka_unit_test(test_long_name_cut),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_short),
		cmocka_unit_test(test_name_too_long),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_resolv),
		cmocka_unit_test(test_resolv_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
