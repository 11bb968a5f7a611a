// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * listeners.c - owners of listening sockets that are older than the agent.
 * The BPF side learns a listener's owner at listen(2); for a server that was
 * already listening when the agent started (the usual case for an apiserver),
 * this finds the owner from /proc once at start: LISTEN entries of
 * /proc/PID/net/tcp{,6} per network namespace, joined by socket inode with
 * /proc/PID/fd. Entries the BPF side wrote meanwhile are newer and kept.
 *
 * The same pass finds the clients of k8s_ports whose connections are older
 * than the agent (client-go keeps its connection for days): established
 * sockets whose remote port is one, by their local address and port
 * (ra_k8s_clients), so a server on this host names them.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "cgroup_names.h"
#include "log.h"
#include "reqacct.skel.h"

#define TCP_ESTABLISHED_STATE 0x01	/* include/net/tcp_states.h */
#define TCP_LISTEN_STATE 0x0A

/* A socket to find the owner of: a listener, or a k8s client's connection. */
struct listener {
	__u64 inode;
	struct ra_listener_key key;
	struct ra_client_key client;	/* client.port != 0: a client connection */
	bool found;
};

struct seed {
	struct listener *l;
	size_t n, cap;
	__u32 *netns;		/* namespaces already read */
	size_t nnetns;
};

