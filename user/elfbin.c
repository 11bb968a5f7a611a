// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * elfbin.c - binary inspection for uprobe placement (see elfbin.h).
 *
 * The whole file is one private copy in memory (mmap MAP_PRIVATE or a
 * malloc'd copy); libelf parses the ELF headers, symbols and sections; the Go
 * tables are read from the bytes with explicit bounds. Layouts:
 * shared/research/go_tls_design.md sections 1 and 4; golang/go
 * src/debug/gosym/pclntab.go (parsePclnTab), src/runtime/symtab.go (pcHeader,
 * moduledata, functab, _func, moduledataverify1), src/debug/buildinfo/buildinfo.go.
 */
#include <capstone/capstone.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elfbin.h"
#include "errmsg.h"

/* pcHeader.magic per Go version (runtime/symtab.go, debug/gosym/pclntab.go). */
#define GO_MAGIC_12 0xfffffffbu	 /* 1.2 - 1.15: not supported */
#define GO_MAGIC_116 0xfffffffau /* 1.16, 1.17 */
#define GO_MAGIC_118 0xfffffff0u /* 1.18, 1.19 */
#define GO_MAGIC_120 0xfffffff1u /* 1.20 and later (textStart 0 from 1.26) */

/* runtime.moduledata: pcHeader, then six slices (funcnametab, cutab, filetab,
 * pctab, pclntable, ftab), findfunctab, minpc, maxpc, text: word indexes. */
#define MD_FUNCNAMETAB 1
#define MD_MINPC 20
#define MD_MAXPC 21
#define MD_TEXT 22

/* debug/buildinfo: 16-byte aligned header, 32 bytes. */
static const char BUILDINFO_MAGIC[] = "\xff Go buildinf:";
#define BUILDINFO_MAGIC_LEN 14
#define BUILDINFO_HDR 32
#define BUILDINFO_ALIGN 16
#define BUILDINFO_INLINE 0x2 /* flags: strings inline (Go 1.18+) */
#define BUILDINFO_BIGENDIAN 0x1
#define MODINFO_SENTINEL 16 /* cmd/go/internal/modload: modinfo framing */

/* Relative relocations ("base + addend"), by e_machine. */
#define R_X86_64_RELATIVE_ 8
#define R_AARCH64_RELATIVE_ 1027

#define GO_VERSION_MAX 128
#define GO_STRING_MAX (1u << 20) /* longest version or modinfo accepted */
#define PCLN_SCAN_MAX 256	 /* candidates checked when scanning segments */
#define NEEDED_MAX 64
#define PROLOGUE_INSNS 8 /* the stack check is among the first few */

#define X86_G_STACKGUARD0 0x10 /* offsetof(runtime.g, stackguard0) */
#define ARM64_G_STACKGUARD0 0x10

struct seg {
	__u64 vaddr, filesz, memsz, off;
	__u32 flags;
};

struct reloc {
	__u64 where, value;
};

struct gomod {
	const char *path, *version;
};

struct sec {
	bool found;
	__u64 addr, off, size;
};

struct elfbin {
	char name[256];
	__u8 *data;
	size_t size;
	bool mapped;
	Elf *elf;
	struct elfbin_info info;
	bool le;
	int ptrsize;
	struct seg *segs;
	int nsegs;
	struct reloc *relocs;
	size_t nrelocs;
	const char *needed[NEEDED_MAX];
	int nneeded;
	struct sec s_pcln, s_pcln_relro, s_buildinfo, s_module;
	/* pclntab: file offset, bytes available from it, tables relative to it */
	__u64 pcln_off, pcln_avail, funcname_off, ftab_off;
	bool abs_entries; /* 1.16/1.17: functab holds absolute uintptrs */
	char version[GO_VERSION_MAX];
	char *modinfo;
	struct gomod *mods;
	int nmods;
	csh cs;
	bool cs_ok;
};

static __u64 rd(const __u8 *p, int n)
{
	__u64 v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static bool in_file(const struct elfbin *b, __u64 off, __u64 len)
{
	return off <= b->size && len <= b->size - off;
}

/* File offset of [va, va+len) when it lies in one PT_LOAD's file data. */
static bool va2off(const struct elfbin *b, __u64 va, __u64 len, __u64 *off, const struct seg **sp)
{
	for (int i = 0; i < b->nsegs; i++) {
		const struct seg *s = &b->segs[i];

		if (va >= s->vaddr && va - s->vaddr <= s->filesz &&
		    len <= s->filesz - (va - s->vaddr)) {
			*off = s->off + (va - s->vaddr);
			if (sp)
				*sp = s;
			return true;
		}
	}
	return false;
}

static int reloc_cmp(const void *a, const void *b)
{
	const struct reloc *x = a, *y = b;

	return x->where < y->where ? -1 : x->where > y->where;
}

/* A pointer-sized word at va as the loader leaves it: the addend of a
 * relative RELA relocation at va (PIE: the file may hold 0 there), else the
 * bytes in the file (which RELR and REL relocations add the base to). */
static bool read_ptr(const struct elfbin *b, __u64 va, __u64 *val)
{
	struct reloc key = {.where = va}, *r;
	__u64 off;

	r = b->nrelocs ? bsearch(&key, b->relocs, b->nrelocs, sizeof(key), reloc_cmp) : NULL;
	if (r) {
		*val = r->value;
		return true;
	}
	if (!va2off(b, va, b->ptrsize, &off, NULL))
		return false;
	*val = rd(b->data + off, b->ptrsize);
	return true;
}

/* ---- ELF structure ---- */

/* A header table (what: "program header" or "section header") of n entries
 * of entsize bytes at off lies within the file; if want, entries have that
 * size. 0 or -EINVAL with a message. */
static int table_in_file(const struct elfbin *b, const char *what, __u64 off, __u64 n,
			 __u64 entsize, __u64 want, char *err, size_t errlen)
{
	if (want && entsize != want)
		return errmsg(err, errlen, -EINVAL, "%s: %s entries of %llu bytes (want %llu)",
			      b->name, what, (unsigned long long)entsize, (unsigned long long)want);
	if (in_file(b, off, n * entsize))
		return 0;
	return errmsg(err, errlen, -EINVAL,
		      "%s: %s table (%llu x %llu bytes at 0x%llx) runs past the end of the file "
		      "(%zu bytes): truncated?",
		      b->name, what, (unsigned long long)n, (unsigned long long)entsize,
		      (unsigned long long)off, b->size);
}

static int load_segments(struct elfbin *b, char *err, size_t errlen)
{
	GElf_Ehdr eh;
	size_t phnum;
	int rc;

	if (!gelf_getehdr(b->elf, &eh))
		return errmsg(err, errlen, -EINVAL, "%s: bad ELF header: %s", b->name,
			      elf_errmsg(-1));
	/* Bounds from the header itself first: libelf's messages say less. */
	if (eh.e_phnum && eh.e_phnum != PN_XNUM &&
	    (rc = table_in_file(b, "program header", eh.e_phoff, eh.e_phnum, eh.e_phentsize, 0,
				err, errlen)))
		return rc;
	if (elf_getphdrnum(b->elf, &phnum))
		return errmsg(err, errlen, -EINVAL, "%s: bad program header count: %s", b->name,
			      elf_errmsg(-1));
	if (phnum && (rc = table_in_file(b, "program header", eh.e_phoff, phnum, eh.e_phentsize,
					 gelf_fsize(b->elf, ELF_T_PHDR, 1, EV_CURRENT), err,
					 errlen)))
		return rc;
	b->segs = calloc(phnum ? phnum : 1, sizeof(*b->segs));
	if (!b->segs)
		return errmsg(err, errlen, -ENOMEM, "%s: out of memory", b->name);
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(b->elf, i, &ph))
			return errmsg(err, errlen, -EINVAL, "%s: program header %zu: %s", b->name,
				      i, elf_errmsg(-1));
		if (ph.p_type != PT_LOAD)
			continue;
		if (!in_file(b, ph.p_offset, ph.p_filesz) || ph.p_filesz > ph.p_memsz ||
		    ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
			return errmsg(err, errlen, -EINVAL,
				      "%s: PT_LOAD %zu (file 0x%llx + 0x%llx, memory 0x%llx) runs "
				      "past the end of the file (%zu bytes): truncated?",
				      b->name, i, (unsigned long long)ph.p_offset,
				      (unsigned long long)ph.p_filesz,
				      (unsigned long long)ph.p_memsz, b->size);
		b->segs[b->nsegs++] =
		    (struct seg){ph.p_vaddr, ph.p_filesz, ph.p_memsz, ph.p_offset, ph.p_flags};
	}
	if (!b->nsegs)
		return errmsg(err, errlen, -EINVAL,
			      "%s: no PT_LOAD segment: not a program or library", b->name);
	return 0;
}

static int load_sections(struct elfbin *b, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		size_t at;
	} wanted[] = {
	    {".gopclntab", offsetof(struct elfbin, s_pcln)},
	    {".data.rel.ro.gopclntab", offsetof(struct elfbin, s_pcln_relro)},
	    {".go.buildinfo", offsetof(struct elfbin, s_buildinfo)},
	    {".go.module", offsetof(struct elfbin, s_module)},
	};
	size_t shnum, shstrndx;
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	int rc;

	if (!gelf_getehdr(b->elf, &eh))
		return errmsg(err, errlen, -EINVAL, "%s: bad ELF header: %s", b->name,
			      elf_errmsg(-1));
	/* e_shnum 0 with e_shoff set: the count is in section 0 (extended numbering) */
	if (eh.e_shoff &&
	    (rc = table_in_file(b, "section header", eh.e_shoff, eh.e_shnum ? eh.e_shnum : 1,
				eh.e_shentsize, 0, err, errlen)))
		return rc;
	if (elf_getshdrnum(b->elf, &shnum))
		return errmsg(err, errlen, -EINVAL, "%s: bad section header count: %s", b->name,
			      elf_errmsg(-1));
	if (!shnum)
		return 0; /* no section headers: segments are enough */
	if ((rc = table_in_file(b, "section header", eh.e_shoff, shnum, eh.e_shentsize,
				gelf_fsize(b->elf, ELF_T_SHDR, 1, EV_CURRENT), err, errlen)))
		return rc;
	if (elf_getshdrstrndx(b->elf, &shstrndx))
		return errmsg(err, errlen, -EINVAL, "%s: bad section name table index: %s", b->name,
			      elf_errmsg(-1));
	while ((scn = elf_nextscn(b->elf, scn))) {
		const char *name;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			return errmsg(err, errlen, -EINVAL, "%s: section %zu: %s", b->name,
				      elf_ndxscn(scn), elf_errmsg(-1));
		if (sh.sh_type != SHT_NOBITS && !in_file(b, sh.sh_offset, sh.sh_size))
			return errmsg(
			    err, errlen, -EINVAL,
			    "%s: section %zu (0x%llx bytes at 0x%llx) runs past the end of "
			    "the file (%zu bytes): truncated?",
			    b->name, elf_ndxscn(scn), (unsigned long long)sh.sh_size,
			    (unsigned long long)sh.sh_offset, b->size);
		name = elf_strptr(b->elf, shstrndx, sh.sh_name);
		if (!name || sh.sh_type == SHT_NOBITS)
			continue;
		for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
			struct sec *s = (struct sec *)((char *)b + wanted[i].at);

			if (!s->found && !strcmp(name, wanted[i].name))
				*s = (struct sec){true, sh.sh_addr, sh.sh_offset, sh.sh_size};
		}
	}
	return 0;
}

