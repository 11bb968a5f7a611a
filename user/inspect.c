// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * inspect.c - `reqacct inspect BINARY|PID`: read a program (or a process's
 * program and the libssl it maps) with elfbin and print where the TLS uprobes
 * would go and why not, without loading anything into the kernel.
 */
#include <elf.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elfbin.h"
#include "gotls.h"
#include "inspect.h"

#define MAX_RETS 256
#define EXIT_TRACEABLE 0
#define EXIT_NOT_TRACEABLE 1
#define EXIT_USAGE 2

struct probe_fn {
	const char *name;
	bool required; /* the binary cannot be traced without it */
};

static const struct probe_fn go_fns[GOTLS_FUNCS] = {
    [GOTLS_READ] = {GOTLS_READ_NAME, true},
    [GOTLS_WRITE] = {GOTLS_WRITE_NAME, true},
};

/* SSL_read_ex/SSL_write_ex: OpenSSL 1.1.1+, absent in BoringSSL. */
static const struct probe_fn ssl_fns[] = {
    {"SSL_read", true},
    {"SSL_write", true},
    {"SSL_read_ex", false},
    {"SSL_write_ex", false},
};

/* Where Debian-like systems keep shared libraries, by e_machine. */
static const char *const lib_dirs_x86[] = {"/lib/x86_64-linux-gnu",
					   "/usr/lib/x86_64-linux-gnu",
					   "/lib64",
					   "/usr/lib64",
					   "/lib",
					   "/usr/lib",
					   NULL};
static const char *const lib_dirs_arm64[] = {"/lib/aarch64-linux-gnu",
					     "/usr/lib/aarch64-linux-gnu",
					     "/lib64",
					     "/usr/lib64",
					     "/lib",
					     "/usr/lib",
					     NULL};

static void usage(FILE *f)
{
	fprintf(f, "Usage: reqacct inspect [OPTIONS] BINARY|PID\n"
		   "\n"
		   "Show where reqacct would put its TLS uprobes in a program, or why it\n"
		   "cannot: the ELF class and machine, the Go version and golang.org/x/net\n"
		   "version of a Go program, the TLS library it uses (Go crypto/tls, or\n"
		   "OpenSSL's SSL_read/SSL_write/SSL_read_ex/SSL_write_ex in its own symbols,\n"
		   "in a libssl it links, or, for a PID, in the libssl it maps), and for each\n"
		   "function it would probe: the address range, the entry probe's file offset\n"
		   "and instruction, and the file offsets of every return instruction.\n"
		   "Nothing is loaded into the kernel. For a PID the program is read through\n"
		   "/proc/PID/exe and libraries through /proc/PID/root, so processes in\n"
		   "containers work too (that needs the right to read them: root).\n"
		   "\n"
		   "Options:\n"
		   "  -h, --help   this text\n"
		   "\n"
		   "Exit status: 0 traceable, 1 not traceable or unreadable, 2 usage error.\n"
		   "\n"
		   "EXAMPLES:\n"
		   "  reqacct inspect /usr/bin/etcd\n"
		   "  reqacct inspect $(pidof kube-apiserver)\n"
		   "  reqacct inspect /usr/lib/x86_64-linux-gnu/libssl.so.3\n");
}

static const char *machine_name(__u16 m)
{
	switch (m) {
	case EM_X86_64:
		return "x86-64";
	case EM_AARCH64:
		return "arm64";
	case EM_386:
		return "i386";
	case EM_ARM:
		return "arm";
	case EM_RISCV:
		return "riscv";
	case EM_PPC64:
		return "ppc64";
	case EM_S390:
		return "s390";
	default:
		return "other";
	}
}

static const char *pcln_format(__u32 magic)
{
	switch (magic) {
	case 0xfffffffa:
		return "Go 1.16/1.17 format";
	case 0xfffffff0:
		return "Go 1.18/1.19 format";
	case 0xfffffff1:
		return "Go 1.20+ format";
	default:
		return "unknown format";
	}
}

/* Print one function's probes. false (with the reason printed) if it cannot
 * be probed. */
static bool show_fn(const struct elfbin *b, const struct probe_fn *fn, bool *missing)
{
	__u64 start, end, entry, start_off, offs[MAX_RETS];
	struct elfbin_insn insn;
	char err[512];
	int n;

	*missing = false;
	if (elfbin__func(b, fn->name, &start, &end)) {
		*missing = true;
		printf("  %s: not in the binary%s\n", fn->name,
		       fn->required ? "" : " (optional: OpenSSL before 1.1.1, or BoringSSL)");
		return !fn->required;
	}
	printf("  %s: [0x%llx, 0x%llx), %llu bytes\n", fn->name, (unsigned long long)start,
	       (unsigned long long)end, (unsigned long long)(end - start));
	if (elfbin__entry_probe(b, start, end, &entry, err, sizeof(err))) {
		printf("    entry probe: none: %s\n", err);
		return false;
	}
	if (elfbin__offset(b, start, &start_off) ||
	    elfbin__insn(b, start + (entry - start_off), &insn, err, sizeof(err))) {
		printf("    entry probe: none: %s\n", err);
		return false;
	}
	printf("    entry probe: file offset 0x%llx (0x%llx, +%llu): %s (%s)\n",
	       (unsigned long long)entry, (unsigned long long)insn.vaddr,
	       (unsigned long long)(insn.vaddr - start), insn.text,
	       insn.emulated ? "emulated by the kernel, about 1 us a hit"
			     : "single-stepped by the kernel, about 15 us a hit");
	if (elfbin__rets(b, start, end, offs, MAX_RETS, &n, err, sizeof(err))) {
		printf("    returns: none: %s\n", err);
		return false;
	}
	printf("    returns: %d at file offsets", n);
	for (int i = 0; i < n; i++)
		printf("%s0x%llx", i && i % 8 == 0 ? "\n      " : " ", (unsigned long long)offs[i]);
	printf("\n");
	return true;
}

