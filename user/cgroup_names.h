/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cgroup_names.h - cgroup v2 id to path, from the node only. A cgroup v2 id
 * (bpf_get_current_cgroup_id()) is the inode number of its directory in the
 * cgroup2 filesystem (kernfs), so a walk of that filesystem names every id
 * (the approach of cloudflare/ebpf_exporter cgroup/walker.go). The cache is
 * refreshed on a miss, at most once per min_rescan_ms; names of cgroups that
 * were removed stay while a caller keeps asking for them, so a flow of a
 * deleted pod keeps its label.
 */
#ifndef REQACCT_CGROUP_NAMES_H
#define REQACCT_CGROUP_NAMES_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

struct cgroup_names;

/* The mount point of the cgroup2 filesystem in a mountinfo file
 * (/proc/self/mountinfo): /sys/fs/cgroup on a v2 host, /sys/fs/cgroup/unified
 * on a hybrid one. 0, -ENOENT if there is none, or -errno. */
int cgroup_names__find_mount(const char *mountinfo, char *out, size_t outlen);
int cgroup_names__parse_mountinfo(FILE *f, char *out, size_t outlen);

struct cgroup_names *cgroup_names__new(const char *root, unsigned int min_rescan_ms);
void cgroup_names__free(struct cgroup_names *cn);

/* The path of id relative to the root ("/", "/kubepods.slice/..."), or NULL. */
const char *cgroup_names__get(struct cgroup_names *cn, __u64 id);

/* fn for the path of every cgroup asked for since the last walk (the ones
 * the metrics name). */
void cgroup_names__each_used(const struct cgroup_names *cn,
			     void (*fn)(void *ctx, const char *path), void *ctx);

/* Number of names held, and of walks made (for self-metrics). */
size_t cgroup_names__size(const struct cgroup_names *cn);
__u64 cgroup_names__scans(const struct cgroup_names *cn);

/* The cgroup v2 path of process pid (the "0::PATH" line of /proc/PID/cgroup,
 * relative to the cgroup2 mount as this process's cgroup namespace sees
 * it) into out. 0, -ENOENT (no v2 line), -ENAMETOOLONG, or -errno. */
int cgroup_names__of_pid(unsigned long pid, char *out, size_t len);

/* The id of a cgroup directory (its inode number). 0 or -errno. */
int cgroup_names__id_of(const char *dir, __u64 *id);

#endif
