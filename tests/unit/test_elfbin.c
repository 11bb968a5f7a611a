// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_elfbin.c - elfbin against real stripped Go binaries and libssl, with
 * expectations from independent readers: tests/tools/pclntab.py (its own
 * implementation of the pclntab and build info formats) for versions and
 * function ranges, and objdump (binutils; llvm-objdump for arm64) for return
 * instructions and the instruction under the entry probe. Also hand-made
 * tiny ELF files (tests/fuzz/corpus/elfbin, from tests/tools/mkelfseeds.py),
 * a Go 1.26-style PIE made from a Go 1.19 one (tests/tools/go126pie.py), and
 * truncated and corrupted copies, which must be rejected with a message.
 *
 * Binaries: Debian's Go 1.19 etcd, hey, prometheus (missing under CI=true:
 * a failure, else a skip), esbuild from npm (Go 1.26; tests/fixtures/esbuild),
 * kubectl 1.27-1.33 under /usr/lib/google-cloud-sdk/bin (Go 1.22-1.24; skipped
 * when absent), and tests/fixtures/gotls built with Go 1.19 in four layouts.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first: its own block */
#include <cmocka.h>

#include "elfbin.h"
#include "inspect.h"

#define MAX_INSNS 4096
#define MAX_RETS 256
#define SEEDS "tests/fuzz/corpus/elfbin"
#define ESBUILD "tests/fixtures/esbuild/node_modules/@esbuild/linux-x64/bin/esbuild"
#define KUBECTL_DIR "/usr/lib/google-cloud-sdk/bin"
#define PT_LOAD_ 1

static const char *const tls_fns[] = {"crypto/tls.(*Conn).Read", "crypto/tls.(*Conn).Write"};

enum need {
	NEED_CI,       /* installed by tools/install-deps.sh: missing under CI=true fails */
	NEED_OPTIONAL, /* on some machine images only: skipped when absent */
};

struct bin_case {
	const char *desc;
	const char *path; /* relative: under the gotls build directory if built */
	enum need need;
	bool built; /* built by tests/tools/build-gotls.sh */
	bool arm64;
	const char *version_from; /* expected source of the version */
};

static char gotls_dir[512]; /* <dir of this test>/gotls */
static int gotls_rc = -1;   /* build-gotls.sh exit status, built once */
static char tmpdir[64];

/* ---- helpers ---- */

static bool ci(void)
{
	const char *c = getenv("CI");

	return c && !strcmp(c, "true");
}

/* Skip (or, for what CI installs, fail under CI=true) with a visible reason. */
static void missing(enum need need, const char *what, const char *how)
{
	if (need == NEED_CI && ci())
		fail_msg("%s is missing (CI=true: required; %s)", what, how);
	printf("[  SKIP    ] %s is missing (%s)\n", what, how);
	skip();
}

static char *read_cmd(const char *cmd, int *status)
{
	size_t cap = 1 << 16, len = 0, n;
	char *buf = malloc(cap);
	FILE *f = popen(cmd, "r");

	assert_non_null(buf);
	assert_non_null(f);
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (len + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
	}
	buf[len] = '\0';
	*status = pclose(f);
	return buf;
}

/* What tests/tools/pclntab.py says about a binary. */
struct py_func {
	bool found;
	__u64 start, end;
};

struct py_exp {
	bool go;
	char version[128], version_from[32], xnet[64];
	__u32 magic;
	__u64 pcln_va, nfunc, text, pcln_off, bi_off, md;
	struct py_func f[4];
};

