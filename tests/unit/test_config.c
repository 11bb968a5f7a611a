// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_config.c - configuration file and command line, good and bad input. */
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

#include "agent.h"
#include "config.h"

static void test_defaults(void **state)
{
	static const __u16 want[] = { 443, 6443, 2379, 10250, 53 };
	struct ra_config c;

	config__defaults(&c);
	assert_string_equal(c.listen, ":9464");
	assert_int_equal(c.nports, 5);
	assert_memory_equal(c.ports, want, sizeof(want));
	assert_int_equal(c.max_flows, RA_MAX_FLOWS);
	assert_int_equal(c.hook, HOOK_AUTO);
	assert_true(c.dns);
	assert_int_equal(c.ndns_ports, 1);
	assert_int_equal(c.dns_ports[0], 53);
	assert_int_equal(c.dns_timeout_ms, 5000);
	assert_int_equal(c.dns_top_names, 10);
	assert_int_equal(c.tls, CONFIG_TLS_GO);
	assert_int_equal(c.nk8s_ports, 2);
	assert_int_equal(c.k8s_ports[0], 6443);
	assert_int_equal(c.k8s_ports[1], 443);
	assert_int_equal(c.k8s_max_series, 4096);
	assert_int_equal(c.ntls_ports, 0);
}

static void test_tls(void **state)
{
	static const struct {
		const char *text;
		__u8 want;
	} cases[] = {
		{ "tls = off\n", 0 },
		{ "tls = on\n", CONFIG_TLS_GO | CONFIG_TLS_OPENSSL },
		{ "tls = openssl\n", CONFIG_TLS_OPENSSL },
		{ "tls = go, openssl\n", CONFIG_TLS_GO | CONFIG_TLS_OPENSSL },
		{ "tls = openssl go\n", CONFIG_TLS_GO | CONFIG_TLS_OPENSSL },
	};
	char err[CONFIG_ERR_MAX] = "";
	struct ra_config c;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		config__defaults(&c);
		assert_int_equal(config__parse_text(&c, cases[i].text, "t", err, sizeof(err)), 0);
		assert_int_equal(c.tls, cases[i].want);
	}
}

static void test_file_good(void **state)
{
	struct ra_config c;
	char err[CONFIG_ERR_MAX] = "";

	config__defaults(&c);
	assert_int_equal(config__parse_text(&c,
		"# reqacct\n\nlisten = [::1]:9999\r\n  ports = 6443, 2379 53\t# apiserver, etcd, dns\n"
		"max_flows = 100\nhook = sockops\ncgroup = /sys/fs/cgroup/x#y z # a '#' in a word stays\n",
		"t.conf", err, sizeof(err)), 0);
	assert_string_equal(c.listen, "[::1]:9999");
	assert_int_equal(c.nports, 3);
	assert_int_equal(c.ports[0], 6443);
	assert_int_equal(c.ports[2], 53);
	assert_int_equal(c.max_flows, 100);
	assert_int_equal(c.hook, HOOK_SOCKOPS);
	assert_string_equal(c.cgroup, "/sys/fs/cgroup/x#y z");
}

