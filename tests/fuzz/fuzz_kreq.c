// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_kreq.c - libFuzzer target: Kubernetes request info and User-Agent
 * products (user/kreq.c) over arbitrary bytes. Invariants: no read past the
 * bytes given (ASan, on exact-size copies); 0 or -EINVAL, never anything
 * else; on success every field is a NUL-terminated string within its array
 * and the verb is in range; on failure the message is not empty. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kreq.h"

static void check_str(const char *s, size_t max)
{
	if (!memchr(s, '\0', max))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE",
					       "OPTIONS", "X" };
	char product[KREQ_UA_PRODUCT_MAX], version[KREQ_UA_VERSION_MAX], err[256];
	const char *m = methods[size ? data[0] % 8 : 0];
	char *t = malloc(size ? size : 1);
	struct kreq k;
	int rc;

	if (!t)
		return 0;
	memcpy(t, data, size);
	err[0] = '\0';
	rc = kreq__resolve(m, strlen(m), t + !!size, size ? size - 1 : 0, &k, err, sizeof(err));
	if (rc == 0) {
		check_str(k.group, sizeof(k.group));
		check_str(k.version, sizeof(k.version));
		check_str(k.resource_name, sizeof(k.resource_name));
		check_str(k.subresource, sizeof(k.subresource));
		check_str(k.namespace_, sizeof(k.namespace_));
		check_str(k.path, sizeof(k.path));
		if (k.verb < 0 || k.verb >= KREQ_VERB_MAX || !kreq__verb_name(k.verb))
			abort();
		if (k.resource ? !k.resource_name[0] : !k.path[0])
			abort();
	} else if (rc != -EINVAL || !err[0]) {
		abort();
	}
	err[0] = '\0';
	rc = kreq__user_agent(t, size, product, version, err, sizeof(err));
	if (rc == 0) {
		check_str(product, sizeof(product));
		check_str(version, sizeof(version));
		if (!product[0])
			abort();
	} else if (rc != -EINVAL || !err[0]) {
		abort();
	}
	free(t);
	return 0;
}
