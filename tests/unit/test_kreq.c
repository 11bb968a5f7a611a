// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_kreq.c - Kubernetes request info against the apiserver's documented
 * examples (the cases of k8s.io/apiserver/pkg/endpoints/request
 * requestinfo_test.go, TestGetAPIRequestInfo and TestGetNonAPIRequestInfo)
 * and more; User-Agent products of real clients; bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kreq.h"

static const struct {
	const char *method, *target, *verb, *group, *version, *ns, *resource, *sub;
	bool named;
} resource_cases[] = {
	/* resource paths */
	{ "GET", "/api/v1/namespaces", "list", "", "v1", "", "namespaces", "", false },
	{ "GET", "/api/v1/namespaces/other", "get", "", "v1", "other", "namespaces", "", true },
	{ "GET", "/api/v1/namespaces/other/pods", "list", "", "v1", "other", "pods", "", false },
	{ "GET", "/api/v1/namespaces/other/pods/foo", "get", "", "v1", "other", "pods", "", true },
	{ "HEAD", "/api/v1/namespaces/other/pods/foo", "get", "", "v1", "other", "pods", "", true },
	{ "GET", "/api/v1/pods", "list", "", "v1", "", "pods", "", false },
	{ "HEAD", "/api/v1/pods", "list", "", "v1", "", "pods", "", false },
	{ "PATCH", "/api/v1/namespaces/new-namespace", "patch", "", "v1", "", "namespaces", "", true },
	/* special verbs */
	{ "GET", "/api/v1/proxy/namespaces/other/pods/foo", "proxy", "", "v1", "other", "pods", "", true },
	{ "GET", "/api/v1/proxy/namespaces/other/pods/foo/subpath/not/a/subresource", "proxy", "",
	  "v1", "other", "pods", "", true },
	{ "GET", "/api/v1/watch/pods", "watch", "", "v1", "", "pods", "", false },
	{ "GET", "/api/v1/pods?watch=true", "watch", "", "v1", "", "pods", "", false },
	{ "GET", "/api/v1/pods?watch=false", "list", "", "v1", "", "pods", "", false },
	{ "GET", "/api/v1/watch/namespaces/other/pods", "watch", "", "v1", "other", "pods", "", false },
	{ "GET", "/api/v1/namespaces/other/pods?watch=1", "watch", "", "v1", "other", "pods", "", false },
	{ "GET", "/api/v1/namespaces/other/pods?watch=0", "list", "", "v1", "other", "pods", "", false },
	/* subresources */
	{ "GET", "/api/v1/namespaces/other/pods/foo/status", "get", "", "v1", "other", "pods", "status",
	  true },
	{ "GET", "/api/v1/namespaces/other/pods/foo/proxy/subpath", "connect", "", "v1", "other", "pods",
	  "proxy", true },
	{ "PUT", "/api/v1/namespaces/other/finalize", "update", "", "v1", "other", "namespaces",
	  "finalize", true },
	{ "PUT", "/api/v1/namespaces/other/status", "update", "", "v1", "other", "namespaces", "status",
	  true },
	/* verbs */
	{ "PATCH", "/api/v1/namespaces/other/pods/foo", "patch", "", "v1", "other", "pods", "", true },
	{ "DELETE", "/api/v1/namespaces/other/pods/foo", "delete", "", "v1", "other", "pods", "", true },
	{ "POST", "/api/v1/namespaces/other/pods", "create", "", "v1", "other", "pods", "", false },
	{ "DELETE", "/api/v1/nodes", "deletecollection", "", "v1", "", "nodes", "", false },
	{ "DELETE", "/api/v1/namespaces", "deletecollection", "", "v1", "", "namespaces", "", false },
	{ "DELETE", "/api/v1/namespaces/other/pods", "deletecollection", "", "v1", "other", "pods", "",
	  false },
	{ "DELETE", "/apis/extensions/v1/namespaces/other/pods", "deletecollection", "extensions", "v1",
	  "other", "pods", "", false },
	/* groups and versions */
	{ "POST", "/apis/extensions/v1/namespaces/other/pods", "create", "extensions", "v1", "other",
	  "pods", "", false },
	{ "POST", "/apis/extensions/v1beta3/namespaces/other/pods", "create", "extensions", "v1beta3",
	  "other", "pods", "", false },
	{ "GET", "/apis/batch/v1/job", "list", "batch", "v1", "", "job", "", false },
	{ "GET", "/apis/batch/v1/job/foo/scale", "get", "batch", "v1", "", "job", "scale", true },
	/* what clients send: kubectl, client-go informers, kubelet leases */
	{ "GET", "/api/v1/namespaces/default/pods?limit=500", "list", "", "v1", "default", "pods", "",
	  false },
	{ "GET", "/api/v1/pods?allowWatchBookmarks=true&resourceVersion=12&timeoutSeconds=300&watch=true",
	  "watch", "", "v1", "", "pods", "", false },
	{ "GET", "/api/v1/pods?watch=False&limit=1", "list", "", "v1", "", "pods", "", false },
	{ "GET", "/api/v1/pods?watch", "watch", "", "v1", "", "pods", "", false },
	{ "GET", "/api/v1/pods?watch=%zz&watch=0", "list", "", "v1", "", "pods", "", false },
	{ "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1", "update",
	  "coordination.k8s.io", "v1", "kube-node-lease", "leases", "", true },
	{ "POST", "/api/v1/namespaces/default/pods/p/exec?command=sh", "connect", "", "v1", "default",
	  "pods", "exec", true },
	{ "OPTIONS", "/api/v1/pods", "other", "", "v1", "", "pods", "", false },
	{ "GET", "/api/v1/namespaces/a%2Fb/pods", "get", "", "v1", "a", "b", "", true },
	{ "GET", "//api/v1/pods//", "list", "", "v1", "", "pods", "", false },
};

