// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * podmeta.c - Kubernetes metadata from cgroup paths and /var/log/pods
 * (podmeta.h).
 *
 * A path is read one step (directory name) at a time, empty steps ("//", a
 * trailing '/') skipped. The first step that is kubepods ("kubepods", or a
 * slice "kubepods.slice" / "<prefix>-kubepods.slice") anchors it: the
 * outermost Kubernetes on this node is the one whose pods these are (a node
 * in a container, kind, docker-in-docker, has a prefix in front; a cluster
 * nested in a pod would have a second kubepods further down, inside one of
 * this node's containers). Below it the steps must follow the kubelet's
 * scheme, QoS, then pod, then the runtime's container; the first one that
 * does not makes the path UNKNOWN, with what was read before kept. Steps
 * before kubepods are the host's: the innermost systemd unit among them is
 * the unit.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "podmeta.h"

#define CID_LEN 64

struct span {
	const char *p;
	size_t n;
};

static const char *const kind_names[PODMETA_KIND_MAX] = {
	[PODMETA_HOST] = "host", [PODMETA_KUBEPODS] = "kubepods", [PODMETA_POD] = "pod",
	[PODMETA_CONTAINER] = "container", [PODMETA_UNKNOWN] = "unknown",
};

/* The QoS steps the kubelet makes, lower-cased PodQOSClass names
 * (qos_container_manager_linux.go); Guaranteed pods sit in kubepods itself. */
static const char *const qos_steps[] = { "burstable", "besteffort" };

/* The prefixes of a container's cgroup ("<prefix>-<id>[.scope]"): containerd's
 * CRI plugin, CRI-O (and its conmon), Docker's systemd driver. */
static const struct {
	const char *prefix, *runtime;
	bool conmon;
} runtimes[] = {
	{ "cri-containerd", "containerd", false },
	{ "crio", "cri-o", false },
	{ "crio-conmon", "cri-o", true },
	{ "docker", "docker", false },
};

/* Units that own cgroups (systemd.unit(5)): processes live in services and
 * scopes, and in slices, sockets, mounts and swaps while those run a command. */
static const char *const unit_suffixes[] = { ".service", ".scope", ".slice", ".socket", ".mount",
					     ".swap" };

const char *podmeta__kind_name(enum podmeta_kind k)
{
	return k >= 0 && k < PODMETA_KIND_MAX ? kind_names[k] : "unknown";
}

static bool span_is(struct span s, const char *word)
{
	return s.n == strlen(word) && !memcmp(s.p, word, s.n);
}

/* s ends with suffix; base is s without it. */
static bool cut_suffix(struct span s, const char *suffix, struct span *base)
{
	size_t n = strlen(suffix);

	if (s.n < n || memcmp(s.p + s.n - n, suffix, n))
		return false;
	*base = (struct span){ s.p, s.n - n };
	return true;
}

/* s starts with prefix; rest is s without it. */
static bool cut_prefix(struct span s, const char *prefix, struct span *rest)
{
	size_t n = strlen(prefix);

	if (s.n < n || memcmp(s.p, prefix, n))
		return false;
	*rest = (struct span){ s.p + n, s.n - n };
	return true;
}

static bool hexl(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* A pod UID: 8-4-4-4-12 hex digits with sep between the groups ('-', or '_'
 * as the systemd driver escapes it), or 32 hex digits (a static pod's MD5).
 * Written into out with '-'. */
static bool parse_uid(struct span s, char sep, char out[PODMETA_UID_MAX])
{
	if (s.n != 32 && s.n != 36)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		bool dash = s.n == 36 && (i == 8 || i == 13 || i == 18 || i == 23);

		if (dash ? s.p[i] != sep : !hexl(s.p[i]))
			return false;
	}
	for (size_t i = 0; i < s.n; i++)
		out[i] = s.p[i] == sep ? '-' : s.p[i];
	out[s.n] = '\0';
	return true;
}

static bool parse_cid(struct span s, char out[PODMETA_ID_MAX])
{
	if (s.n != CID_LEN)
		return false;
	for (size_t i = 0; i < CID_LEN; i++)
		if (!hexl(s.p[i]))
			return false;
	memcpy(out, s.p, CID_LEN);
	out[CID_LEN] = '\0';
	return true;
}

/* The runtime of a container prefix; "unknown" for one not listed. */
static const char *runtime_of(struct span prefix, bool *conmon)
{
	*conmon = false;
	for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++) {
		if (span_is(prefix, runtimes[i].prefix)) {
			*conmon = runtimes[i].conmon;
			return runtimes[i].runtime;
		}
	}
	return "unknown";
}

/* A container's step: "<id>", "<prefix>-<id>" or either with ".scope". */
static bool parse_container(struct span s, struct podmeta *out)
{
	struct span id = s, prefix = { s.p, 0 };
	size_t i;

	cut_suffix(s, ".scope", &id);
	for (i = id.n; i > 0 && id.p[i - 1] != '-'; i--)
		;
	if (i > 0) {
		if (i == 1)	/* "-<id>" */
			return false;
		prefix.n = i - 1;
		id = (struct span){ id.p + i, id.n - i };
	}
	if (!parse_cid(id, out->container_id))
		return false;
	out->runtime = prefix.n ? runtime_of(prefix, &out->conmon) : "unknown";
	return true;
}

/* The QoS step name q ("burstable"), or NULL. */
static const char *qos_of(struct span q)
{
	for (size_t i = 0; i < sizeof(qos_steps) / sizeof(qos_steps[0]); i++)
		if (span_is(q, qos_steps[i]))
			return qos_steps[i];
	return NULL;
}

/* A systemd kubepods slice's base name: "kubepods" or "<prefix>-kubepods". */
static bool kubepods_base(struct span base)
{
	struct span pre;

	return span_is(base, "kubepods") ||
	       (cut_suffix(base, "-kubepods", &pre) && pre.n > 0);
}

/* The runtime's cgroupsPath in systemd form used as a directory name,
 * "<slice>:<prefix>:<id>", when the runtime runs with cgroupfs but the
 * kubelet with systemd (kubernetes/kubernetes#106514): the slice is the
 * pod's, "[<prefix>-]kubepods[-<qos>]-pod<uid>.slice". */
static bool parse_colon_form(struct span s, struct podmeta *out)
{
	const char *c1 = memchr(s.p, ':', s.n), *c2;
	struct span slice, base, rest, prefix, id, pod;
	const char *qos = "guaranteed";
	char uid[PODMETA_UID_MAX];
	size_t k;

	if (!c1)
		return false;
	c2 = memchr(c1 + 1, ':', (size_t)(s.p + s.n - (c1 + 1)));
	if (!c2 || memchr(c2 + 1, ':', (size_t)(s.p + s.n - (c2 + 1))))
		return false;
	slice = (struct span){ s.p, (size_t)(c1 - s.p) };
	prefix = (struct span){ c1 + 1, (size_t)(c2 - c1 - 1) };
	id = (struct span){ c2 + 1, (size_t)(s.p + s.n - c2 - 1) };
	if (!cut_suffix(slice, ".slice", &base) || !prefix.n)
		return false;
	/* the first "kubepods" part of the slice's '-'-separated name, then
	 * "[<qos>-]pod<uid>" */
	for (k = 0; k < base.n;) {
		const char *dash = memchr(base.p + k, '-', base.n - k);
		size_t e = dash ? (size_t)(dash - base.p) : base.n;

		if (e - k == 8 && !memcmp(base.p + k, "kubepods", 8))
			break;
		k = e + 1;
	}
	if (k + 9 >= base.n)
		return false;
	rest = (struct span){ base.p + k + 9, base.n - k - 9 };
	if (!cut_prefix(rest, "pod", &pod)) {
		const char *dash = memchr(rest.p, '-', rest.n);

		if (!dash)
			return false;
		qos = qos_of((struct span){ rest.p, (size_t)(dash - rest.p) });
		rest = (struct span){ dash + 1, (size_t)(rest.p + rest.n - dash - 1) };
		if (!qos || !cut_prefix(rest, "pod", &pod))
			return false;
	}
	if (!parse_uid(pod, '_', uid) || !parse_cid(id, out->container_id))
		return false;
	memcpy(out->pod_uid, uid, sizeof(uid));
	out->qos = qos;
	out->runtime = runtime_of(prefix, &out->conmon);
	return true;
}

/* A systemd unit name (systemd src/basic/unit-name.c: letters, digits,
 * ":-_.\" and '@' for instances, at most 255 bytes) of a type with cgroups. */
static bool is_unit(struct span s)
{
	struct span base;

	if (s.n >= PODMETA_UNIT_MAX)
		return false;
	for (size_t i = 0; i < sizeof(unit_suffixes) / sizeof(unit_suffixes[0]); i++) {
		if (!cut_suffix(s, unit_suffixes[i], &base) || !base.n)
			continue;
		for (size_t j = 0; j < s.n; j++) {
			char c = s.p[j];

			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			      (c >= 'A' && c <= 'Z') || (c && strchr(":-_.\\@", c))))
				return false;
		}
		return true;
	}
	return false;
}

