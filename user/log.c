// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* log.c - leveled logging; libbpf debug output only with -v -v. */
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>

#include "log.h"

int log_verbosity = LOG_INFO;

void log__msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if ((int)lvl > log_verbosity)
		return;
	fputs(lvl == LOG_WARN ? "reqacct: error: " : "reqacct: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && log_verbosity < LOG_DEBUG)
		return 0;
	if (level == LIBBPF_INFO && log_verbosity < LOG_INFO)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void log__hook_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