static void resolve(const char *method, const char *target, struct kreq *k)
{
	char err[256] = "";
	int rc = kreq__resolve(method, strlen(method), target, strlen(target), k, err, sizeof(err));

	if (rc)
		print_error("%s %s: %s\n", method, target, err);
	assert_int_equal(rc, 0);
}

static void test_resource_requests(void **state)
{
	struct kreq k;

	for (size_t i = 0; i < sizeof(resource_cases) / sizeof(resource_cases[0]); i++) {
		resolve(resource_cases[i].method, resource_cases[i].target, &k);
		print_message("%s %s\n", resource_cases[i].method, resource_cases[i].target);
		assert_true(k.resource);
		assert_string_equal(kreq__verb_name(k.verb), resource_cases[i].verb);
		assert_string_equal(k.group, resource_cases[i].group);
		assert_string_equal(k.version, resource_cases[i].version);
		assert_string_equal(k.namespace_, resource_cases[i].ns);
		assert_string_equal(k.resource_name, resource_cases[i].resource);
		assert_string_equal(k.subresource, resource_cases[i].sub);
		assert_int_equal(k.named, resource_cases[i].named);
	}
}

static const struct {
	const char *method, *target, *verb, *path;
} nonresource_cases[] = {
	/* documented: too few steps, bad roots */
	{ "GET", "/", "get", "/" },
	{ "GET", "/api/version/", "get", "/api/{version}" },
	{ "GET", "/apis/group/version/", "get", "/apis/{group}/{version}" },
	{ "GET", "/badprefix/version/resource", "get", "other" },
	{ "GET", "/apis/version/resource", "get", "/apis/{group}/{version}" },
	{ "GET", "/not-api/version/resource", "get", "other" },
	{ "GET", "/apis/extensions/v1beta1", "get", "/apis/{group}/{version}" },
	{ "GET", "/api/version", "get", "/api/{version}" },
	{ "GET", "/api", "get", "/api" },
	{ "GET", "/apis", "get", "/apis" },
	/* health, metrics, OpenAPI */
	{ "GET", "/healthz", "get", "/healthz" },
	{ "GET", "/livez?verbose", "get", "/livez" },
	{ "GET", "/readyz/etcd", "get", "/readyz/..." },
	{ "GET", "/metrics", "get", "/metrics" },
	{ "GET", "/openapi/v2", "get", "/openapi/v2" },
	{ "GET", "/openapi/v3/apis/apps/v1?hash=0", "get", "/openapi/v3/..." },
	{ "GET", "/version", "get", "/version" },
	{ "POST", "/healthz", "post", "/healthz" },
	{ "BREW", "/healthz", "other", "/healthz" },
};