enum step { AT_HOST, AT_ROOT, AT_QOS, AT_POD, AT_CONTAINER, AT_UNKNOWN };

int podmeta__parse(const char *path, size_t len, struct podmeta *out, char *err, size_t errlen)
{
	struct span unit = { NULL, 0 }, parent = { NULL, 0 };
	enum step at = AT_HOST;
	bool systemd = false;
	const char *nul;
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	out->qos = out->runtime = out->driver = "";
	if (!len || path[0] != '/')
		return errmsg(err, errlen, -EINVAL, "cgroup path does not start with '/'");
	if (len >= PATH_MAX)
		return errmsg(err, errlen, -EINVAL, "cgroup path is %zu bytes long (at most %d)",
			      len, PATH_MAX - 1);
	nul = memchr(path, '\0', len);
	if (nul)
		return errmsg(err, errlen, -EINVAL, "NUL at byte %zu of the cgroup path",
			      (size_t)(nul - path));
	while (i < len && at != AT_CONTAINER && at != AT_UNKNOWN) {
		struct span s, base = { NULL, 0 }, rest;
		const char *qos;
		size_t e;

		while (i < len && path[i] == '/')
			i++;
		for (e = i; e < len && path[e] != '/'; e++)
			;
		if (e == i)
			break;
		s = (struct span){ path + i, e - i };
		i = e;
		switch (at) {
		case AT_HOST:
			if (span_is(s, "kubepods")) {
				at = AT_ROOT;
			} else if (cut_suffix(s, ".slice", &base) && kubepods_base(base)) {
				at = AT_ROOT;
				systemd = true;
				parent = base;
			} else if (memchr(s.p, ':', s.n) && parse_colon_form(s, out)) {
				at = AT_CONTAINER;
				systemd = true;
			} else if (is_unit(s)) {
				unit = s;
			}
			break;
		case AT_ROOT:
		case AT_QOS:
			rest = s;
			if (systemd) {
				/* "<parent>-<step>.slice" (runc ExpandSlice) */
				if (!cut_suffix(s, ".slice", &base) || base.n <= parent.n + 1 ||
				    memcmp(base.p, parent.p, parent.n) || base.p[parent.n] != '-') {
					at = AT_UNKNOWN;
					break;
				}
				rest.p = base.p + parent.n + 1;
				rest.n = base.n - parent.n - 1;
			}
			qos = qos_of(rest);
			if (at == AT_ROOT && qos) {
				out->qos = qos;
				at = AT_QOS;
				if (systemd)
					parent = base;
			} else if (cut_prefix(rest, "pod", &rest) &&
				   parse_uid(rest, systemd ? '_' : '-', out->pod_uid)) {
				if (at == AT_ROOT)
					out->qos = "guaranteed";
				at = AT_POD;
			} else {
				at = AT_UNKNOWN;
			}
			break;
		case AT_POD:
			at = parse_container(s, out) ? AT_CONTAINER : AT_UNKNOWN;
			break;
		case AT_CONTAINER:
		case AT_UNKNOWN:
		default:
			break;
		}
	}
	switch (at) {
	case AT_HOST:
		out->kind = PODMETA_HOST;
		if (unit.n) {
			struct podmeta c = { .runtime = "" };

			memcpy(out->unit, unit.p, unit.n);
			out->unit[unit.n] = '\0';
			/* a container's scope outside kubepods */
			if (cut_suffix(unit, ".scope", &unit) && parse_container(unit, &c) &&
			    strcmp(c.runtime, "unknown")) {
				memcpy(out->container_id, c.container_id, sizeof(c.container_id));
				out->runtime = c.runtime;
				out->conmon = c.conmon;
			}
		}
		return 0;
	case AT_ROOT:
	case AT_QOS:
		out->kind = PODMETA_KUBEPODS;
		break;
	case AT_POD:
		out->kind = PODMETA_POD;
		break;
	case AT_CONTAINER:
		out->kind = PODMETA_CONTAINER;
		break;
	case AT_UNKNOWN:
	default:
		out->kind = PODMETA_UNKNOWN;
		break;
	}
	out->driver = systemd ? "systemd" : "cgroupfs";
	return 0;
}

