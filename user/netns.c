// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netns.c - the addresses of the network namespaces on this node (pods),
 * so that a server's client address (the peer label) can be joined to the
 * pod it belongs to in PromQL, across nodes: reqacct_netns_address_info.
 * Node-local only: every process's /proc/PID/ns/net, and for each
 * namespace other than the agent's, its local IPv4 addresses
 * (/proc/PID/net/fib_trie, "/32 host LOCAL" entries) and global IPv6 ones
 * (/proc/PID/net/if_inet6, scope 00), loopback left out, with the cgroup
 * of the first process found in it (a pod's pause or first container).
 * Read at start and every netns_scan_s seconds; bounded (NETNS_MAX
 * namespaces, NETNS_ADDRS addresses each); a scan replaces the table.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include "agent.h"
#include "cgroup_names.h"
#include "netns.h"
#include "prom.h"

#define NETNS_MAX 4096
#define NETNS_ADDRS 8

struct netns_entry {
	__u64 ino;
	char cgroup[256];
	int naddrs;
	char addr[NETNS_ADDRS][INET6_ADDRSTRLEN];
};

struct netns_state {
	pthread_mutex_t lock;	/* the main thread scans, the scrape thread reads */
	struct netns_entry *e;
	size_t n;
	__u64 self_ino;
	__u64 scans;
};

int netns__fib_local(const char *text, char out[][INET6_ADDRSTRLEN], int max)
{
	char last[INET6_ADDRSTRLEN] = "";
	const char *next;
	int n = 0;

	for (const char *line = text; line && *line; line = next) {
		const char *p = line + strspn(line, " ");
		size_t l = strcspn(p, " \n");
		struct in_addr a;
		bool dup = false;

		next = strchr(line, '\n');
		next = next ? next + 1 : NULL;
		if (!strncmp(p, "|-- ", 4)) {	/* a prefix or an address */
			l = strcspn(p + 4, " \n");
			snprintf(last, sizeof(last), "%.*s", (int)(l < sizeof(last) ? l : 0), p + 4);
			continue;
		}
		/* "/32 host LOCAL": the address above is one of the namespace's own */
		if (l != 3 || strncmp(p, "/32 host LOCAL", 14) || (p[14] != '\n' && p[14]) ||
		    inet_pton(AF_INET, last, &a) != 1 || (ntohl(a.s_addr) >> 24) == 127)
			continue;
		for (int i = 0; i < n; i++)
			dup |= !strcmp(out[i], last);
		if (!dup && n < max)
			strcpy(out[n++], last);
	}
	return n;
}

int netns__inet6_global(const char *text, char out[][INET6_ADDRSTRLEN], int max)
{
	const char *line = text;
	int n = 0;

	while (line && *line && n < max) {
		const char *nl = strchr(line, '\n');
		char hex[33];
		unsigned int ifindex, plen, scope;
		struct in6_addr a;

		if (sscanf(line, "%32[0-9a-f] %x %x %x", hex, &ifindex, &plen, &scope) == 4 &&
		    strlen(hex) == 32 && scope == 0) {
			for (int i = 0; i < 16; i++) {
				unsigned int b;

				sscanf(hex + 2 * i, "%2x", &b);
				a.s6_addr[i] = b;
			}
			if (!IN6_IS_ADDR_LOOPBACK(&a) && inet_ntop(AF_INET6, &a, out[n], INET6_ADDRSTRLEN))
				n++;
		}
		line = nl ? nl + 1 : NULL;
	}
	return n;
}

static char *read_small(const char *path)
{
	FILE *f = fopen(path, "re");
	size_t len = 0, cap = 8192;
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(cap);
	while (buf) {
		size_t n = fread(buf + len, 1, cap - len - 1, f);
		char *b;

		len += n;
		if (len + 1 < cap || cap >= (1u << 22))	/* all read, or 4 MiB */
			break;
		b = realloc(buf, cap *= 2);
		if (!b)
			free(buf);
		buf = b;
	}
	fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

struct netns_state *netns__new(void)
{
	struct netns_state *s = calloc(1, sizeof(*s));
	struct stat st;

	if (!s)
		return NULL;
	if (!stat("/proc/self/ns/net", &st))
		s->self_ino = st.st_ino;
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

void netns__free(struct netns_state *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s->e);
	free(s);
}

void netns__scan(struct netns_state *s)
{
	struct netns_entry *e = calloc(NETNS_MAX, sizeof(*e));
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	if (!e)
		return;
	d = opendir("/proc");
	while (d && (de = readdir(d)) && n < NETNS_MAX) {
		char path[64], *text;
		unsigned long pid;
		struct stat st;
		bool seen = false;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtoul(de->d_name, NULL, 10);
		snprintf(path, sizeof(path), "/proc/%lu/ns/net", pid);
		if (stat(path, &st) || st.st_ino == s->self_ino)
			continue;
		for (size_t i = 0; i < n && !seen; i++)
			seen = e[i].ino == st.st_ino;
		if (seen)
			continue;
		e[n].ino = st.st_ino;
		snprintf(path, sizeof(path), "/proc/%lu/net/fib_trie", pid);
		if ((text = read_small(path))) {
			e[n].naddrs = netns__fib_local(text, e[n].addr, NETNS_ADDRS);
			free(text);
		}
		snprintf(path, sizeof(path), "/proc/%lu/net/if_inet6", pid);
		if ((text = read_small(path))) {
			e[n].naddrs += netns__inet6_global(text, e[n].addr + e[n].naddrs,
							   NETNS_ADDRS - e[n].naddrs);
			free(text);
		}
		if (!e[n].naddrs)
			continue;	/* only loopback: nothing to join */
		cgroup_names__of_pid(pid, e[n].cgroup, sizeof(e[n].cgroup));	/* "" if none */
		n++;
	}
	if (d)
		closedir(d);
	pthread_mutex_lock(&s->lock);
	free(s->e);
	s->e = e;
	s->n = n;
	s->scans++;
	pthread_mutex_unlock(&s->lock);
}

void netns__collect(struct netns_state *s, struct prom_buf *b)
{
	char ino[24];

	prom__family(b, "reqacct_netns_address_info", "gauge",
		     "Addresses of the network namespaces on this node other than the agent's "
		     "(pods), with the cgroup of a process in each: join a server's peer label to "
		     "it (on any node) to name the pod a client address belongs to. Always 1.");
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n; i++) {
		snprintf(ino, sizeof(ino), "%llu", (unsigned long long)s->e[i].ino);
		for (int a = 0; a < s->e[i].naddrs; a++)
			prom__sample_u64(b, "reqacct_netns_address_info", (struct prom_label[]){
				{ "address", s->e[i].addr[a] }, { "cgroup", s->e[i].cgroup },
				{ "netns", ino } }, 3, 1);
	}
	pthread_mutex_unlock(&s->lock);
}
