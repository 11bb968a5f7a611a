#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""pclntab.py - an independent reader of Go's function table and build info.

Reads an ELF file with the Python standard library only and prints what
tests/unit/test_elfbin.c compares against user/elfbin.c. It shares no code
with elfbin.c and takes a few different routes on purpose: ELF sections
(not PT_DYNAMIC) for relocations, a regex over read-only data for the
runtime.buildVersion fallback, a linear scan of the function table.

Formats (golang/go: src/debug/gosym/pclntab.go, src/runtime/symtab.go,
src/debug/buildinfo/buildinfo.go, src/cmd/link/internal/ld/pcln.go):
  pcHeader: u32 magic; u8 0, 0; u8 minLC; u8 ptrSize; then ptrSize words:
    0xfffffffa (1.16/1.17): nfunc nfiles funcnameOff cuOff filetabOff pctabOff pclnOff
    0xfffffff0 (1.18/1.19), 0xfffffff1 (1.20+): nfunc nfiles textStart funcnameOff
      cuOff filetabOff pctabOff pclnOff; textStart is 0 from Go 1.26 on: use
      moduledata.text (word 22 of runtime.firstmoduledata on 64-bit).
  functab at pclnOff: 1.18+: nfunc+1 x {u32 entryoff, u32 funcoff}; 1.16/1.17:
    {uintptr entry, uintptr funcoff}. _func at pclnOff+funcoff: entry field, then
    i32 nameOff into the funcname table.

Usage: pclntab.py BINARY [FUNC...]
Prints lines:
  version go1.19.8 buildinfo|buildversion
  module PATH VERSION            (deps from the build info)
  pclntab MAGIC VADDR NFUNC TEXT FILEOFF
  buildinfo FILEOFF               (where the build info header is)
  moduledata VADDR FILEOFF        (when found)
  func NAME START END             (the larger body when a name appears twice)
  nofunc NAME
