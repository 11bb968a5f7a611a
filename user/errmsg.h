/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * errmsg.h - how reqacct's readers of untrusted input (config, ELF, request
 * targets) fail: a message that says what and where, written into the
 * caller's buffer, and an error code returned.
 */
#ifndef REQACCT_ERRMSG_H
#define REQACCT_ERRMSG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

static inline int errmsg(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline int errmsg(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

#endif
