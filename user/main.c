// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * main.c - the reqacct command: a table of subcommands in bpftool's shape.
 * reqacct is an eBPF request accounting agent for Kubernetes control planes.
 */
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "inspect.h"
#include "log.h"
#include "top.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static int do_help(int argc, char **argv);
static int do_version(int argc, char **argv);

static const struct cmd cmds[] = {
	{ "agent", do_agent, "count requests in the kernel and serve /metrics" },
	{ "top", do_top, "the apiserver's clients, DNS and TCP per process, live" },
	{ "inspect", do_inspect, "show where TLS uprobes would go in a binary or process" },
	{ "version", do_version, "print the version" },
	{ "help", do_help, "this text" },
};

static int do_help(int argc, char **argv)
{
	printf("Usage: reqacct COMMAND [OPTIONS]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		printf("  %-8s %s\n", cmds[i].name, cmds[i].help);
	printf("\n`reqacct COMMAND --help` describes a command.\n"
	       "\nEXAMPLES:\n  reqacct agent\n  reqacct agent --port 6443 --listen 127.0.0.1:9464\n"
	       "  reqacct top\n  reqacct inspect /usr/bin/etcd\n");
	return 0;
}

static int do_version(int argc, char **argv)
{
	printf("reqacct %s (libbpf %u.%u)\n", REQACCT_VERSION, libbpf_major_version(),
	       libbpf_minor_version());
	return 0;
}

int main(int argc, char **argv)
{
	log__hook_libbpf();
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return do_help(argc, argv), argc < 2 ? 2 : 0;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "reqacct: unknown command '%s' (see reqacct help)\n", argv[1]);
	return 2;
}
