// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_promparse.c - libFuzzer target: the text exposition reader of
 * `reqacct top` (user/promparse.c) over arbitrary bytes. Invariants: 0 with
 * every name and label inside the buffer, or an error with a message; no
 * read past the bytes given (ASan, on an exact-size copy). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "promparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *t = malloc(size + 1), err[256] = "";
	struct prom_scrape s;
	int rc;

	memcpy(t, data, size);
	t[size] = '\0';
	rc = promparse__parse(t, size, &s, err, sizeof(err));
	if (rc) {
		if (!err[0] && rc != -ENOMEM)
			abort();
	} else {
		for (size_t i = 0; i < s.n; i++) {
			if (s.s[i].name < t || s.s[i].name > t + size || !s.s[i].name[0])
				abort();
			for (int l = 0; l < s.s[i].nlabels; l++)
				if (s.s[i].value[l] < t || s.s[i].value[l] > t + size)
					abort();
		}
		promparse__free(&s);
	}
	free(t);
	return 0;
}
