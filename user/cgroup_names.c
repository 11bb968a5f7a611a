// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cgroup_names.c - cgroup v2 id to path (see cgroup_names.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_names.h"
#include "monotime.h"

#define WALK_MAX_DEPTH 32	/* deeper than any runtime nests cgroups */
#define WALK_PATH_MAX 4096

struct cg_entry {
	__u64 id;
	char *path;
	bool used;		/* asked for since the last walk */
};

struct cgroup_names {
	char *root;
	struct cg_entry *e;	/* sorted by id */
	size_t n, cap;
	unsigned int min_rescan_ms;
	__u64 last_scan_ms;
	__u64 scans;
};

/* mountinfo fields (proc(5)): ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS] - FSTYPE ...
 * with spaces and such in paths written as \ooo octal escapes. */
static void unescape_octal(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

int cgroup_names__find_mount(const char *mountinfo, char *out, size_t outlen)
{
	FILE *f = fopen(mountinfo, "re");
	int rc;

	if (!f)
		return -errno;
	rc = cgroup_names__parse_mountinfo(f, out, outlen);
	fclose(f);
	return rc;
}

int cgroup_names__parse_mountinfo(FILE *f, char *out, size_t outlen)
{
	char line[4096];
	int rc = -ENOENT;

	while (fgets(line, sizeof(line), f)) {
		char mnt[4096], *sep = strstr(line, " - ");
		char fstype[64];

		if (!sep || sscanf(sep, " - %63s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		unescape_octal(mnt);
		if (strlen(mnt) >= outlen) {
			rc = -ENAMETOOLONG;
			continue;
		}
		strcpy(out, mnt);
		rc = 0;
		break;
	}
	return rc;
}

int cgroup_names__id_of(const char *dir, __u64 *id)
{
	struct stat st;

	if (stat(dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	return 0;
}

static int add(struct cgroup_names *cn, __u64 id, const char *path)
{
	if (cn->n == cn->cap) {
		size_t cap = cn->cap ? cn->cap * 2 : 256;
		struct cg_entry *e = realloc(cn->e, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		cn->e = e;
		cn->cap = cap;
	}
	cn->e[cn->n].path = strdup(path);
	if (!cn->e[cn->n].path)
		return -ENOMEM;
	cn->e[cn->n].id = id;
	cn->e[cn->n].used = false;
	cn->n++;
	return 0;
}

/* Depth-first walk; path holds the relative path of dirfd ("" for the root). */
static void walk(struct cgroup_names *cn, int dirfd, char *path, size_t plen, int depth)
{
	DIR *d;
	struct dirent *de;

	if (depth > WALK_MAX_DEPTH)
		return;
	d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;
		size_t nlen;
		int fd;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		nlen = strlen(de->d_name);
		if (plen + 1 + nlen >= WALK_PATH_MAX)
			continue;
		fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;	/* removed meanwhile */
		if (fstat(fd, &st)) {
			close(fd);
			continue;
		}
		path[plen] = '/';
		memcpy(path + plen + 1, de->d_name, nlen + 1);
		if (add(cn, st.st_ino, path)) {
			close(fd);
			break;
		}
		walk(cn, fd, path, plen + 1 + nlen, depth + 1);
		path[plen] = '\0';
	}
	closedir(d);
}

static int cmp_entry(const void *a, const void *b)
{
	__u64 x = ((const struct cg_entry *)a)->id, y = ((const struct cg_entry *)b)->id;

	return x < y ? -1 : x > y;
}

static struct cg_entry *find(const struct cgroup_names *cn, __u64 id)
{
	struct cg_entry key = { .id = id };

	return cn->n ? bsearch(&key, cn->e, cn->n, sizeof(key), cmp_entry) : NULL;
}

static void rescan(struct cgroup_names *cn)
{
	struct cgroup_names old = *cn;
	char path[WALK_PATH_MAX] = "";
	struct stat st;
	int fd;

	cn->e = NULL;
	cn->n = cn->cap = 0;
	cn->scans++;
	cn->last_scan_ms = monotime_ms();
	fd = open(cn->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && !fstat(fd, &st) && !add(cn, st.st_ino, "/"))
		walk(cn, fd, path, 0, 0);
	else if (fd >= 0)
		close(fd);
	qsort(cn->e, cn->n, sizeof(*cn->e), cmp_entry);
	/* Keep the names of removed cgroups that are still asked for. */
	for (size_t i = 0; i < old.n; i++) {
		if (old.e[i].used && !find(cn, old.e[i].id))
			add(cn, old.e[i].id, old.e[i].path);
		free(old.e[i].path);
	}
	free(old.e);
	qsort(cn->e, cn->n, sizeof(*cn->e), cmp_entry);
}

struct cgroup_names *cgroup_names__new(const char *root, unsigned int min_rescan_ms)
{
	struct cgroup_names *cn = calloc(1, sizeof(*cn));

	if (!cn)
		return NULL;
	cn->root = strdup(root);
	if (!cn->root) {
		free(cn);
		return NULL;
	}
	cn->min_rescan_ms = min_rescan_ms;
	rescan(cn);
	return cn;
}

void cgroup_names__free(struct cgroup_names *cn)
{
	if (!cn)
		return;
	for (size_t i = 0; i < cn->n; i++)
		free(cn->e[i].path);
	free(cn->e);
	free(cn->root);
	free(cn);
}

const char *cgroup_names__get(struct cgroup_names *cn, __u64 id)
{
	struct cg_entry *e = find(cn, id);

	if (!e && monotime_ms() - cn->last_scan_ms >= cn->min_rescan_ms) {
		rescan(cn);
		e = find(cn, id);
	}
	if (!e)
		return NULL;
	e->used = true;
	return e->path;
}

void cgroup_names__each_used(const struct cgroup_names *cn,
			     void (*fn)(void *ctx, const char *path), void *ctx)
{
	for (size_t i = 0; i < cn->n; i++)
		if (cn->e[i].used)
			fn(ctx, cn->e[i].path);
}

int cgroup_names__of_pid(unsigned long pid, char *out, size_t len)
{
	char path[64], line[4096];
	int rc = -ENOENT;
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%lu/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (strlen(line + 3) < len) {
			memcpy(out, line + 3, strlen(line + 3) + 1);
			rc = 0;
		} else {
			rc = -ENAMETOOLONG;
		}
		break;
	}
	fclose(f);
	return rc;
}

size_t cgroup_names__size(const struct cgroup_names *cn)
{
	return cn->n;
}

__u64 cgroup_names__scans(const struct cgroup_names *cn)
{
	return cn->scans;
}
