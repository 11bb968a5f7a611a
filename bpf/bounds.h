/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * bounds.h - RA_MASK(x, mask): x &= mask, in a way clang cannot drop when it
 * proves the mask redundant: the verifier needs to see it (clang may test
 * one register and use another copy whose bounds the verifier does not
 * know). Shared by the BPF programs and the host builds of the parsers.
 */
#ifndef REQACCT_BOUNDS_H
#define REQACCT_BOUNDS_H

#ifdef __bpf__
#define RA_MASK(x, mask) asm volatile("%[v] &= %[m]" : [v] "+r"(x) : [m] "i"(mask))
#else
#define RA_MASK(x, mask) ((x) &= (mask))
#endif

#endif /* REQACCT_BOUNDS_H */
