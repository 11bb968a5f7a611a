// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_cli.c - libFuzzer target: the agent's command line
 * (agent__parse_args), the input split into arguments at NUL bytes.
 * Invariants: no crash; 0, 1 (--help) or -EINVAL, and -EINVAL always with
 * a message; a success leaves a configuration the agent can start with
 * (ports within their counts). Arguments naming a config file (-c,
 * --config) are left out: the fuzzer would open files of this machine;
 * the file's text is fuzz_config's. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "config.h"
#include "log.h"

#define ARGS_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[ARGS_MAX + 2], err[CONFIG_ERR_MAX] = "";
	static struct ra_config c;	/* 40 KB: not on the stack */
	int argc = 1, rc;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = "agent";
	for (char *p = buf; p < buf + size && argc <= ARGS_MAX; p += strlen(p) + 1) {
		/* --config, its prefixes, and -c in a cluster of short options */
		if (!strncmp(p, "--c", 3) || (p[0] == '-' && p[1] != '-' && strchr(p, 'c')))
			goto out;
		argv[argc++] = p;
	}
	argv[argc] = NULL;
	rc = agent__parse_args(&c, argc, argv, err, sizeof(err));
	log_verbosity = 0;
	if (rc != 0 && rc != 1 && rc != -EINVAL)
		abort();
	if (rc == -EINVAL && !err[0])
		abort();
	if (!rc && (c.nports > RA_MAX_PORTS || c.ndns_ports > RA_MAX_DNS_PORTS ||
		    c.nk8s_ports > RA_MAX_PORTS || c.ntls_ports > RA_MAX_PORTS ||
		    c.ntls_comms > CONFIG_TLS_LIBS_MAX || c.ntls_libs > CONFIG_TLS_LIBS_MAX ||
		    !c.max_flows || !c.max_peers))
		abort();
out:
	free(buf);
	return 0;
}
