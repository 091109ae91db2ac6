#!/usr/bin/env python3
"""Make the kernel's embedded symbol table.

Reads `nm -n` output of the first link on stdin and writes an assembly file
with the function symbols (sorted addresses, names) into section .ksyms,
which linker.ld places after .rodata so that no code moves when the second
link fills it in. With --empty, writes the empty table for the first link.
With --check A B, verifies that two nm listings agree on every text symbol.
"""
import sys


def text_symbols(lines):
    syms = {}
    for line in lines:
        parts = line.split()
        if len(parts) != 3:
            continue
        addr, kind, name = parts
        if kind in "tTwW" and not name.startswith("."):
            syms.setdefault(int(addr, 16), name)
    return sorted(syms.items())


def emit(syms, out):
    out.write('    .section .ksyms, "a"\n    .balign 4\n')
    out.write("    .globl ksyms_count, ksyms_addrs, ksyms_name_offs, ksyms_strtab\n")
    out.write("ksyms_count:\n    .long %d\n" % len(syms))
    out.write("ksyms_addrs:\n")
    for addr, _ in syms:
        out.write("    .long 0x%08x\n" % addr)
    out.write("ksyms_name_offs:\n")
    off = 0
    for _, name in syms:
        out.write("    .long %d\n" % off)
        off += len(name) + 1
    out.write("ksyms_strtab:\n")
    for _, name in syms:
        out.write('    .asciz "%s"\n' % name)
    if not syms:
        out.write("    .byte 0\n")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--empty":
        emit([], sys.stdout)
    elif len(sys.argv) == 4 and sys.argv[1] == "--check":
        a = text_symbols(open(sys.argv[2]))
        b = text_symbols(open(sys.argv[3]))
        if a != b:
            sys.exit("mksyms: text symbols moved between the two links; "
                     "check that .ksyms comes after .text in linker.ld")
    else:
        emit(text_symbols(sys.stdin), sys.stdout)


if __name__ == "__main__":
    main()
