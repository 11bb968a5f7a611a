/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* fnv.h - FNV-1a (Fowler, Noll, Vo; the 64-bit offset basis and prime of
 * draft-eastlake-fnv), the hash of the loader's open-addressing tables.
 * Keys are zeroed before they are filled, so padding and string tails
 * hash and compare equal. */
#ifndef REQACCT_FNV_H
#define REQACCT_FNV_H

#include <stddef.h>
#include <linux/types.h>

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

/* h updated with n bytes at p; start with FNV_OFFSET. */
static inline __u64 fnv_add(__u64 h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * FNV_PRIME;
	return h;
}

static inline __u64 fnv(const void *p, size_t n)
{
	return fnv_add(FNV_OFFSET, p, n);
}

#endif