/* RFC 1123 names, as apimachinery's validation has them: a label
 * (IsDNS1123Label) is [a-z0-9]([-a-z0-9]*[a-z0-9])? of at most 63 bytes; a
 * subdomain (IsDNS1123Subdomain) such parts, of any length, joined by '.',
 * at most 253 bytes. */
static bool dns_part(struct span s, size_t max)
{
	if (!s.n || s.n > max || s.p[0] == '-' || s.p[s.n - 1] == '-')
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (!((s.p[i] >= 'a' && s.p[i] <= 'z') || (s.p[i] >= '0' && s.p[i] <= '9') ||
		      s.p[i] == '-'))
			return false;
	return true;
}

static bool dns_label(struct span s)
{
	return dns_part(s, 63);
}

static bool dns_subdomain(struct span s)
{
	size_t i = 0;

	if (!s.n || s.n > 253)
		return false;
	for (;;) {
		const char *dot = memchr(s.p + i, '.', s.n - i);
		size_t e = dot ? (size_t)(dot - s.p) : s.n;

		if (!dns_part((struct span){ s.p + i, e - i }, 253))
			return false;
		if (!dot)
			return true;
		i = e + 1;
	}
}

/*
 * "<namespace>_<pod-name>_<pod-uid>": the UID is cut off from the right (at
 * the last '_'; a UID has none), then the rest at its only '_'. Kubernetes
 * allows no '_' in either name (a namespace is a DNS-1123 label,
 * ValidateNamespaceName; a pod name a DNS-1123 subdomain, ValidatePodName),
 * so the two delimiters are the only ones; a name with a third is not the
 * kubelet's.
 */