/* The HTTP/2 server copies a Go program holds, and whether they are probed
 * (optional: without them HTTP/2 requests are not counted). */
static void show_h2(const struct elfbin *b)
{
	char name[GOTLS_H2_NAME_MAX], err[512];
	__u64 off[GOTLS_H2_FUNCS];
	int rc;

	for (int c = 0; c < GOTLS_H2_COPIES; c++) {
		gotls__h2_name(c, GOTLS_H2_HEADERS, name);
		*strstr(name, ".(") = '\0';
		rc = gotls__h2_probes(b, c, off, err, sizeof(err));
		if (rc == -ENOENT)
			printf("HTTP/2 server of %s: not in the binary\n", name);
		else if (rc)
			printf("HTTP/2 server of %s: not probed: %s\n", name, err);
		else {
			printf("HTTP/2 server of %s: probed, entry probes at file offsets", name);
			for (int f = 0; f < GOTLS_H2_FUNCS; f++)
				printf(" 0x%llx", (unsigned long long)off[f]);
			printf("\n");
		}
	}
}

/* Probe a table of functions; true if every required one can be probed. */
static bool show_fns(const struct elfbin *b, const struct probe_fn *fns, size_t n)
{
	bool ok = true, missing;

	for (size_t i = 0; i < n; i++)
		ok &= show_fn(b, &fns[i], &missing);
	return ok;
}

static bool has_ssl_api(const struct elfbin *b)
{
	__u64 s, e;

	return !elfbin__func(b, "SSL_read", &s, &e) && !elfbin__func(b, "SSL_write", &s, &e);
}

/* The libssl a process maps (from /proc/PID/maps), as a path in its mount
 * namespace. */
static bool mapped_libssl(const char *pid, char *path, size_t len)
{
	char maps[64], line[PATH_MAX + 128];
	bool found = false;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%s/maps", pid);
	f = fopen(maps, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/'), *base;

		if (!p)
			continue;
		p[strcspn(p, "\n")] = '\0';
		base = strrchr(p, '/') + 1;
		if (!strncmp(base, "libssl.so", 9) || !strncmp(base, "libssl3.so", 10)) {
			snprintf(path, len, "%s", p);
			found = true;
		}
	}
	fclose(f);
	return found;
}

/* A DT_NEEDED libssl in the usual library directories. */
static bool find_lib(const struct elfbin *b, const char *soname, char *path, size_t len)
{
	const char *const *dirs =
	    elfbin__info(b)->machine == EM_AARCH64 ? lib_dirs_arm64 : lib_dirs_x86;

	for (; *dirs; dirs++) {
		snprintf(path, len, "%s/%s", *dirs, soname);
		if (!access(path, R_OK))
			return true;
	}
	return false;
}

static bool show_libssl(const char *path, const char *why, char *reason, size_t len)
{
	struct elfbin *lib;
	char err[512];
	bool ok;

	printf("TLS: OpenSSL in %s (%s)\n", path, why);
	if (elfbin__open(path, &lib, err, sizeof(err))) {
		snprintf(reason, len, "cannot read the library: %s", err);
		return false;
	}
	if (!has_ssl_api(lib)) {
		snprintf(reason, len, "%s defines no SSL_read/SSL_write symbols", path);
		elfbin__close(lib);
		return false;
	}
	ok = show_fns(lib, ssl_fns, sizeof(ssl_fns) / sizeof(ssl_fns[0]));
	elfbin__close(lib);
	return ok;
}

/* For a PID: say which file /proc/PID/exe is, and whether it lives in another
 * mount namespace (a container). */
static void describe_pid(const char *pid)
{
	char link[64], target[PATH_MAX], ns[2][64], buf[2][64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%s/exe", pid);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0) {
		printf("process %s: %s: %s\n", pid, link, strerror(errno));
		return;
	}
	target[n] = '\0';
	snprintf(ns[0], sizeof(ns[0]), "/proc/%s/ns/mnt", pid);
	snprintf(ns[1], sizeof(ns[1]), "/proc/self/ns/mnt");
	for (int i = 0; i < 2; i++) {
		n = readlink(ns[i], buf[i], sizeof(buf[i]) - 1);
		buf[i][n < 0 ? 0 : n] = '\0';
	}
	printf("process %s: %s is %s%s\n", pid, link, target,
	       buf[0][0] && strcmp(buf[0], buf[1])
		   ? " in the process's own mount namespace (a container), read through /proc"
		   : "");
}