static void test_nonresource_requests(void **state)
{
	struct kreq k;

	for (size_t i = 0; i < sizeof(nonresource_cases) / sizeof(nonresource_cases[0]); i++) {
		resolve(nonresource_cases[i].method, nonresource_cases[i].target, &k);
		print_message("%s %s\n", nonresource_cases[i].method, nonresource_cases[i].target);
		assert_false(k.resource);
		assert_string_equal(kreq__verb_name(k.verb), nonresource_cases[i].verb);
		assert_string_equal(k.path, nonresource_cases[i].path);
	}
}

static const struct {
	const char *target, *err;
} bad_targets[] = {
	{ "", "request target does not start with '/'" },
	{ "api/v1/pods", "request target does not start with '/'" },
	{ "/api/v1/po%2", "bad percent escape at byte 10 of the request target" },
	{ "/api/v1/po%g0ds", "bad percent escape at byte 10 of the request target" },
	{ "/api/v1/p ods", "control character or space at byte 9 of the request target" },
	{ "/api/v1/watch", "'watch' with nothing after it" },
	{ "/apis/apps/v1//deployments", "empty resource at byte 14 of the path" },
	{ "/api/v1/po%00ds", "control character at byte 10 of the decoded path" },
	{ "/api/v1/pods0123456789012345678901234567890123456789012345678901234567890123",
	  "resource at byte 8 of the path is 68 bytes long (at most 63)" },
};

static void test_bad_targets(void **state)
{
	char err[256];
	struct kreq k;

	for (size_t i = 0; i < sizeof(bad_targets) / sizeof(bad_targets[0]); i++) {
		err[0] = '\0';
		assert_int_equal(kreq__resolve("GET", 3, bad_targets[i].target,
					       strlen(bad_targets[i].target), &k, err, sizeof(err)),
				 -22);
		assert_string_equal(err, bad_targets[i].err);
	}
}

static void test_user_agents(void **state)
{
	static const struct {
		const char *ua, *product, *version;
	} cases[] = {
		{ "kubectl/v1.33.1 (linux/amd64) kubernetes/8adc0f0", "kubectl", "v1.33.1" },
		{ "kubelet/v1.30.1 (linux/amd64) kubernetes/6911225", "kubelet", "v1.30.1" },
		{ "kube-controller-manager/v1.30.1 (linux/amd64) kubernetes/6911225/leader-election",
		  "kube-controller-manager", "v1.30.1" },
		{ "Go-http-client/1.1", "Go-http-client", "1.1" },
		{ "hey/0.0.1", "hey", "0.0.1" },
		{ "curl/7.88.1", "curl", "7.88.1" },
		{ "Mozilla/5.0 (X11; Linux x86_64)", "Mozilla", "5.0" },
		{ "manager", "manager", "" },
		{ "  Prometheus/2.45.0", "Prometheus", "2.45.0" },
		{ "a-very-long-product-name-that-goes-on-and-on-and-on-forever/1",
		  "a-very-long-product-name-that-goes-on-and-on-and", "1" },
		{ "p/v0.0.0-master+$Format:%H$", "p", "v0.0.0-master+$Format" },
	};
	char product[KREQ_UA_PRODUCT_MAX], version[KREQ_UA_VERSION_MAX], err[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(kreq__user_agent(cases[i].ua, strlen(cases[i].ua), product, version,
						  err, sizeof(err)), 0);
		assert_string_equal(product, cases[i].product);
		assert_string_equal(version, cases[i].version);
	}
	assert_int_equal(kreq__user_agent("", 0, product, version, err, sizeof(err)), -22);
	assert_string_equal(err, "empty User-Agent");
	assert_int_equal(kreq__user_agent(" (compatible)", 13, product, version, err, sizeof(err)), -22);
	assert_string_equal(err, "User-Agent does not start with a product token (byte 1 is 0x28)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resource_requests),
		cmocka_unit_test(test_nonresource_requests),
		cmocka_unit_test(test_bad_targets),
		cmocka_unit_test(test_user_agents),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
