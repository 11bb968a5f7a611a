/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * http_parse.h - the start of an HTTP/1.x message (RFC 9112 3, 4): is it a
 * request line and with which method, or a status line and which status.
 * One source for the BPF programs and the host (unit tests, fuzzer). Reads
 * at most RA_HTTP_PEEK bytes; never a header value (so never Authorization
 * or Cookie), never a body.
 */
#ifndef REQACCT_HTTP_PARSE_H
#define REQACCT_HTTP_PARSE_H

#ifndef __bpf__
#include <stdbool.h>
#include <linux/types.h>
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#endif

#include "reqacct_abi.h"

#define RA_HTTP_PEEK 16	/* "OPTIONS " + a path byte, "HTTP/1.1 200 " */
/* The start of HTTP/2's client connection preface (RFC 9113 3.4), which
 * reads as a request line: RA_HTTP_PEEK bytes of it. */
#define RA_H2_PREFACE_START "PRI * HTTP/2.0\r\n"
#define RA_H2_PREFACE_LEN 24	/* "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" */

/* b starts with the n bytes of s (clang does not inline memcmp for BPF). */
static __always_inline bool ra_http_prefix(const __u8 *b, const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (b[i] != (__u8)s[i])
			return false;
	return true;
}

/* The method of a request line ("METHOD SP request-target ..."), or -1.
 * An unknown token of upper-case letters followed by " /" or " *" or
 * " http" is RA_HTTP_M_OTHER. */
static __always_inline int ra_http_method(const __u8 *b, __u32 n)
{
	__u32 len = 0;

#define RA_HTTP_M_MATCH(name)                                                        \
	if (n > sizeof(#name) && ra_http_prefix(b, #name " ", sizeof(#name)))          \
		return RA_HTTP_M_##name;
	RA_HTTP_METHODS(RA_HTTP_M_MATCH)
#undef RA_HTTP_M_MATCH
	for (int i = 0; i < RA_HTTP_PEEK - 2; i++) {
		if (i >= (int)n || b[i] < 'A' || b[i] > 'Z')
			break;
		len++;
	}
	if (len && len + 2 <= n && b[len] == ' ' &&
	    (b[len + 1] == '/' || b[len + 1] == '*' || b[len + 1] == 'h'))
		return RA_HTTP_M_OTHER;
	return -1;
}

/* The status of a status line ("HTTP/1.x DDD "), 100-599, or -1. */
static __always_inline int ra_http_status(const __u8 *b, __u32 n)
{
	int s = 0;

	if (n < 13 || !ra_http_prefix(b, "HTTP/1.", 7) || (b[7] != '0' && b[7] != '1') ||
	    b[8] != ' ' || (b[12] != ' ' && b[12] != '\r'))
		return -1;
	for (int i = 9; i < 12; i++) {
		if (b[i] < '0' || b[i] > '9')
			return -1;
		s = s * 10 + (b[i] - '0');
	}
	return s >= 100 && s <= 599 ? s : -1;
}

#endif /* REQACCT_HTTP_PARSE_H */
