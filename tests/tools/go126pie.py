#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""go126pie.py - turn a Go 1.18+ internally linked PIE into what a Go 1.26
PIE looks like to a reader, for test_elfbin.c (no Go 1.26 toolchain here):

  - pcHeader.textStart is 0 (Go 1.26 no longer stores it), and its
    R_X86_64_RELATIVE relocation becomes R_X86_64_NONE;
  - the words of runtime.firstmoduledata a reader needs (pcHeader,
    funcnametab, minpc, maxpc, text) are 0 in the file, so that only the
    addends of their relative relocations say what the loader puts there
    (what lld and other linkers without --apply-dynamic-relocs write).

With --no-relocs the moduledata relocations are removed too: a broken file
that a reader must reject rather than guess at.

Usage: go126pie.py [--no-relocs] IN OUT
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pclntab  # noqa: E402  (the independent reader, for addresses)

MD_WORDS = (0, 1, 20, 21, 22)  # pcHeader, funcnametab.ptr, minpc, maxpc, text
R_NONE = 0


def main():
    args = sys.argv[1:]
    no_relocs = "--no-relocs" in args
    args = [a for a in args if a != "--no-relocs"]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    e = pclntab.Elf(args[0])
    p = pclntab.Pcln(e)
    if p.magic == 0xfffffffa or p.md is None:
        print("go126pie: need a Go 1.18+ binary with a located moduledata", file=sys.stderr)
        return 1
    d = bytearray(e.d)
    slots = {p.va + 24: True}  # textStart: always unrelocated
    for w in MD_WORDS:
        slots[p.md + 8 * w] = no_relocs
    for va in slots:
        o = e.off_of(va, 8)
        d[o:o + 8] = b"\0" * 8
    seen = set()
    for s in e.sec_list:
        if s["type"] != pclntab.SHT_RELA:
            continue
        for o in range(s["off"], s["off"] + s["size"], 24):
            r_off = struct.unpack_from("<Q", d, o)[0]
            if r_off in slots:
                seen.add(r_off)
                if slots[r_off]:
                    struct.pack_into("<Q", d, o + 8, R_NONE)
    missing = [hex(va) for va in slots if va not in seen]
    if missing:
        print("go126pie: no relocation for", " ".join(missing), "(not a PIE?)", file=sys.stderr)
        return 1
    with open(args[1], "wb") as f:
        f.write(d)
    os.chmod(args[1], 0o755)
    return 0


if __name__ == "__main__":
    sys.exit(main())
