/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* naive.h - BENCHMARK ONLY: the event of the "usual approach" TLS tracer
 * (naive.bpf.c), shared by its BPF and user-space halves. */
#ifndef NAIVE_H
#define NAIVE_H

#define NAIVE_MAX_DATA 4096

enum { NAIVE_READ = 0, NAIVE_WRITE = 1 };
enum { NAIVE_OPENSSL = 0, NAIVE_GO = 1 };

struct naive_event {
	__u64 pid_tgid;
	__u64 ts_ns;
	__s64 ret; /* what the function returned: bytes read or written */
	__u32 len; /* bytes of data[] copied: min(ret, NAIVE_MAX_DATA) */
	__u8 dir;  /* NAIVE_READ, NAIVE_WRITE */
	__u8 lib;  /* NAIVE_OPENSSL, NAIVE_GO */
	__u8 pad[2];
	char data[NAIVE_MAX_DATA];
};

#endif
