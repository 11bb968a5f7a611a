/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* log.h - leveled logging to stderr, and libbpf's messages routed through it. */
#ifndef REQACCT_LOG_H
#define REQACCT_LOG_H

#include <linux/types.h>

enum log_level { LOG_WARN, LOG_INFO, LOG_DEBUG };

extern int log_verbosity;	/* messages above this level are dropped */

void log__msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log__hook_libbpf(void);

#define pr_warn(...) log__msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log__msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log__msg(LOG_DEBUG, __VA_ARGS__)

#pragma GCC poison u8 u16 u32 u64 s8 s16 s32 s64

#endif
