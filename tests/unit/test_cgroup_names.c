// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_cgroup_names.c - cgroup id to path. A cgroup v2 id is its directory's
 * inode number, so a tree of plain directories stands in for cgroupfs here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <errno.h>
#include <cmocka.h>

#include "cgroup_names.h"

static const char *const kube_dirs[] = {
	"kubepods.slice",
	"kubepods.slice/kubepods-besteffort.slice",
	"kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice",
	"kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice/"
	"cri-containerd-4a5b6c7d8e9f00112233445566778899aabbccddeeff00112233445566778899.scope",
	"system.slice",
	"system.slice/kubelet.service",
	"dir with space",
};

static char root[64];

static void mkpath(const char *rel)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static __u64 id_of(const char *rel)
{
	char p[1024];
	__u64 id;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(cgroup_names__id_of(p, &id), 0);
	return id;
}

static int setup(void **state)
{
	strcpy(root, "/tmp/reqacct-test-cg-XXXXXX");
	assert_non_null(mkdtemp(root));
	for (size_t i = 0; i < sizeof(kube_dirs) / sizeof(kube_dirs[0]); i++)
		mkpath(kube_dirs[i]);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void test_resolve(void **state)
{
	struct cgroup_names *cn = cgroup_names__new(root, 0);
	__u64 rid;

	assert_non_null(cn);
	assert_int_equal(cgroup_names__id_of(root, &rid), 0);
	assert_string_equal(cgroup_names__get(cn, rid), "/");
	for (size_t i = 0; i < sizeof(kube_dirs) / sizeof(kube_dirs[0]); i++) {
		char want[1024];

		snprintf(want, sizeof(want), "/%s", kube_dirs[i]);
		assert_string_equal(cgroup_names__get(cn, id_of(kube_dirs[i])), want);
	}
	assert_int_equal(cgroup_names__size(cn), 1 + sizeof(kube_dirs) / sizeof(kube_dirs[0]));
	assert_null(cgroup_names__get(cn, 0xdeadbeefcafeull));
	cgroup_names__free(cn);
}

static void test_new_and_removed(void **state)
{
	struct cgroup_names *cn = cgroup_names__new(root, 0);
	__u64 kubelet = id_of("system.slice/kubelet.service"), late;
	char p[1024];

	/* a cgroup made after the first walk is found by a walk on the miss */
	mkpath("late.scope");
	late = id_of("late.scope");
	assert_string_equal(cgroup_names__get(cn, late), "/late.scope");
	assert_int_equal(cgroup_names__scans(cn), 2);

	/* a removed cgroup that is still asked for keeps its name ... */
	assert_string_equal(cgroup_names__get(cn, kubelet), "/system.slice/kubelet.service");
	snprintf(p, sizeof(p), "%s/system.slice/kubelet.service", root);
	assert_int_equal(rmdir(p), 0);
	assert_null(cgroup_names__get(cn, 0xdeadbeefull));	/* forces a walk */
	assert_string_equal(cgroup_names__get(cn, kubelet), "/system.slice/kubelet.service");
	/* ... and is forgotten once nobody asks for it between two walks */
	assert_null(cgroup_names__get(cn, 0xdeadbeefull));
	assert_null(cgroup_names__get(cn, 0xdeadbeefull));
	assert_null(cgroup_names__get(cn, kubelet));
	snprintf(p, sizeof(p), "%s/late.scope", root);
	rmdir(p);
	cgroup_names__free(cn);
	mkpath("system.slice/kubelet.service");
}

static void test_rescan_rate_limited(void **state)
{
	struct cgroup_names *cn = cgroup_names__new(root, 60000);

	for (int i = 0; i < 100; i++)
		assert_null(cgroup_names__get(cn, 0xdeadbeefull + i));
	assert_int_equal(cgroup_names__scans(cn), 1);
	cgroup_names__free(cn);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_find_mount(void **state)
{
	char mi[128], out[256];

	snprintf(mi, sizeof(mi), "%s/mountinfo", root);
	/* hybrid layout, as on the build machine (PLATFORM.md) */
	write_file(mi,
		"25 30 0:22 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n"
		"31 25 0:26 / /sys/fs/cgroup ro shared:9 - tmpfs tmpfs ro,mode=755\n"
		"32 31 0:27 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
		"33 31 0:28 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,name=systemd\n");
	assert_int_equal(cgroup_names__find_mount(mi, out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
	/* pure v2, no optional fields, an escaped space in the mount point */
	write_file(mi, "30 23 0:26 / /sys/fs/my\\040cgroup rw - cgroup2 cgroup2 rw\n");
	assert_int_equal(cgroup_names__find_mount(mi, out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/my cgroup");
	/* v1 only */
	write_file(mi, "33 31 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n");
	assert_int_equal(cgroup_names__find_mount(mi, out, sizeof(out)), -ENOENT);
	/* garbage */
	write_file(mi, "- - - -\n\n - cgroup2\nxx - cgroup2 cgroup2\n");
	assert_int_equal(cgroup_names__find_mount(mi, out, sizeof(out)), -ENOENT);
	/* too small a buffer */
	write_file(mi, "32 31 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
	assert_int_equal(cgroup_names__find_mount(mi, out, 4), -ENAMETOOLONG);
	assert_int_equal(cgroup_names__find_mount("/nonexistent", out, sizeof(out)), -ENOENT);
	unlink(mi);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_new_and_removed),
		cmocka_unit_test(test_rescan_rate_limited),
		cmocka_unit_test(test_find_mount),
	};

	return cmocka_run_group_tests_name("cgroup_names", tests, setup, teardown);
}
