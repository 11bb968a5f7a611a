// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_netns.c - the addresses of a network namespace from the kernel's
 * own tables: /proc/PID/net/fib_trie (local IPv4, "/32 host LOCAL") and
 * /proc/PID/net/if_inet6 (global IPv6), loopback left out. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "netns.h"

/* A pod's fib_trie (both tables list its addresses: one each is kept). */
static const char fib[] =
	"Main:\n"
	"  +-- 0.0.0.0/0 3 0 5\n"
	"     |-- 0.0.0.0\n"
	"        /0 universe UNICAST\n"
	"     +-- 10.244.1.0/24 2 0 2\n"
	"        +-- 10.244.1.0/28 2 0 2\n"
	"           |-- 10.244.1.0\n"
	"              /24 link UNICAST\n"
	"           |-- 10.244.1.7\n"
	"              /32 host LOCAL\n"
	"        |-- 10.244.1.255\n"
	"           /32 link BROADCAST\n"
	"     +-- 127.0.0.0/8 2 0 2\n"
	"        +-- 127.0.0.0/31 1 0 0\n"
	"           |-- 127.0.0.0\n"
	"              /8 host LOCAL\n"
	"           |-- 127.0.0.1\n"
	"              /32 host LOCAL\n"
	"Local:\n"
	"  +-- 0.0.0.0/0 3 0 5\n"
	"           |-- 10.244.1.7\n"
	"              /32 host LOCAL\n"
	"           |-- 169.254.1.1\n"
	"              /32 host LOCAL\n";

static void test_fib(void **state)
{
	char out[4][INET6_ADDRSTRLEN];

	assert_int_equal(netns__fib_local(fib, out, 4), 2);
	assert_string_equal(out[0], "10.244.1.7");
	assert_string_equal(out[1], "169.254.1.1");
	assert_int_equal(netns__fib_local(fib, out, 1), 1);
	assert_int_equal(netns__fib_local("", out, 4), 0);
	/* garbage: a LOCAL line without an address above, a prefix as "address" */
	assert_int_equal(netns__fib_local("   /32 host LOCAL\n|-- 10.0.0.0/8\n /32 host LOCAL",
					  out, 4), 0);
}

static void test_inet6(void **state)
{
	static const char text[] =
		"00000000000000000000000000000001 01 80 10 80       lo\n"
		"fe8000000000000000fc00fffe000001 04 40 20 80     eth0\n"
		"fd000000000000000000000000000002 04 40 00 82     eth0\n"
		"20010db8000000000000000000000005 04 40 00 80     eth0\n"
		"nonsense\n";
	char out[4][INET6_ADDRSTRLEN];

	assert_int_equal(netns__inet6_global(text, out, 4), 2);
	assert_string_equal(out[0], "fd00::2");
	assert_string_equal(out[1], "2001:db8::5");
	assert_int_equal(netns__inet6_global(text, out, 1), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fib),
		cmocka_unit_test(test_inet6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
