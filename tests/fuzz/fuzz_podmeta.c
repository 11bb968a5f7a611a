// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_podmeta.c - libFuzzer target: cgroup paths and pod log directory
 * names (user/podmeta.c) over arbitrary bytes. Invariants: no read past the
 * bytes given (ASan, on exact-size copies); 0 or -EINVAL, never anything
 * else, and -EINVAL only for a path not starting with '/', holding a NUL or
 * PATH_MAX bytes long; on success every field is a NUL-terminated string of
 * its kind (a UID of 32 or 36 bytes, a 64-digit ID), the labels are from
 * their sets and agree with the kind, and a trailing '/' changes nothing; a
 * pod directory name that parses is rebuilt exactly from its fields, and a
 * container log link's name and ID are its last fields. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podmeta.h"

static void check_str(const char *s, size_t max)
{
	if (!memchr(s, '\0', max))
		abort();
}

static void check_in(const char *s, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s && !strcmp(s, set[i]))
			return;
	abort();
}

static void check_meta(const struct podmeta *m)
{
	static const char *const qos[] = { "", "guaranteed", "burstable", "besteffort" };
	static const char *const rt[] = { "", "containerd", "cri-o", "docker", "unknown" };
	static const char *const drv[] = { "", "systemd", "cgroupfs" };
	size_t ul, cl;

	check_str(m->pod_uid, sizeof(m->pod_uid));
	check_str(m->container_id, sizeof(m->container_id));
	check_str(m->unit, sizeof(m->unit));
	check_in(m->qos, qos, 4);
	check_in(m->runtime, rt, 5);
	check_in(m->driver, drv, 3);
	ul = strlen(m->pod_uid);
	cl = strlen(m->container_id);
	if ((ul && ul != 32 && ul != 36) || (cl && cl != 64) || strchr(m->pod_uid, '_'))
		abort();
	if (m->conmon && strcmp(m->runtime, "cri-o"))
		abort();
	if (!!cl != !!m->runtime[0])
		abort();
	switch (m->kind) {
	case PODMETA_HOST:
		if (ul || m->qos[0] || m->driver[0])
			abort();
		break;
	case PODMETA_KUBEPODS:
		if (ul || cl || m->unit[0] || !m->driver[0])
			abort();
		break;
	case PODMETA_POD:
		if (!ul || cl || !m->qos[0] || m->unit[0] || !m->driver[0])
			abort();
		break;
	case PODMETA_CONTAINER:
		if (!ul || !cl || !m->qos[0] || m->unit[0] || !m->driver[0])
			abort();
		break;
	case PODMETA_UNKNOWN:
		if (cl || m->unit[0] || !m->driver[0])
			abort();
		break;
	case PODMETA_KIND_MAX:
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *t = malloc(size ? size : 1), *t2 = malloc(size + 1), err[256], dir[1024];
	struct podmeta m, m2;
	struct podmeta_pod p;
	struct podmeta_container c;
	int rc;

	if (!t || !t2)
		goto out;
	memcpy(t, data, size);
	err[0] = '\0';
	rc = podmeta__parse(t, size, &m, err, sizeof(err));
	if (rc == 0) {
		if (!size || t[0] != '/' || memchr(t, '\0', size) || size >= PATH_MAX)
			abort();
		check_meta(&m);
		if (size + 1 < PATH_MAX) {
			memcpy(t2, t, size);
			t2[size] = '/';
			if (podmeta__parse(t2, size + 1, &m2, err, sizeof(err)) ||
			    memcmp(&m, &m2, sizeof(m)))
				abort();
		}
	} else if (rc != -EINVAL || !err[0]) {
		abort();
	} else if (size && t[0] == '/' && !memchr(t, '\0', size) && size < PATH_MAX) {
		abort();
	}
	err[0] = '\0';
	rc = podmeta__parse_pod_dir(t, size, &p, err, sizeof(err));
	if (rc == 0) {
		check_str(p.uid, sizeof(p.uid));
		check_str(p.namespace_, sizeof(p.namespace_));
		check_str(p.name, sizeof(p.name));
		if (!p.namespace_[0] || !p.name[0] || p.ncontainers ||
		    (size_t)snprintf(dir, sizeof(dir), "%s_%s_%s", p.namespace_, p.name, p.uid) !=
			    size ||
		    memcmp(dir, t, size))
			abort();
	} else if (rc != -EINVAL || !err[0]) {
		abort();
	}
	err[0] = '\0';
	rc = podmeta__parse_container_link(t, size, &c, err, sizeof(err));
	if (rc == 0) {
		check_str(c.id, sizeof(c.id));
		check_str(c.name, sizeof(c.name));
		/* The name and ID end the link name: "..._<name>-<id>.log". */
		if (strlen(c.id) != 64 || !c.name[0] ||
		    (size_t)snprintf(dir, sizeof(dir), "_%s-%s.log", c.name, c.id) > size ||
		    memcmp(dir, t + size - strlen(dir), strlen(dir)))
			abort();
	} else if (rc != -EINVAL || !err[0]) {
		abort();
	}
out:
	free(t);
	free(t2);
	return 0;
}
