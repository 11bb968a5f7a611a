// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_podmeta.c - Kubernetes metadata from cgroup paths: the shapes of every
 * runtime (containerd, CRI-O, Docker/cri-dockerd) and kubelet cgroup driver
 * (systemd, cgroupfs) on cgroup v1, v2 and hybrid hosts, nodes in containers
 * (kind, minikube, docker-in-docker), pod-level and QoS-level cgroups, host
 * processes, shapes that resolve to "unknown", and malformed paths; the
 * kubelet's pod log directory scanned on a temporary tree.
 *
 * A path is relative to its hierarchy's root, and the runtimes make the same
 * relative path in every hierarchy: in each v1 controller and the v1
 * name=systemd hierarchy, in the v2 tree, and on a hybrid host in both the
 * v1 hierarchies and the unified (v2) one. Rows name the host an example was
 * seen on; IDs and UIDs quoted from a source are kept. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "podmeta.h"

/* Container IDs and pod UIDs quoted from the sources of the rows. */
#define ID_NETDATA "2032491dcae31e6746f47daa0ac74564f2843a1bd847c5e6c4eb501ca132ac36"
#define ID_106514 "aaefb9d8feed2d453b543f6d928cede7a4dbefa6a0ae7c9b990dd234c56e93b9"
#define ID_106514_COLON "79fedb3bd23ca77c9d9ccb41909038316f713df22b54b7d942b71d3812e7c74e"
#define ID_STATIC "2884d57c0e100d7a9a2f9487ce0bc2986bca3430e988af7a4865aff061f51ac5"
#define ID_MINIKUBE_NODE "d6701ec289c56e4391acb11d07474b3139466857a305490575508a8b7a9fcf22"
#define ID_MINIKUBE_PAUSE "0ba8ac17e4e7a31fb82279503552fe94e64bab4745bf6fd2ff231e7c8ca8bed0"
#define ID_PHAROS "abddff03dfd7710c79a750ce3e730365cbb2c8247a974170c1062683bc3e9152"
#define ID_842_SYSTEMD "2227daf62df6694645fee5df53c1f91271546a9560e8600a525690ae252b7f63"
#define ID_842_CGROUPFS "2b4d747eae5ed34775c069d913c81833b67a0148e731a36535c9f3b97ebfb87f"
#define ID_KIND_NODE "3350ade4226f0adcd9e4e9545d7c2a16a5aa362d12315f2a88e2024cea1246cf"
#define ID_KIND "679f3691f7f1b20198548be43b86f265f9fff9be0ac4c973638f5ee89decbca9"
#define ID_KIND_V1_NODE "65a1b6ad09655b3f1475ede1aa0061a97c0d1ada9f2b2acac959afbc92094463"
#define ID_KIND_V1 "13a0f64b909e3ff2d63f196d6947927a8af997ab68f8fa9ebb6d6c7018af4ec9"
#define ID_KIND_NS "d5a41c7c2ea9956c57b5c72dc267b1dae12f3dfc5e36021dffd3dd8082f59571"
#define ID_ROOTLESS "6938564e754ad86269a536ed19172af0eff5f7ff0a41eefc5b433a76f1f38f16"
/* Made up, for shapes quoted without a full ID. */
#define ID1 "63bd0a125fdb077e28561881f941a36115afe583c0e490869efe4c721dcea911"
#define ID2 "53794d9567960d58678806dc5ed7705b4d181a516758fadff456c865a67607c9"
#define ID3 "c080d990a3d8fcb37b8dbbb2f17afaf5edf46dd7daa23982756833c2c2993acd"
#define ID4 "99c592a249c703aca8257dec23b6f7329614897212928f1784f70e6bcfc7f5ba"
#define ID5 "b6bea3559180b4195d3f6fbbe87ac5645bda3486833d933dfd0f81ab4726185d"
#define ID6 "4b49f8acbf0d95763e5c70a081c8f17f2f984aa046c832cde900ab78512df094"
#define ID7 "6ad1ec0b3676b5eeeff32e6a96d85fb564534715e47d6b70a4e597ad60354a03"
#define ID8 "42fd1cfd5459f837c706e2eee280ab8f497773f46d1801f32fc90350c84a4c65"
#define ID9 "36d78bb77cb7ccedb7843f983044745aea3bcc223c222fcb242e8747b45c8c8c"
#define ID10 "b14af0f11a7aa6464761f2ffc121223fb4bbc0d741c3db794b54a1b01c38e154"
#define ID11 "aa351f89e2d93194da26142ea19841c4e85e61735599034a85dd73dcdf5399d2"
#define ID12 "340815a23a84abc2ea33d99fb7c096ddd357277a878317de66354a18a6db3658"
#define ID13 "4fddfb063a0184b33c4c15cdffa7869de2dc22b4201d536b55fec3afd312757e"
/* a pod UID as the API has it, and as the systemd driver escapes it */
#define U1 "bc5fc11c-724f-4145-9099-377aaf5fa428"
#define U1S "bc5fc11c_724f_4145_9099_377aaf5fa428"
#define U2 "84f9a077-4b62-4a4e-bef4-d1f5d437c81e"
#define U2S "84f9a077_4b62_4a4e_bef4_d1f5d437c81e"
#define U3 "2e829c6f-359c-455f-8c8d-0c769c5b3e62"
#define U3S "2e829c6f_359c_455f_8c8d_0c769c5b3e62"
#define U4 "aefa3e1f-0f77-4e8a-9b10-8d2b87a106db"
#define U4S "aefa3e1f_0f77_4e8a_9b10_8d2b87a106db"

