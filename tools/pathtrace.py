#!/usr/bin/env python3
"""Where a path's instructions go: every instruction of the bench paths,
counted by function.

    python3 tools/pathtrace.py [--kernel ELF] [--path NAME] [--top N]

Boots the kernel's `paths` suite (tests/kernel/paths.c) under
`-icount shift=0,sleep=off` with `-singlestep -d exec,nochain`: QEMU logs
the address of every instruction the guest runs, one per line, and guest
time moves exactly as in `make bench` (one instruction, one ns; a
debugger's stops would move it). Then, for each path, the instructions
between two calls of path_mark() (the mark's own call and body taken off),
each run apart: their min / median / max, over the PIT phases the runs
met, and the median run's instructions by function.

For `preempt` a run is what lies between the spinners' instructions: from
the last instruction of one spinner to the first of the other, when a
switch_context lies in between.

tools/bench.py calls measure() for its breakdown of a missed goal.
"""
import argparse
import bisect
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT + "/tools")
import machine  # noqa: E402

KERNEL = os.path.join(ROOT, "build", "no-assert", "kernel.elf")
NM = os.environ.get("NM", "i686-linux-gnu-nm")
OBJDUMP = os.environ.get("OBJDUMP", "i686-linux-gnu-objdump")
SPINNER = ("spinner", "path_spinner_turn")
TIMEOUT_S = 600


def symbols(elf):
    """Sorted (address, name) of every function."""
    out = subprocess.run([NM, "-n", elf], capture_output=True, text=True, check=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            syms.append((int(parts[0], 16), parts[2]))
    return syms


def disassembly(elf):
    """{address: instruction text}, from objdump."""
    out = subprocess.run([OBJDUMP, "-d", "--no-show-raw-insn", elf], capture_output=True,
                         text=True, check=True).stdout
    text = {}
    for line in out.splitlines():
        m = re.match(r"^\s*([0-9a-f]+):\s*(.*)$", line)
        if m:
            text[int(m.group(1), 16)] = m.group(2).strip()
    return text


def run_guest(elf, log):
    args = [machine.qemu()] + machine.machine() + [
        "-cpu", "pentium", "-display", "none", "-monitor", "none", "-serial", "stdio",
        "-kernel", elf, "-append", "test=paths"] + machine.ICOUNT + [
        "-singlestep", "-d", "exec,nochain", "-D", log]
    r = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT_S)
    return r.stdout


