// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* config.c - configuration file and option values (see config.h). */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "errmsg.h"

/* Upper bound for max_flows: 4M entries of 96 bytes, ~400 MiB of map memory. */
#define MAX_FLOWS_LIMIT (1u << 22)
#define MAX_LISTENERS_LIMIT (1u << 16)
#define CONFIG_FILE_MAX (1 << 20)
#define DNS_TIMEOUT_DEFAULT_MS 5000	/* RES_TIMEOUT, resolv.h; Go's dnsConfig.timeout */
#define DNS_TIMEOUT_MAX_MS 600000
#define DNS_TOP_NAMES_DEFAULT 10
#define DNS_TOP_NAMES_MAX 1000
#define TLS_RESCAN_DEFAULT_S 10
#define TLS_RESCAN_MAX_S 3600
/* Kubernetes request rows: one per (client flow, verb, resource, code) seen;
 * ~500 B each (the key holds the label strings). */
#define K8S_MAX_SERIES_DEFAULT 4096
#define K8S_MAX_SERIES_LIMIT (1u << 20)
/* Clients of an apiserver with series of their own: the costliest 50 of a
 * 5000-node cluster (kubelets, controllers, DaemonSet pods) keep
 * reqacct_k8s_requests_total near 50 x ~40 (verb, resource, code) rows. */
#define K8S_TOP_CLIENTS_DEFAULT 50
#define K8S_TOP_CLIENTS_LIMIT 65536
#define K8S_TOP_WINDOW_DEFAULT_S 60
#define K8S_TOP_WINDOW_MAX_S 86400
/* kube-apiserver ends every watch within 2 x --min-request-timeout (1800 s
 * by default): a stream open longer was refused or cut (k8s__sweep). */
#define H2_STREAM_MAX_AGE_DEFAULT_S 7200
#define H2_STREAM_MAX_AGE_MAX_S (30 * 86400)
/* Pods come and go in seconds; a /proc walk every 30 s is cheap. */
#define NETNS_SCAN_DEFAULT_S 30
#define NETNS_SCAN_MAX_S 86400
/* A post-mortem wants the minute before the node went dark. */
#define SNAPSHOT_DEFAULT_S 60

static const __u16 default_ports[] = { 443, 6443, 2379, 10250, 53 };
static const char *const hook_names[] = {
	[HOOK_AUTO] = "auto", [HOOK_TRACEPOINT] = "tracepoint", [HOOK_SOCKOPS] = "sockops",
};

const char *config__hook_name(enum hook_mode m)
{
	return m < sizeof(hook_names) / sizeof(hook_names[0]) ? hook_names[m] : "?";
}

void config__defaults(struct ra_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen, sizeof(c->listen), ":9464");
	memcpy(c->ports, default_ports, sizeof(default_ports));
	c->nports = sizeof(default_ports) / sizeof(default_ports[0]);
	c->max_flows = RA_MAX_FLOWS;
	c->max_peers = MAX_PEERS_DEFAULT;
	c->max_listeners = RA_MAX_LISTENERS;
	c->hook = HOOK_AUTO;
	c->dns = true;
	c->dns_ports[0] = 53;
	c->ndns_ports = 1;
	c->dns_timeout_ms = DNS_TIMEOUT_DEFAULT_MS;
	c->dns_top_names = DNS_TOP_NAMES_DEFAULT;
	c->dns_max_flows = RA_MAX_DNS_FLOWS;
	c->tls_rescan_s = TLS_RESCAN_DEFAULT_S;
	/* Go's probes cost a Go HTTPS server ~3% of its requests/s at saturation;
	 * OpenSSL's cost nginx 2-4x CPU per request (BENCHMARKS.md). */
	c->tls = CONFIG_TLS_GO;
	/* the apiserver's ports (kubeadm 6443, managed clusters 443) */
	c->k8s_ports[0] = 6443;
	c->k8s_ports[1] = 443;
	c->nk8s_ports = 2;
	c->k8s_max_series = K8S_MAX_SERIES_DEFAULT;
	c->k8s_top_clients = K8S_TOP_CLIENTS_DEFAULT;
	c->k8s_top_window_s = K8S_TOP_WINDOW_DEFAULT_S;
	c->h2_stream_max_age_s = H2_STREAM_MAX_AGE_DEFAULT_S;
	c->netns_scan_s = NETNS_SCAN_DEFAULT_S;
	c->snapshot_s = SNAPSHOT_DEFAULT_S;
	strcpy(c->pod_logs_dir, "/var/log/pods");	/* the kubelet's (BuildPodLogsDirectory) */
}

