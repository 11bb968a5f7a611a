// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * naive.c - BENCHMARK ONLY, not part of reqacct: `bench-naive`, a model of
 * the usual way eBPF tools see TLS plaintext (the approach of Pixie,
 * ecapture and Beyla; not those tools), which BENCHMARKS.md compares reqacct
 * with. naive.bpf.c has the probes: entry and return probes on every TLS
 * read and write (OpenSSL SSL_read/SSL_write: uprobe + uretprobe; Go
 * crypto/tls (*Conn).Read/Write: a uprobe at the entry and at every RET),
 * up to 4 KiB of plaintext per call streamed to user space through a ring
 * buffer that wakes the reader per event. Here user space drains the ring
 * and does the minimal parse such tools start with: bytes per direction,
 * HTTP/1.x request and status lines, HTTP/2 frame headers (HEADERS frames).
 *
 *   bench-naive [--openssl LIB ...] [--go BINARY ...] [--pid PID ...] [--obj FILE]
 *
 * Go functions are found through reqacct's own ELF reader (user/elfbin.c:
 * the pclntab of stripped binaries, capstone for the RET offsets). Prints
 * "attached N probes" when ready and its counts on SIGINT/SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <linux/types.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "elfbin.h"
#include "naive.h"

#define MAX_TARGETS 16
#define MAX_RETS 64
#define MAX_LINKS 1024

static volatile sig_atomic_t stop;

static struct bpf_link *links[MAX_LINKS];
static int nlinks;

static struct {
	__u64 events, bytes[2], copied, req_lines, status_lines, h2_headers, h2_frames;
} st;

static void on_signal(int sig)
{
	stop = 1;
}

static const char *const methods[] = { "GET ",	 "POST ",    "PUT ",	 "DELETE ", "HEAD ",
				       "PATCH ", "OPTIONS ", "CONNECT ", "TRACE " };

/* The minimal parse: an HTTP/1.x request line (method SP target SP version
 * CRLF) or status line at the start of the buffer, else HTTP/2 frames (the
 * connection preface skipped), walked by their 9-byte headers. */
static void parse(const struct naive_event *e)
{
	const char *d = e->data, *end = e->data + e->len;
	size_t n = e->len;

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		size_t l = strlen(methods[i]);

		if (n > l && !memcmp(d, methods[i], l)) {
			const char *crlf = memmem(d, n, "\r\n", 2);
			const char *sp = crlf ? memchr(d + l, ' ', (size_t)(crlf - d) - l) : NULL;

			if (sp && crlf - sp > 6 && !memcmp(sp + 1, "HTTP/1.", 7))
				st.req_lines++;
			return;
		}
	}
	if (n >= 12 && !memcmp(d, "HTTP/1.", 7) && d[8] == ' ') {
		st.status_lines++;
		return;
	}
	if (n >= 24 && !memcmp(d, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24))
		d += 24;
	while (end - d >= 9) {
		__u32 flen = (__u32)(__u8)d[0] << 16 | (__u32)(__u8)d[1] << 8 | (__u8)d[2];

		st.h2_frames++;
		if (d[3] == 1)	/* HEADERS */
			st.h2_headers++;
		if ((size_t)(end - d) - 9 < flen)
			break;
		d += 9 + flen;
	}
}

static int on_event(void *ctx, void *data, size_t size)
{
	const struct naive_event *e = data;

	if (size < offsetof(struct naive_event, data) ||
	    e->len > size - offsetof(struct naive_event, data))
		return 0;
	st.events++;
	st.bytes[e->dir & 1] += e->ret;
	st.copied += e->len;
	parse(e);
	return 0;
}

static int keep(struct bpf_link *l, const char *what)
{
	if (!l) {
		fprintf(stderr, "bench-naive: attaching %s: %s\n", what, strerror(errno));
		return -1;
	}
	if (nlinks == MAX_LINKS) {
		bpf_link__destroy(l);
		fprintf(stderr, "bench-naive: more than %d probes\n", MAX_LINKS);
		return -1;
	}
	links[nlinks++] = l;
	return 0;
}

static int attach_openssl(struct bpf_object *obj, const char *lib, int pid)
{
	static const char *const progs[][3] = {
		{ "SSL_read", "naive_ssl_read", "naive_ssl_read_ret" },
		{ "SSL_write", "naive_ssl_write", "naive_ssl_write_ret" },
	};

	for (int f = 0; f < 2; f++)
		for (int r = 0; r < 2; r++) {
			LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = progs[f][0], .retprobe = r);
			struct bpf_program *p = bpf_object__find_program_by_name(obj, progs[f][1 + r]);
			char what[PATH_MAX + 64];

			snprintf(what, sizeof(what), "%s%s in %s", progs[f][0], r ? " return" : "", lib);
			if (keep(bpf_program__attach_uprobe_opts(p, pid, lib, 0, &opts), what))
				return -1;
		}
	return 0;
}

/* Go: a uprobe at the function's first instruction (where tools attach by
 * symbol) and one at each RET, offsets from the pclntab and capstone. */
