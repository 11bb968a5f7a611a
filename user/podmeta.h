/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * podmeta.h - Kubernetes node-local metadata from a cgroup path, with no
 * Kubernetes API: the pod UID, the container ID, the QoS class, the container
 * runtime and the kubelet's cgroup driver of a cgroup under kubepods, or the
 * systemd unit of a host process; and pod namespace/name/container names from
 * the kubelet's log directory (/var/log/pods).
 *
 * A path is relative to the cgroup2 mount (v2, or the unified hierarchy of a
 * hybrid host) or to a v1 hierarchy's root: the same shapes on all three, as
 * the runtimes create the same relative path in every hierarchy. The shapes,
 * by who makes them:
 *
 *  - the kubelet (pkg/kubelet/cm/cgroup_manager_linux.go, CgroupName.ToSystemd
 *    and ToCgroupfs; qos_container_manager_linux.go; pod_container_manager_linux.go):
 *    cgroupfs "/kubepods[/burstable|/besteffort]/pod<uid>"; systemd
 *    "/kubepods.slice[/kubepods-<qos>.slice]/kubepods[-<qos>]-pod<uid>.slice"
 *    with every '-' of the UID written '_' (escapeSystemdCgroupName: '-' is
 *    systemd's slice separator, runc ExpandSlice). Guaranteed pods have no QoS
 *    step. A cgroupRoot puts a prefix in front: "/kubelet/kubepods/..." or
 *    "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-<qos>.slice/..."
 *    (kind: kubernetes-sigs/kind pkg/cluster/internal/kubeadm/config.go sets
 *    cgroupRoot: /kubelet), and a node in a container adds the outer
 *    container's path ("/docker/<id>/...", "/system.slice/docker-<id>.scope/...",
 *    minikube: kubernetes/minikube#11280).
 *  - the runtime, below the pod: containerd "cri-containerd-<id>.scope"
 *    (systemd: cgroupsPath "<pod slice>:cri-containerd:<id>", containerd/cri#290)
 *    or "<id>" (cgroupfs); CRI-O "crio-<id>.scope" / "crio-<id>" and its
 *    conmon monitor "crio-conmon-<id>.scope" / "crio-conmon-<id>"
 *    (cri-o internal/config/cgmgr/systemd.go and cgroupfs.go); Docker through
 *    dockershim or cri-dockerd "docker-<id>.scope" or "<id>" (cri-o/cri-o#842,
 *    kontena/pharos-cluster#440). A runtime using cgroupfs while the kubelet
 *    uses systemd leaves the systemd cgroupsPath as one literal directory
 *    under the runtime's own cgroup:
 *    "/system.slice/containerd.service/kubepods-<qos>-pod<uid>.slice:cri-containerd:<id>"
 *    (kubernetes/kubernetes#106514, containerd/containerd#4900). crun puts the
 *    processes of a systemd scope one level down on cgroup v2
 *    (".../crio-<id>.scope/container", crun(1) run.oci.systemd.subgroup);
 *    steps below the container are the container's own.
 *
 * Not told apart by the path alone: a pod's sandbox (pause) container has a
 * cgroup of the same shape as any container (kind CONTAINER); a bare "<id>"
 * is containerd's or Docker's (runtime "unknown"). Pod UIDs are the
 * apiserver's (8-4-4-4-12 hex) or, for static pods, the kubelet's MD5 of the
 * manifest (32 hex, pkg/kubelet/config/common.go applyDefaults); anything
 * else after "pod" is not taken for a pod.
 */
#ifndef REQACCT_PODMETA_H
#define REQACCT_PODMETA_H

#include <stdbool.h>
#include <stddef.h>

#define PODMETA_UID_MAX 37	/* a pod UID: 36 bytes (8-4-4-4-12) and a NUL */
#define PODMETA_ID_MAX 65	/* a container ID: 64 hex digits and a NUL */
#define PODMETA_UNIT_MAX 256	/* a systemd unit name (UNIT_NAME_MAX, 255) and a NUL */
#define PODMETA_NS_MAX 64	/* a namespace: a DNS label (63 bytes) and a NUL */
#define PODMETA_NAME_MAX 254	/* a pod name: a DNS subdomain (253 bytes) and a NUL */
#define PODMETA_CTR_NAME_MAX 64	/* a container name: a DNS label and a NUL */
#define PODMETA_CTRS_MAX 16	/* container names kept per pod */

enum podmeta_kind {
	PODMETA_HOST,		/* not under kubepods: unit is its systemd unit, or "" */
	PODMETA_KUBEPODS,	/* kubepods itself or a QoS cgroup: no pod (qos may be set) */
	PODMETA_POD,		/* a pod's own cgroup: pod_uid, qos */
	PODMETA_CONTAINER,	/* a container's cgroup or one below it: pod_uid, qos,
				 * container_id, runtime */
	PODMETA_UNKNOWN,	/* under kubepods, then a step of no known shape: the
				 * fields of the steps before it are set */
	PODMETA_KIND_MAX,
};

struct podmeta {
	enum podmeta_kind kind;
	char pod_uid[PODMETA_UID_MAX];	/* with '-', as the API has it; "" for none */
	char container_id[PODMETA_ID_MAX];	/* 64 lower-case hex digits, or "" */
	const char *qos;	/* "guaranteed", "burstable", "besteffort", or "" */
	const char *runtime;	/* "containerd", "cri-o", "docker", "unknown" (a
				 * bare ID, or a prefix not listed), or "" */
	const char *driver;	/* the kubelet's: "systemd", "cgroupfs", or "" (host) */
	char unit[PODMETA_UNIT_MAX];	/* HOST: the innermost systemd unit
					 * ("containerd.service", "session-3.scope"),
					 * or "" */
	bool conmon;		/* the cgroup of CRI-O's conmon for container_id, not
				 * the container's */
};

/* "host", "kubepods", "pod", "container", "unknown". */
const char *podmeta__kind_name(enum podmeta_kind k);

/* Resolve the cgroup path (len bytes, not NUL-terminated). Every well-formed
 * path gives 0 and a kind. A host path whose unit is a container's scope
 * ("/system.slice/crio-conmon-<id>.scope" with CRI-O's conmon_cgroup =
 * "system.slice", a rootless kubelet's ".../user.slice/cri-containerd-<id>.scope")
 * also gets container_id, runtime and conmon. -EINVAL with what and where in
 * err for a path that does not start with '/', holds a NUL, or is PATH_MAX
 * bytes or longer. */
int podmeta__parse(const char *path, size_t len, struct podmeta *out, char *err, size_t errlen);

/*
 * Names from the kubelet's log directory. The kubelet writes a container's
 * logs to <dir>/<namespace>_<pod-name>_<pod-uid>/<container-name>/<restart>.log
 * (pkg/kubelet/kuberuntime/helpers.go, BuildPodLogsDirectory and
 * BuildContainerLogsDirectory; dir is /var/log/pods). So a pod's UID gives its
 * namespace, its name and the names of its containers; which container ID is
 * which container name cannot be known from there (the files are named by
 * restart count, not by container ID), only the pod-level names are sure.
 * The links next to it do: podmeta__scan_containers below.
 */
struct podmeta_pod {
	char uid[PODMETA_UID_MAX];
	char namespace_[PODMETA_NS_MAX];
	char name[PODMETA_NAME_MAX];
	char containers[PODMETA_CTRS_MAX][PODMETA_CTR_NAME_MAX];	/* sorted */
	unsigned int ncontainers;
	bool containers_truncated;	/* more than PODMETA_CTRS_MAX */
};

struct podmeta_names {
	struct podmeta_pod *pods;	/* the caller's array of cap entries */
	size_t cap;
	size_t n;		/* entries filled, sorted by uid */
	size_t skipped;		/* entries not of the kubelet's shape, not directories,
				 * or a UID seen twice */
	size_t dropped;		/* pods left out: the table was full */
};

/* One pod directory's name, "<namespace>_<pod-name>_<pod-uid>" (len bytes),
 * into out's uid, namespace_ and name (no containers). 0, or -EINVAL with
 * what and where in err. */
int podmeta__parse_pod_dir(const char *name, size_t len, struct podmeta_pod *out, char *err,
			   size_t errlen);

/* Read dir (/var/log/pods) into out->pods (out->pods and out->cap set by
 * the caller; n, skipped and dropped are set here). Entries of the wrong
 * shape are skipped and counted, never an error. 0, or -errno with a message
 * in err when dir cannot be read. */
int podmeta__scan_logs(const char *dir, struct podmeta_names *out, char *err, size_t errlen);

/* The pod of a UID (as podmeta__parse gives it), or NULL. */
const struct podmeta_pod *podmeta__find_pod(const struct podmeta_names *names, const char *uid);

/*
 * Container names by container ID, from the kubelet's links in
 * /var/log/containers: <pod-name>_<namespace>_<container-name>-<id>.log
 * (pkg/kubelet/kuberuntime/legacy.go, logSymlink; a name cut at 255 bytes
 * loses its ID and is skipped).
 */
struct podmeta_container {
	char id[PODMETA_ID_MAX];
	char name[PODMETA_CTR_NAME_MAX];
};

struct podmeta_containers {
	struct podmeta_container *c;	/* the caller's array of cap entries */
	size_t cap;
	size_t n;		/* filled, sorted by id */
	size_t skipped;		/* names not of that shape */
	size_t dropped;		/* left out: the table was full */
};

/* One link name (len bytes) into out. 0, or -EINVAL with what and where. */
int podmeta__parse_container_link(const char *name, size_t len, struct podmeta_container *out,
				  char *err, size_t errlen);

/* Read dir (/var/log/containers) into out (c and cap set by the caller).
 * 0, or -errno with a message in err when dir cannot be read. */
int podmeta__scan_containers(const char *dir, struct podmeta_containers *out, char *err,
			     size_t errlen);

/* The name of the container with this ID, or NULL. */
const char *podmeta__container_name(const struct podmeta_containers *cs, const char *id);

#endif