static const struct {
	const char *desc, *text, *err;
} bad_files[] = {
	{ "no equals sign", "listen\n", "f:1: expected 'key = value', got 'listen'" },
	{ "unknown key on line 3", "\n#\nlisten_on = :1\n", "f:3: unknown key 'listen_on'" },
	{ "missing value", "ports =\n", "f:1: missing value for 'ports'" },
	{ "missing key", "= 5\n", "f:1: missing key before '='" },
	{ "port zero", "ports = 0\n", "f:1: bad port '0' (want 1-65535)" },
	{ "port too big", "ports = 65536\n", "f:1: bad port '65536'" },
	{ "negative port", "ports = -1\n", "f:1: bad port '-1'" },
	{ "hex port", "ports = 0x50\n", "f:1: bad port '0x50'" },
	{ "duplicate port", "ports = 53 53\n", "f:1: port 53 listed twice" },
	{ "too many ports", "ports = 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n", "f:1: more than 16 ports" },
	{ "empty port list", "ports = ,\n", "f:1: empty port list" },
	{ "listen without port", "listen = 127.0.0.1\n", "f:1: bad listen address '127.0.0.1'" },
	{ "listen bare IPv6", "listen = ::1:80\n", "f:1: bad listen address" },
	{ "listen port 0", "listen = :0\n", "f:1: bad listen address" },
	{ "max_flows zero", "max_flows = 0\n", "f:1: bad max_flows '0'" },
	{ "max_flows huge", "max_flows = 99999999999999999999\n", "f:1: bad max_flows" },
	{ "hook unknown", "hook = kprobe\n", "f:1: bad hook 'kprobe' (want auto, tracepoint or sockops)" },
	{ "relative cgroup", "cgroup = sys/fs\n", "f:1: cgroup must be an absolute path" },
	{ "dns neither on nor off", "dns = yes\n", "f:1: bad dns 'yes' (want on or off)" },
	{ "too many DNS ports", "dns_ports = 53 5353 8053 9053 10053\n", "f:1: more than 4 ports" },
	{ "DNS timeout zero", "dns_timeout_ms = 0\n", "f:1: bad dns_timeout_ms '0' (want 1-600000)" },
	{ "k8s rows zero", "k8s_max_series = 0\n", "f:1: bad k8s_max_series '0' (want 1-1048576)" },
	{ "tls port out of range", "tls_ports = 6443 70000\n", "f:1: bad port '70000' (want 1-65535)" },
	{ "tls not a library", "tls = go,1\n", "f:1: bad tls '1' (want on, off, or go and/or openssl)" },
	{ "tls empty", "tls = , \n", "f:1: empty tls (want on, off, or go and/or openssl)" },
	{ "relative libssl path", "tls_libs = libssl.so.3\n", "f:1: 'libssl.so.3' is not an absolute path" },
	{ "process name too long", "tls_comms = nginx, abcdefghijklmnopq\n",
	  "f:1: process name 'abcdefghijklmnopq' longer than 15 bytes" },
	{ "top names too many", "\ndns_top_names = 1001\n", "f:2: bad dns_top_names '1001' (want 0-1000)" },
	{ "relative certificate", "\n\nweb_tls_cert_file = cert.pem\n",
	  "f:3: web_tls_cert_file must be an absolute path" },
	{ "relative key", "web_tls_key_file = ./key.pem\n",
	  "f:1: web_tls_key_file must be an absolute path" },
	{ "relative users file", "web_basic_auth_file = users\n",
	  "f:1: web_basic_auth_file must be an absolute path" },
	{ "users file without value", "web_basic_auth_file =\n",
	  "f:1: missing value for 'web_basic_auth_file'" },
	{ "the agent's tls key is not the endpoint's", "tls_cert_file = /a\n",
	  "f:1: unknown key 'tls_cert_file'" },
};

static void test_file_bad(void **state)
{
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		struct ra_config c;
		char err[CONFIG_ERR_MAX] = "";
		int rc;

		config__defaults(&c);
		rc = config__parse_text(&c, bad_files[i].text, "f", err, sizeof(err));
		if (rc != -EINVAL || !strstr(err, bad_files[i].err))
			fail_msg("%s: rc %d, err '%s', want '%s'", bad_files[i].desc, rc, err,
				 bad_files[i].err);
	}
}

static void test_file_io(void **state)
{
	char path[] = "/tmp/reqacct-test-config-XXXXXX", err[CONFIG_ERR_MAX] = "";
	struct ra_config c;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "ports = 80\n\0x", 13), 13);
	close(fd);
	config__defaults(&c);
	assert_int_equal(config__parse_file(&c, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "contains a NUL byte"));
	unlink(path);
	assert_true(config__parse_file(&c, "/nonexistent/reqacct.conf", err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "/nonexistent/reqacct.conf: No such file or directory"));
}

static int parse(char *err, struct ra_config *c, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	va_start(ap, c);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	return agent__parse_args(c, argc, argv, err, CONFIG_ERR_MAX);
}