/* PT_DYNAMIC: relative RELA relocations (PIE) and DT_NEEDED. Read from the
 * segments, so that binaries without section headers work too. */
static int load_dynamic(struct elfbin *b, char *err, size_t errlen)
{
	__u64 rela = 0, relasz = 0, relaent = 0, strtab = 0, strsz = 0, stroff, roff, dynoff = 0;
	__u64 need[NEEDED_MAX], ent = 2 * (__u64)b->ptrsize, dynsz = 0;
	__u32 rtype = b->info.machine == EM_AARCH64 ? R_AARCH64_RELATIVE_ : R_X86_64_RELATIVE_;
	size_t phnum;
	int nneed = 0;

	if (!b->le || elf_getphdrnum(b->elf, &phnum))
		return 0;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(b->elf, i, &ph) && ph.p_type == PT_DYNAMIC) {
			if (!in_file(b, ph.p_offset, ph.p_filesz))
				return errmsg(
				    err, errlen, -EINVAL,
				    "%s: PT_DYNAMIC (0x%llx bytes at 0x%llx) runs past the "
				    "end of the file",
				    b->name, (unsigned long long)ph.p_filesz,
				    (unsigned long long)ph.p_offset);
			dynoff = ph.p_offset;
			dynsz = ph.p_filesz;
			break;
		}
	}
	for (__u64 o = 0; dynsz && o + ent <= dynsz; o += ent) {
		__u64 tag = rd(b->data + dynoff + o, b->ptrsize);
		__u64 val = rd(b->data + dynoff + o + b->ptrsize, b->ptrsize);

		if (tag == DT_NULL)
			break;
		switch (tag) {
		case DT_RELA:
			rela = val;
			break;
		case DT_RELASZ:
			relasz = val;
			break;
		case DT_RELAENT:
			relaent = val;
			break;
		case DT_STRTAB:
			strtab = val;
			break;
		case DT_STRSZ:
			strsz = val;
			break;
		case DT_NEEDED:
			if (nneed < NEEDED_MAX)
				need[nneed++] = val;
			break;
		default:
			break;
		}
	}
	if (strtab && va2off(b, strtab, strsz, &stroff, NULL)) {
		for (int i = 0; i < nneed; i++)
			if (need[i] < strsz &&
			    memchr(b->data + stroff + need[i], '\0', strsz - need[i]))
				b->needed[b->nneeded++] = (const char *)b->data + stroff + need[i];
	}
	if (!rela || !relasz)
		return 0;
	if (relaent != 3 * (__u64)b->ptrsize || !va2off(b, rela, relasz, &roff, NULL))
		return errmsg(
		    err, errlen, -EINVAL,
		    "%s: DT_RELA table (0x%llx bytes at 0x%llx, entries of %llu bytes) is "
		    "not in the file",
		    b->name, (unsigned long long)relasz, (unsigned long long)rela,
		    (unsigned long long)relaent);
	b->relocs = calloc(relasz / relaent + 1, sizeof(*b->relocs));
	if (!b->relocs)
		return errmsg(err, errlen, -ENOMEM, "%s: out of memory for relocations", b->name);
	for (__u64 o = 0; o + relaent <= relasz; o += relaent) {
		const __u8 *p = b->data + roff + o;
		__u64 info = rd(p + b->ptrsize, b->ptrsize);
		__u32 type = b->ptrsize == 8 ? (__u32)info : (__u32)(info & 0xff);

		if (type == rtype)
			b->relocs[b->nrelocs++] =
			    (struct reloc){rd(p, b->ptrsize), rd(p + 2 * b->ptrsize, b->ptrsize)};
	}
	qsort(b->relocs, b->nrelocs, sizeof(*b->relocs), reloc_cmp);
	return 0;
}