or "notgo REASON" and exit status 1.
"""
import re
import struct
import sys

MAGICS = {0xfffffffa: "1.16", 0xfffffff0: "1.18", 0xfffffff1: "1.20"}
PT_LOAD, PF_X, PF_W = 1, 1, 2
SHT_RELA, SHT_RELR = 4, 19
RELATIVE = {62: 8, 183: 1027}  # e_machine -> R_X86_64_RELATIVE, R_AARCH64_RELATIVE
BUILDINFO_MAGIC = b"\xff Go buildinf:"


class Elf:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.d = f.read()
        d = self.d
        if d[:4] != b"\x7fELF" or d[4] != 2 or d[5] != 1:
            raise ValueError("not a little-endian ELF64 file")
        (self.etype, self.machine, _, _, phoff, shoff, _, _, phentsize, phnum,
         shentsize, shnum, shstrndx) = struct.unpack_from("<HHIQQQIHHHHHH", d, 16)
        self.segs = []
        for i in range(phnum):
            t, fl, off, va, _, fsz, msz, _ = struct.unpack_from("<IIQQQQQQ", d, phoff + i * phentsize)
            if t == PT_LOAD:
                self.segs.append((va, fsz, msz, off, fl))
        self.secs = {}
        self.sec_list = []
        if shnum:
            hdrs = [struct.unpack_from("<IIQQQQIIQQ", d, shoff + i * shentsize) for i in range(shnum)]
            stroff = hdrs[shstrndx][4]
            for h in hdrs:
                name = d[stroff + h[0]:d.index(b"\0", stroff + h[0])].decode()
                sec = {"name": name, "type": h[1], "addr": h[3], "off": h[4], "size": h[5]}
                self.secs.setdefault(name, sec)
                self.sec_list.append(sec)
        self.relocs = {}
        rtype = RELATIVE.get(self.machine)
        for s in self.sec_list:
            if s["type"] == SHT_RELA:
                for o in range(s["off"], s["off"] + s["size"], 24):
                    r_off, info, add = struct.unpack_from("<QQq", d, o)
                    if info & 0xffffffff == rtype:
                        self.relocs[r_off] = add
            # RELR keeps the addend in place: the word in the file is the value.

    def off_of(self, va, n=1):
        for sva, fsz, _, off, _ in self.segs:
            if sva <= va and va + n <= sva + fsz:
                return off + va - sva
        return None

    def u64(self, va):
        """A pointer-sized word at va, as the dynamic loader would leave it."""
        if va in self.relocs:
            return self.relocs[va]
        o = self.off_of(va, 8)
        return None if o is None else struct.unpack_from("<Q", self.d, o)[0]

    def seg_of(self, va):
        for s in self.segs:
            if s[0] <= va < s[0] + s[2]:
                return s
        return None


def uvarint(d, i):
    v = shift = 0
    while True:
        b = d[i]
        i += 1
        v |= (b & 0x7f) << shift
        if b < 0x80:
            return v, i
        shift += 7


class Pcln:
    def __init__(self, e):
        self.e = e
        d = e.d
        cand = []
        for name in (".gopclntab", ".data.rel.ro.gopclntab"):
            if name in e.secs:
                cand.append(e.secs[name]["addr"])
                break
        if not cand:
            # No named section (external linking, PIE): search the data that is
            # not executable, confirm through moduledata below.
            for va, fsz, _, off, fl in e.segs:
                if fl & PF_X:
                    continue
                chunk = d[off:off + fsz]
                for m in MAGICS:
                    pat = struct.pack("<I", m) + b"\0\0"
                    i = chunk.find(pat)
                    while i >= 0:
                        if i % 8 == 0 and chunk[i + 6] in (1, 2, 4) and chunk[i + 7] == 8:
                            cand.append(va + i)
                        i = chunk.find(pat, i + 1)
        self.md = None
        for va in cand:
            o = e.off_of(va, 8)
            magic = struct.unpack_from("<I", d, o)[0]
            if magic not in MAGICS:
                continue
            self.va, self.off, self.magic = va, o, magic
            w = lambda i: struct.unpack_from("<Q", d, o + 8 + 8 * i)[0]
            self.nfunc = w(0)
            if magic == 0xfffffffa:
                self.text = None
                self.funcname, self.pcln = w(2), w(6)
            else:
                self.text = e.u64(va + 8 + 16)  # textStart, relocated in PIE
                self.funcname, self.pcln = w(3), w(7)
            self.md = self.find_moduledata()
            if self.md is None and len(cand) > 1:
                continue
            if self.text == 0:
                if self.md is None:
                    raise ValueError("textStart is 0 and no moduledata")
                self.text = e.u64(self.md + 176)
            return
        raise ValueError("no pclntab")

    def find_moduledata(self):
        e = self.e
        if ".go.module" in e.secs:
            s = e.secs[".go.module"]
            if e.u64(s["addr"]) == self.va:
                return s["addr"]
        want = self.va + self.funcname
        hits = [a for a, v in e.relocs.items() if v == self.va]
        for va, fsz, _, off, fl in e.segs:
            if not fl & PF_W:
                continue
            pat = struct.pack("<Q", self.va)
            chunk = e.d[off:off + fsz]
            i = chunk.find(pat)
            while i >= 0:
                if i % 8 == 0:
                    hits.append(va + i)
                i = chunk.find(pat, i + 1)
        for a in sorted(set(hits)):
            if e.u64(a + 8) == want:
                return a
        return None

    def funcs(self):
        d, o = self.e.d, self.off
        ft = o + self.pcln
        new = self.magic != 0xfffffffa
        esz = 8 if new else 16
        for i in range(self.nfunc):
            if new:
                entry, foff = struct.unpack_from("<II", d, ft + i * 8)
                nxt = struct.unpack_from("<I", d, ft + (i + 1) * 8)[0]
                start, end = self.text + entry, self.text + nxt
                nameoff = struct.unpack_from("<i", d, ft + foff + 4)[0]
            else:
                start = self.e.u64(self.va + self.pcln + i * esz)
                foff = struct.unpack_from("<Q", d, ft + i * esz + 8)[0]
                end = self.e.u64(self.va + self.pcln + (i + 1) * esz)
                nameoff = struct.unpack_from("<i", d, ft + foff + 8)[0]
            n0 = o + self.funcname + nameoff
            yield d[n0:d.index(b"\0", n0)].decode("utf-8", "replace"), start, end


def buildinfo(e):
    d = e.d
    if ".go.buildinfo" in e.secs:
        s = e.secs[".go.buildinfo"]
        region = (s["addr"], s["off"], s["size"])
    else:
        ws = [s for s in e.segs if s[4] & PF_W and not s[4] & PF_X]
        if not ws:
            return None
        region = (ws[0][0], ws[0][3], ws[0][1])
    va, off, size = region
    i = d.find(BUILDINFO_MAGIC, off, off + size)
    while i >= 0 and (i - off) % 16:
        i = d.find(BUILDINFO_MAGIC, i + 1, off + size)
    if i < 0:
        return None
    e.buildinfo_off = i
    flags = d[i + 15]
    if flags & 2:
        n, p = uvarint(d, i + 32)
        vers = d[p:p + n].decode()
        n, p = uvarint(d, p + n)
        mod = d[p:p + n]
    else:
        def gostr(ptr_va):
            sp, sl = e.u64(ptr_va), e.u64(ptr_va + 8)
            so = e.off_of(sp, sl)
            return d[so:so + sl]
        vers = gostr(e.u64(va + (i - off) + 16)).decode()
        mod = gostr(e.u64(va + (i - off) + 24))
    if len(mod) >= 33 and mod[-17] == ord("\n"):
        mod = mod[16:-16]
    deps = []
    for line in mod.decode("utf-8", "replace").split("\n"):
        f = line.split("\t")
        if f[0] == "dep" and len(f) >= 3:
            deps.append([f[1], f[2]])
        elif f[0] == "=>" and len(f) >= 3 and deps:
            deps[-1][1] = f[2]  # a replacement: the code that was built
    return vers, deps


def build_version(e):
    """runtime.buildVersion: a Go string header {ptr, len} in writable data
    pointing at "go1.N..." in read-only data (binaries without build info)."""
    d = e.d
    found = set()
    for va, fsz, _, off, fl in e.segs:
        if fl & (PF_W | PF_X):
            continue
        for m in re.finditer(rb"go1\.\d+(?:\.\d+|rc\d+|beta\d+)?", d[off:off + fsz]):
            sva, n = va + m.start(), m.end() - m.start()
            hdr = struct.pack("<QQ", sva, n)
            for wva, wfsz, _, woff, wfl in e.segs:
                if wfl & PF_W and d.find(hdr, woff, woff + wfsz) >= 0:
                    found.add(m.group().decode())
    return found.pop() if len(found) == 1 else None


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        e = Elf(sys.argv[1])
        p = Pcln(e)
    except (ValueError, IndexError, struct.error) as ex:
        print("notgo", ex)
        return 1
    bi = buildinfo(e)
    if bi:
        print("version", bi[0], "buildinfo")
        print("buildinfo %#x" % e.buildinfo_off)
        for path, ver in bi[1]:
            print("module", path, ver)
    else:
        v = build_version(e)
        if v:
            print("version", v, "buildversion")
    print("pclntab %#x %#x %d %#x %#x" % (p.magic, p.va, p.nfunc, p.text or 0, p.off))
    if p.md is not None:
        print("moduledata %#x %#x" % (p.md, e.off_of(p.md, 8)))
    want = set(sys.argv[2:])
    best = {}
    for name, start, end in p.funcs():
        if name in want and (name not in best or end - start > best[name][1] - best[name][0]):
            best[name] = (start, end)
    for name in sys.argv[2:]:
        if name in best:
            print("func %s %#x %#x" % (name, best[name][0], best[name][1]))
        else:
            print("nofunc", name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
