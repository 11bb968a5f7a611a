// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * gotls.c - the entry probes of Go's crypto/tls in a binary (gotls.h).
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gotls.h"

/* Go's register ABI (ABIInternal), which the probes read arguments from:
 * amd64 since Go 1.17, arm64 since 1.18 (shared/research/go_tls_design.md 3). */
#define GO_REGABI_MINOR_AMD64 17
#define GO_REGABI_MINOR_ARM64 18
#define PCLNTAB_GO116 0xfffffffa	/* Go 1.16 and 1.17 (gosym go116magic) */

const char *const gotls_func_names[GOTLS_FUNCS] = {
	[GOTLS_READ] = GOTLS_READ_NAME,
	[GOTLS_WRITE] = GOTLS_WRITE_NAME,
};

/* The minor version of "go1.N[.M]", or -1. */
static int go_minor(const char *v)
{
	char *end;
	long m;

	if (!v || strncmp(v, "go1.", 4))
		return -1;
	m = strtol(v + 4, &end, 10);
	return end == v + 4 ? -1 : (int)m;
}

/* The entry probe of Go function name, after its stack bound check. */
static int probe_after_check(const struct elfbin *b, const char *name, __u64 *off, char *err,
			     size_t errlen)
{
	__u64 start, end, soff;
	int rc;

	if (elfbin__func(b, name, &start, &end)) {
		snprintf(err, errlen, "%s is not in the binary", name);
		return -ENOENT;
	}
	if ((rc = elfbin__entry_probe(b, start, end, off, err, errlen)))
		return rc;
	/* The BPF program reads the flags of the stack check's jump to skip
	 * the call that goes to morestack first; the entry has no such jump. */
	if (elfbin__offset(b, start, &soff) || *off == soff) {
		snprintf(err, errlen, "%s has no stack bound check to probe after", name);
		return -EINVAL;
	}
	return 0;
}

int gotls__probes(const struct elfbin *b, __u64 off[GOTLS_FUNCS], char *err, size_t errlen)
{
	const struct elfbin_info *in = elfbin__info(b);
	const char *ver = elfbin__go_version(b);
	int minor = go_minor(ver), need;
	__u64 start, end;
	int rc;

	if (!in->go || elfbin__func(b, gotls_func_names[GOTLS_READ], &start, &end)) {
		snprintf(err, errlen, "not a Go program with crypto/tls");
		return -ENOENT;
	}
	if (!in->disasm) {
		snprintf(err, errlen, "no instruction decoder for e_machine %u (x86-64 and arm64 only)",
			 in->machine);
		return -EOPNOTSUPP;
	}
	need = in->machine == EM_AARCH64 ? GO_REGABI_MINOR_ARM64 : GO_REGABI_MINOR_AMD64;
	if (minor < 0 && in->pclntab_magic == PCLNTAB_GO116) {
		snprintf(err, errlen, "Go 1.16 or 1.17 without a recorded version: 1.16 passes "
				      "arguments on the stack");
		return -EOPNOTSUPP;
	}
	if (minor >= 0 && minor < need) {
		snprintf(err, errlen, "%s passes arguments on the stack (register ABI: Go 1.%d+ on %s)",
			 ver, need, in->machine == EM_AARCH64 ? "arm64" : "amd64");
		return -EOPNOTSUPP;
	}
	for (int f = 0; f < GOTLS_FUNCS; f++)
		if ((rc = probe_after_check(b, gotls_func_names[f], &off[f], err, errlen)))
			return rc == -ENOENT ? -EINVAL : rc;
	return 0;
}

static const char *const h2_copies[GOTLS_H2_COPIES] = {
	[GOTLS_H2_NET_HTTP] = "net/http.(*http2serverConn).",	/* h2_bundle.go */
	[GOTLS_H2_X_NET] = "golang.org/x/net/http2.(*serverConn).",
};

static const char *const h2_methods[GOTLS_H2_FUNCS] = {
	[GOTLS_H2_HEADERS] = "processHeaders",
	[GOTLS_H2_STATUS] = "writeHeaders",
	[GOTLS_H2_DATA] = "writeDataFromHandler",
	[GOTLS_H2_CLOSE] = "closeStream",
};

void gotls__h2_name(enum gotls_h2_copy c, enum gotls_h2_func f, char name[GOTLS_H2_NAME_MAX])
{
	snprintf(name, GOTLS_H2_NAME_MAX, "%s%s", h2_copies[c], h2_methods[f]);
}

int gotls__h2_probes(const struct elfbin *b, enum gotls_h2_copy c, __u64 off[GOTLS_H2_FUNCS],
		     char *err, size_t errlen)
{
	char name[GOTLS_H2_NAME_MAX];
	__u64 start, end;
	int rc;

	gotls__h2_name(c, GOTLS_H2_HEADERS, name);
	if (elfbin__func(b, name, &start, &end)) {
		snprintf(err, errlen, "no %s", name);
		return -ENOENT;
	}
	for (int f = 0; f < GOTLS_H2_FUNCS; f++) {
		gotls__h2_name(c, f, name);
		if ((rc = probe_after_check(b, name, &off[f], err, errlen)))
			return rc == -ENOENT ? -EINVAL : rc;
	}
	return 0;
}