/* ---- Go: pclntab ---- */

static __u64 pcln_word(const struct elfbin *b, int i)
{
	return rd(b->data + b->pcln_off + 8 + (__u64)i * b->ptrsize, b->ptrsize);
}

/* The entry address of functab slot i (i == nfunc: the end of the last). */
static bool go_entry(const struct elfbin *b, __u64 i, __u64 *pc)
{
	__u64 at = b->ftab_off + i * (b->abs_entries ? 2 * (__u64)b->ptrsize : 8);

	if (b->abs_entries)
		return read_ptr(b, b->info.pclntab_vaddr + at, pc);
	*pc = b->info.text + rd(b->data + b->pcln_off + at, 4);
	return true;
}

/* The name of function i, NUL-terminated inside the table, or NULL. */
static const char *go_name(const struct elfbin *b, __u64 i)
{
	__u64 esz = b->abs_entries ? 2 * (__u64)b->ptrsize : 8,
	      fsz = b->abs_entries ? b->ptrsize : 4;
	__u64 foff = rd(b->data + b->pcln_off + b->ftab_off + i * esz + fsz, (int)fsz);
	__u64 at, name;
	__s32 nameoff;

	/* _func: entry (u32 entryOff, or uintptr before 1.18), then i32 nameOff */
	at = b->ftab_off + foff + fsz;
	if (foff > b->pcln_avail || at + 4 > b->pcln_avail)
		return NULL;
	nameoff = (__s32)rd(b->data + b->pcln_off + at, 4);
	if (nameoff < 0)
		return NULL;
	name = b->funcname_off + (__u64)nameoff;
	if (name >= b->pcln_avail ||
	    !memchr(b->data + b->pcln_off + name, '\0', b->pcln_avail - name))
		return NULL;
	return (const char *)b->data + b->pcln_off + name;
}

/* Is there a runtime.firstmoduledata at va for the pclntab at pcln? Its first
 * words are pcHeader and funcnametab.ptr (Go 1.16+). */
static bool moduledata_at(const struct elfbin *b, __u64 va, __u64 pcln, __u64 funcname)
{
	__u64 w0, w1;

	return read_ptr(b, va, &w0) && w0 == pcln &&
	       read_ptr(b, va + MD_FUNCNAMETAB * (__u64)b->ptrsize, &w1) && w1 == pcln + funcname;
}

/* runtime.firstmoduledata: .go.module (Go 1.26), else a pointer-aligned word
 * in writable data whose loaded value is the pclntab address (raw, or the
 * addend of a relative relocation in PIE). 0 if not found. */
static __u64 find_moduledata(const struct elfbin *b, __u64 pcln, __u64 funcname)
{
	__u8 pat[8];

	if (b->s_module.found && moduledata_at(b, b->s_module.addr, pcln, funcname))
		return b->s_module.addr;
	for (size_t i = 0; i < b->nrelocs; i++)
		if (b->relocs[i].value == pcln &&
		    moduledata_at(b, b->relocs[i].where, pcln, funcname))
			return b->relocs[i].where;
	for (int k = 0; k < b->ptrsize; k++)
		pat[k] = (__u8)(pcln >> (8 * k));
	for (int i = 0; i < b->nsegs; i++) {
		const struct seg *s = &b->segs[i];
		const __u8 *base = b->data + s->off, *p = base, *end = base + s->filesz;

		if (!(s->flags & PF_W))
			continue;
		while (p < end && (p = memmem(p, end - p, pat, b->ptrsize))) {
			__u64 va = s->vaddr + (p - base);

			if (va % b->ptrsize == 0 && moduledata_at(b, va, pcln, funcname))
				return va;
			p++;
		}
	}
	return 0;
}

/* Parse the pcHeader at va, at most limit bytes (0: to the end of its
 * segment); fills the pclntab fields of b. On failure, -EINVAL with why (no
 * path: the caller says where). */