static void test_cli(void **state)
{
	char err[CONFIG_ERR_MAX] = "", path[] = "/tmp/reqacct-test-config-XXXXXX";
	struct ra_config c;
	int fd;

	assert_int_equal(parse(err, &c, "agent", "-p", "6443", "--port", "8443", "-l", "127.0.0.1:1",
			       "--max-flows", "64", NULL), 0);
	assert_int_equal(c.nports, 2);
	assert_int_equal(c.ports[1], 8443);
	assert_string_equal(c.listen, "127.0.0.1:1");
	assert_int_equal(c.max_flows, 64);
	assert_int_equal(parse(err, &c, "agent", "--help", NULL), 1);
	assert_int_equal(parse(err, &c, "agent", "--dns-port", "53", "--dns-port", "5353", "--dns", "off",
			       "--dns-timeout-ms", "2000", "--dns-top-names", "0", NULL), 0);
	assert_int_equal(c.ndns_ports, 2);
	assert_int_equal(c.dns_ports[1], 5353);
	assert_false(c.dns);
	assert_int_equal(c.dns_timeout_ms, 2000);
	assert_int_equal(c.dns_top_names, 0);
	assert_int_equal(parse(err, &c, "agent", "--dns-port", "0", NULL), -EINVAL);
	assert_string_equal(err, "--dns-port: bad port '0' (want 1-65535)");

	/* the file first, then options, whatever their order */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "ports = 80\nmax_flows = 5\n", 25), 25);
	close(fd);
	assert_int_equal(parse(err, &c, "agent", "--max-flows", "7", "-c", path, NULL), 0);
	assert_int_equal(c.max_flows, 7);
	assert_int_equal(c.nports, 1);
	assert_int_equal(c.ports[0], 80);
	unlink(path);

	assert_int_equal(parse(err, &c, "agent", "--port", "http", NULL), -EINVAL);
	assert_string_equal(err, "--port: bad port 'http' (want 1-65535)");
	assert_int_equal(parse(err, &c, "agent", "--bogus", NULL), -EINVAL);
	assert_string_equal(err, "unknown option '--bogus' (see --help)");
	assert_int_equal(parse(err, &c, "agent", "--listen", NULL), -EINVAL);
	assert_string_equal(err, "option '--listen' needs a value");
	assert_int_equal(parse(err, &c, "agent", "extra", NULL), -EINVAL);
	assert_string_equal(err, "unexpected argument 'extra'");
	assert_int_equal(parse(err, &c, "agent", "--hook", "fentry", NULL), -EINVAL);
	assert_string_equal(err, "--hook: bad hook 'fentry' (want auto, tracepoint or sockops)");
	assert_int_equal(parse(err, &c, "agent", "--max-flows", "1x", NULL), -EINVAL);
	assert_non_null(strstr(err, "--max-flows: bad max_flows '1x'"));
}

/* The scrape endpoint's keys, from the file and from the options. */
static void test_web(void **state)
{
	char err[CONFIG_ERR_MAX] = "", path[] = "/tmp/reqacct-test-config-XXXXXX";
	struct ra_config c;
	int fd;

	config__defaults(&c);
	assert_string_equal(c.web_tls_cert_file, "");
	assert_string_equal(c.web_basic_auth_file, "");
	assert_int_equal(config__parse_text(&c, "web_tls_cert_file = /etc/reqacct/tls.crt\n"
					    "web_tls_key_file = /etc/reqacct/tls.key\n"
					    "web_basic_auth_file = /etc/reqacct/users # sha256\n",
					    "t", err, sizeof(err)), 0);
	assert_string_equal(c.web_tls_cert_file, "/etc/reqacct/tls.crt");
	assert_string_equal(c.web_tls_key_file, "/etc/reqacct/tls.key");
	assert_string_equal(c.web_basic_auth_file, "/etc/reqacct/users");

	assert_int_equal(parse(err, &c, "agent", "--web-tls-cert-file", "/c", "--web-tls-key-file",
			       "/k", "--web-basic-auth-file", "/u", NULL), 0);
	assert_string_equal(c.web_tls_cert_file, "/c");
	assert_string_equal(c.web_tls_key_file, "/k");
	assert_string_equal(c.web_basic_auth_file, "/u");
	assert_string_equal(c.config_file, "");
	assert_int_equal(parse(err, &c, "agent", "--web-basic-auth-file", "u", NULL), -EINVAL);
	assert_string_equal(err, "--web-basic-auth-file: web_basic_auth_file must be an absolute path");

	/* -c is remembered (SIGHUP re-reads it); the options still win over it */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "web_basic_auth_file = /file\n", 28), 28);
	close(fd);
	assert_int_equal(parse(err, &c, "agent", "-c", path, "--web-basic-auth-file", "/flag", NULL), 0);
	assert_string_equal(c.config_file, path);
	assert_string_equal(c.web_basic_auth_file, "/flag");
	unlink(path);
}

