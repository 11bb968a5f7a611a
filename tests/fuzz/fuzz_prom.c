// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_prom.c - libFuzzer target: label escaping and Accept-Encoding.
 * Invariants: the escaped value is valid UTF-8 with no raw newline and no
 * unescaped quote, so one sample stays one line of the exposition. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct prom_buf b;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	prom__init(&b);
	prom__escape_label(&b, s);
	for (size_t i = 0; b.data && i < b.len; i++) {
		unsigned char ch = b.data[i];

		if (ch == '\n')
			abort();
		if (ch == '\\')
			i++;	/* an escape and its character */
		else if (ch == '"')
			abort();
	}
	prom__free(&b);
	prom__accepts_gzip(s);
	free(s);
	return 0;
}
