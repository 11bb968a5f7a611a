/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* pods.h - reqacct_cgroup_info: what the cgroups the metrics name are (pods.c). */
#ifndef REQACCT_PODS_H
#define REQACCT_PODS_H

struct agent;
struct pods_state;
struct prom_buf;

struct pods_state *pods__new(const char *logs_dir);
void pods__free(struct pods_state *s);
void pods__collect(struct agent *a, struct prom_buf *b);	/* scrape thread */

#endif
