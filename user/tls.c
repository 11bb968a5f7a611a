// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tls.c - the user-space half of HTTP over TLS (bpf/tls.bpf.h): which
 * OpenSSL libraries and Go programs to probe, the probes' links, and the
 * HTTP families.
 *
 * Uprobes attach to a file (its inode), so one attachment serves every
 * process that maps it, those running now and those started later.
 *
 * OpenSSL: the libraries mapped by running processes (/proc/PID/maps,
 * opened through /proc/PID/root so a container's own libssl is found), at
 * start and every tls_rescan_s seconds, the distribution's usual paths, and
 * any the configuration names. A process that maps a new libssl is counted
 * from the rescan on: its earlier calls are not seen.
 *
 * Go: the program of every process (/proc/PID/exe, which also reaches a
 * container's files and a program deleted since it started), at start, at
 * every rescan, and as soon as a process starts (ra_exec, a ring buffer of
 * pids), read once per file (inode, size, mtime) by gotls__probes(). A
 * program stays probed while its file exists unchanged (the target keeps it
 * open); one deleted, replaced by a new file (a new inode, found when it is
 * started) or rewritten in place is detached at the next rescan.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "elfbin.h"
#include "gotls.h"
#include "log.h"
#include "peers.h"
#include "prom.h"
#include "reqacct.skel.h"

/* Where distributions put libssl (Debian/Ubuntu multiarch, RHEL, Alpine). */
static const char *const default_libs[] = {
	"/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libssl.so.1.1",
	"/usr/lib/aarch64-linux-gnu/libssl.so.3", "/usr/lib/aarch64-linux-gnu/libssl.so.1.1",
	"/usr/lib64/libssl.so.3", "/usr/lib64/libssl.so.1.1", "/lib/libssl.so.3",
};

/* The functions probed: entry program, and every one shares ra_ssl_ret. */
#define TLS_FUNCS 4
#define TLS_TARGETS_MAX 256	/* (file, process) pairs probed */
/* Probes per target: OpenSSL's functions, entry and return; or Go's Read and
 * Write and both copies of its HTTP/2 server. */
#define TLS_LINKS_MAX (GOTLS_FUNCS + GOTLS_H2_FUNCS * GOTLS_H2_COPIES)
_Static_assert(TLS_LINKS_MAX >= TLS_FUNCS * 2, "room for OpenSSL's probes");
#define TLS_REJECTED_MAX 1024	/* programs read and found without crypto/tls */

/* A file as uprobes see it (by inode) and as it was when it was read. */
struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

enum target_kind { TARGET_OPENSSL, TARGET_GO };

/*
 * What is probed: a library or program file for every process (pid -1),
 * or, when processes are selected (tls_comms, tls_ports), an OpenSSL
 * library file for one process, named by pid and start time (so a reused
 * pid is a different process).
 */
struct tls_target {
	enum target_kind kind;
	struct file_id id;
	int pid;
	unsigned long long start;	/* /proc/PID/stat field 22 */
	int fd;				/* Go: the program file, open; else -1 */
	char path[PATH_MAX];
	struct bpf_link *links[TLS_LINKS_MAX];
	int nlinks;
};

struct tls_state {
	struct tls_target t[TLS_TARGETS_MAX];
	int n;
	struct file_id rejected[TLS_REJECTED_MAX];	/* a ring */
	unsigned nrejected;
	struct ring_buffer *exec;	/* ra_exec_events */
	__u32 listening[RA_MAX_LISTENERS];	/* pids listening on tls_ports */
	int nlistening;
	int nlibs, nprogs;	/* count_files(), set by the main thread after each scan,
				 * read by the scrape thread */
	bool full_logged;
};

static void file_id_of(const struct stat *st, struct file_id *id)
{
	*id = (struct file_id){ .dev = st->st_dev, .ino = st->st_ino, .size = st->st_size,
				.mtime = st->st_mtim };
}

static bool same_file(const struct file_id *a, const struct file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* The start time of a process (clock ticks since boot), 0 if it is gone. */
static unsigned long long proc_start(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
			  "%*d %*d %llu", &start) != 1)
		start = 0;
	fclose(f);
	return start;
}

static void detach(struct tls_target *t)
{
	for (int i = 0; i < t->nlinks; i++)
		bpf_link__destroy(t->links[i]);
	t->nlinks = 0;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

/* A free target slot, or NULL (said once) when TLS_TARGETS_MAX are probed. */
static struct tls_target *new_target(struct tls_state *ts, const char *path, int pid)
{
	if (ts->n < TLS_TARGETS_MAX)
		return &ts->t[ts->n];
	if (!ts->full_logged)
		pr_warn("more than %d TLS targets: %s of pid %d and later ones not probed\n",
			TLS_TARGETS_MAX, path, pid);
	ts->full_logged = true;
	return NULL;
}

static void attach_lib(struct agent *a, struct tls_state *ts, const char *path, int pid)
{
	struct reqacct_bpf *s = a->skel;
	const struct {
		const char *func;
		struct bpf_program *prog;
	} funcs[TLS_FUNCS] = {
		{ "SSL_write", s->progs.ra_ssl_write }, { "SSL_write_ex", s->progs.ra_ssl_write_ex },
		{ "SSL_read", s->progs.ra_ssl_read }, { "SSL_read_ex", s->progs.ra_ssl_read_ex },
	};
	unsigned long long start = pid > 0 ? proc_start(pid) : 0;
	struct tls_target *t;
	struct file_id id;
	struct stat st;

	if (stat(path, &st) || !S_ISREG(st.st_mode) || (pid > 0 && !start))
		return;
	file_id_of(&st, &id);
	for (int i = 0; i < ts->n; i++) {
		if (ts->t[i].kind == TARGET_OPENSSL && ts->t[i].id.dev == id.dev &&
		    ts->t[i].id.ino == id.ino && ts->t[i].pid == pid && ts->t[i].start == start)
			return;
	}
	t = new_target(ts, path, pid);
	if (!t)
		return;
	*t = (struct tls_target){ .kind = TARGET_OPENSSL, .id = id, .pid = pid, .start = start,
				  .fd = -1 };
	snprintf(t->path, sizeof(t->path), "%s", path);
	for (int f = 0; f < TLS_FUNCS; f++) {
		for (int ret = 0; ret <= 1; ret++) {
			LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = funcs[f].func, .retprobe = ret);
			struct bpf_link *l;

			l = bpf_program__attach_uprobe_opts(ret ? s->progs.ra_ssl_ret : funcs[f].prog,
							    pid, path, 0, &opts);
			if (!l) {	/* SSL_*_ex appeared in OpenSSL 1.1.1 */
				pr_debug("%s: %s: not probed: %s\n", path, funcs[f].func, strerror(errno));
				break;
			}
			t->links[t->nlinks++] = l;
		}
	}
	if (!t->nlinks)
		return;
	ts->n++;
	if (pid > 0)
		pr_info("probing OpenSSL in %s for pid %d (%d probes)\n", path, pid, t->nlinks);
	else
		pr_info("probing OpenSSL in %s (%d probes)\n", path, t->nlinks);
}

static void reject(struct tls_state *ts, const struct file_id *id)
{
	ts->rejected[ts->nrejected++ % TLS_REJECTED_MAX] = *id;
}

/* The HTTP/2 server copies in a Go program whose crypto/tls is probed (file
 * at path): a copy is probed whole or not at all. */
static void attach_go_h2(struct agent *a, struct tls_target *t, const struct elfbin *b,
			 const char *path)
{
	struct reqacct_bpf *s = a->skel;
	struct bpf_program *progs[GOTLS_H2_FUNCS] = {
		[GOTLS_H2_HEADERS] = s->progs.ra_h2_headers, [GOTLS_H2_STATUS] = s->progs.ra_h2_status,
		[GOTLS_H2_DATA] = s->progs.ra_h2_data, [GOTLS_H2_CLOSE] = s->progs.ra_h2_close,
	};
	char err[512], name[GOTLS_H2_NAME_MAX];
	__u64 off[GOTLS_H2_FUNCS];
	int first, rc;

	for (int c = 0; c < GOTLS_H2_COPIES; c++) {
		rc = gotls__h2_probes(b, c, off, err, sizeof(err));
		if (rc) {
			if (rc != -ENOENT)
				pr_warn("%s: HTTP/2 server not probed: %s\n", t->path, err);
			continue;
		}
		first = t->nlinks;
		for (int f = 0; f < GOTLS_H2_FUNCS; f++) {
			struct bpf_link *l = bpf_program__attach_uprobe(progs[f], false, -1, path,
									 off[f]);

			if (!l) {
				gotls__h2_name(c, f, name);
				pr_warn("%s: %s: not probed: %s\n", t->path, name, strerror(errno));
				while (t->nlinks > first)
					bpf_link__destroy(t->links[--t->nlinks]);
				break;
			}
			t->links[t->nlinks++] = l;
		}
		if (t->nlinks > first) {
			gotls__h2_name(c, GOTLS_H2_HEADERS, name);
			pr_info("probing Go's HTTP/2 server in %s (%.*s)\n", t->path,
				(int)(strstr(name, ".(") - name), name);
		}
	}
}

/* The program of a process, if it is Go with crypto/tls: probed for every
 * process that runs the same file. The file is read and probed through a
 * descriptor of it, so a process that exits meanwhile changes nothing. */
static void attach_go(struct agent *a, struct tls_state *ts, int pid)
{
	struct reqacct_bpf *s = a->skel;
	struct bpf_program *progs[GOTLS_FUNCS] = {
		[GOTLS_READ] = s->progs.ra_go_read, [GOTLS_WRITE] = s->progs.ra_go_write,
	};
	char exe[64], path[64], err[512];
	__u64 off[GOTLS_FUNCS];
	struct elfbin *b = NULL;
	struct tls_target *t;
	struct file_id id;
	struct stat st;
	ssize_t len;
	int fd, rc;

	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	if (stat(exe, &st) || !S_ISREG(st.st_mode))
		return;		/* gone, or a kernel thread */
	file_id_of(&st, &id);
	for (int i = 0; i < ts->n; i++) {
		t = &ts->t[i];
		if (t->kind != TARGET_GO || t->id.dev != id.dev || t->id.ino != id.ino)
			continue;
		if (same_file(&t->id, &id))
			return;
		/* Rewritten in place: the probes' offsets are the old file's. */
		pr_info("%s changed since it was probed: probing it again\n", t->path);
		detach(t);
		ts->t[i] = ts->t[--ts->n];
		break;
	}
	for (unsigned i = 0; i < TLS_REJECTED_MAX && i < ts->nrejected; i++)
		if (same_file(&ts->rejected[i], &id))
			return;
	fd = open(exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (fstat(fd, &st))
		goto out;
	file_id_of(&st, &id);
	rc = elfbin__open(path, &b, err, sizeof(err));
	if (rc) {
		reject(ts, &id);
		goto out;
	}
	rc = gotls__probes(b, off, err, sizeof(err));
	if (rc) {
		if (rc != -ENOENT)
			pr_warn("pid %d: Go crypto/tls not probed: %s\n", pid, err);
		reject(ts, &id);
		goto out;
	}
	t = new_target(ts, exe, pid);
	if (!t)
		goto out;
	*t = (struct tls_target){ .kind = TARGET_GO, .id = id, .pid = -1, .fd = -1 };
	len = readlink(exe, t->path, sizeof(t->path) - 1);
	t->path[len > 0 ? len : 0] = '\0';
	for (int f = 0; f < GOTLS_FUNCS; f++) {
		struct bpf_link *l = bpf_program__attach_uprobe(progs[f], false, -1, path, off[f]);

		if (!l) {
			pr_warn("%s (pid %d): %s: not probed: %s\n", t->path, pid, gotls_func_names[f],
				strerror(errno));
			detach(t);
			reject(ts, &id);
			goto out;
		}
		t->links[t->nlinks++] = l;
	}
	attach_go_h2(a, t, b, path);
	t->fd = fd;
	fd = -1;
	ts->n++;
	pr_info("probing Go crypto/tls in %s (pid %d and every process running it)\n", t->path,
		pid);
out:
	elfbin__close(b);
	if (fd >= 0)
		close(fd);
}

/* Are processes selected (tls_comms, tls_ports), or is every one probed? */
static bool selective(const struct agent *a)
{
	return a->cfg.ntls_comms || a->cfg.ntls_ports;
}

static void add_listening(struct tls_state *t, __u32 pid)
{
	for (int i = 0; i < t->nlistening; i++)
		if (t->listening[i] == pid)
			return;
	if (t->nlistening < RA_MAX_LISTENERS)
		t->listening[t->nlistening++] = pid;
}

/* The processes listening on a tls_ports port: the owners in ra_listeners
 * (seeded from /proc at start, kept by the BPF side at listen(2)). */
static void find_listening(struct agent *a, struct tls_state *t)
{
	__u32 max = bpf_map__max_entries(a->skel->maps.ra_listeners), n = 0;
	struct ra_listener_key *keys;
	struct ra_owner *owners;

	t->nlistening = 0;
	if (!a->cfg.ntls_ports)
		return;
	keys = calloc(max, sizeof(*keys));
	owners = calloc(max, sizeof(*owners));
	if (keys && owners &&
	    !dump_hash(bpf_map__fd(a->skel->maps.ra_listeners), sizeof(*keys), sizeof(*owners), max,
		       keys, owners, &n)) {
		for (__u32 i = 0; i < n; i++)
			if (config__has_port(a->cfg.tls_ports, a->cfg.ntls_ports, keys[i].port) && owners[i].tgid)
				add_listening(t, owners[i].tgid);
	}
	free(keys);
	free(owners);
}

/* Is a process selected by tls_comms or tls_ports (all are when both are
 * empty)? */
static bool selected(struct agent *a, struct tls_state *t, const char *pid)
{
	char path[300], comm[32] = "";
	FILE *f;

	if (!selective(a))
		return true;
	for (int i = 0; i < t->nlistening; i++)
		if (t->listening[i] == (__u32)atoi(pid))
			return true;
	if (!a->cfg.ntls_comms)
		return false;
	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fgets(comm, sizeof(comm), f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
	for (__u32 i = 0; i < a->cfg.ntls_comms; i++)
		if (!strcmp(comm, a->cfg.tls_comms[i]))
			return true;
	return false;
}

/* The TLS code of one process: its program if Go, the libssl files it maps
 * (through its own root); with tls_comms, OpenSSL for this process only. */
static void scan_proc(struct agent *a, struct tls_state *t, const char *pid)
{
	char maps[300], line[PATH_MAX + 128], path[PATH_MAX + 300];
	FILE *f;

	if (!selected(a, t, pid))
		return;
	if (a->cfg.tls & CONFIG_TLS_GO)
		attach_go(a, t, atoi(pid));
	if (!(a->cfg.tls & CONFIG_TLS_OPENSSL))
		return;
	snprintf(maps, sizeof(maps), "/proc/%s/maps", pid);
	f = fopen(maps, "re");
	while (f && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/');

		if (!p || !strstr(p, "/libssl.so"))
			continue;
		p[strcspn(p, "\n")] = '\0';
		if (strstr(p, " (deleted)"))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/root%s", pid, p);
		attach_lib(a, t, path, selective(a) ? atoi(pid) : -1);
	}
	if (f)
		fclose(f);
}

/* Every running process. */
static void scan_procs(struct agent *a, struct tls_state *t)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;

	find_listening(a, t);
	while (proc && (de = readdir(proc)))
		if (de->d_name[0] >= '1' && de->d_name[0] <= '9')
			scan_proc(a, t, de->d_name);
	if (proc)
		closedir(proc);
}

/* Is a target still what it was? An OpenSSL target of one process: while
 * that process lives (not a reused pid). A Go program: while its file
 * exists unchanged (a program run again soon, kubectl, is probed already;
 * one replaced by a new file or rewritten in place is not). */
static bool current(const struct tls_target *t)
{
	struct file_id id;
	struct stat st;

	if (t->kind == TARGET_OPENSSL)
		return t->pid <= 0 || proc_start(t->pid) == t->start;
	if (fstat(t->fd, &st) || !st.st_nlink)
		return false;
	file_id_of(&st, &id);
	return same_file(&id, &t->id);
}

/* Detach what is not current any more. */
static void reap(struct tls_state *ts)
{
	int i = 0;

	while (i < ts->n) {
		struct tls_target *t = &ts->t[i];

		if (current(t)) {
			i++;
			continue;
		}
		if (t->kind == TARGET_GO)
			pr_info("%s was replaced or removed: not probed any more\n", t->path);
		detach(t);
		ts->t[i] = ts->t[--ts->n];
	}
}

/* Distinct files among the targets of a kind. */
static int count_files(const struct tls_state *ts, enum target_kind kind)
{
	int n = 0;

	for (int i = 0; i < ts->n; i++) {
		bool seen = ts->t[i].kind != kind;

		for (int j = 0; j < i && !seen; j++)
			seen = ts->t[j].kind == kind && ts->t[j].id.dev == ts->t[i].id.dev &&
			       ts->t[j].id.ino == ts->t[i].id.ino;
		n += !seen;
	}
	return n;
}

static void count(struct tls_state *t)
{
	t->nlibs = count_files(t, TARGET_OPENSSL);
	t->nprogs = count_files(t, TARGET_GO);
}

/* A program started (ra_exec): look at it now. */
static int on_exec(void *ctx, void *data, size_t len)
{
	const struct ra_exec_event *e = data;
	struct agent *a = ctx;
	struct timespec t0, t1;
	char pid[16];

	if (len < sizeof(*e))
		return 0;
	if (e->kind == RA_PROC_LISTEN) {
		if (!config__has_port(a->cfg.tls_ports, a->cfg.ntls_ports, e->port))
			return 0;
		add_listening(a->tls, e->pid);
	}
	snprintf(pid, sizeof(pid), "%u", e->pid);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	scan_proc(a, a->tls, pid);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pr_debug("pid %s: looked at %.2f ms after its %s, for %.2f ms\n", pid,
		 (t0.tv_sec * 1e9 + t0.tv_nsec - e->ns) / 1e6, e->kind == RA_PROC_EXEC ? "exec" : "listen",
		 ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e6);
	return 0;
}

int tls__attach(struct agent *a)
{
	struct tls_state *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	a->tls = t;
	for (__u32 i = 0; i < a->cfg.ntls_ports; i++) {
		bool watched = false;

		for (__u32 j = 0; j < a->cfg.nports; j++)
			watched |= a->cfg.ports[j] == a->cfg.tls_ports[i];
		if (!watched)
			pr_warn("tls port %u is not a watched port (--port): nobody is selected by it\n",
				a->cfg.tls_ports[i]);
	}
	/* OpenSSL's usual files, for every process, running or not yet */
	if (!selective(a) && (a->cfg.tls & CONFIG_TLS_OPENSSL)) {
		for (size_t i = 0; i < sizeof(default_libs) / sizeof(default_libs[0]); i++)
			attach_lib(a, t, default_libs[i], -1);
		for (__u32 i = 0; i < a->cfg.ntls_libs; i++)
			attach_lib(a, t, a->cfg.tls_libs[i], -1);
	}
	scan_procs(a, t);
	count(t);
	if (!t->n)
		pr_info("no OpenSSL library or Go program with crypto/tls to probe yet\n");
	t->exec = ring_buffer__new(bpf_map__fd(a->skel->maps.ra_exec_events), on_exec, a, NULL);
	if (!t->exec)
		pr_warn("no ring buffer for started programs (%s): new Go programs are found "
			"every %u s\n", strerror(errno), a->cfg.tls_rescan_s);
	else if (ring_buffer__add(t->exec, bpf_map__fd(a->skel->maps.ra_http_events),
				  k8s__on_request, a) ||
		 ring_buffer__add(t->exec, bpf_map__fd(a->skel->maps.ra_h2_frames),
				  h2flow__on_chunk, a))
		pr_warn("no ring buffer for Kubernetes requests (%s): not resolved\n",
			strerror(errno));
	return 0;
}

void tls__rescan(struct agent *a)
{
	if (!a->tls)
		return;
	reap(a->tls);
	scan_procs(a, a->tls);
	count(a->tls);
}

int tls__exec_fd(struct agent *a)
{
	return a->tls && a->tls->exec ? ring_buffer__epoll_fd(a->tls->exec) : -1;
}

void tls__exec_events(struct agent *a)
{
	if (!a->tls || !a->tls->exec)
		return;
	if (ring_buffer__consume(a->tls->exec) < 0)
		pr_warn("reading started programs: %s\n", strerror(errno));
	count(a->tls);
}

void tls__poll(struct agent *a)
{
	if (a->tls && a->tls->exec && ring_buffer__consume(a->tls->exec) < 0)
		pr_warn("reading ring buffers: %s\n", strerror(errno));
}

void tls__free(struct tls_state *t)
{
	if (!t)
		return;
	ring_buffer__free(t->exec);
	for (int i = 0; i < t->n; i++)
		detach(&t->t[i]);
	free(t);
}

const char *http__method_name(__u8 m)
{
	static const char *const names[RA_HTTP_M_MAX] = {
#define RA_HTTP_M_NAME(name) [RA_HTTP_M_##name] = #name,
		RA_HTTP_METHODS(RA_HTTP_M_NAME)
#undef RA_HTTP_M_NAME
		[RA_HTTP_M_OTHER] = "other",
	};

	return names[m % RA_HTTP_M_MAX];
}

static const __u32 lat_bounds_us[RA_HTTP_LAT_BOUNDS] = { RA_HTTP_LAT_BOUNDS_US };

struct http_row {
	struct ra_http_key k;
	struct ra_http_val v;
	struct flow_names n;
	char status[sizeof(PEER_OVERFLOW)];	/* "599", "unknown" or "overflow" */
};

static int cmp_http_row(const void *pa, const void *pb)
{
	const struct http_row *a = pa, *b = pb;
	int c = flow_names_cmp(&a->n, &b->n);

	if (c)
		return c;
	if (a->k.method != b->k.method)
		return a->k.method < b->k.method ? -1 : 1;
	return a->k.status < b->k.status ? -1 : a->k.status > b->k.status;
}

static void sum_http(const struct ra_http_val *pcpu, int ncpus, struct ra_http_val *out)
{
	const size_t nu = offsetof(struct ra_http_val, last_tgid) / sizeof(__u64);

	memset(out, 0, sizeof(*out));
	for (int c = 0; c < ncpus; c++)
		for (size_t i = 0; i < nu; i++)
			((__u64 *)out)[i] += ((const __u64 *)&pcpu[c])[i];
}

/* The labels of a row: the flow's, method and status. */
static void row_labels(const struct http_row *r, struct prom_label *l)
{
	flow_labels(&r->n, l);
	l[FLOW_LABELS] = (struct prom_label){ "method", http__method_name(r->k.method) };
	l[FLOW_LABELS + 1] = (struct prom_label){ "status", r->status };
}

#define HTTP_LABELS (FLOW_LABELS + 2)

/* Requests: which of the flows first seen at once keep their peer. */
static __u64 http_weight(const void *val)
{
	return ((const struct ra_http_val *)val)->requests;
}

void tls__collect(struct agent *a, struct prom_buf *b, struct map_entries *e)
{
	__u32 max = bpf_map__max_entries(a->skel->maps.ra_http_flows), n = 0;
	struct ra_http_key *keys = calloc(max, sizeof(*keys));
	struct ra_http_val *vals = calloc(max, sizeof(*vals));
	struct ra_http_val *pcpu = calloc(a->ncpus, sizeof(*pcpu));
	struct http_row *r = calloc(max + RA_ROLE_MAX, sizeof(*r));
	/* A Go process's reads are seen at their entry, without their length:
	 * a Go server's request bytes and a Go client's response bytes are not
	 * known, and left out rather than shown as 0. */
	static const struct {
		const char *name, *help;
		size_t off;
		int go_unknown_role;	/* the role whose bytes a Go process read, or -1 */
	} counters[] = {
		{ "reqacct_http_requests_total",
		  "HTTP/1.x requests over TLS, per process (cgroup, comm), role, port, peer, method "
		  "and final status (\"unknown\": the connection closed before it was seen).",
		  offsetof(struct ra_http_val, requests), -1 },
		{ "reqacct_http_request_bytes_total",
		  "Bytes of those requests (request line, headers, body) before encryption. Not "
		  "for Go servers (what a Go process reads has no known length).",
		  offsetof(struct ra_http_val, req_bytes), RA_ROLE_SERVER },
		{ "reqacct_http_response_bytes_total",
		  "Bytes of their responses (status line, headers, body) before encryption. Not "
		  "for Go clients.", offsetof(struct ra_http_val, resp_bytes), RA_ROLE_CLIENT },
	};
	size_t nr = 0;

	if (!keys || !vals || !pcpu || !r ||
	    dump_hash(bpf_map__fd(a->skel->maps.ra_http_flows), sizeof(*keys), sizeof(*vals), max,
		      keys, vals, &n))
		goto out;
	e->http_flows = n;
	n = peers__fold(a->peers, keys, vals, n, sizeof(*keys), sizeof(*vals),
			offsetof(struct ra_http_val, last_tgid) / sizeof(__u64), http_weight);
	for (__u32 i = 0; i < n; i++, nr++) {
		r[nr].k = keys[i];
		r[nr].v = vals[i];
		flow_names(a, &keys[i].flow, &r[nr].n);
	}
	for (__u32 role = 0; role < RA_ROLE_MAX; role++) {
		if (percpu_lookup(a, bpf_map__fd(a->skel->maps.ra_http_overflow), &role, pcpu, sizeof(*pcpu)))
			continue;
		sum_http(pcpu, a->ncpus, &r[nr].v);
		if (!r[nr].v.requests && !r[nr].v.resp_bytes)
			continue;
		r[nr].k.method = RA_HTTP_M_OTHER;
		flow_names_overflow(&r[nr].n, role, 0);
		strcpy(r[nr].status, PEER_OVERFLOW);
		nr++;
	}
	for (size_t i = 0; i < nr; i++) {
		if (r[i].status[0])
			continue;
		if (r[i].k.status)
			snprintf(r[i].status, sizeof(r[i].status), "%u", r[i].k.status);
		else
			strcpy(r[i].status, "unknown");
	}
	qsort(r, nr, sizeof(*r), cmp_http_row);
	for (size_t c = 0; c < sizeof(counters) / sizeof(counters[0]); c++) {
		prom__family(b, counters[c].name, "counter", counters[c].help);
		for (size_t i = 0; i < nr; i++) {
			struct prom_label l[HTTP_LABELS];

			if (r[i].k.lib == RA_TLS_GO && r[i].k.flow.role == counters[c].go_unknown_role)
				continue;
			row_labels(&r[i], l);
			prom__sample_u64(b, counters[c].name, l, HTTP_LABELS,
					 *(const __u64 *)((const char *)&r[i].v + counters[c].off));
		}
	}
	prom__family(b, "reqacct_http_request_duration_seconds", "histogram",
		     "First request byte to last response byte, as the process saw them; counted "
		     "when the next request on the connection starts or the connection closes, for "
		     "requests with a final status.");
	for (size_t i = 0; i < nr; i++) {
		struct prom_label l[HTTP_LABELS + 1];

		row_labels(&r[i], l);
		histogram_samples(b, "reqacct_http_request_duration_seconds", l, HTTP_LABELS, r[i].v.lat,
				  lat_bounds_us, RA_HTTP_LAT_BOUNDS, r[i].v.lat_sum_ns);
	}
	prom__family(b, "reqacct_tls_libraries_probed", "gauge",
		     "OpenSSL library files whose SSL_read/SSL_write the agent probes.");
	prom__sample_u64(b, "reqacct_tls_libraries_probed", NULL, 0, a->tls ? a->tls->nlibs : 0);
	prom__family(b, "reqacct_tls_go_programs_probed", "gauge",
		     "Go program files whose crypto/tls Read/Write the agent probes.");
	prom__sample_u64(b, "reqacct_tls_go_programs_probed", NULL, 0, a->tls ? a->tls->nprogs : 0);
out:
	free(keys);
	free(vals);
	free(pcpu);
	free(r);
}
