/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* monotime.h - CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns(), in the
 * units the loader's timers use. */
#ifndef REQACCT_MONOTIME_H
#define REQACCT_MONOTIME_H

#include <time.h>
#include <linux/types.h>

static inline __u64 monotime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline __u64 monotime_ms(void)
{
	return monotime_ns() / 1000000;
}

#endif