#define SD "systemd"
#define FS "cgroupfs"

static const struct {
	const char *what, *path;
	enum podmeta_kind kind;
	const char *uid, *cid, *qos, *runtime, *driver, *unit;
	bool conmon;
} cases[] = {
	/* containerd: cri-containerd-<id>.scope (systemd), <id> (cgroupfs) */
	{ "containerd, systemd, v1 (kubernetes/kubernetes#106514, /sys/fs/cgroup/systemd)",
	  "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
	  "2fc932ce_fdcc_454b_97bd_aadfdeb4c340.slice/cri-containerd-" ID_106514 ".scope",
	  PODMETA_CONTAINER, "2fc932ce-fdcc-454b-97bd-aadfdeb4c340", ID_106514, "burstable",
	  "containerd", SD, "", false },
	{ "containerd, systemd, v2 (netdata/netdata#4868)",
	  "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
	  "55c6c714_b240_4dec_9a45_57b61696ab6e.slice/cri-containerd-" ID_NETDATA ".scope",
	  PODMETA_CONTAINER, "55c6c714-b240-4dec-9a45-57b61696ab6e", ID_NETDATA, "burstable",
	  "containerd", SD, "", false },
	{ "containerd, systemd, hybrid (the unified hierarchy, Guaranteed)",
	  "/kubepods.slice/kubepods-pod" U1S ".slice/cri-containerd-" ID1 ".scope",
	  PODMETA_CONTAINER, U1, ID1, "guaranteed", "containerd", SD, "", false },
	{ "containerd, systemd, static pod: MD5 UID (netdata/netdata#4868)",
	  "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
	  "8daa50c3a64c9ff60bb9eab7b44b56fd.slice/cri-containerd-" ID_STATIC ".scope",
	  PODMETA_CONTAINER, "8daa50c3a64c9ff60bb9eab7b44b56fd", ID_STATIC, "burstable",
	  "containerd", SD, "", false },
	{ "containerd, cgroupfs, v1 (K3s, CJLove/rt-operator notes/cgroupv1_notes.md)",
	  "/kubepods/pod" U2 "/" ID2, PODMETA_CONTAINER, U2, ID2, "guaranteed", "unknown", FS,
	  "", false },
	{ "containerd, cgroupfs, v2 (KubeDiskGuard: /kubepods/burstable/pod<uid>/<id>)",
	  "/kubepods/burstable/podc9c501eb-9423-4bd6-b96f-7f10f7f4527c/" ID3, PODMETA_CONTAINER,
	  "c9c501eb-9423-4bd6-b96f-7f10f7f4527c", ID3, "burstable", "unknown", FS, "", false },
	{ "containerd, cgroupfs, hybrid", "/kubepods/besteffort/pod" U3 "/" ID4,
	  PODMETA_CONTAINER, U3, ID4, "besteffort", "unknown", FS, "", false },
	{ "containerd on cgroupfs, kubelet on systemd, v1: the cgroupsPath as a directory "
	  "(kubernetes/kubernetes#106514, containerd/containerd#4900)",
	  "/system.slice/containerd.service/kubepods-burstable-pod36b6d6be73b1065af369b3985edafa09"
	  ".slice:cri-containerd:" ID_106514_COLON,
	  PODMETA_CONTAINER, "36b6d6be73b1065af369b3985edafa09", ID_106514_COLON, "burstable",
	  "containerd", SD, "", false },
	{ "the same, v2, Guaranteed",
	  "/system.slice/containerd.service/kubepods-pod" U1S ".slice:cri-containerd:" ID5,
	  PODMETA_CONTAINER, U1, ID5, "guaranteed", "containerd", SD, "", false },
	/* CRI-O: crio-<id>.scope / crio-<id>, conmon crio-conmon-<id>[.scope] */
	{ "cri-o, systemd, v1, node in docker (kubernetes/minikube#11280)",
	  "/docker/" ID_MINIKUBE_NODE "/kubepods.slice/kubepods-besteffort.slice/"
	  "kubepods-besteffort-pod2ca4a155_3599_498d_bb9d_4446693fa3ea.slice/crio-"
	  ID_MINIKUBE_PAUSE ".scope",
	  PODMETA_CONTAINER, "2ca4a155-3599-498d-bb9d-4446693fa3ea", ID_MINIKUBE_PAUSE,
	  "besteffort", "cri-o", SD, "", false },
	{ "cri-o, systemd, v1, Guaranteed (CJLove/rt-operator notes, Kubernetes 1.25 w/cri-o)",
	  "/kubepods.slice/kubepods-pod" U2S ".slice/crio-" ID6 ".scope", PODMETA_CONTAINER, U2,
	  ID6, "guaranteed", "cri-o", SD, "", false },
	{ "cri-o + crun, systemd, v2: the \"container\" subgroup (run.oci.systemd.subgroup)",
	  "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" U3S ".slice/crio-" ID7
	  ".scope/container",
	  PODMETA_CONTAINER, U3, ID7, "burstable", "cri-o", SD, "", false },
	{ "cri-o conmon, systemd, v2 (conmon_cgroup = \"pod\", cgmgr/systemd.go)",
	  "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" U3S
	  ".slice/crio-conmon-" ID7 ".scope",
	  PODMETA_CONTAINER, U3, ID7, "burstable", "cri-o", SD, "", true },
	{ "cri-o, systemd, hybrid", "/kubepods.slice/kubepods-besteffort.slice/"
	  "kubepods-besteffort-pod" U4S ".slice/crio-" ID8 ".scope",
	  PODMETA_CONTAINER, U4, ID8, "besteffort", "cri-o", SD, "", false },
	{ "cri-o, cgroupfs, v1 (cgmgr/cgroupfs.go ContainerCgroupPath)",
	  "/kubepods/besteffort/pod" U4 "/crio-" ID9, PODMETA_CONTAINER, U4, ID9, "besteffort",
	  "cri-o", FS, "", false },
	{ "cri-o conmon, cgroupfs, v2 (cgmgr/cgroupfs.go MoveConmonToCgroup)",
	  "/kubepods/burstable/pod" U1 "/crio-conmon-" ID9, PODMETA_CONTAINER, U1, ID9,
	  "burstable", "cri-o", FS, "", true },
	{ "cri-o, cgroupfs, hybrid, Guaranteed", "/kubepods/pod" U2 "/crio-" ID10,
	  PODMETA_CONTAINER, U2, ID10, "guaranteed", "cri-o", FS, "", false },
	/* Docker (dockershim, cri-dockerd): docker-<id>.scope / <id> */
	{ "docker, systemd, v1 (kontena/pharos-cluster#440, CentOS 7)",
	  "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
	  "9692aa0e_748e_11e8_8dfa_76d458035df6.slice/docker-" ID_PHAROS ".scope",
	  PODMETA_CONTAINER, "9692aa0e-748e-11e8-8dfa-76d458035df6", ID_PHAROS, "besteffort",
	  "docker", SD, "", false },
	{ "docker, systemd, v1 (cri-o/cri-o#842)",
	  "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
	  "90d81341_92de_11e7_8cf2_507b9d4141fa.slice/docker-" ID_842_SYSTEMD ".scope",
	  PODMETA_CONTAINER, "90d81341-92de-11e7-8cf2-507b9d4141fa", ID_842_SYSTEMD, "burstable",
	  "docker", SD, "", false },
	{ "cri-dockerd, systemd, v2, Guaranteed (CJLove/rt-operator notes, 1.23.5 w/Docker)",
	  "/kubepods.slice/kubepods-pod" U4S ".slice/docker-" ID11 ".scope", PODMETA_CONTAINER,
	  U4, ID11, "guaranteed", "docker", SD, "", false },
	{ "cri-dockerd, systemd, hybrid", "/kubepods.slice/kubepods-burstable.slice/"
	  "kubepods-burstable-pod" U2S ".slice/docker-" ID12 ".scope",
	  PODMETA_CONTAINER, U2, ID12, "burstable", "docker", SD, "", false },
	{ "docker, cgroupfs, v1 (cri-o/cri-o#842)",
	  "/kubepods/burstable/pod941dc160-92df-11e7-b27e-507b9d4141fa/" ID_842_CGROUPFS,
	  PODMETA_CONTAINER, "941dc160-92df-11e7-b27e-507b9d4141fa", ID_842_CGROUPFS,
	  "burstable", "unknown", FS, "", false },
	{ "cri-dockerd, cgroupfs, v2", "/kubepods/besteffort/pod" U1 "/" ID12, PODMETA_CONTAINER,
	  U1, ID12, "besteffort", "unknown", FS, "", false },
	{ "cri-dockerd, cgroupfs, hybrid, Guaranteed", "/kubepods/pod" U3 "/" ID13,
	  PODMETA_CONTAINER, U3, ID13, "guaranteed", "unknown", FS, "", false },
	/* nodes in containers: a prefix before kubepods */
	{ "kind, v2, seen from the host (cgroupRoot /kubelet, kind kubeadm/config.go)",
	  "/system.slice/docker-" ID_KIND_NODE ".scope/kubelet.slice/kubelet-kubepods.slice/"
	  "kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod"
	  "b6a16766_05ee_446a_8ee5_ff96a817f47c.slice/cri-containerd-" ID_KIND ".scope",
	  PODMETA_CONTAINER, "b6a16766-05ee-446a-8ee5-ff96a817f47c", ID_KIND, "besteffort",
	  "containerd", SD, "", false },
	{ "kind, v1 host with docker on cgroupfs",
	  "/docker/" ID_KIND_V1_NODE "/kubelet.slice/kubelet-kubepods.slice/"
	  "kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod"
	  "96dd7de3_0783_4613_a707_e0effc077ef5.slice/cri-containerd-" ID_KIND_V1 ".scope",
	  PODMETA_CONTAINER, "96dd7de3-0783-4613-a707-e0effc077ef5", ID_KIND_V1, "besteffort",
	  "containerd", SD, "", false },
	{ "kind, seen from inside the node (its cgroup namespace)",
	  "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
	  "kubelet-kubepods-besteffort-podf6ec7293_3d26_407f_8861_8593e009f36e.slice/"
	  "cri-containerd-" ID_KIND_NS ".scope",
	  PODMETA_CONTAINER, "f6ec7293-3d26-407f-8861-8593e009f36e", ID_KIND_NS, "besteffort",
	  "containerd", SD, "", false },
	{ "older kind: kubelet on cgroupfs, cgroupRoot /kubelet, docker-in-docker",
	  "/docker/" ID_KIND_V1_NODE "/kubelet/kubepods/burstable/pod" U4 "/" ID1,
	  PODMETA_CONTAINER, U4, ID1, "burstable", "unknown", FS, "", false },
	{ "docker-in-docker", "/docker/" ID_KIND_V1_NODE "/kubepods/besteffort/pod" U2 "/" ID3,
	  PODMETA_CONTAINER, U2, ID3, "besteffort", "unknown", FS, "", false },
	{ "a cluster nested in a pod: the outer (this node's) pod",
	  "/kubepods/burstable/pod" U1 "/" ID4 "/kubepods/besteffort/pod" U2 "/" ID5,
	  PODMETA_CONTAINER, U1, ID4, "burstable", "unknown", FS, "", false },
	/* pod-level cgroups: the pod itself; its sandbox looks like a container */
	{ "pod slice, systemd", "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
	  U3S ".slice", PODMETA_POD, U3, "", "besteffort", "", SD, "", false },
	{ "pod slice, systemd, Guaranteed, trailing '/'", "/kubepods.slice/kubepods-pod" U1S
	  ".slice/", PODMETA_POD, U1, "", "guaranteed", "", SD, "", false },
	{ "pod, cgroupfs, Guaranteed", "/kubepods/pod" U4, PODMETA_POD, U4, "", "guaranteed", "",
	  FS, "", false },
	{ "pod, cgroupfs, static pod", "/kubepods/burstable/pod8daa50c3a64c9ff60bb9eab7b44b56fd",
	  PODMETA_POD, "8daa50c3a64c9ff60bb9eab7b44b56fd", "", "burstable", "", FS, "", false },
	{ "the sandbox (pause) of a pod: a container's shape (kubernetes/minikube#11280)",
	  "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
	  "2ca4a155_3599_498d_bb9d_4446693fa3ea.slice/crio-" ID_MINIKUBE_PAUSE ".scope",
	  PODMETA_CONTAINER, "2ca4a155-3599-498d-bb9d-4446693fa3ea", ID_MINIKUBE_PAUSE,
	  "besteffort", "cri-o", SD, "", false },
	/* kubepods and QoS cgroups */
	{ "kubepods, systemd", "/kubepods.slice", PODMETA_KUBEPODS, "", "", "", "", SD, "", false },
	{ "kubepods, cgroupfs", "/kubepods", PODMETA_KUBEPODS, "", "", "", "", FS, "", false },
	{ "QoS, cgroupfs", "/kubepods/burstable", PODMETA_KUBEPODS, "", "", "burstable", "", FS,
	  "", false },
	{ "QoS, kind", "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice",
	  PODMETA_KUBEPODS, "", "", "besteffort", "", SD, "", false },
	/* host processes */
	{ "the root cgroup", "/", PODMETA_HOST, "", "", "", "", "", "", false },
	{ "a unit at the root", "/kubelet.service", PODMETA_HOST, "", "", "", "", "",
	  "kubelet.service", false },
	{ "kubelet", "/system.slice/kubelet.service", PODMETA_HOST, "", "", "", "", "",
	  "kubelet.service", false },
	{ "containerd", "/system.slice/containerd.service", PODMETA_HOST, "", "", "", "", "",
	  "containerd.service", false },
	{ "PID 1 on v2", "/init.scope", PODMETA_HOST, "", "", "", "", "", "init.scope", false },
	{ "a login session", "/user.slice/user-1000.slice/session-3.scope", PODMETA_HOST, "", "",
	  "", "", "", "session-3.scope", false },
	{ "a user manager's app",
	  "/user.slice/user-1000.slice/user@1000.service/app.slice/app-org.gnome.Terminal.slice/"
	  "vte-spawn-1b2c.scope",
	  PODMETA_HOST, "", "", "", "", "", "vte-spawn-1b2c.scope", false },
	{ "a slice", "/system.slice", PODMETA_HOST, "", "", "", "", "", "system.slice", false },
	{ "a cgroup a service made", "/system.slice/docker.service/runtime", PODMETA_HOST, "", "",
	  "", "", "", "docker.service", false },
	{ "a service in a kind node", "/system.slice/docker-" ID_KIND_NODE
	  ".scope/system.slice/containerd.service", PODMETA_HOST, "", "", "", "", "",
	  "containerd.service", false },
	{ "conmon in system.slice (cri-o's old conmon_cgroup default)",
	  "/system.slice/crio-conmon-" ID6 ".scope", PODMETA_HOST, "", ID6, "", "cri-o", "",
	  "crio-conmon-" ID6 ".scope", true },
	{ "a rootless kubelet without QoS cgroups (kubelet Rootless feature gate patch)",
	  "/user.slice/user-1001.slice/user@1001.service/user.slice/cri-containerd-"
	  ID_ROOTLESS ".scope",
	  PODMETA_HOST, "", ID_ROOTLESS, "", "containerd", "", "cri-containerd-" ID_ROOTLESS
	  ".scope", false },
	{ "a docker container, not Kubernetes, cgroupfs", "/docker/" ID_KIND_V1_NODE,
	  PODMETA_HOST, "", "", "", "", "", "", false },
	{ "a name with control characters", "/foo\nbar/\x01", PODMETA_HOST, "", "", "", "", "",
	  "", false },
	/* under kubepods, then no known shape */
	{ "not a UID", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podfoo.slice",
	  PODMETA_UNKNOWN, "", "", "burstable", "", SD, "", false },
	{ "the QoS step left out under systemd",
	  "/kubepods.slice/kubepods-besteffort-pod" U1S ".slice", PODMETA_UNKNOWN, "", "", "", "",
	  SD, "", false },
	{ "a slice not named after its parent",
	  "/kubepods.slice/kubepods-burstable.slice/other-burstable-pod" U1S ".slice",
	  PODMETA_UNKNOWN, "", "", "burstable", "", SD, "", false },
	{ "no \"guaranteed\" step", "/kubepods/guaranteed/pod" U1, PODMETA_UNKNOWN, "", "", "",
	  "", FS, "", false },
	{ "an unescaped UID under systemd", "/kubepods.slice/kubepods-pod" U1 ".slice",
	  PODMETA_UNKNOWN, "", "", "", "", SD, "", false },
	{ "a sandbox of another runtime", "/kubepods/burstable/pod" U1 "/kata_" ID1,
	  PODMETA_UNKNOWN, U1, "", "burstable", "", FS, "", false },
	{ "a short ID", "/kubepods/burstable/pod" U1 "/cri-containerd-0123abcd.scope",
	  PODMETA_UNKNOWN, U1, "", "burstable", "", FS, "", false },
	{ "an upper-case ID", "/kubepods/pod" U1
	  "/63BD0A125FDB077E28561881F941A36115AFE583C0E490869EFE4C721DCEA911",
	  PODMETA_UNKNOWN, U1, "", "guaranteed", "", FS, "", false },
	{ "a prefix not listed", "/kubepods/pod" U1 "/runsc-" ID2 ".scope", PODMETA_CONTAINER, U1,
	  ID2, "guaranteed", "unknown", FS, "", false },
};