static bool is_pid(const char *s)
{
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* An address of /proc/net/tcp{,6}: 8 or 32 hex digits, 32-bit words in host
 * byte order, then ":PORT" in hex; IPv4 as v4-mapped IPv6. */
static bool parse_addr(const char *s, __u8 addr[RA_ADDR_LEN], __u16 *port)
{
	size_t len = strcspn(s, ":");
	unsigned int p;
	__u32 w;

	if ((len != 8 && len != 32) || sscanf(s + len, ":%x", &p) != 1 || p > 0xffff)
		return false;
	memset(addr, 0, RA_ADDR_LEN);
	for (size_t i = 0; i < len / 8; i++) {
		char word[9];

		memcpy(word, s + 8 * i, 8);
		word[8] = '\0';
		w = strtoul(word, NULL, 16);
		memcpy(addr + (len == 8 ? 12 : 4 * i), &w, 4);
	}
	if (len == 8)
		addr[10] = addr[11] = 0xff;
	*port = p;
	return true;
}

/* LISTEN lines on watched ports and ESTABLISHED ones to k8s_ports of
 * /proc/PID/net/tcp or tcp6 (proc(5)):
 *   sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode */
static void read_tcp_table(struct agent *a, struct seed *s, const char *path, __u32 netns)
{
	FILE *f = fopen(path, "re");
	char line[512], local[64], remote[64];
	struct ra_client_key ck;
	unsigned long long ino;
	__u16 port, rport;
	unsigned int st;

	if (!f)
		return;
	if (!fgets(line, sizeof(line), f)) {	/* header */
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		memset(&ck, 0, sizeof(ck));
		if (sscanf(line, "%*s %63s %63s %x %*s %*s %*s %*s %*s %llu", local, remote, &st,
			   &ino) != 4 || !parse_addr(local, ck.addr, &port) ||
		    !parse_addr(remote, (__u8[RA_ADDR_LEN]){ 0 }, &rport))
			continue;
		if (st == TCP_ESTABLISHED_STATE &&
		    config__has_port(a->cfg.k8s_ports, a->cfg.nk8s_ports, rport) &&
		    config__has_port(a->cfg.ports, a->cfg.nports, rport))
			ck.port = port;
		else if (st != TCP_LISTEN_STATE || !config__has_port(a->cfg.ports, a->cfg.nports, port))
			continue;
		if (s->n == s->cap) {
			size_t cap = s->cap ? 2 * s->cap : 16;
			struct listener *l = realloc(s->l, cap * sizeof(*l));

			if (!l)
				break;
			s->l = l;
			s->cap = cap;
		}
		s->l[s->n++] = (struct listener){
			.inode = ino, .key = { .netns_ino = netns, .port = port }, .client = ck,
		};
	}
	fclose(f);
}

static void read_netns(struct agent *a, struct seed *s, unsigned long pid)
{
	char path[64];
	struct stat st;
	__u32 *n;

	snprintf(path, sizeof(path), "/proc/%lu/ns/net", pid);
	if (stat(path, &st))
		return;
	for (size_t i = 0; i < s->nnetns; i++)
		if (s->netns[i] == st.st_ino)
			return;
	n = realloc(s->netns, (s->nnetns + 1) * sizeof(*n));
	if (!n)
		return;
	s->netns = n;
	s->netns[s->nnetns++] = st.st_ino;
	snprintf(path, sizeof(path), "/proc/%lu/net/tcp", pid);
	read_tcp_table(a, s, path, st.st_ino);
	snprintf(path, sizeof(path), "/proc/%lu/net/tcp6", pid);
	read_tcp_table(a, s, path, st.st_ino);
}

/* The owner of a process: its comm and its cgroup v2 id ("0::PATH" line of
 * /proc/PID/cgroup, resolved under the cgroup2 mount). */
static int owner_of(unsigned long pid, struct ra_owner *o, const char *cgroupfs)
{
	char path[64], cg[4096], dir[8192];
	FILE *f;
	size_t n;

	memset(o, 0, sizeof(*o));
	o->tgid = pid;
	o->role = RA_ROLE_SERVER;
	snprintf(path, sizeof(path), "/proc/%lu/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(o->comm, 1, sizeof(o->comm) - 1, f);
	fclose(f);
	if (n && o->comm[n - 1] == '\n')
		o->comm[n - 1] = '\0';
	if (!cgroup_names__of_pid(pid, cg, sizeof(cg))) {
		snprintf(dir, sizeof(dir), "%s%s", cgroupfs, cg);
		cgroup_names__id_of(dir, &o->cgroup_id);
	}
	return 0;
}

/* Match the listeners' inodes against every process's socket fds. */
static int match_fds(struct agent *a, struct seed *s, unsigned long pid, const char *cgroupfs)
{
	char path[64], link[64];
	struct dirent *de;
	int written = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%lu/fd", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		unsigned long long ino;
		char fdpath[384];
		ssize_t n;

		snprintf(fdpath, sizeof(fdpath), "%s/%s", path, de->d_name);
		n = readlink(fdpath, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "socket:[%llu]", &ino) != 1)
			continue;
		for (size_t i = 0; i < s->n; i++) {
			struct ra_owner o;

			if (s->l[i].found || s->l[i].inode != ino || owner_of(pid, &o, cgroupfs))
				continue;
			s->l[i].found = true;
			if (s->l[i].client.port) {
				o.role = RA_ROLE_CLIENT;
				bpf_map_update_elem(bpf_map__fd(a->skel->maps.ra_k8s_clients),
						    &s->l[i].client, &o, BPF_NOEXIST);
				continue;
			}
			if (!bpf_map_update_elem(bpf_map__fd(a->skel->maps.ra_listeners),
						 &s->l[i].key, &o, BPF_NOEXIST)) {
				pr_debug("listener port %u netns %u: %s pid %lu\n", s->l[i].key.port,
					 s->l[i].key.netns_ino, o.comm, pid);
				written++;
			}
		}
	}
	closedir(d);
	return written;
}

int listeners__seed(struct agent *a)
{
	const char *cgroupfs = a->cfg.cgroupfs;
	struct seed s = {};
	struct dirent *de;
	unsigned long pid;
	int written = 0;
	DIR *d;

	for (int pass = 0; pass < 2; pass++) {
		d = opendir("/proc");
		if (!d)
			return -errno;
		while ((de = readdir(d))) {
			if (!is_pid(de->d_name))
				continue;
			pid = strtoul(de->d_name, NULL, 10);
			if (pass == 0)
				read_netns(a, &s, pid);
			else if (s.n)
				written += match_fds(a, &s, pid, cgroupfs);
		}
		closedir(d);
	}
	free(s.l);
	free(s.netns);
	return written;
}
