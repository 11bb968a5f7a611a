// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_config.c - libFuzzer target: configuration text and listen addresses.
 * Invariants: no crash; an error always comes with a message; a success
 * leaves a configuration within its documented bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[CONFIG_ERR_MAX] = "", host[64];
	struct ra_config c;
	__u16 port;
	int rc;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	config__defaults(&c);
	rc = config__parse_text(&c, text, "fuzz", err, sizeof(err));
	if (rc && !err[0])
		abort();	/* an error without a message */
	if (!rc && (c.nports < 1 || c.nports > RA_MAX_PORTS || !c.max_flows))
		abort();
	for (__u32 i = 0; !rc && i < c.nports; i++)
		if (!c.ports[i])
			abort();
	if (!config__parse_listen(text, host, sizeof(host), &port) && !port)
		abort();
	free(text);
	return 0;
}
