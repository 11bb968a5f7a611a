/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kreq.h - what a Kubernetes API request asks for, from its HTTP method and
 * request target, by the apiserver's own rules
 * (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go, NewRequestInfo,
 * with the API prefixes "api" (no group) and "apis"), and the User-Agent's
 * product and version. Pure functions over untrusted bytes: bounded, no
 * allocation, fuzzed (tests/fuzz/fuzz_kreq.c).
 */
#ifndef REQACCT_KREQ_H
#define REQACCT_KREQ_H

#include <stdbool.h>
#include <stddef.h>

#define KREQ_LABEL_MAX 64	/* version, resource, subresource, namespace: DNS labels
				 * (63 bytes, RFC 1123) and a NUL */
#define KREQ_GROUP_MAX 254	/* an API group: a DNS subdomain (253 bytes) and a NUL */
#define KREQ_PATH_MAX 32	/* a non-resource path class ("/healthz", "/apis/{group}") */
#define KREQ_UA_PRODUCT_MAX 49	/* a User-Agent's product, cut at 48 bytes */
#define KREQ_UA_VERSION_MAX 33	/* its version, cut at 32 bytes */

enum kreq_verb {
	KREQ_GET, KREQ_LIST, KREQ_WATCH, KREQ_CREATE, KREQ_UPDATE, KREQ_PATCH, KREQ_DELETE,
	KREQ_DELETECOLLECTION,
	KREQ_PROXY,	/* the /proxy/ special verb */
	KREQ_CONNECT,	/* the attach, exec, portforward and proxy subresources, named
			 * CONNECT as the apiserver's own request metrics do */
	KREQ_OTHER,	/* a method the apiserver maps to no verb */
	/* non-resource requests: the lower-case method */
	KREQ_NR_GET, KREQ_NR_HEAD, KREQ_NR_POST, KREQ_NR_PUT, KREQ_NR_PATCH, KREQ_NR_DELETE,
	KREQ_NR_OPTIONS, KREQ_NR_OTHER,
	KREQ_VERB_MAX,
};

struct kreq {
	bool resource;		/* a resource request; else a non-resource one (path) */
	enum kreq_verb verb;
	char group[KREQ_GROUP_MAX];	/* "" for the core group (/api) */
	char version[KREQ_LABEL_MAX];
	char resource_name[KREQ_LABEL_MAX];	/* "pods" */
	char subresource[KREQ_LABEL_MAX];	/* "status", "" for none */
	char namespace_[KREQ_LABEL_MAX];	/* "" for cluster scope or all namespaces */
	bool named;		/* the path names one object */
	char path[KREQ_PATH_MAX];	/* non-resource: its class, "/healthz",
					 * "/readyz/...", "/api/{version}",
					 * "/apis/{group}/{version}", "/openapi/v3/...",
					 * or "other" */
};

/* The verb's label: "get", ..., "CONNECT" is "connect"; non-resource verbs
 * are the lower-case method ("get", "post", ...). */
const char *kreq__verb_name(enum kreq_verb v);

/* Resolve method (len mlen) and the request target (origin form, len tlen,
 * with its query). 0, or -EINVAL with what and where in err: a target that
 * is not a path, a bad percent escape, a segment longer than its field. */
int kreq__resolve(const char *method, size_t mlen, const char *target, size_t tlen,
		  struct kreq *out, char *err, size_t errlen);

/* The first product of a User-Agent value (RFC 9110 10.1.5: product =
 * token ["/" product-version]): "kubectl/v1.33.1 (linux/amd64) kubernetes/8adc0f0"
 * gives "kubectl" and "v1.33.1". The product is cut at 48 bytes, the version
 * at 32 (an empty version is ""). 0, or -EINVAL with what and where in err
 * when the value does not start with a token. */
int kreq__user_agent(const char *ua, size_t len, char product[KREQ_UA_PRODUCT_MAX],
		     char version[KREQ_UA_VERSION_MAX], char *err, size_t errlen);

#endif