static int pcln_parse(struct elfbin *b, __u64 va, __u64 limit, char *why, size_t whylen)
{
	__u64 off, avail, nfunc, esz, minfunc, lo, hi, room, prev = 0;
	const struct seg *s;
	const __u8 *h;
	__u32 magic;
	int nwords;

	if (!va2off(b, va, 8, &off, &s))
		return errmsg(why, whylen, -EINVAL, "header is not in the file");
	avail = s->filesz - (off - s->off);
	if (limit && limit < avail)
		avail = limit; /* the named section's size */
	h = b->data + off;
	magic = (__u32)rd(h, 4);
	if (magic == GO_MAGIC_12)
		return errmsg(why, whylen, -EINVAL,
			      "Go 1.2-1.15 format (magic 0x%x): not supported", magic);
	if (magic != GO_MAGIC_116 && magic != GO_MAGIC_118 && magic != GO_MAGIC_120)
		return errmsg(why, whylen, -EINVAL, "bad magic 0x%08x", magic);
	if (h[4] || h[5] || (h[6] != 1 && h[6] != 2 && h[6] != 4) || h[7] != b->ptrsize)
		return errmsg(
		    why, whylen, -EINVAL,
		    "bad header bytes %02x %02x, pc quantum %u, pointer size %u (ELF: %d)", h[4],
		    h[5], h[6], h[7], b->ptrsize);
	nwords = magic == GO_MAGIC_116 ? 7 : 8;
	if (avail < 8 + (__u64)nwords * b->ptrsize)
		return errmsg(why, whylen, -EINVAL, "header truncated");
	b->pcln_off = off;
	b->pcln_avail = avail;
	b->abs_entries = magic == GO_MAGIC_116;
	b->info.pclntab_magic = magic;
	b->info.pclntab_vaddr = va;
	nfunc = pcln_word(b, 0);
	b->funcname_off = pcln_word(b, magic == GO_MAGIC_116 ? 2 : 3);
	b->ftab_off = pcln_word(b, magic == GO_MAGIC_116 ? 6 : 7);
	esz = b->abs_entries ? 2 * (__u64)b->ptrsize : 8;
	minfunc = b->abs_entries ? (__u64)b->ptrsize + 4 : 8;
	if (b->funcname_off >= avail || b->ftab_off >= avail)
		return errmsg(
		    why, whylen, -EINVAL,
		    "name table (+0x%llx) or function table (+0x%llx) past the end (0x%llx bytes)",
		    (unsigned long long)b->funcname_off, (unsigned long long)b->ftab_off,
		    (unsigned long long)avail);
	room = avail - b->ftab_off;
	if (!nfunc || room < esz / 2 || nfunc > (room - esz / 2) / esz)
		return errmsg(
		    why, whylen, -EINVAL,
		    "function table of %llu entries at +0x%llx does not fit in 0x%llx bytes",
		    (unsigned long long)nfunc, (unsigned long long)b->ftab_off,
		    (unsigned long long)avail);
	b->info.nfunc = nfunc;
	b->info.text = 0;
	b->info.text_from = NULL;
	if (!b->abs_entries) {
		__u64 ts = 0;

		/* textStart: relocated in PIE (go_tls_design.md 1.4), 0 from Go 1.26 */
		if (!read_ptr(b, va + 8 + 2 * (__u64)b->ptrsize, &ts))
			return errmsg(why, whylen, -EINVAL, "textStart unreadable");
		b->info.text = ts;
		b->info.text_from = "pcHeader.textStart";
	}
	b->info.moduledata = find_moduledata(b, va, b->funcname_off);
	if (!b->abs_entries && !b->info.text) {
		__u64 md = b->info.moduledata, minpc, maxpc, e0, en;

		if (!md)
			return errmsg(
			    why, whylen, -EINVAL,
			    "textStart is 0 (Go 1.26+) and runtime.firstmoduledata was not found");
		if (!read_ptr(b, md + MD_TEXT * (__u64)b->ptrsize, &b->info.text) ||
		    !read_ptr(b, md + MD_MINPC * (__u64)b->ptrsize, &minpc) ||
		    !read_ptr(b, md + MD_MAXPC * (__u64)b->ptrsize, &maxpc))
			return errmsg(why, whylen, -EINVAL, "moduledata at 0x%llx truncated",
				      (unsigned long long)md);
		b->info.text_from = "moduledata.text";
		/* runtime.moduledataverify1 checks the same: minpc, maxpc = text + ftab[0], [n] */
		e0 = rd(b->data + off + b->ftab_off, 4);
		en = rd(b->data + off + b->ftab_off + nfunc * esz, 4);
		if (!b->info.text || minpc != b->info.text + e0 || maxpc != b->info.text + en)
			return errmsg(
			    why, whylen, -EINVAL,
			    "moduledata at 0x%llx: text 0x%llx disagrees with minpc 0x%llx "
			    "/ maxpc 0x%llx",
			    (unsigned long long)md, (unsigned long long)b->info.text,
			    (unsigned long long)minpc, (unsigned long long)maxpc);
	}
	/* Entries ascend; every _func header is inside the table. */
	for (__u64 i = 0; i <= nfunc; i++) {
		__u64 pc;

		if (!go_entry(b, i, &pc) || pc < prev)
			return errmsg(why, whylen, -EINVAL,
				      "function table entry %llu (0x%llx) out of order",
				      (unsigned long long)i, (unsigned long long)pc);
		prev = pc;
		if (i < nfunc) {
			__u64 fo =
			    rd(b->data + off + b->ftab_off + i * esz + esz / 2, (int)(esz / 2));

			if (fo > avail - b->ftab_off || minfunc > avail - b->ftab_off - fo)
				return errmsg(why, whylen, -EINVAL,
					      "function %llu: _func at +0x%llx past the end",
					      (unsigned long long)i, (unsigned long long)fo);
		}
	}
	go_entry(b, 0, &lo);
	go_entry(b, nfunc, &hi);
	for (int i = 0; i < b->nsegs; i++) {
		const struct seg *x = &b->segs[i];

		if ((x->flags & PF_X) && lo >= x->vaddr && hi <= x->vaddr + x->memsz)
			return 0;
	}
	return errmsg(why, whylen, -EINVAL,
		      "functions [0x%llx, 0x%llx) are not inside one executable segment",
		      (unsigned long long)lo, (unsigned long long)hi);
}

/* Find the pclntab: by section name, else by scanning segments that are not
 * executable for the magic, accepting a candidate only if a moduledata points
 * at it. A named section that does not parse is an error; scan misses are not. */
static int find_pclntab(struct elfbin *b, char *err, size_t errlen)
{
	static const __u32 magics[] = {GO_MAGIC_116, GO_MAGIC_118, GO_MAGIC_120};
	const struct sec *named = b->s_pcln.found	  ? &b->s_pcln
				  : b->s_pcln_relro.found ? &b->s_pcln_relro
							  : NULL;
	char why[192];
	int tried = 0;

	if (named) {
		b->info.pclntab_where =
		    named == &b->s_pcln ? ".gopclntab" : ".data.rel.ro.gopclntab";
		if (pcln_parse(b, named->addr, named->size, why, sizeof(why)))
			return errmsg(err, errlen, -EINVAL, "%s: %s at 0x%llx: %s", b->name,
				      b->info.pclntab_where, (unsigned long long)named->addr, why);
		b->info.go = true;
		return 0;
	}
	for (int i = 0; i < b->nsegs && tried < PCLN_SCAN_MAX; i++) {
		const struct seg *s = &b->segs[i];

		if (s->flags & PF_X)
			continue;
		for (size_t m = 0; m < sizeof(magics) / sizeof(magics[0]); m++) {
			const __u8 *base = b->data + s->off, *p = base, *end = base + s->filesz;
			__u8 pat[6] = {(__u8)magics[m],
				       (__u8)(magics[m] >> 8),
				       (__u8)(magics[m] >> 16),
				       (__u8)(magics[m] >> 24),
				       0,
				       0};

			while (p < end && (p = memmem(p, end - p, pat, sizeof(pat))) &&
			       tried < PCLN_SCAN_MAX) {
				__u64 va = s->vaddr + (p - base);

				p++;
				/* cheap header checks first: quantum, pointer size */
				if (va % 4 || (size_t)(end - p) < 7 ||
				    (p[5] != 1 && p[5] != 2 && p[5] != 4) || p[6] != b->ptrsize)
					continue;
				tried++;
				if (!pcln_parse(b, va, 0, why, sizeof(why)) && b->info.moduledata) {
					b->info.go = true;
					b->info.pclntab_where = "segment scan";
					return 0;
				}
			}
		}
	}
	b->info.pclntab_magic = 0;
	b->info.pclntab_vaddr = 0;
	b->info.nfunc = 0;
	b->info.moduledata = 0;
	return 0;
}

/* ---- Go: build info and version ---- */

static bool uvarint(const __u8 *p, __u64 avail, __u64 *v, __u64 *used)
{
	__u64 x = 0;

	for (__u64 i = 0; i < avail && i < 10; i++) {
		x |= (__u64)(p[i] & 0x7f) << (7 * i);
		if (p[i] < 0x80) {
			*v = x;
			*used = i + 1;
			return true;
		}
	}
	return false;
}

/* A Go string {ptr, len} whose header is at va: a pointer into the file. */
static bool go_string(const struct elfbin *b, __u64 va, const __u8 **s, __u64 *len)
{
	__u64 ptr, off;

	if (!read_ptr(b, va, &ptr) || !read_ptr(b, va + b->ptrsize, len) || *len > GO_STRING_MAX ||
	    !va2off(b, ptr, *len, &off, NULL))
		return false;
	*s = b->data + off;
	return true;
}

static bool set_version(struct elfbin *b, const __u8 *v, __u64 n)
{
	if (!n || n >= sizeof(b->version) || memchr(v, '\0', n) || memchr(v, '\n', n))
		return false;
	memcpy(b->version, v, n);
	b->version[n] = '\0';
	return true;
}

