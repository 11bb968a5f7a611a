// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_http.c - libFuzzer target: the HTTP/1.x start-line parser the BPF
 * programs run (bpf/http_parse.h). Invariants: no read past the n bytes
 * given (ASan, on an exact-size copy); results within their ranges; a
 * request line is never also a status line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = size < RA_HTTP_PEEK ? size : RA_HTTP_PEEK;
	__u8 *b = malloc(n ? n : 1);
	int m, s;

	if (!b)
		return 0;
	memcpy(b, data, n);
	m = ra_http_method(b, n);
	s = ra_http_status(b, n);
	if (m < -1 || m >= RA_HTTP_M_MAX || (s != -1 && (s < 100 || s > 599)) || (m >= 0 && s >= 0))
		abort();
	free(b);
	return 0;
}
