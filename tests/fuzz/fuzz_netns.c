// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_netns.c - libFuzzer target: the fib_trie and if_inet6 readers
 * (user/netns.c) over arbitrary text. Invariants: at most max addresses,
 * each a NUL-terminated printable address; no read past the text (ASan). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *t = malloc(size + 1), out[4][INET6_ADDRSTRLEN];
	int n;

	memcpy(t, data, size);
	t[size] = '\0';
	for (int k = 0; k < 2; k++) {
		n = k ? netns__inet6_global(t, out, 4) : netns__fib_local(t, out, 4);
		if (n < 0 || n > 4)
			abort();
		for (int i = 0; i < n; i++)
			if (!memchr(out[i], '\0', INET6_ADDRSTRLEN) || !out[i][0])
				abort();
	}
	free(t);
	return 0;
}