static void py_expect(const char *path, const char *const *fns, int nfns, struct py_exp *x)
{
	char cmd[2048], *out, *line, *save = NULL;
	int st, len;

	memset(x, 0, sizeof(*x));
	len = snprintf(cmd, sizeof(cmd), "python3 tests/tools/pclntab.py '%s'", path);
	for (int i = 0; i < nfns; i++)
		len += snprintf(cmd + len, sizeof(cmd) - len, " '%s'", fns[i]);
	out = read_cmd(cmd, &st);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long u[5];
		char a[256];

		if (sscanf(line, "version %127s %31s", x->version, x->version_from) == 2)
			continue;
		if (sscanf(line, "module golang.org/x/net %63s", x->xnet) == 1)
			continue;
		if (sscanf(line, "buildinfo %llx", &u[0]) == 1) {
			x->bi_off = u[0];
			continue;
		}
		if (sscanf(line, "pclntab %llx %llx %llu %llx %llx", &u[0], &u[1], &u[2], &u[3],
			   &u[4]) == 5) {
			x->go = true;
			x->magic = (__u32)u[0];
			x->pcln_va = u[1];
			x->nfunc = u[2];
			x->text = u[3];
			x->pcln_off = u[4];
			continue;
		}
		if (sscanf(line, "moduledata %llx", &u[0]) == 1) {
			x->md = u[0];
			continue;
		}
		if (sscanf(line, "func %255s %llx %llx", a, &u[0], &u[1]) == 3) {
			for (int i = 0; i < nfns; i++)
				if (!strcmp(a, fns[i]))
					x->f[i] = (struct py_func){true, u[0], u[1]};
			continue;
		}
	}
	free(out);
}

/* objdump's view of [start, end): one entry per instruction. */
struct dis {
	__u64 addr;
	char mn[24];
	char ops[128];
};

static int disasm(const char *path, bool arm64, __u64 start, __u64 end, struct dis *d, int max)
{
	char cmd[1024], *out, *line, *save = NULL;
	int st, n = 0;

	snprintf(cmd, sizeof(cmd),
		 "%s -d --no-show-raw-insn --start-address=0x%llx --stop-address=0x%llx '%s'",
		 arm64 ? "llvm-objdump" : "objdump", (unsigned long long)start,
		 (unsigned long long)end, path);
	out = read_cmd(cmd, &st);
	assert_int_equal(st, 0);
	for (line = strtok_r(out, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long a;
		char *p;
		int used = 0;

		if (sscanf(line, " %llx:%n", &a, &used) != 1 || !used || a < start || a >= end)
			continue;
		p = line + used;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			continue;
		d[n].addr = a;
		sscanf(p, "%23s", d[n].mn);
		p += strlen(d[n].mn);
		while (*p == ' ' || *p == '\t')
			p++;
		snprintf(d[n].ops, sizeof(d[n].ops), "%s", p);
		n++;
	}
	free(out);
	return n;
}

static bool dis_is_ret(const struct dis *d)
{
	return !strcmp(d->mn, "ret") || !strcmp(d->mn, "retq") ||
	       ((!strcmp(d->mn, "repz") || !strcmp(d->mn, "bnd")) && !strncmp(d->ops, "ret", 3));
}

static int copy_file(const char *from, const char *to, size_t len)
{
	char cmd[1200];
	int st;

	if (len == (size_t)-1)
		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	else
		snprintf(cmd, sizeof(cmd), "head -c %zu '%s' > '%s'", len, from, to);
	st = system(cmd);
	return st;
}

static void patch(const char *path, __u64 off, const void *bytes, size_t n)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, bytes, n, (off_t)off), (ssize_t)n);
	close(fd);
}

static __u64 read_u64(const char *path, __u64 off)
{
	int fd = open(path, O_RDONLY);
	__u64 v = 0;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &v, sizeof(v), (off_t)off), (ssize_t)sizeof(v));
	close(fd);
	return v;
}

/* The Go 1.19 fixtures, built once (about 30 s cold, reused afterwards). */
static const char *gotls(const char *name)
{
	static char path[600];
	char cmd[700];

	if (gotls_rc < 0) {
		snprintf(cmd, sizeof(cmd), "tests/tools/build-gotls.sh '%s' >&2", gotls_dir);
		gotls_rc = WEXITSTATUS(system(cmd));
	}
	if (gotls_rc == 77)
		missing(NEED_CI, "Go 1.19 (/usr/lib/go-1.19/bin/go)",
			"apt-get install golang-1.19-go");
	assert_int_equal(gotls_rc, 0);
	snprintf(path, sizeof(path), "%s/%s", gotls_dir, name);
	return path;
}

/* The binary the corruption tests damage copies of: small, always there. */
static const char *victim(void)
{
	return access("/usr/bin/hey", R_OK) ? gotls("static") : "/usr/bin/hey";
}

/* ---- one function: range, entry probe and RETs against the readers ---- */