/* What a reload compares and copies. */
static void test_reload_keys(void **state)
{
	char err[CONFIG_ERR_MAX] = "";
	struct ra_config a, b;
	const struct config_key *k;
	size_t changed = 0;

	/* every key of the table is a key the parser knows */
	for (size_t i = 0; i < config_nkeys; i++) {
		config__defaults(&a);
		config__defaults(&b);
		assert_false(config__differs(&a, &b, &config_keys[i]));
		if (config__set(&a, config_keys[i].key, "", "t", err, sizeof(err)))
			assert_null(strstr(err, "unknown key"));
	}
	config__defaults(&a);
	config__defaults(&b);
	assert_int_equal(config__parse_text(&b, "k8s_top_clients = 7\nmax_flows = 9\n"
					    "ports = 1 2\nweb_basic_auth_file = /u\n", "t", err,
					    sizeof(err)), 0);
	for (size_t i = 0; i < config_nkeys; i++) {
		k = &config_keys[i];
		if (!config__differs(&a, &b, k))
			continue;
		changed++;
		if (!strcmp(k->key, "k8s_top_clients") || !strcmp(k->key, "web_basic_auth_file"))
			assert_true(k->live);
		else if (!strcmp(k->key, "max_flows") || !strcmp(k->key, "ports"))
			assert_false(k->live);
		else
			fail_msg("%s differs", k->key);
		config__copy(&a, &b, k);
		assert_false(config__differs(&a, &b, k));
	}
	assert_int_equal(changed, 4);
	assert_int_equal(a.k8s_top_clients, 7);
	assert_int_equal(a.nports, 2);
	assert_string_equal(a.web_basic_auth_file, "/u");

	/* a list compares by its count and elements, not what lies past them */
	config__defaults(&a);
	config__defaults(&b);
	assert_int_equal(config__parse_text(&a, "ports = 5 6 7\nports = 5\n", "t", err, sizeof(err)), 0);
	assert_int_equal(config__parse_text(&b, "ports = 5\n", "t", err, sizeof(err)), 0);
	for (size_t i = 0; i < config_nkeys; i++)
		if (!strcmp(config_keys[i].key, "ports"))
			assert_false(config__differs(&a, &b, &config_keys[i]));
	/* what a restart needs is never live */
	for (size_t i = 0; i < config_nkeys; i++) {
		static const char *const restart[] = { "listen", "web_tls_cert_file",
						       "web_tls_key_file", "max_flows", "tls", "hook" };

		for (size_t j = 0; j < sizeof(restart) / sizeof(restart[0]); j++)
			if (!strcmp(config_keys[i].key, restart[j]))
				assert_false(config_keys[i].live);
	}
}

static void test_listen(void **state)
{
	char host[64];
	__u16 port;

	assert_int_equal(config__parse_listen(":9464", host, sizeof(host), &port), 0);
	assert_string_equal(host, "");
	assert_int_equal(port, 9464);
	assert_int_equal(config__parse_listen("[fe80::1]:1", host, sizeof(host), &port), 0);
	assert_string_equal(host, "fe80::1");
	assert_int_equal(config__parse_listen("[::1]9", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(config__parse_listen("[::1", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(config__parse_listen("", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(config__parse_listen("a:b", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(config__parse_listen("1.2.3.4:65536", host, sizeof(host), &port), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults), cmocka_unit_test(test_file_good),
		cmocka_unit_test(test_file_bad), cmocka_unit_test(test_file_io),
		cmocka_unit_test(test_cli),	 cmocka_unit_test(test_listen),
		cmocka_unit_test(test_tls),	 cmocka_unit_test(test_web),
		cmocka_unit_test(test_reload_keys),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