/* modinfo lines: "dep\tPATH\tVERSION[\tSUM]", then maybe "=>\tPATH\tVERSION\tSUM". */
static int parse_modinfo(struct elfbin *b, const __u8 *m, __u64 n)
{
	int cap = 0;

	if (n >= 2 * MODINFO_SENTINEL + 1 && m[n - MODINFO_SENTINEL - 1] == '\n') {
		m += MODINFO_SENTINEL;
		n -= 2 * MODINFO_SENTINEL;
	}
	b->modinfo = malloc(n + 1);
	if (!b->modinfo)
		return -ENOMEM;
	memcpy(b->modinfo, m, n);
	b->modinfo[n] = '\0';
	for (char *line = b->modinfo, *next; line && *line; line = next) {
		char *f[3] = {};
		int nf = 0;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		for (char *p = line; p && nf < 3; nf++) {
			f[nf] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = '\0';
		}
		if (nf < 3 || !f[2])
			continue;
		if (!strcmp(f[0], "=>") && b->nmods) {
			b->mods[b->nmods - 1].version = f[2]; /* replaced: what was built */
			continue;
		}
		if (strcmp(f[0], "dep"))
			continue;
		if (b->nmods == cap) {
			struct gomod *nm = realloc(b->mods, (cap ? 2 * cap : 32) * sizeof(*nm));

			if (!nm)
				return -ENOMEM;
			b->mods = nm;
			cap = cap ? 2 * cap : 32;
		}
		b->mods[b->nmods++] = (struct gomod){f[1], f[2]};
	}
	return 0;
}

/* .go.buildinfo (or the first writable data segment): the Go version and the
 * module list. Absent: 0 and nothing set. Present but malformed: -EINVAL. */
static int read_buildinfo(struct elfbin *b, char *err, size_t errlen)
{
	__u64 va = 0, off = 0, size = 0, hva = 0, n, used, vlen, mlen;
	const __u8 *h = NULL, *v, *m, *p, *end;
	const char *where = ".go.buildinfo";

	if (b->s_buildinfo.found) {
		va = b->s_buildinfo.addr;
		off = b->s_buildinfo.off;
		size = b->s_buildinfo.size;
	} else {
		for (int i = 0; i < b->nsegs && !size; i++)
			if ((b->segs[i].flags & PF_W) && !(b->segs[i].flags & PF_X)) {
				va = b->segs[i].vaddr;
				off = b->segs[i].off;
				size = b->segs[i].filesz;
				where = "first data segment";
			}
	}
	for (__u64 i = (BUILDINFO_ALIGN - va % BUILDINFO_ALIGN) % BUILDINFO_ALIGN;
	     i + BUILDINFO_HDR <= size; i += BUILDINFO_ALIGN) {
		if (!memcmp(b->data + off + i, BUILDINFO_MAGIC, BUILDINFO_MAGIC_LEN)) {
			h = b->data + off + i;
			hva = va + i;
			break;
		}
	}
	if (!h)
		return 0;
	end = b->data + off + size;
	if (h[14] != b->ptrsize || (h[15] & BUILDINFO_BIGENDIAN))
		return errmsg(err, errlen, -EINVAL,
			      "%s: build info at 0x%llx: pointer size %u, flags 0x%x: not a "
			      "little-endian %d-bit binary",
			      b->name, (unsigned long long)hva, h[14], h[15], b->ptrsize * 8);
	if (h[15] & BUILDINFO_INLINE) {
		p = h + BUILDINFO_HDR;
		if (!uvarint(p, end - p, &vlen, &used) || vlen > (__u64)(end - p) - used)
			goto bad;
		v = p + used;
		p = v + vlen;
		if (!uvarint(p, end - p, &mlen, &used) || mlen > (__u64)(end - p) - used)
			goto bad;
		m = p + used;
	} else {
		/* Before Go 1.18: pointers to the Go string headers of
		 * runtime.buildVersion and runtime.modinfo */
		__u64 vs, ms;

		if (!read_ptr(b, hva + 16, &vs) || !read_ptr(b, hva + 16 + b->ptrsize, &ms) ||
		    !go_string(b, vs, &v, &vlen) || !go_string(b, ms, &m, &mlen))
			goto bad;
	}
	if (!set_version(b, v, vlen))
		goto bad;
	b->info.version_from = ".go.buildinfo";
	n = mlen;
	if (n && parse_modinfo(b, m, n))
		return errmsg(err, errlen, -ENOMEM, "%s: out of memory", b->name);
	return 0;
bad:
	return errmsg(err, errlen, -EINVAL,
		      "%s: build info at 0x%llx (%s): version or module strings run past the end",
		      b->name, (unsigned long long)hva, where);
}