def median(v):
    s = sorted(v)
    return s[len(s) // 2]


def function_of(syms):
    """pc -> the name of the function that holds it."""
    addrs = [a for a, _ in syms]
    cache = {}

    def func(pc):
        f = cache.get(pc)
        if f is None:
            i = bisect.bisect_right(addrs, pc) - 1
            f = cache[pc] = syms[i][1] if i >= 0 else "?"
        return f
    return func


def parse(log, syms, names, ring_mask_pc=None):
    """{path: [(instructions, {function: instructions}, {pc: n}), ...]};
    with ring_mask_pc, also "loop_dispatch": in each loop_drain run, from
    the post slot's index (the instruction before the ring mask) to the
    callback's first instruction."""
    func = function_of(syms)
    dispatch = []

    rx = re.compile(r"^Trace \d+: \S+ \[[0-9a-f]+/([0-9a-f]+)/")
    runs = {n: [] for n in names}
    switch_pcs = {a for a, n in syms if n == "switch_context"}
    group = -1
    seg = None          # {function: count} since the last mark
    preempt_run = None
    last_func = None
    since_mask, counted_entry = None, False
    with open(log, errors="replace") as fh:
        for line in fh:
            m = rx.match(line)
            if not m:
                continue
            pc = int(m.group(1), 16)
            f = func(pc)
            if f == last_func and f in ("path_mark", "path_group"):
                continue            # the mark's body, after its first instruction
            entering = f != last_func
            last_func = f
            if f == "path_group" and entering:
                group += 1
                seg = None
                preempt_run = None
                continue
            if group < 0 or group >= len(names):
                continue
            name = names[group]
            if name == "preempt":
                if f in SPINNER:
                    if preempt_run and switch_pcs & preempt_run.keys():
                        runs[name].append((sum(preempt_run.values()), preempt_run))
                    preempt_run = None
                else:
                    if preempt_run is None:
                        preempt_run = {}
                    preempt_run[pc] = preempt_run.get(pc, 0) + 1
                continue
            if f == "path_mark":
                if entering:
                    if seg is not None:
                        seg_total = sum(seg.values()) - 1    # the call to the mark
                        runs[name].append((seg_total, seg))
                        if since_mask is not None:
                            dispatch.append((since_mask, {}, {}))
                    seg = {}
                    since_mask = None
                continue
            if seg is not None:
                seg[pc] = seg.get(pc, 0) + 1
                if name == "loop_drain":
                    if pc == ring_mask_pc:
                        since_mask = 2           # and the slot index, loaded just before
                    elif since_mask is not None and f != "probe":
                        since_mask += 1
                    elif since_mask is not None and f == "probe" and not counted_entry:
                        since_mask += 1          # the callback's first instruction
                        counted_entry = True
                    if pc == ring_mask_pc:
                        counted_entry = False
    # {pc: count} to {function: count}, keeping the pcs for --listing
    out = {}
    for n, rs in runs.items():
        out[n] = []
        for total, pcs in rs:
            by = {}
            for pc, c in pcs.items():
                by[func(pc)] = by.get(func(pc), 0) + c
            out[n].append((total, by, pcs))
    if dispatch:
        out["loop_dispatch"] = dispatch
    return out


def ring_mask_pc(elf):
    """Where loop_run_posts masks the tail into a slot index (LOOP_POST_RING - 1)."""
    text = disassembly(elf)
    syms = symbols(elf)
    func = function_of(syms)
    for pc in sorted(text):
        if func(pc) == "loop_run_posts" and re.match(r"and\s+\$0x3ff,", text[pc]):
            return pc
    return None


def measure(elf=KERNEL, keep=None):
    """{path: [(instructions, {function: n}, {pc: n}), ...]}, or raise.
    keep: a folder for the log and console (reused if there already)."""
    syms = symbols(elf)
    with tempfile.TemporaryDirectory() as d:
        folder = keep or d
        os.makedirs(folder, exist_ok=True)
        log = os.path.join(folder, "exec.log")
        con = os.path.join(folder, "console.txt")
        if keep and os.path.exists(con):
            out = open(con).read()
        else:
            out = run_guest(elf, log)
            with open(con, "w") as fh:
                fh.write(out)
        names = re.findall(r"^path (\w+)", out, re.M)
        if not names or "not ok" in out:
            raise RuntimeError("pathtrace: the paths suite failed:\n" + out[-2000:])
        return parse(log, syms, names, ring_mask_pc(elf))


def describe(runs, top=8):
    """'min / median / max' and the median run's top functions."""
    totals = [r[0] for r in runs]
    mid = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
    parts = sorted(mid[1].items(), key=lambda kv: -kv[1])
    return (min(totals), median(totals), max(totals)), parts[:top]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kernel", default=KERNEL)
    ap.add_argument("--path", help="only this path")
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--listing", action="store_true",
                    help="the median run's instructions, address by address")
    ap.add_argument("--keep", help="keep the log in this folder; reuse it if there")
    a = ap.parse_args()
    runs = measure(a.kernel, a.keep)
    for name, rs in runs.items():
        if a.path and name != a.path:
            continue
        if not rs:
            print("%-12s no runs" % name)
            continue
        # The first runs warm up (a new thread's first switch, the first tick).
        steady = rs[2:] if len(rs) > 4 else rs
        (lo, mid, hi), parts = describe(steady, a.top)
        print("%-12s %d runs: min %d / median %d / max %d instructions" %
              (name, len(steady), lo, mid, hi))
        print("             " + ", ".join("%s %d" % kv for kv in parts))
        if a.listing:
            mid_run = sorted(steady, key=lambda r: r[0])[len(steady) // 2]
            text = disassembly(a.kernel)
            func_of = function_of(symbols(a.kernel))
            for pc in sorted(mid_run[2]):
                print("    %3d  %-24s %s" % (mid_run[2][pc], func_of(pc), text.get(pc, "")))


if __name__ == "__main__":
    main()