/* tls: "off", "on" (every library), or a list of "go" and "openssl". */
static int parse_tls(struct ra_config *c, const char *val, const char *src, char *err,
		     size_t errlen)
{
	static const struct {
		const char *word;
		__u8 libs;
	} words[] = {
		{ "off", 0 }, { "on", CONFIG_TLS_GO | CONFIG_TLS_OPENSSL },
		{ "go", CONFIG_TLS_GO }, { "openssl", CONFIG_TLS_OPENSSL },
	};
	const char *p = val;
	size_t i, n, seen = 0;
	__u8 libs = 0;

	while (*(p += strspn(p, ", \t"))) {
		n = strcspn(p, ", \t");
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strlen(words[i].word) == n && !strncmp(p, words[i].word, n))
				break;
		if (i == sizeof(words) / sizeof(words[0]))
			return errmsg(err, errlen, -EINVAL,
				      "%s: bad tls '%.*s' (want on, off, or go and/or openssl)",
				      src, (int)n, p);
		libs |= words[i].libs;
		p += n;
		seen++;
	}
	if (!seen)
		return errmsg(err, errlen, -EINVAL,
			      "%s: empty tls (want on, off, or go and/or openssl)", src);
	c->tls = libs;
	return 0;
}
/* A decimal number in [lo, hi], nothing else (no sign, no spaces, no hex). */
static int parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end || *out < lo || *out > hi)
		return -EINVAL;
	return 0;
}

/*
 * A list of words separated by any of seps into at most max strings of
 * width bytes at dst (count in *n): libssl paths ("/a/libssl.so.3
 * /b/libssl.so.1.1", absolute) or process names ("nginx, curl"). what and
 * whats name one element and several in errors.
 */
static int parse_words(char *dst, size_t width, __u32 max, __u32 *n, const char *seps,
		       bool absolute, const char *what, const char *whats, const char *val,
		       const char *src, char *err, size_t errlen)
{
	char *buf = strdup(val), *save, *tok;
	__u32 k = 0;
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	for (tok = strtok_r(buf, seps, &save); tok && !rc; tok = strtok_r(NULL, seps, &save)) {
		if (absolute && tok[0] != '/')
			rc = errmsg(err, errlen, -EINVAL, "%s: '%.64s' is not an absolute path",
				    src, tok);
		else if (strlen(tok) >= width)
			rc = errmsg(err, errlen, -EINVAL, "%s: %s '%.32s' longer than %zu bytes",
				    src, what, tok, width - 1);
		else if (k == max)
			rc = errmsg(err, errlen, -EINVAL, "%s: more than %u %s", src, max, whats);
		else
			strcpy(dst + k++ * width, tok);
	}
	if (!rc && !k)
		rc = errmsg(err, errlen, -EINVAL, "%s: empty %s list", src, what);
	if (!rc)
		*n = k;
	free(buf);
	return rc;
}

int config__parse_listen(const char *s, char *host, size_t hostlen, __u16 *port)
{
	const char *colon;
	unsigned long p;
	size_t n;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		n = rb - s - 1;
		s++;
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', colon - s))
			return -EINVAL;	/* bare IPv6 needs brackets */
		n = colon - s;
	}
	if (n >= hostlen || parse_uint(colon + 1, 1, 65535, &p))
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	*port = p;
	return 0;
}