static int attach_go(struct bpf_object *obj, const char *bin, int pid)
{
	static const char *const funcs[][3] = {
		{ "crypto/tls.(*Conn).Read", "naive_go_read", "naive_go_read_ret" },
		{ "crypto/tls.(*Conn).Write", "naive_go_write", "naive_go_write_ret" },
	};
	struct elfbin *b;
	char err[256], what[PATH_MAX + 64];
	int rc = -1;

	if (elfbin__open(bin, &b, err, sizeof(err))) {
		fprintf(stderr, "bench-naive: %s: %s\n", bin, err);
		return -1;
	}
	for (int f = 0; f < 2; f++) {
		__u64 start, end, entry, rets[MAX_RETS];
		int n;

		if (elfbin__func(b, funcs[f][0], &start, &end) || elfbin__offset(b, start, &entry)) {
			fprintf(stderr, "bench-naive: %s: no %s\n", bin, funcs[f][0]);
			goto out;
		}
		if (elfbin__rets(b, start, end, rets, MAX_RETS, &n, err, sizeof(err))) {
			fprintf(stderr, "bench-naive: %s: %s: %s\n", bin, funcs[f][0], err);
			goto out;
		}
		snprintf(what, sizeof(what), "%s in %s", funcs[f][0], bin);
		if (keep(bpf_program__attach_uprobe(bpf_object__find_program_by_name(obj, funcs[f][1]),
						    false, pid, bin, entry),
			 what))
			goto out;
		for (int i = 0; i < n; i++)
			if (keep(bpf_program__attach_uprobe(
					 bpf_object__find_program_by_name(obj, funcs[f][2]), false, pid,
					 bin, rets[i]),
				 what))
				goto out;
	}
	rc = 0;
out:
	elfbin__close(b);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench-naive [--openssl LIB ...] [--go BINARY ...] [--pid PID ...] "
		   "[--obj FILE]\n"
		   "BENCHMARK ONLY: the usual eBPF TLS tracer's approach (entry and return probes\n"
		   "on every TLS read and write, plaintext streamed to user space), for\n"
		   "BENCHMARKS.md to compare reqacct with. --pid limits the probes to processes.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "openssl", required_argument, NULL, 's' }, { "go", required_argument, NULL, 'g' },
		{ "pid", required_argument, NULL, 'p' },     { "obj", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },	     {}
	};
	const char *ssl[MAX_TARGETS], *go[MAX_TARGETS];
	int nssl = 0, ngo = 0, npid = 0, pids[MAX_TARGETS], c, rc = 1, zero = 0, one = 1;
	char obj_path[PATH_MAX];
	struct bpf_object *obj = NULL;
	struct ring_buffer *rb = NULL;
	__u64 lost = 0, unmatched = 0;
	ssize_t l;

	l = readlink("/proc/self/exe", obj_path, sizeof(obj_path) - 32);
	if (l < 0)
		l = 0;
	obj_path[l] = 0;
	strcpy(strrchr(obj_path, '/') ? strrchr(obj_path, '/') + 1 : obj_path, "bench-naive.bpf.o");
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
		case 'g':
		case 'p':
			if ((c == 's' ? nssl : c == 'g' ? ngo : npid) == MAX_TARGETS) {
				fprintf(stderr, "bench-naive: at most %d of each\n", MAX_TARGETS);
				return 2;
			}
			if (c == 's')
				ssl[nssl++] = optarg;
			else if (c == 'g')
				go[ngo++] = optarg;
			else
				pids[npid++] = atoi(optarg);
			break;
		case 'o':
			snprintf(obj_path, sizeof(obj_path), "%s", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (!nssl && !ngo)) {
		usage(stderr);
		return 2;
	}
	if (!npid)
		pids[npid++] = -1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	obj = bpf_object__open_file(obj_path, NULL);
	if (!obj) {
		fprintf(stderr, "bench-naive: %s: %s\n", obj_path, strerror(errno));
		return 1;
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "bench-naive: loading %s: %s\n", obj_path, strerror(errno));
		goto out;
	}
	for (int p = 0; p < npid; p++) {
		for (int i = 0; i < nssl; i++)
			if (attach_openssl(obj, ssl[i], pids[p]))
				goto out;
		for (int i = 0; i < ngo; i++)
			if (attach_go(obj, go[i], pids[p]))
				goto out;
	}
	rb = ring_buffer__new(bpf_object__find_map_fd_by_name(obj, "naive_events"), on_event, NULL,
			      NULL);
	if (!rb) {
		fprintf(stderr, "bench-naive: ring buffer: %s\n", strerror(errno));
		goto out;
	}
	printf("attached %d probes\n", nlinks);
	fflush(stdout);
	while (!stop) {
		int n = ring_buffer__poll(rb, 100);

		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "bench-naive: ring buffer: %s\n", strerror(-n));
			goto out;
		}
	}
	ring_buffer__consume(rb);
	bpf_map_lookup_elem(bpf_object__find_map_fd_by_name(obj, "naive_counts"), &zero, &lost);
	bpf_map_lookup_elem(bpf_object__find_map_fd_by_name(obj, "naive_counts"), &one, &unmatched);
	printf("events %llu read_bytes %llu written_bytes %llu copied %llu request_lines %llu "
	       "status_lines %llu h2_frames %llu h2_headers %llu lost %llu unmatched %llu\n",
	       st.events, st.bytes[NAIVE_READ], st.bytes[NAIVE_WRITE], st.copied, st.req_lines,
	       st.status_lines, st.h2_frames, st.h2_headers, lost, unmatched);
	rc = 0;
out:
	ring_buffer__free(rb);
	while (nlinks)
		bpf_link__destroy(links[--nlinks]);
	bpf_object__close(obj);
	return rc;
}
