// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * naive.bpf.c - BENCHMARK ONLY, not part of reqacct. A model of the usual
 * way eBPF tools see TLS plaintext (the approach of Pixie, ecapture and
 * Beyla, not those tools themselves), for BENCHMARKS.md to compare reqacct
 * with:
 *
 * - OpenSSL: a uprobe on the entry of SSL_read and SSL_write saves the
 *   buffer pointer in a hash keyed by thread (pid_tgid); a uretprobe takes
 *   the returned length and copies up to NAIVE_MAX_DATA bytes of plaintext
 *   into a ring buffer event.
 * - Go crypto/tls: a uprobe on the entry of (*Conn).Read and (*Conn).Write
 *   (the function's first instruction, as those tools attach) saves the
 *   buffer pointer keyed by (process, goroutine: r14 holds the g in Go's
 *   register ABI; a blocked Read parks the goroutine, so the thread may
 *   change), and a uprobe on each of the function's RET instructions (Go
 *   cannot use uretprobes) takes n from RAX and copies the plaintext.
 *
 * Every event is submitted with the default wake-up (no BPF_RB_NO_WAKEUP):
 * user space is woken whenever it has caught up, i.e. about once per event
 * at these rates, as with a perf buffer of watermark 1.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#ifndef __TARGET_ARCH_x86
#error "x86-64 only (the Go probes read Go's amd64 register ABI)"
#endif

#include "naive.h"

struct naive_key {
	__u64 id;	/* pid_tgid (OpenSSL), tgid (Go) */
	__u64 g;	/* Go: the goroutine (r14); OpenSSL: 0 */
	__u64 dir;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} naive_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct naive_key);
	__type(value, __u64);	/* the buffer */
} naive_active SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct naive_event);
} naive_scratch SEC(".maps");

/* [0] events the ring had no room for, [1] returns without a saved entry. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} naive_counts SEC(".maps");

static __always_inline void count(__u32 i)
{
	__u64 *c = bpf_map_lookup_elem(&naive_counts, &i);

	if (c)
		__sync_fetch_and_add(c, 1);
}

static __always_inline void enter(__u64 id, __u64 g, __u64 dir, __u64 buf)
{
	struct naive_key k = { .id = id, .g = g, .dir = dir };

	bpf_map_update_elem(&naive_active, &k, &buf, BPF_ANY);
}

static __always_inline void ret(__u64 id, __u64 g, __u64 dir, __s64 n, __u8 lib)
{
	struct naive_key k = { .id = id, .g = g, .dir = dir };
	struct naive_event *e;
	__u32 zero = 0, len;
	__u64 *buf;

	buf = bpf_map_lookup_elem(&naive_active, &k);
	if (!buf) {
		count(1);
		return;
	}
	e = bpf_map_lookup_elem(&naive_scratch, &zero);
	if (!e || n <= 0)
		goto out;
	len = n > NAIVE_MAX_DATA ? NAIVE_MAX_DATA : n;
	barrier_var(len);
	if (len > NAIVE_MAX_DATA)
		goto out;
	e->pid_tgid = bpf_get_current_pid_tgid();
	e->ts_ns = bpf_ktime_get_ns();
	e->ret = n;
	e->len = len;
	e->dir = dir;
	e->lib = lib;
	if (bpf_probe_read_user(e->data, len, (void *)*buf))
		e->len = 0;
	if (bpf_ringbuf_output(&naive_events, e, offsetof(struct naive_event, data) + len, 0))
		count(0);
out:
	bpf_map_delete_elem(&naive_active, &k);
}

/* int SSL_read(SSL *ssl, void *buf, int num), SSL_write(SSL *, const void *, int) */
SEC("uprobe")
int naive_ssl_read(struct pt_regs *ctx)
{
	enter(bpf_get_current_pid_tgid(), 0, NAIVE_READ, PT_REGS_PARM2(ctx));
	return 0;
}

SEC("uretprobe")
int naive_ssl_read_ret(struct pt_regs *ctx)
{
	ret(bpf_get_current_pid_tgid(), 0, NAIVE_READ, (int)PT_REGS_RC(ctx), NAIVE_OPENSSL);
	return 0;
}

SEC("uprobe")
int naive_ssl_write(struct pt_regs *ctx)
{
	enter(bpf_get_current_pid_tgid(), 0, NAIVE_WRITE, PT_REGS_PARM2(ctx));
	return 0;
}

SEC("uretprobe")
int naive_ssl_write_ret(struct pt_regs *ctx)
{
	ret(bpf_get_current_pid_tgid(), 0, NAIVE_WRITE, (int)PT_REGS_RC(ctx), NAIVE_OPENSSL);
	return 0;
}

/* Go's register ABI (amd64, Go 1.17+): func (c *Conn) Read(b []byte) (int,
 * error): c in RAX, b's pointer in RBX, length in RCX; n returned in RAX; the
 * current goroutine in R14. */
SEC("uprobe")
int naive_go_read(struct pt_regs *ctx)
{
	enter(bpf_get_current_pid_tgid() >> 32, ctx->r14, NAIVE_READ, ctx->bx);
	return 0;
}

SEC("uprobe")
int naive_go_read_ret(struct pt_regs *ctx)
{
	ret(bpf_get_current_pid_tgid() >> 32, ctx->r14, NAIVE_READ, (__s64)ctx->ax, NAIVE_GO);
	return 0;
}

SEC("uprobe")
int naive_go_write(struct pt_regs *ctx)
{
	enter(bpf_get_current_pid_tgid() >> 32, ctx->r14, NAIVE_WRITE, ctx->bx);
	return 0;
}

SEC("uprobe")
int naive_go_write_ret(struct pt_regs *ctx)
{
	ret(bpf_get_current_pid_tgid() >> 32, ctx->r14, NAIVE_WRITE, (__s64)ctx->ax, NAIVE_GO);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