static int inspect(const char *arg)
{
	char path[PATH_MAX], err[512], lib[PATH_MAX], libpath[PATH_MAX + 64], reason[1024];
	const struct elfbin_info *in;
	const char *pid = NULL, *ver, *needed;
	bool ok = false;
	struct elfbin *b;

	snprintf(reason, sizeof(reason), "a probe cannot be placed (see above)");
	if (arg[strspn(arg, "0123456789")] == '\0') {
		pid = arg;
		snprintf(path, sizeof(path), "/proc/%s/exe", pid);
		describe_pid(pid);
	} else {
		snprintf(path, sizeof(path), "%s", arg);
	}
	if (elfbin__open(path, &b, err, sizeof(err))) {
		printf("traceable: no: %s\n", err);
		return EXIT_NOT_TRACEABLE;
	}
	in = elfbin__info(b);
	printf("file: %s\nELF: ELF%d %s, %s\n", path, in->elf_class, machine_name(in->machine),
	       in->pie ? "position-independent (ET_DYN)" : "fixed address (ET_EXEC)");
	if (in->go) {
		ver = elfbin__go_version(b);
		printf("Go: %s%s%s%s\n", ver ? ver : "version unknown", ver ? " (from " : "",
		       ver ? in->version_from : "",
		       ver ? ")" : " (no build info, no runtime.buildVersion)");
		printf("  pclntab: %s at 0x%llx (%s), %llu functions, function base 0x%llx (%s)\n",
		       in->pclntab_where, (unsigned long long)in->pclntab_vaddr,
		       pcln_format(in->pclntab_magic), (unsigned long long)in->nfunc,
		       (unsigned long long)in->text,
		       in->text_from ? in->text_from : "absolute entries");
		if (in->moduledata)
			printf("  runtime.firstmoduledata: 0x%llx\n",
			       (unsigned long long)in->moduledata);
		printf("  golang.org/x/net: %s\n",
		       elfbin__go_module(b, "golang.org/x/net")
			   ?: "not in the build info (not a dependency, or built without modules)");
	} else {
		printf("Go: no (no pclntab)\n");
	}
	if (!in->disasm) {
		printf("traceable: no: no instruction decoder for %s (x86-64 and arm64 only)\n",
		       machine_name(in->machine));
		goto out;
	}
	if (in->go) {
		__u64 s, e;

		if (elfbin__func(b, go_fns[0].name, &s, &e)) {
			printf("TLS: none: %s is not in the binary (no crypto/tls, or the linker "
			       "dropped it)\n",
			       go_fns[0].name);
		} else {
			printf("TLS: Go crypto/tls\n");
			ok = show_fns(b, go_fns, GOTLS_FUNCS);
			if (ok && gotls__probes(b, (__u64[GOTLS_FUNCS]){ 0 }, reason, sizeof(reason)))
				ok = false;
			if (ok)
				show_h2(b);
			goto verdict;
		}
	}
	if (has_ssl_api(b)) {
		printf("TLS: OpenSSL API (SSL_read, SSL_write) in the binary itself\n");
		ok = show_fns(b, ssl_fns, sizeof(ssl_fns) / sizeof(ssl_fns[0]));
		goto verdict;
	}
	if (pid && mapped_libssl(pid, lib, sizeof(lib))) {
		snprintf(libpath, sizeof(libpath), "/proc/%s/root%s", pid, lib);
		ok = show_libssl(libpath, "mapped by the process, /proc/PID/maps", reason,
				 sizeof(reason));
		goto verdict;
	}
	needed = elfbin__needed(b, "libssl");
	if (needed && find_lib(b, needed, lib, sizeof(lib))) {
		ok = show_libssl(lib, "DT_NEEDED", reason, sizeof(reason));
		goto verdict;
	}
	if (needed) {
		printf("traceable: no: links %s but it is not in the usual library directories; "
		       "inspect the library itself\n",
		       needed);
		goto out;
	}
	printf("traceable: no: no TLS library: no Go crypto/tls, no SSL_read/SSL_write symbols, no "
	       "libssl%s\n",
	       pid ? " mapped"
		   : " linked (for a running program, give its PID: libraries it loads are read "
		     "from /proc/PID/maps)");
	goto out;
verdict:
	if (ok)
		printf("traceable: yes\n");
	else
		printf("traceable: no: %s\n", reason);
out:
	elfbin__close(b);
	return ok ? EXIT_TRACEABLE : EXIT_NOT_TRACEABLE;
}

int do_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "reqacct inspect: unknown option '%s' (see --help)\n",
				argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "reqacct inspect: want one BINARY or PID (see --help)\n");
		return EXIT_USAGE;
	}
	return inspect(argv[optind]);
}