static void test_shapes(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		struct podmeta m;
		int rc = podmeta__parse(cases[i].path, strlen(cases[i].path), &m, err, sizeof(err));

		print_message("%s\n", cases[i].what);
		if (rc)
			print_error("%s: %s\n", cases[i].path, err);
		assert_int_equal(rc, 0);
		assert_string_equal(podmeta__kind_name(m.kind), podmeta__kind_name(cases[i].kind));
		assert_string_equal(m.pod_uid, cases[i].uid);
		assert_string_equal(m.container_id, cases[i].cid);
		assert_string_equal(m.qos, cases[i].qos);
		assert_string_equal(m.runtime, cases[i].runtime);
		assert_string_equal(m.driver, cases[i].driver);
		assert_string_equal(m.unit, cases[i].unit);
		assert_int_equal(m.conmon, cases[i].conmon);
	}
}

static void test_bad_paths(void **state)
{
	static const struct {
		const char *path;
		size_t len;
		const char *err;
	} bad[] = {
		{ "", 0, "cgroup path does not start with '/'" },
		{ "kubepods.slice", 14, "cgroup path does not start with '/'" },
		{ "\0/kubepods", 10, "cgroup path does not start with '/'" },
		{ "/kube\0pods", 10, "NUL at byte 5 of the cgroup path" },
		{ "/kubepods/\0", 11, "NUL at byte 10 of the cgroup path" },
	};
	char err[256], *longp = malloc(PATH_MAX + 1);
	struct podmeta m;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(podmeta__parse(bad[i].path, bad[i].len, &m, err, sizeof(err)),
				 -EINVAL);
		assert_string_equal(err, bad[i].err);
	}
	assert_non_null(longp);
	memset(longp, 'a', PATH_MAX);
	longp[0] = '/';
	assert_int_equal(podmeta__parse(longp, PATH_MAX, &m, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "cgroup path is 4096 bytes long (at most 4095)");
	/* the longest path taken: a host cgroup with no unit */
	assert_int_equal(podmeta__parse(longp, PATH_MAX - 1, &m, err, sizeof(err)), 0);
	assert_int_equal(m.kind, PODMETA_HOST);
	assert_string_equal(m.unit, "");
	/* only len bytes are read: a path cut short of its NUL */
	assert_int_equal(podmeta__parse("/kubepods/podX", 9, &m, err, sizeof(err)), 0);
	assert_int_equal(m.kind, PODMETA_KUBEPODS);
	free(longp);
}

