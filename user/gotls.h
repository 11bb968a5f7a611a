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

/* Go's HTTP/2 server (bpf/h2.bpf.h): four methods of its serverConn, in
 * either copy of the server a program may hold. */
enum gotls_h2_func { GOTLS_H2_HEADERS, GOTLS_H2_STATUS, GOTLS_H2_DATA, GOTLS_H2_CLOSE,
		     GOTLS_H2_FUNCS };
enum gotls_h2_copy { GOTLS_H2_NET_HTTP, GOTLS_H2_X_NET, GOTLS_H2_COPIES };
#define GOTLS_H2_NAME_MAX 96

/* The symbol of method f in copy c ("net/http.(*http2serverConn).closeStream"). */
void gotls__h2_name(enum gotls_h2_copy c, enum gotls_h2_func f, char name[GOTLS_H2_NAME_MAX]);

/* The entry probes of copy c of the HTTP/2 server in b (call after
 * gotls__probes() succeeded). 0; -ENOENT when b does not hold that copy;
 * -EINVAL when it holds it but one of the four cannot be probed (err). */
int gotls__h2_probes(const struct elfbin *b, enum gotls_h2_copy c, __u64 off[GOTLS_H2_FUNCS],
		     char *err, size_t errlen);

#endif