/* "go1.N..." as the runtime records it: digits, letters, '.', and "X:exp,..." */
static bool is_go_version(const __u8 *s, __u64 n)
{
	if (n < 5 || n > 64 || memcmp(s, "go1.", 4) || s[4] < '0' || s[4] > '9')
		return false;
	for (__u64 i = 5; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') || strchr(".:,_+- ", s[i])))
			return false;
	return true;
}

static bool version_cand(struct elfbin *b, __u64 ptr, __u64 len, bool *ambiguous)
{
	const struct seg *s;
	__u64 off;

	if (len < 5 || len > 64 || !va2off(b, ptr, len, &off, &s) || (s->flags & (PF_W | PF_X)) ||
	    !is_go_version(b->data + off, len))
		return false;
	if (b->version[0] && (strlen(b->version) != len || memcmp(b->version, b->data + off, len)))
		*ambiguous = true;
	else
		set_version(b, b->data + off, len);
	return true;
}

/* No build info (esbuild strips it): runtime.buildVersion is a Go string in
 * writable data pointing at "go1.N..." in read-only data. Taken only if every
 * such string header agrees. */
static void find_build_version(struct elfbin *b)
{
	bool ambiguous = false;
	int ps = b->ptrsize;

	for (int i = 0; i < b->nsegs; i++) {
		const struct seg *s = &b->segs[i];

		if (!(s->flags & PF_W) || (s->flags & PF_X))
			continue;
		for (__u64 o = (ps - s->vaddr % ps) % ps; o + 2 * ps <= s->filesz; o += ps) {
			__u64 len = rd(b->data + s->off + o + ps, ps);

			if (len >= 5 && len <= 64)
				version_cand(b, rd(b->data + s->off + o, ps), len, &ambiguous);
		}
	}
	for (size_t i = 0; i < b->nrelocs; i++) {
		__u64 off;

		if (va2off(b, b->relocs[i].where + ps, ps, &off, NULL))
			version_cand(b, b->relocs[i].value, rd(b->data + off, ps), &ambiguous);
	}
	if (ambiguous || !b->version[0]) {
		b->version[0] = '\0';
		return;
	}
	b->info.version_from = "runtime.buildVersion";
}

/* ---- open / close ---- */

static int open_elf(struct elfbin *b, char *err, size_t errlen)
{
	GElf_Ehdr eh;
	size_t hdr;
	int rc;

	if (b->size < EI_NIDENT || memcmp(b->data, ELFMAG, SELFMAG))
		return errmsg(err, errlen, -EINVAL,
			      "%s: not an ELF file (%zu bytes, starts %02x %02x %02x %02x)",
			      b->name, b->size, b->size > 0 ? b->data[0] : 0,
			      b->size > 1 ? b->data[1] : 0, b->size > 2 ? b->data[2] : 0,
			      b->size > 3 ? b->data[3] : 0);
	hdr = b->data[EI_CLASS] == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	if (b->size < hdr)
		return errmsg(err, errlen, -EINVAL, "%s: ELF header truncated (%zu of %zu bytes)",
			      b->name, b->size, hdr);
	elf_version(EV_CURRENT);
	b->elf = elf_memory((char *)b->data, b->size);
	if (!b->elf || elf_kind(b->elf) != ELF_K_ELF || !gelf_getehdr(b->elf, &eh))
		return errmsg(err, errlen, -EINVAL, "%s: bad ELF header: %s", b->name,
			      elf_errmsg(-1));
	b->info.elf_class = gelf_getclass(b->elf) == ELFCLASS64 ? 64 : 32;
	b->ptrsize = b->info.elf_class / 8;
	b->le = eh.e_ident[EI_DATA] == ELFDATA2LSB;
	b->info.machine = eh.e_machine;
	b->info.pie = eh.e_type == ET_DYN;
	if ((rc = load_segments(b, err, errlen)) || (rc = load_sections(b, err, errlen)) ||
	    (rc = load_dynamic(b, err, errlen)))
		return rc;
	if (b->le) {
		if ((rc = find_pclntab(b, err, errlen)))
			return rc;
		if (b->info.go && (rc = read_buildinfo(b, err, errlen)))
			return rc;
		if (b->info.go && !b->version[0])
			find_build_version(b);
	}
	if (eh.e_machine == EM_X86_64 && b->info.elf_class == 64 && b->le)
		b->cs_ok = cs_open(CS_ARCH_X86, CS_MODE_64, &b->cs) == CS_ERR_OK;
	else if (eh.e_machine == EM_AARCH64 && b->info.elf_class == 64 && b->le)
		b->cs_ok = cs_open(CS_ARCH_ARM64, CS_MODE_ARM, &b->cs) == CS_ERR_OK;
	if (b->cs_ok)
		cs_option(b->cs, CS_OPT_DETAIL, CS_OPT_ON);
	b->info.disasm = b->cs_ok;
	return 0;
}

static struct elfbin *new_bin(const char *name)
{
	struct elfbin *b = calloc(1, sizeof(*b));

	if (b)
		snprintf(b->name, sizeof(b->name), "%s", name);
	return b;
}

int elfbin__open(const char *path, struct elfbin **out, char *err, size_t errlen)
{
	struct elfbin *b;
	struct stat st;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errmsg(err, errlen, -errno, "%s: open: %s", path, strerror(errno));
	if (fstat(fd, &st)) {
		rc = -errno;
		close(fd);
		return errmsg(err, errlen, rc, "%s: stat: %s", path, strerror(-rc));
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return errmsg(err, errlen, -EINVAL, "%s: not a regular non-empty file", path);
	}
	b = new_bin(path);
	if (!b) {
		close(fd);
		return errmsg(err, errlen, -ENOMEM, "%s: out of memory", path);
	}
	b->size = st.st_size;
	/* Private and writable: libelf may convert in place; the file is untouched. */
	b->data = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	if (b->data == MAP_FAILED) {
		rc = -errno;
		b->data = NULL;
		elfbin__close(b);
		return errmsg(err, errlen, rc, "%s: mmap: %s", path, strerror(-rc));
	}
	b->mapped = true;
	rc = open_elf(b, err, errlen);
	if (rc) {
		elfbin__close(b);
		return rc;
	}
	*out = b;
	return 0;
}

int elfbin__open_mem(const void *buf, size_t len, const char *name, struct elfbin **out, char *err,
		     size_t errlen)
{
	struct elfbin *b = new_bin(name);
	int rc;

	*out = NULL;
	if (!b || !(b->data = malloc(len ? len : 1))) {
		elfbin__close(b);
		return errmsg(err, errlen, -ENOMEM, "%s: out of memory", name);
	}
	memcpy(b->data, buf, len);
	b->size = len;
	rc = open_elf(b, err, errlen);
	if (rc) {
		elfbin__close(b);
		return rc;
	}
	*out = b;
	return 0;
}

void elfbin__close(struct elfbin *b)
{
	if (!b)
		return;
	if (b->cs_ok)
		cs_close(&b->cs);
	if (b->elf)
		elf_end(b->elf);
	if (b->mapped)
		munmap(b->data, b->size);
	else
		free(b->data);
	free(b->segs);
	free(b->relocs);
	free(b->modinfo);
	free(b->mods);
	free(b);
}

/* ---- queries ---- */

const struct elfbin_info *elfbin__info(const struct elfbin *b) { return &b->info; }

const char *elfbin__go_version(const struct elfbin *b)
{
	return b->info.go && b->version[0] ? b->version : NULL;
}

const char *elfbin__go_module(const struct elfbin *b, const char *path)
{
	for (int i = 0; i < b->nmods; i++)
		if (!strcmp(b->mods[i].path, path))
			return b->mods[i].version;
	return NULL;
}

/* A symbol of .symtab (or .dynsym): defined with a size (want_undef: undefined). */
static bool find_sym(const struct elfbin *b, Elf64_Word type, const char *name, bool want_undef,
		     __u64 *start, __u64 *end)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(b->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t n, esz;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type)
			continue;
		esz = gelf_fsize(b->elf, ELF_T_SYM, 1, EV_CURRENT);
		d = elf_getdata(scn, NULL);
		if (!d || !esz || sh.sh_entsize != esz)
			continue;
		n = d->d_size / esz;
		for (size_t i = 0; i < n; i++) {
			const char *s;
			GElf_Sym sym;
			int st;

			if (!gelf_getsym(d, (int)i, &sym))
				break;
			st = GELF_ST_TYPE(sym.st_info);
			if (st != STT_FUNC && st != STT_GNU_IFUNC &&
			    !(want_undef && st == STT_NOTYPE))
				continue;
			if (want_undef != (sym.st_shndx == SHN_UNDEF) ||
			    (!want_undef &&
			     (!sym.st_size || sym.st_value + sym.st_size < sym.st_value)))
				continue;
			s = elf_strptr(b->elf, sh.sh_link, sym.st_name);
			if (!s || strcmp(s, name))
				continue;
			if (start) {
				*start = sym.st_value;
				*end = sym.st_value + sym.st_size;
			}
			return true;
		}
	}
	return false;
}

int elfbin__func(const struct elfbin *b, const char *name, __u64 *start, __u64 *end)
{
	__u64 best = 0, s, e;
	bool found = false;

	for (__u64 i = 0; b->info.go && i < b->info.nfunc; i++) {
		const char *n = go_name(b, i);

		if (!n || strcmp(n, name) || !go_entry(b, i, &s) || !go_entry(b, i + 1, &e))
			continue;
		/* the larger body: ABIInternal, not the ABI0 wrapper (Go 1.17+) */
		if (!found || e - s > best) {
			*start = s;
			*end = e;
			best = e - s;
			found = true;
		}
	}
	if (found)
		return 0;
	if (find_sym(b, SHT_SYMTAB, name, false, start, end) ||
	    find_sym(b, SHT_DYNSYM, name, false, start, end))
		return 0;
	return -ENOENT;
}

bool elfbin__imports(const struct elfbin *b, const char *name)
{
	return find_sym(b, SHT_DYNSYM, name, true, NULL, NULL);
}

const char *elfbin__needed(const struct elfbin *b, const char *prefix)
{
	for (int i = 0; i < b->nneeded; i++)
		if (!strncmp(b->needed[i], prefix, strlen(prefix)))
			return b->needed[i];
	return NULL;
}

/* The executable segment that maps va (the first, if crafted ones overlap),
 * if [va, va+len) lies in its file data. */