int podmeta__parse_pod_dir(const char *name, size_t len, struct podmeta_pod *out, char *err,
			   size_t errlen)
{
	struct span ns, pod, uid;
	const char *u, *n;

	memset(out, 0, sizeof(*out));
	for (u = name + len; u > name && u[-1] != '_'; u--)
		;
	if (u == name)
		return errmsg(err, errlen, -EINVAL,
			      "no '_' in the pod log directory name (<namespace>_<name>_<uid>)");
	uid = (struct span){ u, (size_t)(name + len - u) };
	if (!parse_uid(uid, '-', out->uid))
		return errmsg(err, errlen, -EINVAL,
			      "pod UID at byte %zu is not 8-4-4-4-12 or 32 hex digits",
			      (size_t)(u - name));
	n = memchr(name, '_', (size_t)(u - 1 - name));
	if (!n)
		return errmsg(err, errlen, -EINVAL, "no '_' between namespace and pod name");
	ns = (struct span){ name, (size_t)(n - name) };
	pod = (struct span){ n + 1, (size_t)(u - 1 - (n + 1)) };
	if (!dns_label(ns))
		return errmsg(err, errlen, -EINVAL, "namespace at byte 0 is not a DNS-1123 label");
	if (!dns_subdomain(pod))
		return errmsg(err, errlen, -EINVAL,
			      "pod name at byte %zu is not a DNS-1123 subdomain", ns.n + 1);
	memcpy(out->namespace_, ns.p, ns.n);
	memcpy(out->name, pod.p, pod.n);
	return 0;
}

static bool is_dir_at(int dirfd_, const struct dirent *de)
{
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	return !fstatat(dirfd_, de->d_name, &st, AT_SYMLINK_NOFOLLOW) && S_ISDIR(st.st_mode);
}

/* Container names: the subdirectories of a pod's log directory (fd, closed
 * here), the PODMETA_CTRS_MAX first in byte order kept, sorted. */
static void read_containers(int fd, struct podmeta_pod *pod, size_t *skipped)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;

	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		struct span s = { de->d_name, strlen(de->d_name) };
		unsigned int at;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!dns_label(s) || !is_dir_at(dirfd(d), de)) {
			(*skipped)++;
			continue;
		}
		for (at = pod->ncontainers; at > 0 && strcmp(pod->containers[at - 1], s.p) > 0;
		     at--)
			;
		if (pod->ncontainers == PODMETA_CTRS_MAX) {
			pod->containers_truncated = true;
			if (at == PODMETA_CTRS_MAX)
				continue;
			pod->ncontainers--;
		}
		memmove(pod->containers[at + 1], pod->containers[at],
			(pod->ncontainers - at) * sizeof(pod->containers[0]));
		memcpy(pod->containers[at], s.p, s.n + 1);
		pod->ncontainers++;
	}
	closedir(d);
}

static int cmp_pod(const void *a, const void *b)
{
	return strcmp(((const struct podmeta_pod *)a)->uid, ((const struct podmeta_pod *)b)->uid);
}

