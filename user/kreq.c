// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * kreq.c - Kubernetes request info and User-Agent products (kreq.h).
 *
 * The path is percent-decoded before it is split, as Go's url.URL.Path is
 * (so "%2F" separates segments, as it does for the apiserver); the query is
 * only read for the first "watch" value, which makes a list a watch unless
 * it is "0" or "false" (any case), as NewRequestInfo decides. Not followed:
 * a fieldSelector on metadata.name, which names the object of a list (names
 * are not exported).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "errmsg.h"
#include "kreq.h"

#define MAX_SEGMENTS 16	/* segments of a path looked at; later ones are not needed */
#define TARGET_MAX 8192	/* longest request target resolved (Go's default header limit
			 * is 1 MiB, the apiserver's paths are far shorter) */

static const char *const verb_names[KREQ_VERB_MAX] = {
	[KREQ_GET] = "get", [KREQ_LIST] = "list", [KREQ_WATCH] = "watch",
	[KREQ_CREATE] = "create", [KREQ_UPDATE] = "update", [KREQ_PATCH] = "patch",
	[KREQ_DELETE] = "delete", [KREQ_DELETECOLLECTION] = "deletecollection",
	[KREQ_PROXY] = "proxy", [KREQ_CONNECT] = "connect", [KREQ_OTHER] = "other",
	[KREQ_NR_GET] = "get", [KREQ_NR_HEAD] = "head", [KREQ_NR_POST] = "post",
	[KREQ_NR_PUT] = "put", [KREQ_NR_PATCH] = "patch", [KREQ_NR_DELETE] = "delete",
	[KREQ_NR_OPTIONS] = "options", [KREQ_NR_OTHER] = "other",
};

/* Methods: the verb of a resource request, and of a non-resource one. */
static const struct {
	const char *method;
	enum kreq_verb resource, nonresource;
} methods[] = {
	{ "GET", KREQ_GET, KREQ_NR_GET },	  { "HEAD", KREQ_GET, KREQ_NR_HEAD },
	{ "POST", KREQ_CREATE, KREQ_NR_POST },	  { "PUT", KREQ_UPDATE, KREQ_NR_PUT },
	{ "PATCH", KREQ_PATCH, KREQ_NR_PATCH },	  { "DELETE", KREQ_DELETE, KREQ_NR_DELETE },
	{ "OPTIONS", KREQ_OTHER, KREQ_NR_OPTIONS },
};

/* Subresources whose requests the apiserver's metrics call CONNECT
 * (k8s.io/apiserver/pkg/endpoints/metrics, cleanVerb). */
static const char *const connect_subresources[] = { "attach", "exec", "portforward", "proxy" };

/* Non-resource roots with a class of their own: "/root", or "/root/..." for
 * a longer path. */
static const char *const nonresource_roots[] = {
	"healthz", "livez", "readyz", "metrics", "version", "logs", "debug", ".well-known", "openid",
	"openapi",
};

const char *kreq__verb_name(enum kreq_verb v)
{
	return v >= 0 && v < KREQ_VERB_MAX ? verb_names[v] : "other";
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode [s, s + n) into out (at least n bytes). The length, or -1
 * with the offset of the bad escape in *bad. */
static int unescape(const char *s, size_t n, char *out, size_t *bad)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (i + 2 >= n || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) {
			*bad = i;
			return -1;
		}
		out[o++] = (char)(hex(s[i + 1]) << 4 | hex(s[i + 2]));
		i += 2;
	}
	return (int)o;
}

struct seg {
	const char *p;
	size_t n;
	size_t off;	/* in the decoded path, for messages */
};

static bool seg_is(const struct seg *s, const char *word)
{
	return s->n == strlen(word) && !memcmp(s->p, word, s->n);
}

/* Copy a segment into a field of size max (NUL included). An empty one
 * ("//") is an error: the apiserver would find nothing there. */
static int put(char *dst, size_t max, const struct seg *s, const char *what, char *err,
	       size_t errlen)
{
	if (!s->n)
		return errmsg(err, errlen, -EINVAL, "empty %s at byte %zu of the path", what,
			      s->off);
	if (s->n >= max)
		return errmsg(err, errlen, -EINVAL,
			      "%s at byte %zu of the path is %zu bytes long (at most %zu)", what,
			      s->off, s->n, max - 1);
	memcpy(dst, s->p, s->n);
	dst[s->n] = '\0';
	return 0;
}

