// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_dns.c - libFuzzer target: the DNS wire parser the BPF programs run
 * (bpf/dns_parse.h), and resolv.conf search lists.
 * Invariants: no out-of-bounds access (ASan; the parser only reads the
 * RA_DNS_BUF buffer, as in BPF); a parsed name is NUL-terminated, lowercase,
 * within RA_DNS_NAME_MAX and read from inside the message; a message parsed
 * with fewer bytes available never succeeds with a different result. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_parse.h"
#include "resolv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static __u8 buf[RA_DNS_BUF];
	struct ra_dns_msg m, p;
	struct resolv_search s;
	char err[128] = "";
	int rc, rp;
	size_t n = size < RA_DNS_PARSE_MAX ? size : RA_DNS_PARSE_MAX;

	memset(buf, 0xAA, sizeof(buf));	/* bytes past the message must not matter */
	memcpy(buf, data, n);
	memset(&m, 0, sizeof(m));
	rc = ra_dns_parse(buf, n, size, &m);
	if (rc < RA_DNS_OK || rc >= RA_DNS_E_MAX)
		abort();
	if (rc == RA_DNS_OK) {
		if (m.name_len >= RA_DNS_NAME_MAX || strlen(m.name) != m.name_len || !m.name_len)
			abort();
		for (size_t i = 0; i < m.name_len; i++)
			if (m.name[i] >= 'A' && m.name[i] <= 'Z')
				abort();
		/* A prefix of the message: partial or the same answer, never another. */
		memset(&p, 0, sizeof(p));
		rp = ra_dns_parse(buf, n / 2, size, &p);
		if (rp == RA_DNS_OK && (p.name_hash != m.name_hash || p.qtype != m.qtype))
			abort();
	}

	rc = resolv__parse((const char *)data, size, &s, err, sizeof(err));
	if (rc && (rc != -EINVAL || !err[0]))
		abort();
	for (int i = 0; !rc && i < s.n; i++)
		if (!s.domain[i][0] || strlen(s.domain[i]) >= RESOLV_DOMAIN_MAX)
			abort();
	return 0;
}
