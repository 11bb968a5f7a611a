// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_websec.c - the scrape endpoint's basic auth file and TLS files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <errno.h>

#include "websec.h"

/* printf %s PASSWORD | sha256sum */
#define SHA_PW "30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4"	/* pw */
#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"	/* "" */

static void test_good(void **state)
{
	struct websec_auth *a = NULL;
	char err[256] = "";

	assert_int_equal(websec__auth_parse("# users\n\n  alice:sha256:" SHA_PW "  \r\n"
					    "bob:sha256:" SHA_EMPTY "\n# end", "users", &a, err,
					    sizeof(err)), 0);
	assert_int_equal(websec__auth_users(a), 2);
	assert_true(websec__auth_check(a, "alice", "pw"));
	assert_true(websec__auth_check(a, "bob", ""));
	assert_false(websec__auth_check(a, "alice", "pw "));
	assert_false(websec__auth_check(a, "alice", ""));
	assert_false(websec__auth_check(a, "bob", "pw"));	/* alice's password, bob's name */
	assert_false(websec__auth_check(a, "Alice", "pw"));
	assert_false(websec__auth_check(a, "", "pw"));
	assert_false(websec__auth_check(a, NULL, "pw"));
	assert_false(websec__auth_check(a, "alice", NULL));
	assert_false(websec__auth_check(NULL, "alice", "pw"));
	websec__auth_free(a);

	/* upper-case hex is hex too */
	assert_int_equal(websec__auth_parse("c:sha256:30C952FAB122C3F9759F02A6D95C3758B246B4FEE239957B2D4FEE46E26170C4",
					    "u", &a, err, sizeof(err)), 0);
	assert_true(websec__auth_check(a, "c", "pw"));
	websec__auth_free(a);
}

static const struct {
	const char *desc, *text, *err;
} bad[] = {
	{ "no colon", "alice\n", "u:1: expected 'user:sha256:HEX'" },
	{ "empty user on line 3", "#\n\n:sha256:" SHA_PW "\n", "u:3: empty user name" },
	{ "plain password", "alice:hunter2\n",
	  "u:1: user 'alice': the password must be given as sha256:HEX" },
	{ "another scheme", "alice:$2y$10$abc\n", "u:1: user 'alice': the password must be given" },
	{ "short hash", "alice:sha256:abc\n", "u:1: user 'alice': sha256 wants 64 hex digits, got 3" },
	{ "long hash", "alice:sha256:" SHA_PW "0\n", "sha256 wants 64 hex digits, got 65" },
	{ "not hex", "alice:sha256:" "zzc952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4\n",
	  "u:1: user 'alice': sha256 wants hex digits" },
	{ "twice", "a:sha256:" SHA_PW "\na:sha256:" SHA_EMPTY "\n", "u:2: user 'a' listed twice" },
	{ "no users", "# nobody\n\n", "u: no users" },
	{ "empty", "", "u: no users" },
	{ "control character", "a\tb:sha256:" SHA_PW "\n", "u:1: control character in the user name" },
	{ "long name", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:sha256:" SHA_PW,
	  "u:1: user name longer than 64 bytes" },
};

static void test_bad(void **state)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct websec_auth *a = NULL;
		char err[256] = "";
		int rc = websec__auth_parse(bad[i].text, "u", &a, err, sizeof(err));

		if (rc != -EINVAL || a || !strstr(err, bad[i].err))
			fail_msg("%s: rc %d, err '%s', want '%s'", bad[i].desc, rc, err, bad[i].err);
		/* the value after the user name is never echoed */
		if (strstr(err, "hunter2") || strstr(err, "$2y$"))
			fail_msg("%s: the message shows the secret: %s", bad[i].desc, err);
	}
}

static void test_too_many(void **state)
{
	char *text = malloc((WEBSEC_USERS_MAX + 1) * 100), err[256] = "";
	struct websec_auth *a = NULL;
	size_t n = 0;

	assert_non_null(text);
	for (int i = 0; i <= WEBSEC_USERS_MAX; i++)
		n += sprintf(text + n, "u%d:sha256:%s\n", i, SHA_PW);
	assert_int_equal(websec__auth_parse(text, "u", &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "u:65: more than 64 users"));
	free(text);
}

static void test_files(void **state)
{
	char path[] = "/tmp/reqacct-test-users-XXXXXX", err[256] = "", *cert = NULL, *key = NULL;
	struct websec_auth *a = NULL;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x:sha256:" SHA_PW "\n", 74), 74);
	close(fd);
	assert_int_equal(websec__auth_load(path, &a, err, sizeof(err)), 0);
	assert_true(websec__auth_check(a, "x", "pw"));
	websec__auth_free(a);

	assert_true(websec__auth_load("/nonexistent/users", &a, err, sizeof(err)) < 0);
	assert_string_equal(err, "basic auth file /nonexistent/users: No such file or directory");
	assert_true(websec__auth_load("/tmp", &a, err, sizeof(err)) < 0);
	assert_string_equal(err, "basic auth file /tmp: not a regular file");

	/* the users file is no certificate; a lone file is refused */
	assert_int_equal(websec__tls_load(path, path, &cert, &key, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no PEM certificate in it"));
	assert_null(cert);
	assert_int_equal(websec__tls_load(path, "", &cert, &key, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "web_tls_cert_file and web_tls_key_file go together (only the "
				 "certificate is set)");
	assert_int_equal(websec__tls_load("/nonexistent/c.pem", path, &cert, &key, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "certificate /nonexistent/c.pem: No such file or directory");
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good), cmocka_unit_test(test_bad),
		cmocka_unit_test(test_too_many), cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests_name("websec", tests, NULL, NULL);
}