/* The first value of key in a query string, percent-decoded into out. */
static bool query_value(const char *q, size_t n, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key), i = 0, bad;

	while (i < n) {
		size_t end = i;

		while (end < n && q[end] != '&')
			end++;
		if (end - i >= klen && !memcmp(q + i, key, klen) &&
		    (end - i == klen || q[i + klen] == '=')) {
			size_t v = end - i == klen ? end : i + klen + 1;
			int len;

			if (end - v >= outlen) {	/* too long to be "false" or "0" */
				snprintf(out, outlen, "long");
				return true;
			}
			len = unescape(q + v, end - v, out, &bad);
			if (len >= 0) {	/* Go's url.ParseQuery skips a bad pair */
				out[len] = '\0';
				return true;
			}
		}
		i = end + 1;
	}
	return false;
}

/* The class of a non-resource path (segments seg[0..n)). */
static void path_class(const struct seg *seg, int n, char out[KREQ_PATH_MAX])
{
	if (n == 0) {
		strcpy(out, "/");
		return;
	}
	if (seg_is(&seg[0], "api")) {
		strcpy(out, n == 1 ? "/api" : n == 2 ? "/api/{version}" : "other");
		return;
	}
	if (seg_is(&seg[0], "apis")) {
		strcpy(out, n == 1 ? "/apis" : n == 2 ? "/apis/{group}" :
			    n == 3 ? "/apis/{group}/{version}" : "other");
		return;
	}
	for (size_t r = 0; r < sizeof(nonresource_roots) / sizeof(nonresource_roots[0]); r++) {
		if (!seg_is(&seg[0], nonresource_roots[r]))
			continue;
		if (!strcmp(nonresource_roots[r], "openapi") && n >= 2 &&
		    (seg_is(&seg[1], "v2") || seg_is(&seg[1], "v3"))) {
			snprintf(out, KREQ_PATH_MAX, "/openapi/%.2s%s", seg[1].p, n > 2 ? "/..." : "");
			return;
		}
		snprintf(out, KREQ_PATH_MAX, "/%s%s", nonresource_roots[r], n > 1 ? "/..." : "");
		return;
	}
	strcpy(out, "other");
}

int kreq__resolve(const char *method, size_t mlen, const char *target, size_t tlen,
		  struct kreq *out, char *err, size_t errlen)
{
	char path[TARGET_MAX], watch[8];
	struct seg seg[MAX_SEGMENTS];
	size_t plen = 0, qoff, bad, m;
	const char *q = NULL;
	int n = 0, len, rc, i = 0;
	enum kreq_verb verb = KREQ_OTHER, nrverb = KREQ_NR_OTHER;