static const struct seg *exec_seg(const struct elfbin *b, __u64 va, __u64 len)
{
	for (int i = 0; i < b->nsegs; i++) {
		const struct seg *s = &b->segs[i];

		if ((s->flags & PF_X) && va >= s->vaddr && va - s->vaddr < s->filesz)
			return len <= s->filesz - (va - s->vaddr) ? s : NULL;
	}
	return NULL;
}

int elfbin__offset(const struct elfbin *b, __u64 vaddr, __u64 *file_off)
{
	const struct seg *s = exec_seg(b, vaddr, 1);

	if (!s)
		return -ENOENT;
	*file_off = vaddr - s->vaddr + s->off;
	return 0;
}

/* ---- instructions ---- */

/* The code of [start, end), all inside one executable segment's file data. */
static int code_of(const struct elfbin *b, __u64 start, __u64 end, const __u8 **code,
		   const struct seg **sp, char *err, size_t errlen)
{
	const struct seg *s;

	if (!b->cs_ok)
		return errmsg(err, errlen, -EOPNOTSUPP,
			      "%s: no instruction decoder for e_machine %u (x86-64 and arm64 only)",
			      b->name, b->info.machine);
	if (end <= start || !(s = exec_seg(b, start, end - start)))
		return errmsg(
		    err, errlen, -EINVAL,
		    "%s: [0x%llx, 0x%llx) is not inside an executable segment's file data", b->name,
		    (unsigned long long)start, (unsigned long long)end);
	*code = b->data + s->off + (start - s->vaddr);
	*sp = s;
	return 0;
}

/* Bytes the kernel emulates for a uprobe instead of single-stepping them out
 * of line. x86 (arch/x86/kernel/uprobes.c): call/jmp rel (e8, e9, eb), jcc rel8
 * (70-7f) and rel32 (0f 80-8f) since uprobes began; push reg and nop on recent
 * kernels (PLATFORM.md measured ~1 us for these, ~15 us for others). arm64
 * (arch/arm64/kernel/probes/decode-insn.c): b, bl, b.cond, cbz/cbnz, tbz/tbnz,
 * br/blr/ret, adr/adrp are simulated. */
static bool emulated(const struct elfbin *b, const cs_insn *in)
{
	const __u8 *p = in->bytes;
	size_t n = in->size;

	if (b->info.machine == EM_AARCH64) {
		switch (in->id) {
		case ARM64_INS_B:
		case ARM64_INS_BL:
		case ARM64_INS_CBZ:
		case ARM64_INS_CBNZ:
		case ARM64_INS_TBZ:
		case ARM64_INS_TBNZ:
		case ARM64_INS_BR:
		case ARM64_INS_BLR:
		case ARM64_INS_RET:
		case ARM64_INS_ADR:
		case ARM64_INS_ADRP:
			return true;
		default:
			return false;
		}
	}
	if (n >= 1 && ((p[0] >= 0x70 && p[0] <= 0x7f) || p[0] == 0xe8 || p[0] == 0xe9 ||
		       p[0] == 0xeb || (p[0] >= 0x50 && p[0] <= 0x57) || p[0] == 0x90))
		return true;
	if (n >= 2 && p[0] == 0x0f && ((p[1] >= 0x80 && p[1] <= 0x8f) || p[1] == 0x1f))
		return true;
	if (n >= 2 && p[0] == 0x41 && p[1] >= 0x50 && p[1] <= 0x57) /* push r8-r15 */
		return true;
	return n >= 3 && p[0] == 0x66 && p[1] == 0x0f && p[2] == 0x1f; /* nopw */
}

static void fill_insn(const struct elfbin *b, const cs_insn *in, const struct seg *s,
		      struct elfbin_insn *out)
{
	out->vaddr = in->address;
	out->file_off = in->address - s->vaddr + s->off;
	out->size = (__u8)in->size;
	out->emulated = emulated(b, in);
	snprintf(out->text, sizeof(out->text), "%s%s%s", in->mnemonic, in->op_str[0] ? " " : "",
		 in->op_str);
}

static void hexbytes(const __u8 *p, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && i < 8 && o + 4 < len; i++)
		o += snprintf(buf + o, len - o, "%s%02x", i ? " " : "", p[i]);
}

int elfbin__rets(const struct elfbin *b, __u64 start, __u64 end, __u64 *offs, int max, int *n,
		 char *err, size_t errlen)
{
	const __u8 *code, *p;
	const struct seg *s;
	uint64_t addr = start;
	size_t left;
	cs_insn *in;
	char hex[32];
	int rc;

	*n = 0;
	if ((rc = code_of(b, start, end, &code, &s, err, errlen)))
		return rc;
	in = cs_malloc(b->cs);
	if (!in)
		return errmsg(err, errlen, -ENOMEM, "%s: out of memory", b->name);
	p = code;
	left = end - start;
	while (left) {
		if (!cs_disasm_iter(b->cs, &p, &left, &addr, in)) {
			/* arm64 instructions are one aligned word each, so a word the
			 * decoder does not know (capstone 4 lacks the ARMv8.1 atomics Go
			 * uses, and Go pads with zero words) cannot hide a boundary. */
			if (b->info.machine != EM_AARCH64 || addr % 4 || left < 4)
				break;
			p += 4;
			left -= 4;
			addr += 4;
			continue;
		}
		if (!cs_insn_group(b->cs, in, CS_GRP_RET))
			continue;
		if (*n < max)
			offs[*n] = in->address - s->vaddr + s->off;
		(*n)++;
	}
	cs_free(in, 1);
	if (left) {
		hexbytes(p, left, hex, sizeof(hex));
		*n = 0;
		return errmsg(
		    err, errlen, -EINVAL,
		    "%s: [0x%llx, 0x%llx): cannot decode at 0x%llx (%s), %zu bytes before "
		    "the end: not code, or an instruction crosses the end",
		    b->name, (unsigned long long)start, (unsigned long long)end,
		    (unsigned long long)addr, hex, left);
	}
	if (*n > max)
		return errmsg(err, errlen, -E2BIG, "%s: [0x%llx, 0x%llx): %d returns, room for %d",
			      b->name, (unsigned long long)start, (unsigned long long)end, *n, max);
	return 0;
}