/* "443, 6443 2379": a list of at most max ports separated by commas or spaces. */
static int parse_ports(__u16 *ports, __u32 *nports, __u32 max, const char *val, const char *src,
		       char *err, size_t errlen)
{
	char buf[256], *save, *tok;
	unsigned long p;
	__u32 n = 0;

	if (strlen(val) >= sizeof(buf))
		return errmsg(err, errlen, -EINVAL, "%s: port list too long", src);
	strcpy(buf, val);
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (parse_uint(tok, 1, 65535, &p))
			return errmsg(err, errlen, -EINVAL, "%s: bad port '%s' (want 1-65535)", src,
				      tok);
		for (__u32 i = 0; i < n; i++)
			if (ports[i] == p)
				return errmsg(err, errlen, -EINVAL, "%s: port %lu listed twice",
					      src, p);
		if (n == max)
			return errmsg(err, errlen, -EINVAL, "%s: more than %u ports", src, max);
		ports[n++] = p;
	}
	if (!n)
		return errmsg(err, errlen, -EINVAL, "%s: empty port list", src);
	*nports = n;
	return 0;
}

/* Keys whose value is a number in a range. */
static const struct {
	const char *key;
	size_t off;		/* of the __u32 in struct ra_config */
	unsigned long lo, hi;
} numbers[] = {
	{ "max_flows", offsetof(struct ra_config, max_flows), 1, MAX_FLOWS_LIMIT },
	{ "max_peers", offsetof(struct ra_config, max_peers), 1, MAX_FLOWS_LIMIT },
	{ "max_listeners", offsetof(struct ra_config, max_listeners), 1, MAX_LISTENERS_LIMIT },
	{ "dns_timeout_ms", offsetof(struct ra_config, dns_timeout_ms), 1, DNS_TIMEOUT_MAX_MS },
	{ "dns_top_names", offsetof(struct ra_config, dns_top_names), 0, DNS_TOP_NAMES_MAX },
	{ "dns_max_flows", offsetof(struct ra_config, dns_max_flows), 1, MAX_FLOWS_LIMIT },
	{ "tls_rescan_s", offsetof(struct ra_config, tls_rescan_s), 0, TLS_RESCAN_MAX_S },
	{ "k8s_max_series", offsetof(struct ra_config, k8s_max_series), 1, K8S_MAX_SERIES_LIMIT },
	{ "k8s_top_clients", offsetof(struct ra_config, k8s_top_clients), 0, K8S_TOP_CLIENTS_LIMIT },
	{ "k8s_top_window_s", offsetof(struct ra_config, k8s_top_window_s), 1,
	  K8S_TOP_WINDOW_MAX_S },
	{ "h2_stream_max_age_s", offsetof(struct ra_config, h2_stream_max_age_s), 1,
	  H2_STREAM_MAX_AGE_MAX_S },
	{ "netns_scan_s", offsetof(struct ra_config, netns_scan_s), 0, NETNS_SCAN_MAX_S },
	{ "snapshot_s", offsetof(struct ra_config, snapshot_s), 1, NETNS_SCAN_MAX_S },
};

/* Keys whose value is an absolute path (CONFIG_PATH_MAX bytes). */
static const struct {
	const char *key;
	size_t off;
} paths[] = {
	{ "cgroup", offsetof(struct ra_config, cgroup) },
	{ "cgroupfs", offsetof(struct ra_config, cgroupfs) },
	{ "pod_logs_dir", offsetof(struct ra_config, pod_logs_dir) },
	{ "snapshot_file", offsetof(struct ra_config, snapshot_file) },
	{ "web_tls_cert_file", offsetof(struct ra_config, web_tls_cert_file) },
	{ "web_tls_key_file", offsetof(struct ra_config, web_tls_key_file) },
	{ "web_basic_auth_file", offsetof(struct ra_config, web_basic_auth_file) },
};

static size_t path_key(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (!strcmp(key, paths[i].key))
			break;
	return i;
}