int podmeta__scan_logs(const char *dir, struct podmeta_names *out, char *err, size_t errlen)
{
	struct podmeta_pod pod;
	struct dirent *de;
	size_t kept = 0;
	DIR *d;

	out->n = out->skipped = out->dropped = 0;
	d = opendir(dir);
	if (!d) {
		int e = errno;

		return errmsg(err, errlen, -e, "cannot read the pod log directory %s: %s", dir,
			      strerror(e));
	}
	while ((de = readdir(d))) {
		int fd;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (podmeta__parse_pod_dir(de->d_name, strlen(de->d_name), &pod, NULL, 0)) {
			out->skipped++;
			continue;
		}
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {	/* not a directory, or gone */
			out->skipped++;
			continue;
		}
		if (out->n == out->cap) {
			close(fd);
			out->dropped++;
			continue;
		}
		read_containers(fd, &pod, &out->skipped);
		out->pods[out->n++] = pod;
	}
	closedir(d);
	if (!out->n)
		return 0;
	qsort(out->pods, out->n, sizeof(out->pods[0]), cmp_pod);
	for (size_t i = 0; i < out->n; i++) {	/* one entry per UID */
		if (kept && !strcmp(out->pods[kept - 1].uid, out->pods[i].uid)) {
			out->skipped++;
			continue;
		}
		if (kept != i)
			out->pods[kept] = out->pods[i];
		kept++;
	}
	out->n = kept;
	return 0;
}

const struct podmeta_pod *podmeta__find_pod(const struct podmeta_names *names, const char *uid)
{
	size_t lo = 0, hi = names->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(uid, names->pods[mid].uid);

		if (!c)
			return &names->pods[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int podmeta__parse_container_link(const char *name, size_t len, struct podmeta_container *out,
				  char *err, size_t errlen)
{
	struct span s = { name, len }, base, ctr;
	const char *dash, *us;

	memset(out, 0, sizeof(*out));
	if (!cut_suffix(s, ".log", &base))
		return errmsg(err, errlen, -EINVAL, "container log link name does not end in .log");
	dash = base.n > CID_LEN ? base.p + base.n - CID_LEN - 1 : NULL;
	if (!dash || *dash != '-' ||
	    !parse_cid((struct span){ dash + 1, CID_LEN }, out->id))
		return errmsg(err, errlen, -EINVAL,
			      "no '-' and 64 hex digits (the container ID) before .log at byte %zu",
			      base.n > CID_LEN ? base.n - CID_LEN - 1 : (size_t)0);
	for (us = dash; us > base.p && us[-1] != '_'; us--)
		;
	ctr = (struct span){ us, (size_t)(dash - us) };
	if (us == base.p || !memchr(base.p, '_', (size_t)(us - 1 - base.p)))
		return errmsg(err, errlen, -EINVAL,
			      "not <pod>_<namespace>_<container>-<id>.log (too few '_')");
	if (!dns_label(ctr))
		return errmsg(err, errlen, -EINVAL,
			      "container name at byte %zu is not a DNS-1123 label",
			      (size_t)(us - base.p));
	memcpy(out->name, ctr.p, ctr.n);
	return 0;
}

static int cmp_container(const void *a, const void *b)
{
	return strcmp(((const struct podmeta_container *)a)->id,
		      ((const struct podmeta_container *)b)->id);
}

int podmeta__scan_containers(const char *dir, struct podmeta_containers *out, char *err,
			     size_t errlen)
{
	struct dirent *de;
	DIR *d;

	out->n = out->skipped = out->dropped = 0;
	d = opendir(dir);
	if (!d) {
		int e = errno;

		return errmsg(err, errlen, -e, "cannot read the container log directory %s: %s",
			      dir, strerror(e));
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (out->n == out->cap) {
			out->dropped++;
			continue;
		}
		if (podmeta__parse_container_link(de->d_name, strlen(de->d_name), &out->c[out->n],
						  NULL, 0))
			out->skipped++;
		else
			out->n++;
	}
	closedir(d);
	qsort(out->c, out->n, sizeof(out->c[0]), cmp_container);
	return 0;
}

const char *podmeta__container_name(const struct podmeta_containers *cs, const char *id)
{
	struct podmeta_container key = {};
	const struct podmeta_container *c;

	if (!id[0] || strlen(id) >= sizeof(key.id))
		return NULL;
	strcpy(key.id, id);
	c = bsearch(&key, cs->c, cs->n, sizeof(key), cmp_container);
	return c ? c->name : NULL;
}