static bool is_go_func(const struct elfbin *b, __u64 start)
{
	__u64 lo = 0, hi = b->info.nfunc, pc;

	/* entries ascend (checked at open): binary search */
	while (b->info.go && lo < hi) {
		__u64 mid = lo + (hi - lo) / 2;

		if (!go_entry(b, mid, &pc))
			return false;
		if (pc == start)
			return true;
		if (pc < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Registers that carry arguments in Go's ABIInternal (go_tls_design.md 3):
 * amd64 RAX RBX RCX RDI RSI R8-R11 (and RDX, the closure context), X0-X14;
 * arm64 X0-X15 (and X26, the closure context). */
static bool arg_reg(const struct elfbin *b, unsigned int r)
{
	if (b->info.machine == EM_AARCH64)
		return (r >= ARM64_REG_X0 && r <= ARM64_REG_X15) || r == ARM64_REG_X26 ||
		       (r >= ARM64_REG_W0 && r <= ARM64_REG_W15) || r == ARM64_REG_W26;
	switch (r) {
	case X86_REG_RAX:
	case X86_REG_EAX:
	case X86_REG_AX:
	case X86_REG_AL:
	case X86_REG_AH:
	case X86_REG_RBX:
	case X86_REG_EBX:
	case X86_REG_BX:
	case X86_REG_BL:
	case X86_REG_BH:
	case X86_REG_RCX:
	case X86_REG_ECX:
	case X86_REG_CX:
	case X86_REG_CL:
	case X86_REG_CH:
	case X86_REG_RDX:
	case X86_REG_EDX:
	case X86_REG_DX:
	case X86_REG_DL:
	case X86_REG_DH:
	case X86_REG_RDI:
	case X86_REG_EDI:
	case X86_REG_DI:
	case X86_REG_DIL:
	case X86_REG_RSI:
	case X86_REG_ESI:
	case X86_REG_SI:
	case X86_REG_SIL:
	case X86_REG_R8:
	case X86_REG_R8D:
	case X86_REG_R8W:
	case X86_REG_R8B:
	case X86_REG_R9:
	case X86_REG_R9D:
	case X86_REG_R9W:
	case X86_REG_R9B:
	case X86_REG_R10:
	case X86_REG_R10D:
	case X86_REG_R10W:
	case X86_REG_R10B:
	case X86_REG_R11:
	case X86_REG_R11D:
	case X86_REG_R11W:
	case X86_REG_R11B:
		return true;
	default:
		return (r >= X86_REG_XMM0 && r <= X86_REG_XMM14) ||
		       (r >= X86_REG_YMM0 && r <= X86_REG_YMM14) ||
		       (r >= X86_REG_ZMM0 && r <= X86_REG_ZMM14);
	}
}

/* The stack bound check: x86 `cmp rsp|r12, [r14 + 0x10]` (g.stackguard0,
 * g in R14 under ABIInternal); arm64 `ldr xN, [x28, #0x10]` then `cmp ..., xN`.
 * Returns the index of the compare, or -1. */
static int stack_check(const struct elfbin *b, const cs_insn *in, size_t n)
{
	unsigned int guard = 0;

	for (size_t i = 0; i < n; i++) {
		if (b->info.machine == EM_X86_64) {
			const cs_x86 *x = &in[i].detail->x86;

			if (in[i].id != X86_INS_CMP)
				continue;
			for (int k = 0; k < x->op_count; k++)
				if (x->operands[k].type == X86_OP_MEM &&
				    x->operands[k].mem.base == X86_REG_R14 &&
				    x->operands[k].mem.index == X86_REG_INVALID &&
				    x->operands[k].mem.segment == X86_REG_INVALID &&
				    x->operands[k].mem.disp == X86_G_STACKGUARD0)
					return (int)i;
		} else {
			const cs_arm64 *a = &in[i].detail->arm64;

			if (in[i].id == ARM64_INS_LDR && a->op_count == 2 &&
			    a->operands[0].type == ARM64_OP_REG &&
			    a->operands[1].type == ARM64_OP_MEM &&
			    a->operands[1].mem.base == ARM64_REG_X28 &&
			    a->operands[1].mem.index == ARM64_REG_INVALID &&
			    a->operands[1].mem.disp == ARM64_G_STACKGUARD0)
				guard = a->operands[0].reg;
			if (guard && in[i].id == ARM64_INS_CMP)
				for (int k = 0; k < a->op_count; k++)
					if (a->operands[k].type == ARM64_OP_REG &&
					    a->operands[k].reg == guard)
						return (int)i;
		}
	}
	return -1;
}

/* The jump of Go's stack bound check: to morestack when the stack pointer
 * is at or below the bound (unsigned), jbe on amd64, b.ls on arm64. The BPF
 * programs read its flags (GO_TO_MORESTACK, bpf/tls.bpf.h). */
static bool is_stack_jcc(const struct elfbin *b, const cs_insn *in)
{
	if (b->info.machine == EM_AARCH64)
		return in->id == ARM64_INS_B && in->detail->arm64.cc == ARM64_CC_LS;
	return in->id == X86_INS_JBE;
}

int elfbin__entry_probe(const struct elfbin *b, __u64 start, __u64 end, __u64 *off, char *err,
			size_t errlen)
{
	const __u8 *code;
	const struct seg *s;
	cs_insn *in = NULL;
	size_t n;
	int rc, k;

	if ((rc = code_of(b, start, end, &code, &s, err, errlen)))
		return rc;
	n = cs_disasm(b->cs, code, end - start, start, PROLOGUE_INSNS, &in);
	if (!n)
		return errmsg(err, errlen, -EINVAL,
			      "%s: cannot decode the entry of [0x%llx, 0x%llx)", b->name,
			      (unsigned long long)start, (unsigned long long)end);
	*off = start - s->vaddr + s->off;
	k = is_go_func(b, start) ? stack_check(b, in, n) : -1;
	if (k < 0) {
		/* not Go, or a Go function without the check (nosplit): the entry */
		cs_free(in, n);
		return 0;
	}
	rc = 0;
	if ((size_t)k + 1 >= n || !is_stack_jcc(b, &in[k + 1])) {
		rc = errmsg(
		    err, errlen, -EINVAL,
		    "%s: 0x%llx: the stack check at 0x%llx is not followed by jbe (b.ls on arm64)",
		    b->name, (unsigned long long)start, (unsigned long long)in[k].address);
		goto out;
	}
	for (int i = 0; i <= k && !rc; i++) {
		cs_regs rr, wr;
		uint8_t nr, nw;

		if (cs_regs_access(b->cs, &in[i], rr, &nr, wr, &nw) != CS_ERR_OK) {
			rc =
			    errmsg(err, errlen, -EINVAL,
				   "%s: 0x%llx: no register information for '%s %s'", b->name,
				   (unsigned long long)in[i].address, in[i].mnemonic, in[i].op_str);
			break;
		}
		for (int j = 0; j < nw; j++)
			if (arg_reg(b, wr[j])) {
				rc =
				    errmsg(err, errlen, -EINVAL,
					   "%s: 0x%llx: '%s %s' before the probe writes argument "
					   "register %s",
					   b->name, (unsigned long long)in[i].address,
					   in[i].mnemonic, in[i].op_str, cs_reg_name(b->cs, wr[j]));
				break;
			}
	}
	if (!rc)
		*off = in[k + 1].address - s->vaddr + s->off;
out:
	cs_free(in, n);
	return rc;
}

int elfbin__insn(const struct elfbin *b, __u64 vaddr, struct elfbin_insn *insn, char *err,
		 size_t errlen)
{
	const struct seg *s = exec_seg(b, vaddr, 1);
	cs_insn *in = NULL;
	__u64 left;

	if (!b->cs_ok)
		return errmsg(err, errlen, -EOPNOTSUPP,
			      "%s: no instruction decoder for e_machine %u", b->name,
			      b->info.machine);
	if (!s)
		return errmsg(err, errlen, -EINVAL, "%s: 0x%llx is not in an executable segment",
			      b->name, (unsigned long long)vaddr);
	left = s->filesz - (vaddr - s->vaddr);
	if (cs_disasm(b->cs, b->data + s->off + (vaddr - s->vaddr), left < 16 ? left : 16, vaddr, 1,
		      &in) != 1)
		return errmsg(err, errlen, -EINVAL, "%s: cannot decode at 0x%llx", b->name,
			      (unsigned long long)vaddr);
	fill_insn(b, in, s, insn);
	cs_free(in, 1);
	return 0;
}