static void check_fn(struct elfbin *b, const char *path, bool arm64, bool go, const char *name,
		     const struct py_func *pf, char *summary, size_t slen)
{
	static struct dis d[MAX_INSNS];
	__u64 start, end, entry, offs[MAX_RETS], off;
	struct elfbin_insn insn;
	char err[512];
	int n, nd, nret = 0, k = -1;

	assert_int_equal(elfbin__func(b, name, &start, &end), 0);
	if (pf) {
		assert_true(pf->found);
		assert_int_equal(start, pf->start);
		assert_int_equal(end, pf->end);
	}
	nd = disasm(path, arm64, start, end, d, MAX_INSNS);
	assert_true(nd > 0);
	assert_int_equal(d[0].addr, start);

	/* RETs: the same addresses objdump decodes as returns */
	if (elfbin__rets(b, start, end, offs, MAX_RETS, &n, err, sizeof(err)))
		fail_msg("%s %s: %s", path, name, err);
	for (int i = 0; i < nd; i++) {
		if (!dis_is_ret(&d[i]))
			continue;
		assert_true(nret < n);
		assert_int_equal(elfbin__offset(b, d[i].addr, &off), 0);
		assert_int_equal(offs[nret], off);
		nret++;
	}
	assert_int_equal(nret, n);
	assert_true(n > 0);

	/* Entry probe: an instruction boundary in objdump's sweep */
	if (elfbin__entry_probe(b, start, end, &entry, err, sizeof(err)))
		fail_msg("%s %s: %s", path, name, err);
	assert_int_equal(elfbin__offset(b, start, &off), 0);
	assert_int_equal(elfbin__insn(b, start + (entry - off), &insn, err, sizeof(err)), 0);
	assert_int_equal(insn.file_off, entry);
	for (int i = 0; i < nd; i++)
		if (d[i].addr == insn.vaddr)
			k = i;
	if (k < 0)
		fail_msg("%s %s: entry probe 0x%llx is not an instruction boundary for objdump",
			 path, name, (unsigned long long)insn.vaddr);
	if (go) {
		/* after Go's stack check: a conditional jump right after the cmp */
		assert_true(k >= 1);
		assert_string_equal(d[k - 1].mn, "cmp");
		if (arm64) {
			assert_true(!strncmp(d[k].mn, "b.", 2));
		} else {
			assert_non_null(strstr(d[k - 1].ops, "0x10(%r14)"));
			assert_true(d[k].mn[0] == 'j' && strcmp(d[k].mn, "jmp"));
		}
		assert_true(insn.emulated);
	} else {
		assert_int_equal(insn.vaddr, start);
	}
	snprintf(summary + strlen(summary), slen - strlen(summary),
		 "\n    %-26s [0x%llx, 0x%llx) %4llu B  entry +%llu: %-22s %s  RETs %d", name,
		 (unsigned long long)start, (unsigned long long)end,
		 (unsigned long long)(end - start), (unsigned long long)(insn.vaddr - start),
		 insn.text, insn.emulated ? "(emulated)" : "(single-step)", n);
}

static void check_go_binary(const char *desc, const char *path, bool arm64,
			    const char *version_from)
{
	const struct elfbin_info *in;
	char err[512], summary[2048];
	struct py_exp x;
	struct elfbin *b;

	py_expect(path, tls_fns, 2, &x);
	assert_true(x.go);
	if (elfbin__open(path, &b, err, sizeof(err)))
		fail_msg("%s: %s", path, err);
	in = elfbin__info(b);
	assert_true(in->go);
	assert_true(in->disasm);
	assert_int_equal(in->pclntab_magic, x.magic);
	assert_int_equal(in->pclntab_vaddr, x.pcln_va);
	assert_int_equal(in->nfunc, x.nfunc);
	assert_int_equal(in->text, x.text);
	assert_non_null(elfbin__go_version(b));
	assert_string_equal(elfbin__go_version(b), x.version);
	assert_string_equal(in->version_from, version_from);
	if (x.xnet[0])
		assert_string_equal(elfbin__go_module(b, "golang.org/x/net"), x.xnet);
	else
		assert_null(elfbin__go_module(b, "golang.org/x/net"));
	snprintf(summary, sizeof(summary),
		 "  %s: %s (%s), x/net %s, pclntab %s 0x%x, base 0x%llx (%s)", desc, x.version,
		 in->version_from, x.xnet[0] ? x.xnet : "-", in->pclntab_where, in->pclntab_magic,
		 (unsigned long long)in->text, in->text_from ? in->text_from : "-");
	for (int i = 0; i < 2; i++)
		check_fn(b, path, arm64, true, tls_fns[i], &x.f[i], summary, sizeof(summary));
	printf("%s\n", summary);
	elfbin__close(b);
}