static const struct {
	const char *name, *err;
} bad_dirs[] = {
	{ "", "no '_' in the pod log directory name (<namespace>_<name>_<uid>)" },
	{ U1, "no '_' in the pod log directory name (<namespace>_<name>_<uid>)" },
	{ "default_web_123", "pod UID at byte 12 is not 8-4-4-4-12 or 32 hex digits" },
	{ "default_web_" U1S, "pod UID at byte 36 is not 8-4-4-4-12 or 32 hex digits" },
	{ "web_" U1, "no '_' between namespace and pod name" },
	{ "Default_web_" U1, "namespace at byte 0 is not a DNS-1123 label" },
	{ "_web_" U1, "namespace at byte 0 is not a DNS-1123 label" },
	/* an '_' in either name: Kubernetes allows none, so the entry is not
	 * the kubelet's (namespace "my" and pod "ns_web", or "web_x") */
	{ "my_ns_web_" U1, "pod name at byte 3 is not a DNS-1123 subdomain" },
	{ "default_web_x_" U1, "pod name at byte 8 is not a DNS-1123 subdomain" },
	{ "default__" U1, "pod name at byte 8 is not a DNS-1123 subdomain" },
	{ "default_web-_" U1, "pod name at byte 8 is not a DNS-1123 subdomain" },
	{ "default_a..b_" U1, "pod name at byte 8 is not a DNS-1123 subdomain" },
	{ "a-very-long-namespace-name-that-is-longer-than-sixty-three-bytes-x_web_" U1,
	  "namespace at byte 0 is not a DNS-1123 label" },
};

