// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pods.c - what the cgroups the metrics name are, from the node only, never
 * the Kubernetes API: reqacct_cgroup_info per cgroup path, with its kind
 * (pod, container, host, ...), pod UID, QoS class, container ID and runtime
 * (podmeta__parse: the shapes of containerd, CRI-O and Docker under the
 * systemd and cgroupfs drivers), the pod's namespace and name from the
 * kubelet's log directory (pod_logs_dir, /var/log/pods, read at most every
 * PODS_RESCAN_MS), the container's name from the kubelet's links beside it
 * (/var/log/containers), and a host process's systemd unit. What cannot be
 * resolved says so ("unknown", "(unknown)"), never a missing sample.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "cgroup_names.h"
#include "log.h"
#include "monotime.h"
#include "podmeta.h"
#include "pods.h"
#include "prom.h"

#define PODS_MAX 4096		/* pods named from the log directory */
#define CONTAINERS_MAX 16384	/* containers named from the links */
#define PODS_RESCAN_MS 30000	/* how old the names may be */
#define UNKNOWN "(unknown)"

struct pods_state {
	char dir[4096], containers_dir[4096];
	struct podmeta_names names;
	struct podmeta_containers containers;
	__u64 scanned_ms;
	bool warned, warned_containers;
};

struct pods_state *pods__new(const char *logs_dir)
{
	struct pods_state *s = calloc(1, sizeof(*s));
	const char *slash;

	if (!s)
		return NULL;
	snprintf(s->dir, sizeof(s->dir), "%s", logs_dir);
	/* The links are in the directory's sibling: /var/log/pods, /var/log/containers. */
	slash = strrchr(logs_dir, '/');
	snprintf(s->containers_dir, sizeof(s->containers_dir), "%.*s/containers",
		 slash ? (int)(slash - logs_dir) : 1, slash ? logs_dir : ".");
	s->names.pods = calloc(PODS_MAX, sizeof(*s->names.pods));
	s->names.cap = PODS_MAX;
	s->containers.c = calloc(CONTAINERS_MAX, sizeof(*s->containers.c));
	s->containers.cap = CONTAINERS_MAX;
	if (!s->names.pods || !s->containers.c) {
		pods__free(s);
		return NULL;
	}
	return s;
}

void pods__free(struct pods_state *s)
{
	if (!s)
		return;
	free(s->names.pods);
	free(s->containers.c);
	free(s);
}

struct emit {
	struct pods_state *s;
	struct prom_buf *b;
};

static void one(void *ctx, const char *path)
{
	struct emit *e = ctx;
	const struct podmeta_pod *pod = NULL;
	const char *ns = "", *name = "", *ctr = "";
	struct podmeta m;
	char err[128];

	if (podmeta__parse(path, strlen(path), &m, err, sizeof(err))) {
		memset(&m, 0, sizeof(m));
		m.kind = PODMETA_UNKNOWN;
		m.qos = m.runtime = m.driver = "";
	}
	if (m.pod_uid[0]) {
		pod = podmeta__find_pod(&e->s->names, m.pod_uid);
		ns = pod ? pod->namespace_ : UNKNOWN;
		name = pod ? pod->name : UNKNOWN;
	}
	if (m.container_id[0])
		ctr = podmeta__container_name(&e->s->containers, m.container_id) ?: UNKNOWN;
	prom__sample_u64(e->b, "reqacct_cgroup_info", (struct prom_label[]){
		{ "cgroup", path }, { "kind", podmeta__kind_name(m.kind) },
		{ "namespace", ns }, { "pod", name }, { "pod_uid", m.pod_uid },
		{ "container", ctr }, { "container_id", m.container_id }, { "qos", m.qos },
		{ "runtime", m.runtime }, { "unit", m.unit } }, 10, 1);
}

void pods__collect(struct agent *a, struct prom_buf *b)
{
	struct pods_state *s = a->pods;
	struct emit e = { .s = s, .b = b };
	char err[256];

	prom__family(b, "reqacct_cgroup_info", "gauge",
		     "What each cgroup the metrics name is, from the node only: kind (pod, "
		     "container, host, kubepods, unknown), the pod's namespace, name (from the "
		     "kubelet's log directory; \"" UNKNOWN "\" when not there) and UID, the container's "
		     "name (from the kubelet's links in /var/log/containers) and ID, QoS class, "
		     "runtime, and a host process's systemd unit. Always 1.");
	if (!s)
		return;
	if (!s->scanned_ms || monotime_ms() - s->scanned_ms >= PODS_RESCAN_MS) {
		if (podmeta__scan_logs(s->dir, &s->names, err, sizeof(err)) && !s->warned) {
			pr_info("pod names not known: %s\n", err);
			s->warned = true;
		}
		if (podmeta__scan_containers(s->containers_dir, &s->containers, err, sizeof(err)) &&
		    !s->warned_containers) {
			pr_info("container names not known: %s\n", err);
			s->warned_containers = true;
		}
		s->scanned_ms = monotime_ms();
	}
	cgroup_names__each_used(a->cgroups, one, &e);
}