/* ---- the real binaries ---- */

static void test_binary(void **state)
{
	const struct bin_case *c = *state;
	const char *path = c->path;

	if (c->built)
		path = gotls(c->path);
	if (access(path, R_OK))
		missing(c->need, path,
			c->need == NEED_CI ? "run tools/install-deps.sh (make deps)"
					   : "not on this machine image");
	check_go_binary(c->desc, path, c->arm64, c->version_from);
}

/* Go 1.26 PIE, emulated: textStart 0 and moduledata words only in RELA addends. */
static void test_go126_pie(void **state)
{
	char out[128], bad[128], cmd[1024], err[512];
	const char *pie = gotls("pie_int");
	__u64 s, e;
	struct py_exp x;
	struct elfbin *b;

	snprintf(out, sizeof(out), "%s/go126pie", tmpdir);
	snprintf(bad, sizeof(bad), "%s/go126pie-norelocs", tmpdir);
	snprintf(cmd, sizeof(cmd),
		 "python3 tests/tools/go126pie.py '%s' '%s' && "
		 "python3 tests/tools/go126pie.py --no-relocs '%s' '%s'",
		 pie, out, pie, bad);
	assert_int_equal(system(cmd), 0);
	py_expect(pie, tls_fns, 2, &x); /* the original: the answer must not change */
	if (elfbin__open(out, &b, err, sizeof(err)))
		fail_msg("%s: %s", out, err);
	assert_string_equal(elfbin__info(b)->text_from, "moduledata.text");
	assert_int_equal(elfbin__info(b)->text, x.text);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(elfbin__func(b, tls_fns[i], &s, &e), 0);
		assert_int_equal(s, x.f[i].start);
		assert_int_equal(e, x.f[i].end);
	}
	printf("  go1.26-style PIE (from pie_int): base 0x%llx from moduledata.text at 0x%llx via "
	       "R_X86_64_RELATIVE addends\n",
	       (unsigned long long)elfbin__info(b)->text,
	       (unsigned long long)elfbin__info(b)->moduledata);
	elfbin__close(b);
	assert_int_not_equal(elfbin__open(bad, &b, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "firstmoduledata was not found"));
	printf("  without the relocations: %s\n", err);
}

