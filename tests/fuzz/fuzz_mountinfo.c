// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_mountinfo.c - libFuzzer target: /proc/self/mountinfo parsing.
 * Invariants: no crash; a found mount point fits the buffer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "r");
	char out[64];

	if (!f)
		return 0;
	if (!cgroup_names__parse_mountinfo(f, out, sizeof(out)) && strlen(out) >= sizeof(out))
		abort();
	fclose(f);
	return 0;
}
