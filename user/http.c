// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* http.c - GET /metrics (and a small index on /), see http.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "agent.h"
#include "http.h"
#include "log.h"
#include "prom.h"

#define HTTP_CONN_LIMIT 64		/* concurrent scrapers */
#define HTTP_PER_IP_LIMIT 16
#define HTTP_TIMEOUT_S 10		/* idle or slow clients are cut after this */
#define HTTP_CONN_MEMORY (32 * 1024)	/* per connection; larger headers get 431 */

struct http_server {
	struct MHD_Daemon *d;
	struct agent *a;
};

static const char index_page[] =
	"reqacct: per-client request accounting\n\n"
	"  /metrics   Prometheus text format 0.0.4 (gzip on request)\n";

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code, void *body,
			     size_t len, enum MHD_ResponseMemoryMode mode, const char *type,
			     bool gzip)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (gzip)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned int code, const char *msg)
{
	return reply(c, code, (void *)msg, strlen(msg), MHD_RESPMEM_PERSISTENT,
		     "text/plain; charset=utf-8", false);
}

static enum MHD_Result serve_metrics(struct http_server *s, struct MHD_Connection *c)
{
	const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_ACCEPT_ENCODING);
	struct prom_buf b;
	char *gz;
	size_t gzlen;
	void *body;

	prom__init(&b);
	collect__metrics(s->a, &b);
	if (b.err) {
		pr_warn("formatting metrics: %s\n", strerror(-b.err));
		prom__free(&b);
		return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics formatting failed\n");
	}
	if (ae && prom__accepts_gzip(ae) && !prom__gzip(b.data, b.len, &gz, &gzlen)) {
		prom__free(&b);
		return reply(c, MHD_HTTP_OK, gz, gzlen, MHD_RESPMEM_MUST_FREE, PROM_CONTENT_TYPE,
			     true);
	}
	body = b.data;
	gzlen = b.len;
	b.data = NULL;
	prom__free(&b);
	return reply(c, MHD_HTTP_OK, body ?: strdup(""), gzlen, MHD_RESPMEM_MUST_FREE,
		     PROM_CONTENT_TYPE, false);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **req_cls)
{
	struct http_server *s = cls;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (!strcmp(url, "/metrics"))
		return serve_metrics(s, c);
	if (!strcmp(url, "/"))
		return text(c, MHD_HTTP_OK, index_page);
	return text(c, MHD_HTTP_NOT_FOUND, "not found; try /metrics\n");
}

struct http_server *http__start(struct agent *a)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_PASSIVE };
	struct http_server *s = calloc(1, sizeof(*s));
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	struct addrinfo *ai = NULL;
	char host[64], port_s[8];
	__u16 port;
	int err;

	if (!s)
		return NULL;
	s->a = a;
	if (config__parse_listen(a->cfg.listen, host, sizeof(host), &port)) {
		pr_warn("bad listen address '%s'\n", a->cfg.listen);
		goto fail;
	}
	snprintf(port_s, sizeof(port_s), "%u", port);
	/* Numeric addresses only: the agent never resolves a name (no DNS). */
	err = getaddrinfo(host[0] ? host : NULL, port_s, &hints, &ai);
	if (err) {
		pr_warn("listen address '%s': %s (a numeric address is required)\n",
			a->cfg.listen, gai_strerror(err));
		goto fail;
	}
	if (!host[0])
		flags |= MHD_USE_DUAL_STACK;
	else if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s->d = MHD_start_daemon(flags, port, NULL, NULL, handle, s,
				MHD_OPTION_SOCK_ADDR, host[0] ? ai->ai_addr : NULL,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_CONN_LIMIT,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)HTTP_PER_IP_LIMIT,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
				MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!s->d) {
		pr_warn("cannot serve metrics on %s: %s\n", a->cfg.listen, strerror(errno));
		goto fail;
	}
	return s;
fail:
	free(s);
	return NULL;
}

void http__stop(struct http_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	free(s);
}
