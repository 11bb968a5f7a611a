/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* kwrote.h - KERNEL_WROTE(p, n): tell valgrind's memcheck that the kernel
 * filled n bytes at p through bpf(2). Its model of bpf(2) knows a map's value
 * size but not that a per-CPU map's value is one per possible CPU, nor the
 * batch lookups, so those bytes would look uninitialised (make
 * check-root-valgrind). A no-op outside valgrind, and without its header. */
#ifndef REQACCT_KWROTE_H
#define REQACCT_KWROTE_H

#if defined(__has_include) && __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define KERNEL_WROTE(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define KERNEL_WROTE(p, n) ((void)(p), (void)(n))
#endif

#endif