/* A name twice in the pclntab (ABI0 wrapper and ABIInternal body): the larger. */
static void test_duplicate_names(void **state)
{
	static const char *const dup[] = {"runtime.debugCallWrap"};
	const char *path = victim();
	char err[512];
	struct py_exp x;
	struct elfbin *b;
	__u64 s, e;

	py_expect(path, dup, 1, &x);
	assert_true(x.f[0].found);
	if (elfbin__open(path, &b, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(elfbin__func(b, dup[0], &s, &e), 0);
	assert_int_equal(s, x.f[0].start);
	assert_int_equal(e, x.f[0].end);
	assert_true(e - s > 64); /* the wrapper is 64 bytes */
	printf("  %s in %s: [0x%llx, 0x%llx), %llu bytes (the other copy: the 64-byte wrapper)\n",
	       dup[0], path, (unsigned long long)s, (unsigned long long)e,
	       (unsigned long long)(e - s));
	elfbin__close(b);
}

/* ---- libssl: C functions from .dynsym ---- */

static void test_libssl(void **state)
{
	static const char *const fns[] = {"SSL_read", "SSL_write", "SSL_read_ex", "SSL_write_ex"};
	const char *path = "/usr/lib/x86_64-linux-gnu/libssl.so.3";
	char err[512], summary[2048] = "  libssl.so.3:";
	struct elfbin *b;

	if (access(path, R_OK))
		missing(NEED_CI, path, "apt-get install openssl (libssl3)");
	if (elfbin__open(path, &b, err, sizeof(err)))
		fail_msg("%s", err);
	assert_false(elfbin__info(b)->go);
	assert_null(elfbin__go_version(b));
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		check_fn(b, path, false, false, fns[i], NULL, summary, sizeof(summary));
	printf("%s\n", summary);
	elfbin__close(b);
}

/* ---- hand-made tiny files with known answers ---- */

/* The file offset of vaddr (through elfbin__offset, which must work). */
static __u64 seg_off(const struct elfbin *b, __u64 vaddr)
{
	__u64 off;

	assert_int_equal(elfbin__offset(b, vaddr, &off), 0);
	return off;
}

static struct elfbin *open_seed(const char *name)
{
	char path[256], err[512];
	struct elfbin *b;

	snprintf(path, sizeof(path), SEEDS "/%s", name);
	if (elfbin__open(path, &b, err, sizeof(err)))
		fail_msg("%s", err);
	return b;
}

static void test_seed_go126(void **state)
{
	struct elfbin *b = open_seed("go126_x86");
	const struct elfbin_info *in = elfbin__info(b);
	__u64 s, e, off, offs[4];
	struct elfbin_insn insn;
	struct py_exp x;
	char err[256];
	int n;
	static const char *const fns[] = {"main.f", "main.g"};

	py_expect(SEEDS "/go126_x86", fns, 2, &x);
	assert_string_equal(elfbin__go_version(b), "go1.26.0");
	assert_string_equal(x.version, "go1.26.0");
	assert_string_equal(elfbin__go_module(b, "golang.org/x/net"), "v0.1.0");
	assert_string_equal(elfbin__go_module(b, "golang.org/x/text"), "v0.3.0"); /* replaced */
	assert_null(elfbin__go_module(b, "golang.org/x/crypto"));
	assert_string_equal(in->text_from, "moduledata.text");
	assert_int_equal(in->nfunc, 3);
	/* main.f twice: the 0x20-byte body wins over the 8-byte wrapper */
	assert_int_equal(elfbin__func(b, "main.f", &s, &e), 0);
	assert_int_equal(e - s, 0x20);
	assert_int_equal(s, x.f[0].start);
	assert_int_equal(e, x.f[0].end);
	assert_int_equal(elfbin__entry_probe(b, s, e, &off, err, sizeof(err)), 0);
	assert_int_equal(elfbin__insn(b, s + (off - seg_off(b, s)), &insn, err, sizeof(err)), 0);
	assert_int_equal(insn.vaddr, s + 4);
	assert_true(!strncmp(insn.text, "jbe", 3));
	assert_true(insn.emulated);
	assert_int_equal(elfbin__rets(b, s, e, offs, 4, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(elfbin__rets(b, s, e, offs, 0, &n, err, sizeof(err)), -E2BIG);
	/* a sweep that does not end at an instruction boundary */
	assert_int_equal(elfbin__rets(b, s, s + 5, offs, 4, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cannot decode"));
	/* nosplit main.g: the entry itself */
	assert_int_equal(elfbin__func(b, "main.g", &s, &e), 0);
	assert_int_equal(elfbin__entry_probe(b, s, e, &off, err, sizeof(err)), 0);
	assert_int_equal(elfbin__insn(b, s + (off - seg_off(b, s)), &insn, err, sizeof(err)), 0);
	assert_int_equal(insn.vaddr, s);
	assert_false(insn.emulated); /* mov: single-stepped */
	assert_int_equal(elfbin__func(b, "main.nothere", &s, &e), -ENOENT);
	elfbin__close(b);
}

static void test_seed_arm64(void **state)
{
	struct elfbin *b = open_seed("go118_arm64");
	__u64 s, e, off, offs[4];
	struct elfbin_insn insn;
	char err[256];
	int n;

	assert_string_equal(elfbin__go_version(b), "go1.19.8"); /* old build info format */
	assert_string_equal(elfbin__go_module(b, "golang.org/x/net"), "v0.1.0");
	assert_string_equal(elfbin__info(b)->text_from, "pcHeader.textStart");
	assert_int_equal(elfbin__func(b, "main.f", &s, &e), 0);
	assert_int_equal(e - s, 0x30);
	assert_int_equal(elfbin__entry_probe(b, s, e, &off, err, sizeof(err)), 0);
	assert_int_equal(elfbin__insn(b, s + (off - seg_off(b, s)), &insn, err, sizeof(err)), 0);
	assert_int_equal(insn.vaddr, s + 8);
	assert_true(!strncmp(insn.text, "b.ls", 4));
	assert_true(insn.emulated);
	/* zero words are not instructions capstone knows: skipped, one RET found */
	assert_int_equal(elfbin__rets(b, s, e, offs, 4, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(offs[0], off + 12);
	/* a range that is not word-aligned */
	assert_int_equal(elfbin__rets(b, s, s + 6, offs, 4, &n, err, sizeof(err)), -EINVAL);
	elfbin__close(b);
}

static void test_seed_go116(void **state)
{
	struct elfbin *b = open_seed("go116_x86");
	static const char *const fns[] = {"main.f"};
	__u64 s, e, off;
	struct py_exp x;
	char err[256];

	py_expect(SEEDS "/go116_x86", fns, 1, &x);
	assert_int_equal(elfbin__info(b)->pclntab_magic, 0xfffffffa);
	assert_string_equal(elfbin__go_version(b), "go1.16.15");
	assert_int_equal(elfbin__func(b, "main.f", &s, &e), 0);
	assert_int_equal(s, x.f[0].start);
	assert_int_equal(e, x.f[0].end);
	/* no R14 stack check (ABI0 before Go 1.17): the entry itself */
	assert_int_equal(elfbin__entry_probe(b, s, e, &off, err, sizeof(err)), 0);
	assert_int_equal(elfbin__offset(b, s, &e), 0);
	assert_int_equal(off, e);
	elfbin__close(b);
}

static void test_seed_c(void **state)
{
	struct elfbin *b = open_seed("c_x86");
	__u64 s, e, off, offs[4];
	struct elfbin_insn insn;
	char err[256];
	int n;

	assert_false(elfbin__info(b)->go);
	assert_null(elfbin__go_version(b));
	assert_int_equal(elfbin__func(b, "SSL_read", &s, &e), 0);
	assert_int_equal(e - s, 6);
	assert_int_equal(elfbin__entry_probe(b, s, e, &off, err, sizeof(err)), 0);
	assert_int_equal(elfbin__insn(b, s + (off - seg_off(b, s)), &insn, err, sizeof(err)), 0);
	assert_int_equal(insn.vaddr, s);
	assert_string_equal(insn.text, "push rbp");
	assert_true(insn.emulated);
	assert_int_equal(elfbin__rets(b, s, e, offs, 4, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(elfbin__func(b, "SSL_write", &s, &e), -ENOENT);
	assert_int_equal(elfbin__offset(b, 0x10, &off), -ENOENT);
	elfbin__close(b);
}

/* ---- broken files: rejected with a message, never a crash ---- */

static void expect_reject(const char *path, const char *what, const char *want)
{
	struct elfbin *b = NULL;
	char err[512] = "";
	int rc = elfbin__open(path, &b, err, sizeof(err));

	if (!rc)
		fail_msg("%s: %s was accepted", path, what);
	assert_null(b);
	assert_true(err[0]);
	if (want && !strstr(err, want))
		fail_msg("%s: %s: message '%s' does not say '%s'", path, what, err, want);
	printf("  %-34s -> %s\n", what, err);
}

static void test_truncated(void **state)
{
	const char *src = victim();
	char path[128], what[64];
	struct stat st;
	size_t cuts[] = {0, 1, 16, 63, 64, 200, 4096, 3, 2, 4096, 1};

	assert_int_equal(stat(src, &st), 0);
	cuts[7] = st.st_size / 3; /* the last four: from the size */
	cuts[8] = st.st_size / 2;
	cuts[9] = st.st_size - cuts[9];
	cuts[10] = st.st_size - cuts[10];

	snprintf(path, sizeof(path), "%s/truncated", tmpdir);
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		assert_int_equal(copy_file(src, path, cuts[i]), 0);
		snprintf(what, sizeof(what), "cut at %zu of %lld bytes", cuts[i],
			 (long long)st.st_size);
		expect_reject(path, what, NULL);
	}
}

static void test_corrupt(void **state)
{
	const char *src = victim();
	struct py_exp x;
	char path[128];
	__u64 big = 0xffffffffffull, ftab, phdr;
	__u8 bad_magic[4] = {0xfb, 0xff, 0xff, 0xff},
	     bad_varint[5] = {0xff, 0xff, 0xff, 0xff, 0x0f};
	__u32 bad_entry = 0xffffffff;
	const struct {
		const char *what, *want;
		__u64 off; /* 0: computed below */
		const void *bytes;
		size_t n;
	} cases[] = {
	    {"ELF magic", "not an ELF file", 0, "\0", 1},
	    {"e_phoff far away", "program header table", 32, &big, 8},
	    {"e_shoff far away", "section header table", 40, &big, 8},
	};

	py_expect(src, tls_fns, 0, &x);
	assert_true(x.go && x.pcln_off && x.bi_off);
	snprintf(path, sizeof(path), "%s/corrupt", tmpdir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(copy_file(src, path, (size_t)-1), 0);
		patch(path, cases[i].off, cases[i].bytes, cases[i].n);
		expect_reject(path, cases[i].what, cases[i].want);
	}
	/* the first PT_LOAD's p_filesz (Elf64_Phdr: type at 0, filesz at 32) */
	assert_int_equal(copy_file(src, path, (size_t)-1), 0);
	phdr = read_u64(path, 32);
	while ((__u32)read_u64(path, phdr) != PT_LOAD_)
		phdr += 56;
	patch(path, phdr + 32, &big, 8);
	expect_reject(path, "PT_LOAD p_filesz huge", "PT_LOAD");
	/* pclntab header fields (pcHeader: magic, pad, quantum, ptrsize, words) */
	assert_int_equal(copy_file(src, path, (size_t)-1), 0);
	patch(path, x.pcln_off, bad_magic, 4);
	expect_reject(path, "pclntab magic of Go 1.2", "Go 1.2-1.15 format");
	assert_int_equal(copy_file(src, path, (size_t)-1), 0);
	patch(path, x.pcln_off + 8, &big, 8);
	expect_reject(path, "pclntab nfunc huge", "function table of");
	assert_int_equal(copy_file(src, path, (size_t)-1), 0);
	patch(path, x.pcln_off + 8 + 3 * 8, &big, 8);
	expect_reject(path, "pclntab funcnameOffset huge", "name table");
	assert_int_equal(copy_file(src, path, (size_t)-1), 0);
	patch(path, x.pcln_off + 8 + 7 * 8, &big, 8);
	expect_reject(path, "pclntab functab offset huge", "past the end");
	assert_int_equal(copy_file(src, path, (size_t)-1), 0);
	ftab = read_u64(path, x.pcln_off + 8 + 7 * 8);
	patch(path, x.pcln_off + ftab + 8, &bad_entry, 4); /* entry 1 after entry 2 */
	expect_reject(path, "functab entries out of order", "out of order");
	/* build info: the version's length runs past the section */
	assert_int_equal(copy_file(src, path, (size_t)-1), 0);
	patch(path, x.bi_off + 32, bad_varint, sizeof(bad_varint));
	expect_reject(path, "build info version length huge", "build info");
}

/* ---- `reqacct inspect` ---- */

static int run_inspect(const char *arg, char *out, size_t len)
{
	char *argv[] = {(char *)"inspect", (char *)arg, NULL};
	char tmp[128];
	int saved, fd, rc;
	ssize_t n;

	snprintf(tmp, sizeof(tmp), "%s/inspect.out", tmpdir);
	fflush(stdout);
	saved = dup(1);
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 1);
	rc = do_inspect(arg ? 2 : 1, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	n = pread(fd, out, len - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return rc;
}

static void test_inspect(void **state)
{
	static char out[1 << 16];
	char pidarg[16];
	int in[2];
	pid_t pid;

	assert_int_equal(run_inspect(NULL, out, sizeof(out)), 2);
	assert_int_equal(run_inspect("--bogus", out, sizeof(out)), 2);
	assert_int_equal(run_inspect(SEEDS "/c_x86", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "traceable: no: no TLS library"));
	assert_int_equal(run_inspect("/nonexistent/binary", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "No such file"));
	assert_int_equal(run_inspect(gotls("static"), out, sizeof(out)), 0);
	assert_non_null(strstr(out, "TLS: Go crypto/tls"));
	assert_non_null(strstr(out, "crypto/tls.(*Conn).Read: [0x"));
	assert_non_null(strstr(out, "emulated by the kernel"));
	assert_non_null(strstr(out, "traceable: yes"));
	/* a process: its program through /proc/PID/exe, libssl from its maps
	 * (`openssl enc` reads stdin: it runs until stdin closes) */
	if (access("/usr/bin/openssl", X_OK))
		missing(NEED_CI, "/usr/bin/openssl", "apt-get install openssl");
	assert_int_equal(pipe(in), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(in[0], 0);
		close(in[1]);
		if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
			_exit(127);
		execl("/usr/bin/openssl", "openssl", "enc", "-aes-128-cbc", "-pbkdf2", "-pass",
		      "pass:x", NULL);
		_exit(127);
	}
	close(in[0]);
	snprintf(pidarg, sizeof(pidarg), "%d", pid);
	for (int i = 0; i < 50; i++) { /* until it has exec'd and mapped libssl */
		char maps[64], buf[1 << 14];
		int fd;
		ssize_t n;

		snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
		fd = open(maps, O_RDONLY);
		n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : 0;
		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = '\0';
		if (strstr(buf, "libssl"))
			break;
		usleep(20000);
	}
	run_inspect(pidarg, out, sizeof(out));
	close(in[1]);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	assert_non_null(strstr(out, "/exe is /usr/bin/openssl"));
	assert_non_null(strstr(out, "mapped by the process"));
	assert_non_null(strstr(out, "SSL_read: [0x"));
	assert_non_null(strstr(out, "traceable: yes"));
}

static int setup(void **state)
{
	strcpy(tmpdir, "/tmp/reqacct-test-elfbin-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd);
}

static const struct bin_case cases[] = {
    {"etcd (Debian, Go 1.19)", "/usr/bin/etcd", NEED_CI, false, false, ".go.buildinfo"},
    {"hey (Debian, Go 1.19)", "/usr/bin/hey", NEED_CI, false, false, ".go.buildinfo"},
    {"prometheus (Debian, Go 1.19)", "/usr/bin/prometheus", NEED_CI, false, false, ".go.buildinfo"},
    {"esbuild (npm, Go 1.26)", ESBUILD, NEED_CI, false, false, "runtime.buildVersion"},
    {"kubectl.1.27", KUBECTL_DIR "/kubectl.1.27", NEED_OPTIONAL, false, false, ".go.buildinfo"},
    {"kubectl.1.28", KUBECTL_DIR "/kubectl.1.28", NEED_OPTIONAL, false, false, ".go.buildinfo"},
    {"kubectl.1.29", KUBECTL_DIR "/kubectl.1.29", NEED_OPTIONAL, false, false, ".go.buildinfo"},
    {"kubectl.1.30", KUBECTL_DIR "/kubectl.1.30", NEED_OPTIONAL, false, false, ".go.buildinfo"},
    {"kubectl.1.31", KUBECTL_DIR "/kubectl.1.31", NEED_OPTIONAL, false, false, ".go.buildinfo"},
    {"kubectl.1.32", KUBECTL_DIR "/kubectl.1.32", NEED_OPTIONAL, false, false, ".go.buildinfo"},
    {"kubectl.1.33", KUBECTL_DIR "/kubectl.1.33", NEED_OPTIONAL, false, false, ".go.buildinfo"},
    {"kubectl", KUBECTL_DIR "/kubectl", NEED_OPTIONAL, false, false, ".go.buildinfo"},
    {"gotls static (Go 1.19)", "static", NEED_CI, true, false, ".go.buildinfo"},
    {"gotls PIE internal link", "pie_int", NEED_CI, true, false, ".go.buildinfo"},
    {"gotls PIE external link", "pie_ext", NEED_CI, true, false, ".go.buildinfo"},
    {"gotls arm64", "arm64", NEED_CI, true, true, ".go.buildinfo"},
};

int main(int argc, char **argv)
{
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0]) + 10];
	char self[512];
	size_t n = 0;

	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(gotls_dir, sizeof(gotls_dir), "%s/gotls", dirname(self));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tests[n] =
		    (struct CMUnitTest)cmocka_unit_test_prestate(test_binary, (void *)&cases[i]);
		tests[n++].name = cases[i].desc;
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_go126_pie);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_duplicate_names);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_libssl);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_seed_go126);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_seed_arm64);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_seed_go116);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_seed_c);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_truncated);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_corrupt);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_inspect);
	return _cmocka_run_group_tests("elfbin", tests, n, setup, teardown);
}