	memset(out, 0, sizeof(*out));
	for (m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
		if (strlen(methods[m].method) == mlen && !memcmp(method, methods[m].method, mlen)) {
			verb = methods[m].resource;
			nrverb = methods[m].nonresource;
			break;
		}
	}
	if (!tlen || target[0] != '/')
		return errmsg(err, errlen, -EINVAL, "request target does not start with '/'");
	if (tlen > TARGET_MAX)
		return errmsg(err, errlen, -EINVAL, "request target is %zu bytes long (at most %d)",
			      tlen, TARGET_MAX);
	for (qoff = 0; qoff < tlen && target[qoff] != '?' && target[qoff] != '#'; qoff++)
		if ((unsigned char)target[qoff] <= ' ' || target[qoff] == 0x7f)
			return errmsg(err, errlen, -EINVAL,
				      "control character or space at byte %zu of the "
				      "request target",
				      qoff);
	if (qoff < tlen && target[qoff] == '?') {
		q = target + qoff + 1;
		for (plen = qoff + 1; plen < tlen && target[plen] != '#'; plen++)
			;
		plen -= qoff + 1;
	}
	len = unescape(target, qoff, path, &bad);
	if (len < 0)
		return errmsg(err, errlen, -EINVAL,
			      "bad percent escape at byte %zu of the request target", bad);
	for (i = 0; i < len; i++)	/* "%00": no label carries a control character */
		if ((unsigned char)path[i] < ' ' || path[i] == 0x7f)
			return errmsg(err, errlen, -EINVAL,
				      "control character at byte %d of the decoded path", i);
	i = 0;
	/* splitPath(): trim '/' at both ends, then split on '/' */
	while (i < len && path[i] == '/')
		i++;
	while (len > i && path[len - 1] == '/')
		len--;
	while (i < len && n < MAX_SEGMENTS) {
		int e = i;

		while (e < len && path[e] != '/')
			e++;
		seg[n++] = (struct seg){ path + i, (size_t)(e - i), (size_t)i };
		i = e + 1;
	}
	out->verb = nrverb;
	/* api/{version}/... or apis/{group}/{version}/...: at least one segment
	 * after the version; anything else is a non-resource request */
	if (n < 3 || (!seg_is(&seg[0], "api") && !seg_is(&seg[0], "apis")) ||
	    (seg_is(&seg[0], "apis") && n < 4)) {
		path_class(seg, n, out->path);
		return 0;
	}
	i = 1;
	if (seg_is(&seg[0], "apis") &&
	    (rc = put(out->group, sizeof(out->group), &seg[i++], "API group", err, errlen)))
		return rc;
	if ((rc = put(out->version, sizeof(out->version), &seg[i++], "API version", err, errlen)))
		return rc;
	out->resource = true;
	out->verb = verb;
	if (seg_is(&seg[i], "proxy") || seg_is(&seg[i], "watch")) {	/* specialVerbs */
		if (n - i < 2)
			return errmsg(err, errlen, -EINVAL, "'%.*s' with nothing after it",
				      (int)seg[i].n, seg[i].p);
		out->verb = seg_is(&seg[i], "proxy") ? KREQ_PROXY : KREQ_WATCH;
		i++;
	}
	/* server-side apply of a new namespace: PATCH /namespaces/{name}, no
	 * namespace (the apiserver since 1.27) */
	if (seg_is(&seg[i], "namespaces") && n - i > 1 && !(n - i == 2 && out->verb == KREQ_PATCH)) {
		if ((rc = put(out->namespace_, sizeof(out->namespace_), &seg[i + 1], "namespace",
			      err, errlen)))
			return rc;
		/* a step after the namespace that is not one of its own
		 * subresources is a namespaced resource */
		if (n - i > 2 && !seg_is(&seg[i + 2], "status") && !seg_is(&seg[i + 2], "finalize"))
			i += 2;
	}
	/* resource/name/subresource/... */
	if ((rc = put(out->resource_name, sizeof(out->resource_name), &seg[i], "resource", err,
		      errlen)))
		return rc;
	out->named = n - i >= 2;
	if (n - i >= 3 && out->verb != KREQ_PROXY &&
	    (rc = put(out->subresource, sizeof(out->subresource), &seg[i + 2], "subresource", err,
		      errlen)))
		return rc;
	if (!out->named && out->verb == KREQ_GET) {
		out->verb = KREQ_LIST;
		if (q && query_value(q, plen, "watch", watch, sizeof(watch)) &&
		    strcasecmp(watch, "false") && strcmp(watch, "0"))
			out->verb = KREQ_WATCH;
	}
	if (!out->named && out->verb == KREQ_DELETE)
		out->verb = KREQ_DELETECOLLECTION;
	for (size_t c = 0; c < sizeof(connect_subresources) / sizeof(connect_subresources[0]); c++)
		if (!strcmp(out->subresource, connect_subresources[c]))
			out->verb = KREQ_CONNECT;
	return 0;
}

/* RFC 9110 5.6.2: tchar */
static bool tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

int kreq__user_agent(const char *ua, size_t len, char product[KREQ_UA_PRODUCT_MAX],
		     char version[KREQ_UA_VERSION_MAX], char *err, size_t errlen)
{
	size_t i = 0, p = 0, v = 0;

	product[0] = version[0] = '\0';
	while (i < len && (ua[i] == ' ' || ua[i] == '\t'))
		i++;
	if (i == len)
		return errmsg(err, errlen, -EINVAL, "empty User-Agent");
	if (!tchar((unsigned char)ua[i]))
		return errmsg(err, errlen, -EINVAL,
			      "User-Agent does not start with a product token (byte %zu is "
			      "0x%02x)",
			      i, (unsigned char)ua[i]);
	for (; i < len && tchar((unsigned char)ua[i]); i++)
		if (p < KREQ_UA_PRODUCT_MAX - 1)
			product[p++] = ua[i];
	product[p] = '\0';
	if (i < len && ua[i] == '/')
		for (i++; i < len && tchar((unsigned char)ua[i]); i++)
			if (v < KREQ_UA_VERSION_MAX - 1)
				version[v++] = ua[i];
	version[v] = '\0';
	return 0;
}
