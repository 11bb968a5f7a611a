#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""mkelfseeds.py - write tiny hand-made ELF files (a few hundred bytes each)
to tests/fuzz/corpus/elfbin/: seeds for fuzz_elfbin and inputs of
test_elfbin.c with known answers.

  go126_x86     ET_EXEC x86-64, pclntab 0xfffffff1 with textStart 0 (Go 1.26):
                the function base comes from .go.module (moduledata.text).
                main.f has the stack check; main.g is nosplit; a second,
                smaller "main.f" (an ABI0 wrapper) must lose to the larger.
                Build info (Go 1.18+ inline format) with golang.org/x/net.
  go118_arm64   ET_EXEC arm64, pclntab 0xfffffff0 with textStart set; zero
                padding words; old-format build info (pointers to Go strings).
  go116_x86     ET_EXEC x86-64, pclntab 0xfffffffa (Go 1.16/1.17: absolute
                uintptr entries), old-format build info.
  c_x86         ET_DYN x86-64, no Go: SSL_read in .symtab.

Usage: mkelfseeds.py [OUTDIR]   (default tests/fuzz/corpus/elfbin)
"""
import os
import struct
import sys

EM_X86_64, EM_AARCH64 = 62, 183
PT_LOAD, PF_X, PF_W, PF_R = 1, 1, 2, 4
SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB = 1, 2, 3
SHF_WRITE, SHF_ALLOC, SHF_EXEC = 1, 2, 4
BASE = 0x400000


def align(b, n):
    return b + b"\0" * (-len(b) % n)


def elf(etype, machine, entry, chunks):
    """chunks: [(name, flags_rwx, data, align, sh_type)] laid out in order; each
    chunk is its own PT_LOAD when flags is set. vaddr = BASE + file offset."""
    hdr_size, ph_size, sh_size = 64, 56, 64
    nload = sum(1 for c in chunks if c[1])
    off = hdr_size + ph_size * nload
    body = b""
    placed = []
    for name, fl, data, al, st in chunks:
        pad = -(off + len(body)) % al
        body += b"\0" * pad
        placed.append((name, fl, off + len(body), data, st))
        body += data
    shstr = b"\0" + b"".join(c[0].encode() + b"\0" for c in chunks) + b".shstrtab\0"
    shstr_off = off + len(body)
    body += shstr
    body = align(body, 8)
    shoff = off + len(body)
    phs = b""
    for name, fl, foff, data, st in placed:
        if fl:
            phs += struct.pack("<IIQQQQQQ", PT_LOAD, fl, foff, BASE + foff, BASE + foff,
                               len(data), len(data), 0x1000)
    shs = b"\0" * sh_size
    name_off = 1
    symtab_index = None
    for i, (name, fl, foff, data, st) in enumerate(placed):
        shflags = (SHF_ALLOC if fl else 0) | (SHF_WRITE if fl & PF_W else 0) | (SHF_EXEC if fl & PF_X else 0)
        link = info = entsize = 0
        if st == SHT_SYMTAB:
            link, info, entsize = i + 2, 1, 24  # .strtab follows .symtab
        shs += struct.pack("<IIQQQQIIQQ", name_off, st, shflags, BASE + foff if fl else 0, foff,
                           len(data), link, info, 8, entsize)
        name_off += len(name) + 1
    shs += struct.pack("<IIQQQQIIQQ", name_off, SHT_STRTAB, 0, 0, shstr_off, len(shstr), 0, 0, 1, 0)
    shnum = len(placed) + 2
    eh = b"\x7fELF\x02\x01\x01" + b"\0" * 9
    eh += struct.pack("<HHIQQQIHHHHHH", etype, machine, 1, entry, hdr_size, shoff, 0, hdr_size,
                      ph_size, nload, sh_size, shnum, shnum - 1)
    return eh + phs + body + shs


def pclntab(magic, text_start, funcs, end_off):
    """funcs: [(name, entryoff)] sorted by entryoff; 64-bit, quantum q."""
    names = b""
    nameoffs = []
    for n, _ in funcs:
        nameoffs.append(len(names))
        names += n.encode() + b"\0"
    hdr_len = 8 + 8 * 8
    funcname_off = hdr_len
    pcln_off = hdr_len + len(align(names, 8))
    ftab = b""
    funcs_bin = b""
    ftab_len = 8 * len(funcs) + 8
    for i, (n, e) in enumerate(funcs):
        foff = ftab_len + len(funcs_bin)
        ftab += struct.pack("<II", e, foff)
        funcs_bin += struct.pack("<Ii", e, nameoffs[i]) + b"\0" * 36  # rest of _func
    ftab += struct.pack("<II", end_off, 0)
    quantum = 4 if magic == 0xfffffff0 else 1
    hdr = struct.pack("<IBBBB", magic, 0, 0, quantum, 8)
    hdr += struct.pack("<8Q", len(funcs), 0, text_start, funcname_off, 0, 0, 0, pcln_off)
    return hdr + align(names, 8) + ftab + funcs_bin


def pclntab116(funcs, end_va):
    """Go 1.16/1.17: 7 header words; functab of absolute uintptr pairs."""
    names = b""
    nameoffs = []
    for n, _ in funcs:
        nameoffs.append(len(names))
        names += n.encode() + b"\0"
    hdr_len = 8 + 7 * 8
    pcln_off = hdr_len + len(align(names, 8))
    ftab_len = 16 * len(funcs) + 8
    ftab = b""
    funcs_bin = b""
    for i, (n, va) in enumerate(funcs):
        ftab += struct.pack("<QQ", va, ftab_len + len(funcs_bin))
        funcs_bin += struct.pack("<Qi", va, nameoffs[i]) + b"\0" * 36
    ftab += struct.pack("<Q", end_va)
    hdr = struct.pack("<IBBBB", 0xfffffffa, 0, 0, 1, 8)
    hdr += struct.pack("<7Q", len(funcs), 0, hdr_len, 0, 0, 0, pcln_off)
    return hdr + align(names, 8) + ftab + funcs_bin


def uvarint(n):
    out = b""
    while n >= 0x80:
        out += bytes([n & 0x7f | 0x80])
        n >>= 7
    return out + bytes([n])


SENTINEL_A = bytes.fromhex("3077af0c9274080241e1c107e6d618e6")
SENTINEL_B = bytes.fromhex("f932433186182072008242104116d8f2")
MODINFO = (SENTINEL_A + b"path\texample.com/seed\nmod\texample.com/seed\t(devel)\t\n"
           b"dep\tgolang.org/x/net\tv0.1.0\th1:seed=\n"
           b"dep\tgolang.org/x/text\tv0.2.0\th1:seed=\n=>\t../text\tv0.3.0\t\n" + SENTINEL_B)


def go126_x86():
    code_f = bytes.fromhex("493b6610" "760a" "4883ec18" "4883c418" "c3" "cc"
                           "e800000000" "ebe9" "cccccccccccccccccc")  # 0x20 bytes
    code_g = bytes.fromhex("4889c3" "c3" + "cc" * 12)                  # 0x10, nosplit
    code_w = bytes.fromhex("e9cbffffff" "cccccc")                       # 8: wrapper -> main.f
    text = code_f + code_g + code_w
    text_va = pcl_va = 0
    for _ in range(2):  # sizes do not depend on addresses: the second pass has them right
        pcl = pclntab(0xfffffff1, 0, [("main.f", 0), ("main.g", 0x20), ("main.f", 0x30)], 0x38)
        md = [0] * 24
        md[0], md[1] = pcl_va, pcl_va + 72
        md[20], md[21], md[22], md[23] = text_va, text_va + 0x38, text_va, text_va + 0x38
        module = struct.pack("<24Q", *md)
        bi = b"\xff Go buildinf:" + bytes([8, 2]) + b"\0" * 16
        bi += uvarint(8) + b"go1.26.0" + uvarint(len(MODINFO)) + MODINFO
        img = elf(2, EM_X86_64, 0, [(".text", PF_R | PF_X, text, 16, SHT_PROGBITS),
                                    (".gopclntab", PF_R, pcl, 32, SHT_PROGBITS),
                                    (".go.module", PF_R | PF_W, module, 32, SHT_PROGBITS),
                                    (".go.buildinfo", PF_R | PF_W, bi, 16, SHT_PROGBITS)])
        text_va = BASE + img.index(text)
        pcl_va = BASE + img.index(pcl[:16])
    return img


def go118_arm64():
    f = bytes.fromhex("900b40f9" "ff6330eb" "c9000054" "ff4300d1" "ff430091" "c0035fd6"
                      "00000000" "00000000" "00000094" "f7ffff17" "00000000" "00000000")
    g = bytes.fromhex("e10300aa" "c0035fd6")
    text = f + g
    tva = dva = 0
    for _ in range(2):
        pcl = pclntab(0xfffffff0, tva, [("main.f", 0), ("main.g", 0x30)], 0x38)
        # old build info: header, then two pointers to Go string headers
        strs = b"go1.19.8" + b"\0" * 8
        sh = struct.pack("<QQQQ", dva + 64, 8, dva + 64 + 16, len(MODINFO))
        bi = b"\xff Go buildinf:" + bytes([8, 0]) + struct.pack("<QQ", dva + 32, dva + 48)
        data = bi + sh + strs + MODINFO
        img = elf(2, EM_AARCH64, 0, [(".text", PF_R | PF_X, text, 16, SHT_PROGBITS),
                                     (".gopclntab", PF_R, pcl, 32, SHT_PROGBITS),
                                     (".go.buildinfo", PF_R | PF_W, data, 16, SHT_PROGBITS)])
        tva = BASE + img.index(text)
        dva = BASE + img.index(b"\xff Go buildinf:")
    return img


def go116_x86():
    text = bytes.fromhex("55" "4889e5" "5d" "c3" + "cc" * 10)  # main.f, 0x10
    tva = dva = 0
    for _ in range(2):
        pcl = pclntab116([("main.f", tva)], tva + 0x10)
        strs = b"go1.16.15" + b"\0" * 7
        sh = struct.pack("<QQQQ", dva + 64, 9, dva + 64 + 16, len(MODINFO))
        bi = b"\xff Go buildinf:" + bytes([8, 0]) + struct.pack("<QQ", dva + 32, dva + 48)
        img = elf(2, EM_X86_64, 0, [(".text", PF_R | PF_X, text, 16, SHT_PROGBITS),
                                    (".gopclntab", PF_R, pcl, 32, SHT_PROGBITS),
                                    (".go.buildinfo", PF_R | PF_W, bi + sh + strs + MODINFO, 16,
                                     SHT_PROGBITS)])
        tva = BASE + img.index(text)
        dva = BASE + img.index(b"\xff Go buildinf:")
    return img


def c_x86():
    text = bytes.fromhex("55" "4889e5" "5d" "c3" "cccccccc")  # push rbp; mov; pop; ret
    tva = 0
    for _ in range(2):
        strtab = b"\0SSL_read\0"
        sym0 = b"\0" * 24
        sym1 = struct.pack("<IBBHQQ", 1, 0x12, 0, 1, tva, 6)  # GLOBAL FUNC, section 1
        img = elf(3, EM_X86_64, 0, [(".text", PF_R | PF_X, text, 16, SHT_PROGBITS),
                                    (".symtab", 0, sym0 + sym1, 8, SHT_SYMTAB),
                                    (".strtab", 0, strtab, 1, SHT_STRTAB)])
        tva = BASE + img.index(text)
    return img


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join("tests", "fuzz", "corpus", "elfbin")
    os.makedirs(out, exist_ok=True)
    for name, fn in (("go126_x86", go126_x86), ("go118_arm64", go118_arm64), ("go116_x86", go116_x86),
                     ("c_x86", c_x86)):
        img = fn()
        with open(os.path.join(out, name), "wb") as f:
            f.write(img)
        print(name, len(img), "bytes")


if __name__ == "__main__":
    main()