static void test_pod_dirs(void **state)
{
	struct podmeta_pod p;
	char err[256];
	const char *ok = "kube-system_kube-apiserver-node-1.example_"
			 "8daa50c3a64c9ff60bb9eab7b44b56fd";

	assert_int_equal(podmeta__parse_pod_dir(ok, strlen(ok), &p, err, sizeof(err)), 0);
	assert_string_equal(p.namespace_, "kube-system");
	assert_string_equal(p.name, "kube-apiserver-node-1.example");
	assert_string_equal(p.uid, "8daa50c3a64c9ff60bb9eab7b44b56fd");
	assert_int_equal(p.ncontainers, 0);
	for (size_t i = 0; i < sizeof(bad_dirs) / sizeof(bad_dirs[0]); i++) {
		const char *n = bad_dirs[i].name;

		err[0] = '\0';
		assert_int_equal(podmeta__parse_pod_dir(n, strlen(n), &p, err, sizeof(err)),
				 -EINVAL);
		assert_string_equal(err, bad_dirs[i].err);
	}
}

#define CID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const struct {
	const char *name, *err;
} bad_links[] = {
	{ "web_default_app-" CID ".txt", "container log link name does not end in .log" },
	{ "web_default_app_" CID ".log",
	  "no '-' and 64 hex digits (the container ID) before .log at byte 15" },
	{ "web_default_app-" CID "0.log",
	  "no '-' and 64 hex digits (the container ID) before .log at byte 16" },
	{ "app-" CID ".log", "not <pod>_<namespace>_<container>-<id>.log (too few '_')" },
	{ "default_app-" CID ".log", "not <pod>_<namespace>_<container>-<id>.log (too few '_')" },
	{ "web_default_App-" CID ".log", "container name at byte 12 is not a DNS-1123 label" },
	{ "web_default_-" CID ".log", "container name at byte 12 is not a DNS-1123 label" },
	{ "x.log", "no '-' and 64 hex digits (the container ID) before .log at byte 0" },
};

