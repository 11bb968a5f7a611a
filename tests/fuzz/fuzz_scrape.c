// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_scrape.c - libFuzzer target: the scrape endpoint as it runs, the
 * real libmicrohttpd daemon of user/http.c (its internal thread, its limits,
 * basic auth on) with a stub metrics producer. Each input is the raw bytes a
 * client sends on one connection: a socketpair's end is handed to the
 * daemon (http__add_connection), the input written to the other, which is
 * then shut for writing, and the answer read until the daemon closes.
 * Invariants: no crash or sanitizer report in the daemon's thread or ours;
 * the daemon closes every connection (no hang); whatever it answers starts
 * with a well-formed status line, `HTTP/1.x NNN `. Seeds:
 * tests/fuzz/corpus/scrape (curl's and Prometheus' requests, HEAD, basic
 * auth right and wrong, garbage); the user is fuzz, its password pw.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "prom.h"
#include "websec.h"

#define ANSWER_TIMEOUT_MS 5000	/* far above a scrape; the daemon's own timeout is 10 s */
#define STATUS_LINE_MIN 13	/* "HTTP/1.1 200 " */
/* SHA-256 of "pw" (printf %s pw | sha256sum). */
#define FUZZ_USERS "fuzz:sha256:30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A family with a label that needs escaping, like the agent's. */
static void produce(void *ctx, struct prom_buf *b)
{
	const struct prom_label l[] = { { "comm", "a\"b\\c\nd" } };

	prom__family(b, "reqacct_fuzz_requests_total", "counter", "Stub family for fuzzing.");
	prom__sample_u64(b, "reqacct_fuzz_requests_total", l, 1, 42);
}

static struct http_server *server(void)
{
	static struct http_server *s;
	struct http_config c = { .no_listen = true, .produce = produce };
	char err[256];

	if (s)
		return s;
	signal(SIGPIPE, SIG_IGN);
	if (websec__auth_parse(FUZZ_USERS, "fuzz", &c.auth, err, sizeof(err))) {
		fprintf(stderr, "fuzz_scrape: %s\n", err);
		abort();
	}
	s = http__start(&c);
	if (!s)
		abort();
	return s;
}

static bool status_line_ok(const char *p, size_t n)
{
	if (n < STATUS_LINE_MIN || memcmp(p, "HTTP/1.", 7) || (p[7] != '0' && p[7] != '1') ||
	    p[8] != ' ')
		return false;
	return p[9] >= '1' && p[9] <= '5' && p[10] >= '0' && p[10] <= '9' && p[11] >= '0' &&
	       p[11] <= '9' && p[12] == ' ';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static __u32 peer;	/* a new peer address per run: per-IP limits stay out of it */
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct http_server *s = server();
	char head[64], buf[16384];
	size_t got = 0, off = 0;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	sin.sin_addr.s_addr = htonl(0x7f000001 + (peer++ % 0xfffff0));
	if (http__add_connection(s, sv[1], (struct sockaddr *)&sin, sizeof(sin))) {
		/* libmicrohttpd closes the socket it refused (connection limit) */
		close(sv[0]);
		return 0;
	}
	while (off < size) {
		ssize_t n = send(sv[0], data + off, size - off, MSG_NOSIGNAL);

		if (n <= 0)
			break;	/* the daemon answered and closed before reading it all */
		off += n;
	}
	shutdown(sv[0], SHUT_WR);
	for (;;) {
		struct pollfd p = { .fd = sv[0], .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, ANSWER_TIMEOUT_MS) != 1) {
			fprintf(stderr, "fuzz_scrape: no close within %d ms\n", ANSWER_TIMEOUT_MS);
			abort();
		}
		n = read(sv[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* closed (or reset) */
		if (got < sizeof(head))
			memcpy(head + got, buf, (size_t)n < sizeof(head) - got ? (size_t)n :
				sizeof(head) - got);
		got += n;
	}
	close(sv[0]);
	if (got && !status_line_ok(head, got < sizeof(head) ? got : sizeof(head))) {
		fprintf(stderr, "fuzz_scrape: bad status line: %.*s\n", (int)(got < 40 ? got : 40),
			head);
		abort();
	}
	return 0;
}