int config__set(struct ra_config *c, const char *key, const char *val, const char *src,
		char *err, size_t errlen)
{
	char host[64];
	unsigned long n;
	__u16 port;

	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		if (strcmp(key, numbers[i].key))
			continue;
		if (parse_uint(val, numbers[i].lo, numbers[i].hi, &n))
			return errmsg(err, errlen, -EINVAL, "%s: bad %s '%s' (want %lu-%lu)", src,
				      key, val, numbers[i].lo, numbers[i].hi);
		*(__u32 *)((char *)c + numbers[i].off) = n;
		return 0;
	}
	if (!strcmp(key, "listen")) {
		if (config__parse_listen(val, host, sizeof(host), &port) ||
		    strlen(val) >= sizeof(c->listen))
			return errmsg(
			    err, errlen, -EINVAL,
			    "%s: bad listen address '%s' (want ADDR:PORT, [V6]:PORT or :PORT)", src,
			    val);
		strcpy(c->listen, val);
	} else if (!strcmp(key, "ports") || !strcmp(key, "port")) {
		return parse_ports(c->ports, &c->nports, RA_MAX_PORTS, val, src, err, errlen);
	} else if (!strcmp(key, "dns_ports") || !strcmp(key, "dns_port")) {
		return parse_ports(c->dns_ports, &c->ndns_ports, RA_MAX_DNS_PORTS, val, src, err,
				   errlen);
	} else if (!strcmp(key, "dns")) {
		if (strcmp(val, "on") && strcmp(val, "off"))
			return errmsg(err, errlen, -EINVAL, "%s: bad %s '%s' (want on or off)", src,
				      key, val);
		c->dns = !strcmp(val, "on");
	} else if (!strcmp(key, "tls")) {
		return parse_tls(c, val, src, err, errlen);
	} else if (!strcmp(key, "tls_libs") || !strcmp(key, "tls_lib")) {
		return parse_words(c->tls_libs[0], sizeof(c->tls_libs[0]), CONFIG_TLS_LIBS_MAX,
				   &c->ntls_libs, " \t", true, "library", "libraries", val, src, err,
				   errlen);
	} else if (!strcmp(key, "k8s_ports") || !strcmp(key, "k8s_port")) {
		return parse_ports(c->k8s_ports, &c->nk8s_ports, RA_MAX_PORTS, val, src, err, errlen);
	} else if (!strcmp(key, "tls_ports") || !strcmp(key, "tls_port")) {
		return parse_ports(c->tls_ports, &c->ntls_ports, RA_MAX_PORTS, val, src, err, errlen);
	} else if (!strcmp(key, "tls_comms") || !strcmp(key, "tls_comm")) {
		return parse_words(c->tls_comms[0], sizeof(c->tls_comms[0]), CONFIG_TLS_LIBS_MAX,
				   &c->ntls_comms, ", \t", false, "process name", "process names", val,
				   src, err, errlen);
	} else if (!strcmp(key, "hook")) {
		for (n = 0; n < sizeof(hook_names) / sizeof(hook_names[0]); n++)
			if (!strcmp(val, hook_names[n]))
				break;
		if (n == sizeof(hook_names) / sizeof(hook_names[0]))
			return errmsg(err, errlen, -EINVAL,
				      "%s: bad hook '%s' (want auto, tracepoint or sockops)", src,
				      val);
		c->hook = n;
	} else if ((n = path_key(key)) < sizeof(paths) / sizeof(paths[0])) {
		if (val[0] != '/' || strlen(val) >= CONFIG_PATH_MAX)
			return errmsg(err, errlen, -EINVAL, "%s: %s must be an absolute path", src,
				      key);
		strcpy((char *)c + paths[n].off, val);
	} else {
		return errmsg(err, errlen, -EINVAL, "%s: unknown key '%s'", src, key);
	}
	return 0;
}

