/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * elfbin.h - where to put uprobes in an ELF binary: functions from Go's
 * pclntab (stripped binaries too) or from ELF symbols, the Go version and
 * module versions from the build info, and instruction-exact probe offsets
 * from a real decoder (capstone). A reader of untrusted files: every offset is
 * bounds-checked, and it is fuzzed (tests/fuzz/fuzz_elfbin.c).
 *
 * Formats: golang/go src/debug/gosym/pclntab.go, src/runtime/symtab.go,
 * src/debug/buildinfo/buildinfo.go; shared/research/go_tls_design.md 1, 3, 4.
 * A struct elfbin is not thread-safe (it owns one capstone handle).
 */
#ifndef REQACCT_ELFBIN_H
#define REQACCT_ELFBIN_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

struct elfbin;

/* What elfbin__open found, for `reqacct inspect`. Strings live as long as b. */
struct elfbin_info {
	int elf_class; /* 32 or 64 */
	__u16 machine; /* e_machine: EM_X86_64, EM_AARCH64, ... */
	bool pie;      /* ET_DYN */
	bool disasm;   /* x86-64 or arm64: probe offsets can be computed */
	/* Go, when a pclntab was found */
	bool go;
	__u32 pclntab_magic; /* 0xfffffffa 1.16/1.17, 0xfffffff0 1.18/1.19, 0xfffffff1 1.20+ */
	__u64 pclntab_vaddr;
	const char *pclntab_where; /* ".gopclntab", ".data.rel.ro.gopclntab" or "segment scan" */
	__u64 nfunc;
	__u64 text;		  /* what function offsets are relative to (1.18+) */
	const char *text_from;	  /* "pcHeader.textStart" or "moduledata.text" */
	__u64 moduledata;	  /* runtime.firstmoduledata, 0 if not located */
	const char *version_from; /* ".go.buildinfo", "runtime.buildVersion" or NULL */
};

/* One decoded instruction. */
struct elfbin_insn {
	__u64 vaddr;
	__u64 file_off;
	__u8 size;
	bool emulated;	/* the kernel emulates a uprobe here (no single-step) */
	char text[200]; /* "jbe 0x5eda4c" (capstone: mnemonic 32 + operands 160) */
};

/* Open and validate a file. 0, or -errno / -EINVAL with what and where in err. */
int elfbin__open(const char *path, struct elfbin **out, char *err, size_t errlen);
/* The same over a copy of len bytes at buf (name is used in messages). */
int elfbin__open_mem(const void *buf, size_t len, const char *name, struct elfbin **out, char *err,
		     size_t errlen);
void elfbin__close(struct elfbin *b);

const struct elfbin_info *elfbin__info(const struct elfbin *b);

/* "go1.19.8", or NULL if not a Go binary or the version is not recorded. */
const char *elfbin__go_version(const struct elfbin *b);
/* The version of a dependency in the build info ("golang.org/x/net" ->
 * "v0.17.0"; a replacement's version if it was replaced), or NULL. */
const char *elfbin__go_module(const struct elfbin *b, const char *path);

/* A function's [start, end) virtual addresses: Go functions from the pclntab
 * (the larger body when a name appears twice: ABI0 wrapper and ABIInternal),
 * others from .symtab, then .dynsym (defined functions only). 0 or -ENOENT. */
int elfbin__func(const struct elfbin *b, const char *name, __u64 *start, __u64 *end);
/* Is name an undefined (imported) function symbol of .dynsym? */
bool elfbin__imports(const struct elfbin *b, const char *name);
/* The first DT_NEEDED entry that starts with prefix ("libssl.so"), or NULL. */
const char *elfbin__needed(const struct elfbin *b, const char *prefix);

/* File offset of vaddr, through the executable PT_LOAD that holds it:
 * vaddr - p_vaddr + p_offset. 0 or -ENOENT. */
int elfbin__offset(const struct elfbin *b, __u64 vaddr, __u64 *file_off);

/* File offsets of every return instruction in [start, end), decoded from
 * start to end. *n is the number found; at most max are stored (-E2BIG if
 * there are more). A decode error, or a sweep that does not end exactly at
 * end: -EINVAL with where, and nothing should be attached. */
int elfbin__rets(const struct elfbin *b, __u64 start, __u64 end, __u64 *offs, int max, int *n,
		 char *err, size_t errlen);

/* File offset of the entry probe of the function [start, end): for a Go
 * function (an entry of the pclntab) the first instruction after the stack
 * bound check (`cmp rsp,[r14+0x10]` / `ldr x16,[x28,#0x10]; cmp`), a
 * conditional jump the kernel emulates, where the argument registers still
 * hold the arguments; the entry itself for a Go function without the check
 * (nosplit) and for other functions. 0 or -EINVAL with where. */
int elfbin__entry_probe(const struct elfbin *b, __u64 start, __u64 end, __u64 *off, char *err,
			size_t errlen);

/* Decode the instruction at vaddr, in an executable segment. The address of
 * a probe at file offset off in the function [start, end) is
 * start + off - (start's file offset). */
int elfbin__insn(const struct elfbin *b, __u64 vaddr, struct elfbin_insn *insn, char *err,
		 size_t errlen);

#endif
