// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_http.c - the HTTP/1.x start-line parser the BPF programs run
 * (bpf/http_parse.h, compiled here for the host), good and bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "http_parse.h"

static int method(const char *s)
{
	return ra_http_method((const __u8 *)s, strlen(s) < RA_HTTP_PEEK ? strlen(s) : RA_HTTP_PEEK);
}

static int status(const char *s)
{
	return ra_http_status((const __u8 *)s, strlen(s) < RA_HTTP_PEEK ? strlen(s) : RA_HTTP_PEEK);
}

static void test_methods(void **state)
{
	assert_int_equal(method("GET / HTTP/1.1\r\n"), RA_HTTP_M_GET);
	assert_int_equal(method("POST /api/v1/pods HTTP/1.1\r\n"), RA_HTTP_M_POST);
	assert_int_equal(method("PUT /x HTTP/1.1"), RA_HTTP_M_PUT);
	assert_int_equal(method("PATCH /x HTTP/1.1"), RA_HTTP_M_PATCH);
	assert_int_equal(method("DELETE /x HTTP/1.1"), RA_HTTP_M_DELETE);
	assert_int_equal(method("HEAD / HTTP/1.0"), RA_HTTP_M_HEAD);
	assert_int_equal(method("OPTIONS * HTTP/1.1"), RA_HTTP_M_OPTIONS);
	assert_int_equal(method("CONNECT host:443 HTTP/1.1"), RA_HTTP_M_CONNECT);
	assert_int_equal(method("TRACE / HTTP/1.1"), RA_HTTP_M_TRACE);
	assert_int_equal(method("PROPFIND /dav HTTP/1.1"), RA_HTTP_M_OTHER);
	assert_int_equal(method("M-SEARCH * HTTP/1.1"), -1);	/* not a token of letters */
}

static void test_not_requests(void **state)
{
	assert_int_equal(method(""), -1);
	assert_int_equal(method("GET"), -1);		/* too short to tell */
	assert_int_equal(method("GET "), -1);
	assert_int_equal(method("get / HTTP/1.1"), -1);	/* methods are case-sensitive */
	assert_int_equal(method("GETX / HTTP/1.1"), RA_HTTP_M_OTHER);
	assert_int_equal(method("{\"kind\":\"Pod\"}"), -1);	/* a request body */
	assert_int_equal(method("\x16\x03\x01\x02\x00\x01"), -1);	/* a TLS record */
	assert_int_equal(method("PRI * HTTP/2.0\r\n"), RA_HTTP_M_OTHER);	/* the h2 preface */
	assert_int_equal(method("ABCDEFGHIJKLMNOP / HTTP/1.1"), -1);	/* longer than the peek */
}

static void test_status(void **state)
{
	assert_int_equal(status("HTTP/1.1 200 OK\r\n"), 200);
	assert_int_equal(status("HTTP/1.0 404 Not Found"), 404);
	assert_int_equal(status("HTTP/1.1 100 Continue"), 100);
	assert_int_equal(status("HTTP/1.1 599\r\n"), 599);
	assert_int_equal(status("HTTP/1.1 204\r\n"), 204);
	assert_int_equal(status("HTTP/1.1 600 Nope"), -1);
	assert_int_equal(status("HTTP/1.1 099 Nope"), -1);
	assert_int_equal(status("HTTP/1.1 20x OK"), -1);
	assert_int_equal(status("HTTP/1.2 200 OK"), -1);
	assert_int_equal(status("HTTP/2 200 OK"), -1);
	assert_int_equal(status("HTTP/1.1 200"), -1);	/* cut before the separator */
	assert_int_equal(status("HTTP/1.1  200 OK"), -1);
	assert_int_equal(status("GET / HTTP/1.1"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_not_requests),
		cmocka_unit_test(test_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