static char *trim(char *s)
{
	char *e;

	s += strspn(s, " \t\r");
	e = s + strlen(s);
	while (e > s && strchr(" \t\r", e[-1]))
		*--e = '\0';
	return s;
}

/* A comment starts with '#' at the start of a line or after a blank. */
static char *strip_comment(char *line)
{
	for (char *p = line; *p; p++) {
		if (*p == '#' && (p == line || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
	}
	return trim(line);
}

int config__parse_text(struct ra_config *c, const char *text, const char *name,
		       char *err, size_t errlen)
{
	char *copy = strdup(text), *line, *save = NULL, src[CONFIG_PATH_MAX + 32];
	int lineno = 0, rc = 0;

	if (!copy)
		return -ENOMEM;
	for (line = copy; line && !rc; line = save) {
		char *eq, *key, *val;

		lineno++;
		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		snprintf(src, sizeof(src), "%s:%d", name, lineno);
		key = strip_comment(line);
		if (!*key)
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			rc = errmsg(err, errlen, -EINVAL, "%s: expected 'key = value', got '%.40s'",
				    src, key);
			break;
		}
		*eq = '\0';
		key = trim(key);
		val = trim(eq + 1);
		if (!*key)
			rc = errmsg(err, errlen, -EINVAL, "%s: missing key before '='", src);
		else if (!*val)
			rc = errmsg(err, errlen, -EINVAL, "%s: missing value for '%s'", src, key);
		else
			rc = config__set(c, key, val, src, err, errlen);
	}
	free(copy);
	return rc;
}

int config__parse_file(struct ra_config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;
	int rc;

	if (!f) {
		rc = -errno;
		errmsg(err, errlen, -EINVAL, "%s: %s", path, strerror(-rc));
		return rc;
	}
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, CONFIG_FILE_MAX + 1, f);
	fclose(f);
	if (n > CONFIG_FILE_MAX) {
		free(buf);
		return errmsg(err, errlen, -EINVAL, "%s: larger than %d bytes", path,
			      CONFIG_FILE_MAX);
	}
	if (memchr(buf, '\0', n)) {
		free(buf);
		return errmsg(err, errlen, -EINVAL, "%s: contains a NUL byte (binary file?)", path);
	}
	buf[n] = '\0';
	rc = config__parse_text(c, buf, path, err, errlen);
	free(buf);
	return rc;
}

bool config__has_port(const __u16 *ports, __u32 n, __u16 port)
{
	for (__u32 i = 0; i < n; i++)
		if (ports[i] == port)
			return true;
	return false;
}

#define KEY(name, kind, field, live) { name, kind, offsetof(struct ra_config, field), 0, 0, live }
#define LIST(name, field, count, live)                                                      \
	{ name, CONFIG_LIST, offsetof(struct ra_config, field),                              \
	  sizeof(((struct ra_config *)0)->field[0]), offsetof(struct ra_config, count), live }

/*
 * Live: read by user space where it is used (dns.c, k8s.c through
 * k8s__set_top, the main loop, the scrape handler). Not live: a BPF map's
 * size, a program's read-only data or attachment, the listening socket and
 * its TLS mode, or a state made once at start (pods).
 */
