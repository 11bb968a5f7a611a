/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * http.h - the scrape endpoint, on libmicrohttpd: it handles slow clients,
 * oversized headers and garbage with bounded memory and connection limits,
 * which a hand-written server would have to get right by itself; and TLS
 * (GnuTLS) and basic auth (websec.h) when configured.
 */
#ifndef REQACCT_HTTP_H
#define REQACCT_HTTP_H

#include <stdbool.h>
#include <sys/socket.h>

struct http_server;
struct prom_buf;
struct websec_auth;

struct http_config {
	const char *listen;		/* ADDR:PORT, [V6]:PORT or :PORT (numeric) */
	bool no_listen;			/* no socket: connections come by http__add_connection */
	char *tls_cert, *tls_key;	/* PEM texts (websec__tls_load), taken over; NULL: plain */
	struct websec_auth *auth;	/* users, taken over; NULL: no auth */
	/* Write the metrics into b: called on the server's thread per scrape. */
	void (*produce)(void *ctx, struct prom_buf *b);
	void *ctx;
};

/* Serve / and /metrics from one internal thread. NULL after a message. */
struct http_server *http__start(struct http_config *c);
/* Replace the users (NULL: no auth from now on); takes auth over. */
void http__set_auth(struct http_server *s, struct websec_auth *auth);
/* Serve a connected socket (fuzzing: one end of a socketpair). 0 or -errno. */
int http__add_connection(struct http_server *s, int fd, const struct sockaddr *addr,
			 socklen_t addrlen);
void http__stop(struct http_server *s);

#endif
