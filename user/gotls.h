/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * gotls.h - where reqacct probes Go's crypto/tls in a binary: the functions,
 * their entry probes, and the Go versions whose arguments the BPF programs
 * can read (bpf/tls.bpf.h, go_tls_call). Shared by the agent (tls.c) and
 * `reqacct inspect`, so both give the same verdict.
 */
#ifndef REQACCT_GOTLS_H
#define REQACCT_GOTLS_H

#include <stddef.h>
#include <linux/types.h>

#include "elfbin.h"

enum gotls_func { GOTLS_READ, GOTLS_WRITE, GOTLS_FUNCS };

#define GOTLS_READ_NAME "crypto/tls.(*Conn).Read"
#define GOTLS_WRITE_NAME "crypto/tls.(*Conn).Write"
extern const char *const gotls_func_names[GOTLS_FUNCS];

/* The file offsets of the entry probes of Read and Write in b. 0; -ENOENT
 * when b is not a Go program with crypto/tls; -EINVAL/-EOPNOTSUPP when it is
 * but cannot be probed, with why in err. */
int gotls__probes(const struct elfbin *b, __u64 off[GOTLS_FUNCS], char *err, size_t errlen);

#endif
