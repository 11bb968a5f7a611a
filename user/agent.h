/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* agent.h - the running agent: loaded programs, configuration, caches. */
#ifndef REQACCT_AGENT_H
#define REQACCT_AGENT_H

#include <linux/types.h>

#include "config.h"

struct reqacct_bpf;
struct cgroup_names;

struct agent {
	struct ra_config cfg;
	struct reqacct_bpf *skel;
	struct cgroup_names *cgroups;
	enum hook_mode hook;		/* resolved: HOOK_TRACEPOINT or HOOK_SOCKOPS */
	double last_scrape_seconds;	/* duration of the previous collection */
	__u64 scrapes;
	__u64 listeners_seeded;
	int ncpus;
};

int do_agent(int argc, char **argv);

/* Defaults, then the --config file, then the other options: the last word
 * wins. 0, 1 for --help, or -EINVAL with a message in err. */
int agent__parse_args(struct ra_config *cfg, int argc, char **argv, char *err, size_t errlen);

/* Write every metric of the agent into a prom_buf (collect.c). */
struct prom_buf;
void collect__metrics(struct agent *a, struct prom_buf *b);

/* Record owners of listening sockets that predate the agent (listeners.c).
 * Returns the number of listeners written, or -errno. */
int listeners__seed(struct agent *a);

#endif