const struct config_key config_keys[] = {
	KEY("listen", CONFIG_STR, listen, false),
	LIST("ports", ports, nports, false),
	KEY("max_flows", CONFIG_U32, max_flows, false),
	KEY("max_peers", CONFIG_U32, max_peers, false),
	KEY("max_listeners", CONFIG_U32, max_listeners, false),
	KEY("hook", CONFIG_ENUM, hook, false),
	KEY("cgroup", CONFIG_STR, cgroup, false),
	KEY("cgroupfs", CONFIG_STR, cgroupfs, false),
	KEY("pod_logs_dir", CONFIG_STR, pod_logs_dir, false),
	KEY("snapshot_file", CONFIG_STR, snapshot_file, true),
	KEY("dns", CONFIG_BOOL, dns, false),
	LIST("dns_ports", dns_ports, ndns_ports, false),
	KEY("dns_timeout_ms", CONFIG_U32, dns_timeout_ms, true),
	KEY("dns_top_names", CONFIG_U32, dns_top_names, true),
	KEY("dns_max_flows", CONFIG_U32, dns_max_flows, false),
	KEY("tls", CONFIG_U8, tls, false),
	LIST("tls_libs", tls_libs, ntls_libs, false),
	KEY("tls_rescan_s", CONFIG_U32, tls_rescan_s, true),
	LIST("tls_comms", tls_comms, ntls_comms, false),
	LIST("tls_ports", tls_ports, ntls_ports, false),
	LIST("k8s_ports", k8s_ports, nk8s_ports, false),
	KEY("k8s_max_series", CONFIG_U32, k8s_max_series, false),
	KEY("k8s_top_clients", CONFIG_U32, k8s_top_clients, true),
	KEY("k8s_top_window_s", CONFIG_U32, k8s_top_window_s, true),
	KEY("h2_stream_max_age_s", CONFIG_U32, h2_stream_max_age_s, true),
	KEY("netns_scan_s", CONFIG_U32, netns_scan_s, true),
	KEY("snapshot_s", CONFIG_U32, snapshot_s, true),
	KEY("web_tls_cert_file", CONFIG_STR, web_tls_cert_file, false),
	KEY("web_tls_key_file", CONFIG_STR, web_tls_key_file, false),
	KEY("web_basic_auth_file", CONFIG_STR, web_basic_auth_file, true),
};
const size_t config_nkeys = sizeof(config_keys) / sizeof(config_keys[0]);

bool config__differs(const struct ra_config *a, const struct ra_config *b,
		     const struct config_key *k)
{
	const char *pa = (const char *)a + k->off, *pb = (const char *)b + k->off;
	__u32 na, nb;

	switch (k->kind) {
	case CONFIG_U32: return *(const __u32 *)pa != *(const __u32 *)pb;
	case CONFIG_U8: return *(const __u8 *)pa != *(const __u8 *)pb;
	case CONFIG_BOOL: return *(const bool *)pa != *(const bool *)pb;
	case CONFIG_ENUM: return *(const enum hook_mode *)pa != *(const enum hook_mode *)pb;
	case CONFIG_STR: return strcmp(pa, pb) != 0;
	case CONFIG_LIST:
		/* Elements past the count may hold what an earlier source set. */
		na = *(const __u32 *)((const char *)a + k->count_off);
		nb = *(const __u32 *)((const char *)b + k->count_off);
		if (na != nb)
			return true;
		for (__u32 i = 0; i < na; i++) {
			const char *ea = pa + i * k->elem, *eb = pb + i * k->elem;

			if (k->elem > sizeof(__u16) ? strcmp(ea, eb) : memcmp(ea, eb, k->elem))
				return true;
		}
		return false;
	default: return true;
	}
}

void config__copy(struct ra_config *dst, const struct ra_config *src, const struct config_key *k)
{
	char *pd = (char *)dst + k->off;
	const char *ps = (const char *)src + k->off;

	switch (k->kind) {
	case CONFIG_U32:
		/* The scrape thread reads some of these (dns_top_names) as it formats. */
		__atomic_store_n((__u32 *)pd, *(const __u32 *)ps, __ATOMIC_RELAXED);
		break;
	case CONFIG_STR:
		strcpy(pd, ps);
		break;
	case CONFIG_U8: *(__u8 *)pd = *(const __u8 *)ps; break;
	case CONFIG_BOOL: *(bool *)pd = *(const bool *)ps; break;
	case CONFIG_ENUM: *(enum hook_mode *)pd = *(const enum hook_mode *)ps; break;
	case CONFIG_LIST:
		*(__u32 *)((char *)dst + k->count_off) = *(const __u32 *)((const char *)src + k->count_off);
		memcpy(pd, ps, k->elem * *(const __u32 *)((const char *)src + k->count_off));
		break;
	default: break;
	}
}
