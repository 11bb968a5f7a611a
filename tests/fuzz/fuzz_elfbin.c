// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_elfbin.c - libFuzzer target: elfbin over arbitrary bytes (ELF headers,
 * pclntab, moduledata, build info, symbols, relocations, code).
 * Seeds: tiny hand-made ELF files from tests/tools/mkelfseeds.py.
 * Invariants: no crash, no leak; a found function is a non-empty range; an
 * entry probe is a decodable instruction inside its function; RET offsets
 * lie inside it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elfbin.h"

static const char *const names[] = {
    "main.f", "main.g", "SSL_read", "crypto/tls.(*Conn).Read", "crypto/tls.(*Conn).Write",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elfbin *b;
	char err[256];

	if (elfbin__open_mem(data, size, "fuzz", &b, err, sizeof(err))) {
		if (!err[0])
			abort(); /* every rejection says why */
		return 0;
	}
	elfbin__go_version(b);
	elfbin__go_module(b, "golang.org/x/net");
	elfbin__imports(b, "SSL_read");
	elfbin__needed(b, "libssl");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		__u64 start, end, entry, lo, offs[8];
		struct elfbin_insn insn;
		int n;

		if (elfbin__func(b, names[i], &start, &end))
			continue;
		if (end < start)
			abort();
		if (elfbin__offset(b, start, &lo))
			continue;
		if (!elfbin__rets(b, start, end, offs, 8, &n, err, sizeof(err)))
			for (int k = 0; k < n; k++)
				if (offs[k] < lo || offs[k] >= lo + (end - start))
					abort();
		if (elfbin__entry_probe(b, start, end, &entry, err, sizeof(err)))
			continue;
		if (entry < lo || entry >= lo + (end - start) ||
		    elfbin__insn(b, start + (entry - lo), &insn, err, sizeof(err)) ||
		    insn.file_off != entry)
			abort();
	}
	elfbin__close(b);
	return 0;
}
