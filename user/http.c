// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* http.c - GET /metrics (and a small index on /), see http.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "prom.h"
#include "websec.h"

#define HTTP_CONN_LIMIT 64		/* concurrent scrapers */
#define HTTP_PER_IP_LIMIT 16
#define HTTP_TIMEOUT_S 10		/* idle or slow clients are cut after this */
#define HTTP_CONN_MEMORY (32 * 1024)	/* per connection; larger headers get 431 */
#define HTTP_REALM "reqacct"
/* TLS 1.2 and 1.3 only, as exporter-toolkit's default min_version (TLS12). */
#define HTTP_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct http_server {
	struct MHD_Daemon *d;
	void (*produce)(void *ctx, struct prom_buf *b);
	void *ctx;
	char *tls_cert, *tls_key;	/* kept while the daemon runs */
	pthread_mutex_t lock;		/* auth: the server's thread reads, a reload swaps */
	struct websec_auth *auth;
	bool started;			/* MHD's messages are debug output from then on */
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
	s->produce(s->ctx, &b);
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

/* Basic auth (RFC 7617), when users are set; every path needs it. */
static bool authorized(struct http_server *s, struct MHD_Connection *c)
{
	char *password = NULL, *user;
	bool ok = true;

	pthread_mutex_lock(&s->lock);
	if (s->auth) {
		user = MHD_basic_auth_get_username_password(c, &password);
		ok = websec__auth_check(s->auth, user, password);
		if (password) {
			explicit_bzero(password, strlen(password));
			MHD_free(password);
		}
		if (user)
			MHD_free(user);
	}
	pthread_mutex_unlock(&s->lock);
	return ok;
}

/* 401 with WWW-Authenticate: Basic realm="reqacct". */
static enum MHD_Result deny(struct MHD_Connection *c)
{
	static const char msg[] = "unauthorized\n";
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    strlen(msg), (void *)msg, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	ret = MHD_queue_basic_auth_fail_response(c, HTTP_REALM, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **req_cls)
{
	struct http_server *s = cls;

	if (!authorized(s, c))
		return deny(c);
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (!strcmp(url, "/metrics"))
		return serve_metrics(s, c);
	if (!strcmp(url, "/"))
		return text(c, MHD_HTTP_OK, index_page);
	return text(c, MHD_HTTP_NOT_FOUND, "not found; try /metrics\n");
}

/* libmicrohttpd's messages: why a start failed; then, per connection (a
 * failed TLS handshake, a malformed request), only with -v -v, so that a
 * client cannot fill the log. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct http_server *s = cls;

	if (__atomic_load_n(&s->started, __ATOMIC_RELAXED) && log_verbosity < LOG_DEBUG)
		return;
	fputs("reqacct: http: ", stderr);
	vfprintf(stderr, fmt, ap);
}

static void free_server(struct http_server *s)
{
	free(s->tls_cert);
	websec__free_secret(s->tls_key);
	websec__auth_free(s->auth);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

struct http_server *http__start(struct http_config *cfg)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_PASSIVE };
	struct http_server *s = calloc(1, sizeof(*s));
	/* poll(2), not epoll: libmicrohttpd 0.9.75's edge-triggered epoll loop
	 * misses an end of stream that comes with the last bytes, so a truncated
	 * request followed by FIN held its connection until HTTP_TIMEOUT_S; with
	 * poll it is closed at once. At HTTP_CONN_LIMIT connections poll costs
	 * nothing more. */
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
	struct addrinfo *ai = NULL;
	char host[64] = "", port_s[8];
	__u16 port = 0;
	int err;

	if (!s) {
		websec__free_secret(cfg->tls_key);
		free(cfg->tls_cert);
		websec__auth_free(cfg->auth);
		cfg->tls_cert = cfg->tls_key = NULL;
		cfg->auth = NULL;
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->produce = cfg->produce;
	s->ctx = cfg->ctx;
	s->tls_cert = cfg->tls_cert;
	s->tls_key = cfg->tls_key;
	s->auth = cfg->auth;
	cfg->tls_cert = cfg->tls_key = NULL;
	cfg->auth = NULL;
	if (cfg->no_listen) {
		/* Connections come from http__add_connection; the thread is woken
		 * for them through an inter-thread channel. No error log: fuzzing. */
		flags |= MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
	} else {
		flags |= MHD_USE_ERROR_LOG;
		if (config__parse_listen(cfg->listen, host, sizeof(host), &port)) {
			pr_warn("bad listen address '%s'\n", cfg->listen);
			goto fail;
		}
		snprintf(port_s, sizeof(port_s), "%u", port);
		/* Numeric addresses only: the agent never resolves a name (no DNS). */
		err = getaddrinfo(host[0] ? host : NULL, port_s, &hints, &ai);
		if (err) {
			pr_warn("listen address '%s': %s (a numeric address is required)\n",
				cfg->listen, gai_strerror(err));
			goto fail;
		}
		if (!host[0])
			flags |= MHD_USE_DUAL_STACK;
		else if (ai->ai_family == AF_INET6)
			flags |= MHD_USE_IPv6;
	}
	if (s->tls_cert && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		pr_warn("this libmicrohttpd was built without TLS: cannot serve https\n");
		goto fail;
	}
	if (s->tls_cert)
		flags |= MHD_USE_TLS;
	s->d = MHD_start_daemon(flags, port, NULL, NULL, handle, s,
				MHD_OPTION_SOCK_ADDR, host[0] ? ai->ai_addr : NULL,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_CONN_LIMIT,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)HTTP_PER_IP_LIMIT,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
				/* the TLS options last: MHD stops at the first MHD_OPTION_END */
				s->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, s->tls_cert,
				MHD_OPTION_HTTPS_MEM_KEY, s->tls_key,
				MHD_OPTION_HTTPS_PRIORITIES, HTTP_TLS_PRIORITIES,
				MHD_OPTION_END);
	if (ai)
		freeaddrinfo(ai);
	if (!s->d) {
		pr_warn("cannot serve metrics on %s%s: %s\n", cfg->no_listen ? "(no socket)" :
			cfg->listen, s->tls_cert ? " with TLS" : "", strerror(errno));
		goto fail;
	}
	__atomic_store_n(&s->started, true, __ATOMIC_RELAXED);
	return s;
fail:
	free_server(s);
	return NULL;
}

void http__set_auth(struct http_server *s, struct websec_auth *auth)
{
	struct websec_auth *old;

	pthread_mutex_lock(&s->lock);
	old = s->auth;
	s->auth = auth;
	pthread_mutex_unlock(&s->lock);
	websec__auth_free(old);
}

int http__add_connection(struct http_server *s, int fd, const struct sockaddr *addr,
			 socklen_t addrlen)
{
	return MHD_add_connection(s->d, fd, addr, addrlen) == MHD_YES ? 0 : -(errno ?: EIO);
}

void http__stop(struct http_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	free_server(s);
}