/* The kubelet's /var/log/containers links: container name by ID. */
static void test_container_links(void **state)
{
	const char *ok = "coredns-5d78c9869d-x2x7q_kube-system_coredns-" CID ".log";
	struct podmeta_container c;
	char err[256];

	assert_int_equal(podmeta__parse_container_link(ok, strlen(ok), &c, err, sizeof(err)), 0);
	assert_string_equal(c.name, "coredns");
	assert_string_equal(c.id, CID);
	for (size_t i = 0; i < sizeof(bad_links) / sizeof(bad_links[0]); i++) {
		const char *n = bad_links[i].name;

		err[0] = '\0';
		assert_int_equal(podmeta__parse_container_link(n, strlen(n), &c, err, sizeof(err)),
				 -EINVAL);
		assert_string_equal(err, bad_links[i].err);
	}
}

/* A temporary /var/log/pods. */
static char root[64];

static void mk(const char *rel, bool dir)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (dir) {
		assert_int_equal(mkdir(p, 0755), 0);
		return;
	}
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	close(fd);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int setup_tree(void **state)
{
	char p[512];

	snprintf(root, sizeof(root), "/tmp/test_podmeta.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	/* what the kubelet writes */
	mk("default_nginx-7c5ddbdf54-x8kqz_" U1, true);
	mk("default_nginx-7c5ddbdf54-x8kqz_" U1 "/nginx", true);
	mk("default_nginx-7c5ddbdf54-x8kqz_" U1 "/nginx/0.log", false);
	mk("default_nginx-7c5ddbdf54-x8kqz_" U1 "/nginx/1.log", false);
	mk("default_nginx-7c5ddbdf54-x8kqz_" U1 "/istio-proxy", true);
	mk("default_nginx-7c5ddbdf54-x8kqz_" U1 "/istio-init", true);
	mk("kube-system_kube-apiserver-node-1_8daa50c3a64c9ff60bb9eab7b44b56fd", true);
	mk("kube-system_kube-apiserver-node-1_8daa50c3a64c9ff60bb9eab7b44b56fd/kube-apiserver",
	   true);
	mk("shop_web-0.web_" U2, true);	/* no container yet */
	mk("batch_many_" U3, true);
	for (int i = 19; i >= 0; i--) {
		snprintf(p, sizeof(p), "batch_many_" U3 "/c%02d", i);
		mk(p, true);
	}
	/* what is skipped: 9 entries */
	mk("README", false);				/* no '_' */
	mk(U4, true);					/* the layout before 1.14 */
	mk("my_ns_web_" U4, true);			/* a third '_' */
	mk("Default_web_" U4, true);			/* not a DNS label */
	mk("default_file_" U4, false);			/* not a directory */
	snprintf(p, sizeof(p), "%s/default_link_" U4, root);
	if (symlink("default_nginx-7c5ddbdf54-x8kqz_" U1, p))	/* not followed */
		return -1;
	/* in a pod's directory: not DNS labels, not a directory */
	mk("default_nginx-7c5ddbdf54-x8kqz_" U1 "/Bad_Name", true);
	mk("default_nginx-7c5ddbdf54-x8kqz_" U1 "/x.y", true);
	mk("default_nginx-7c5ddbdf54-x8kqz_" U1 "/stray", false);
	return 0;
}

static int teardown_tree(void **state)
{
	return nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_scan_logs(void **state)
{
	struct podmeta_pod pods[8];
	struct podmeta_names names = { .pods = pods, .cap = 8 };
	const struct podmeta_pod *p;
	char err[256] = "";
	struct podmeta m;
	const char *path = "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" U1S
			   ".slice/cri-containerd-" ID1 ".scope";

	assert_int_equal(podmeta__scan_logs(root, &names, err, sizeof(err)), 0);
	assert_int_equal(names.n, 4);
	assert_int_equal(names.skipped, 9);
	assert_int_equal(names.dropped, 0);
	for (size_t i = 1; i < names.n; i++)
		assert_true(strcmp(pods[i - 1].uid, pods[i].uid) < 0);

	/* a cgroup path's pod, by its UID */
	assert_int_equal(podmeta__parse(path, strlen(path), &m, err, sizeof(err)), 0);
	p = podmeta__find_pod(&names, m.pod_uid);
	assert_non_null(p);
	assert_string_equal(p->namespace_, "default");
	assert_string_equal(p->name, "nginx-7c5ddbdf54-x8kqz");
	assert_int_equal(p->ncontainers, 3);
	assert_string_equal(p->containers[0], "istio-init");
	assert_string_equal(p->containers[1], "istio-proxy");
	assert_string_equal(p->containers[2], "nginx");
	assert_false(p->containers_truncated);

	p = podmeta__find_pod(&names, "8daa50c3a64c9ff60bb9eab7b44b56fd");
	assert_non_null(p);
	assert_string_equal(p->namespace_, "kube-system");
	assert_string_equal(p->name, "kube-apiserver-node-1");
	assert_int_equal(p->ncontainers, 1);
	assert_string_equal(p->containers[0], "kube-apiserver");

	p = podmeta__find_pod(&names, U2);
	assert_non_null(p);
	assert_string_equal(p->name, "web-0.web");
	assert_int_equal(p->ncontainers, 0);

	/* the first PODMETA_CTRS_MAX names, whatever the directory order */
	p = podmeta__find_pod(&names, U3);
	assert_non_null(p);
	assert_int_equal(p->ncontainers, PODMETA_CTRS_MAX);
	assert_true(p->containers_truncated);
	assert_string_equal(p->containers[0], "c00");
	assert_string_equal(p->containers[PODMETA_CTRS_MAX - 1], "c15");

	assert_null(podmeta__find_pod(&names, U4));
	assert_null(podmeta__find_pod(&names, U1S));
	assert_null(podmeta__find_pod(&names, ""));
}

static void test_scan_bounds(void **state)
{
	struct podmeta_pod pods[2];
	struct podmeta_names names = { .pods = pods, .cap = 2 };
	char err[256] = "";

	assert_int_equal(podmeta__scan_logs(root, &names, err, sizeof(err)), 0);
	assert_int_equal(names.n, 2);
	assert_int_equal(names.dropped, 2);
	names.cap = 0;
	assert_int_equal(podmeta__scan_logs(root, &names, err, sizeof(err)), 0);
	assert_int_equal(names.n, 0);
	assert_int_equal(names.dropped, 4);
	assert_null(podmeta__find_pod(&names, U1));
}

static void test_scan_errors(void **state)
{
	struct podmeta_pod pods[2];
	struct podmeta_names names = { .pods = pods, .cap = 2 };
	char err[256] = "", p[512];

	assert_int_equal(podmeta__scan_logs("/nonexistent/var/log/pods", &names, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "cannot read the pod log directory /nonexistent/var/log/pods: "
				 "No such file or directory");
	snprintf(p, sizeof(p), "%s/README", root);
	assert_int_equal(podmeta__scan_logs(p, &names, err, sizeof(err)), -ENOTDIR);
}

/* Two directories of one UID (not the kubelet's doing): one is kept. */
static void test_scan_duplicate(void **state)
{
	struct podmeta_pod pods[4];
	struct podmeta_names names = { .pods = pods, .cap = 4 };
	const struct podmeta_pod *p;
	char err[256] = "";

	snprintf(root, sizeof(root), "/tmp/test_podmeta.XXXXXX");
	assert_non_null(mkdtemp(root));
	mk("ns1_a_" U1, true);
	mk("ns2_b_" U1, true);
	mk("ns3_c_" U2, true);
	assert_int_equal(podmeta__scan_logs(root, &names, err, sizeof(err)), 0);
	assert_int_equal(names.n, 2);
	assert_int_equal(names.skipped, 1);
	p = podmeta__find_pod(&names, U1);
	assert_non_null(p);
	assert_true(!strcmp(p->name, "a") || !strcmp(p->name, "b"));
	assert_int_equal(teardown_tree(state), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_bad_paths),
		cmocka_unit_test(test_pod_dirs),
		cmocka_unit_test(test_container_links),
		cmocka_unit_test_setup_teardown(test_scan_logs, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_scan_bounds, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_scan_errors, setup_tree, teardown_tree),
		cmocka_unit_test(test_scan_duplicate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
