/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * http.h - the scrape endpoint, on libmicrohttpd: it handles slow clients,
 * oversized headers and garbage with bounded memory and connection limits,
 * which a hand-written server would have to get right by itself.
 */
#ifndef REQACCT_HTTP_H
#define REQACCT_HTTP_H

struct agent;
struct http_server;

/* Serve /metrics for a on a->cfg.listen from one internal thread. */
struct http_server *http__start(struct agent *a);
void http__stop(struct http_server *s);

#endif
