"""GDB commands for the webscale kernel: `ws threads`, `ws bt ID`,
`ws switches [N]`, `ws trace [N]`, `ws loop`, `ws user [NAME]`, `ws help`.

`make gdb` loads this file with -x (tools/gdb/gdbinit.tmpl); by hand:
`source tools/gdb/ws.py`. It only reads the kernel's memory through the
symbols in build/kernel.elf: the list of every thread (all_threads in
kernel/thread.c), struct thread (kernel/sched.h), the saved context at
t->ctx (struct context in kernel/context.h: ebp eip, the layout
switch.S pushes), and what schedule() records for us: current,
sched_prev, sched_last_reason. Nothing here writes to the guest.
"""
import os

import gdb

PTR = 4   # i386
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ---------------------------------------------------------------- reading

def var(name, file=None):
    """A kernel variable, global or file-static."""
    if file:
        try:
            return gdb.parse_and_eval("'%s'::%s" % (file, name))
        except gdb.error:
            pass
    try:
        return gdb.parse_and_eval(name)
    except gdb.error:
        sym = gdb.lookup_static_symbol(name)
        if sym is None:
            raise gdb.GdbError("ws: no symbol '%s' in the kernel (is build/kernel.elf loaded?)"
                               % name)
        return sym.value()


def address_of(name):
    return int(gdb.parse_and_eval("(unsigned int)&%s" % name))


def u32(addr):
    data = gdb.selected_inferior().read_memory(addr, PTR)
    return int.from_bytes(bytes(data), "little")


def cstr(ptr, size=64):
    """The NUL-terminated string at a char * (or a char array's address)."""
    addr = int(ptr)
    if addr == 0:
        return ""
    try:
        data = bytes(gdb.selected_inferior().read_memory(addr, size))
    except gdb.MemoryError:
        return "?"
    return data.split(b"\0")[0].decode("latin-1")


def tname(t):
    return cstr(t["name"].address, t["name"].type.sizeof)


def enum_names(type_name, prefix):
    """{value: short name} of a C enum, e.g. THREAD_READY -> 'ready'."""
    try:
        t = gdb.lookup_type(type_name)
    except gdb.error:
        return {}
    return {int(f.enumval): f.name[len(prefix):].lower() for f in t.fields()}


def offset_of(type_name, field):
    for f in gdb.lookup_type(type_name).fields():
        if f.name == field:
            return f.bitpos // 8
    raise gdb.GdbError("ws: %s has no field %s" % (type_name, field))


def list_nodes(head_value):
    """The node addresses of a struct list, in order."""
    head = int(head_value["head"].address)
    node = int(head_value["head"]["next"])
    seen = 0
    while node != head and node and seen < 100000:
        yield node
        node = u32(node + PTR)        # struct list_node { prev, next }
        seen += 1


def thread_ptr(addr):
    return gdb.Value(addr).cast(gdb.lookup_type("struct thread").pointer())


def all_threads():
    off = offset_of("struct thread", "all")
    return [thread_ptr(n - off) for n in list_nodes(var("all_threads", "thread.c"))]


def stack_bounds(t):
    lo = int(t["stack"])
    return lo, lo + int(t["stack_size"])


def cpu_thread():
    """The thread whose stack the CPU is on. Usually `current`; not during
    the few instructions of schedule()/switch_context after `current` was
    set to the next thread and before the stack swap."""
    esp = int(gdb.parse_and_eval("(unsigned int)$esp"))
    for t in all_threads():
        lo, hi = stack_bounds(t)
        if lo and lo <= esp < hi:
            return t
    return None


def where(pc, is_return=False):
    """'function+0x12 (file.c:34)' for an address."""
    pc = int(pc)
    if pc == 0:
        return "0"
    look = pc - 1 if is_return else pc
    name, off, inlined = None, 0, []
    try:
        block = gdb.block_for_pc(look)
        # Walk out of inlined blocks to the real function.
        while block is not None and not block.is_static and not block.is_global:
            if block.function is not None:
                if name is not None:
                    inlined.append(name)
                name, off = block.function.name, pc - block.start
            block = block.superblock
    except RuntimeError:
        pass
    if name is None:    # assembly (switch.S, vectors.S): only an ELF symbol
        text = gdb.execute("info symbol %#x" % pc, to_string=True).strip()
        if not text.startswith("No symbol"):
            parts = text.split(" in section")[0].split(" + ")
            name = parts[0]
            off = int(parts[1]) if len(parts) > 1 else 0
    sal = gdb.find_pc_line(look)
    line = ""
    if sal.symtab is not None:
        line = " (%s:%d)" % (sal.symtab.filename.split("/")[-1], sal.line)
    if inlined:
        line = " [inlined: %s]%s" % (" <- ".join(inlined), line)
    return "%s+%#x%s" % (name or "??", off, line)


PIT_INPUT_HZ = 1193182     # drivers/pit.h


def raw_to_ns(raw):
    return raw * 1000000000 // PIT_INPUT_HZ


def now_raw():
    """Roughly the kernel's clock_raw() (PIT input clocks since boot), from
    whole ticks (clock_tick_raw, kept by the PIT's handler): gdb cannot
    latch the PIT counter."""
    try:
        return int(var("clock_tick_raw"))
    except gdb.GdbError:
        return None


def now_ns():
    raw = now_raw()
    return None if raw is None else raw_to_ns(raw)


# ---------------------------------------------------------------- commands

class Ws(gdb.Command):
    """webscale kernel helpers. Type 'ws help'."""

    def __init__(self):
        super().__init__("ws", gdb.COMMAND_USER, gdb.COMPLETE_COMMAND, prefix=True)

    def invoke(self, arg, from_tty):
        gdb.execute("ws help")


HELP = """\
webscale GDB commands (tools/gdb/ws.py):
  ws threads        every thread: id, name, state, what it waits on, saved
                    eip/esp, CPU time, switches (VOL/INVOL, as ps); * marks
                    the running one (current)
  ws bt ID          backtrace of thread ID; a paused thread is unwound from its
                    saved context (t->ctx) without touching the running one
  ws switches [N]   run until the next N context switches (default 1), print
                    from -> to and why, and stay stopped at the last one
  ws trace [N]      the last N records of the kernel's scheduling trace (default 20)
  ws user [NAME]    load the symbols of ring-3 program NAME (default: the one
                    running now), build/ring3/NAME.elf, for bt and break in ring 3
  ws loop           the event loop: its phase, pending timers, queued events,
                    watchers, the callback running now
  ws help           this list
  ws rswitch, ws rswitches N, ws rhelp
                    in a replay (make replay): back to the previous switch(es);
                    tools/gdb/ws_reverse.py
Also: a hook-stop shows the next instruction at every stop; 'stepi' walks
switch.S line by line and 'bt' works at each of its instructions."""


class WsHelp(gdb.Command):
    """List the webscale commands."""

    def __init__(self):
        super().__init__("ws help", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        print(HELP)


def saved_eip(t):
    return u32(int(t["ctx"]) + 4)        # struct context: ebp eip


SYSCALL_VECTOR = 0x80
TRAPFRAME_USER = 60       # sizeof(struct trapframe): with the ring-3 esp and ss
RING_MASK = 3


def process_of(t):
    """(the PROC column, the RING column) of a thread. A thread of a process
    runs in ring 3 or in the kernel on its behalf; paused, the frame at the
    top of its kernel stack says which: pushed by int 0x80 (a system call,
    ring 0) or by an interrupt of ring 3 (preempted there)."""
    proc = t["proc"]
    if int(proc) == 0:
        return "-", "0"
    pcol = "%d %s" % (int(proc["pid"]), cstr(proc["name"].address, proc["name"].type.sizeof))
    oncpu = cpu_thread()
    if oncpu is not None and int(oncpu) == int(t):
        return pcol, str(int(gdb.parse_and_eval("$cs")) & RING_MASK)
    if int(t["stack"]) == 0:
        return pcol, "-"
    tf = int(t["stack"]) + int(t["stack_size"]) - TRAPFRAME_USER
    if u32(tf + 44) & RING_MASK != RING_MASK:
        return pcol, "0 new"
    if u32(tf + 32) == SYSCALL_VECTOR:
        return pcol, "0 syscall"
    return pcol, "3 at %#x" % u32(tf + 40)


def thread_row(t, cur, oncpu, states, now):
    """The columns of one thread for ws threads."""
    state = states.get(int(t["state"]), "?")
    live = oncpu is not None and int(t) == int(oncpu)
    if live:
        eip = int(gdb.parse_and_eval("(unsigned int)$pc"))
        esp = int(gdb.parse_and_eval("(unsigned int)$esp"))
        at = where(eip) + " [live]"
    elif int(t["stack"]) == 0 or int(t["ctx"]) == 0:
        eip = esp = None
        at = "-"
    else:
        esp = int(t["ctx"])
        eip = saved_eip(t)
        if eip == address_of("thread_entry") + 1:
            at = "thread_entry (new: has not run yet)"
        else:
            at = where(eip, is_return=True)
    cpu = int(t["cpu_raw"])
    approx = ""
    if int(t) == int(cur) and now is not None:
        try:
            last = int(var("sched_switch_raw"))
            if now > last:
                cpu += now - last
                approx = "~"
        except gdb.GdbError:
            pass
    mark = "*" if int(t) == int(cur) else " "
    if live and int(t) != int(cur):
        mark = ">"
    proc, ring = process_of(t)
    vol = int(t["voluntary"])
    return [mark + "%3d" % int(t["id"]), tname(t), state, cstr(t["wait_on"]) or "-",
            "%#010x" % eip if eip is not None else "-",
            "%#010x" % esp if esp is not None else "-",
            "%s%.3f" % (approx, raw_to_ns(cpu) / 1e6), str(vol),
            str(int(t["involuntary"])), proc, ring, at]


THREAD_COLUMNS = ["  ID", "NAME", "STATE", "WAITS ON", "EIP", "ESP", "CPU ms", "VOL", "INVOL",
                  "PROCESS", "RING", "WHERE IT RUNS / RESUMES"]
RIGHT = {0, 6, 7, 8}


def print_table(head, rows, right):
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    for r in [head] + rows:
        cells = [c.rjust(w) if i in right else c.ljust(w)
                 for i, (c, w) in enumerate(zip(r, widths))]
        print("  ".join(cells).rstrip())


class WsUser(gdb.Command):
    """Load a ring-3 program's symbols: ws user [NAME]."""

    def __init__(self):
        super().__init__("ws user", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        name = arg.strip()
        if not name:
            proc = var("current")["proc"]
            if int(proc) == 0:
                raise gdb.GdbError("ws user: the running thread is a kernel thread; "
                                   "name the program")
            name = cstr(proc["name"].address, proc["name"].type.sizeof)
        path = os.path.join(ROOT, "build", "ring3", name + ".elf")
        if not os.path.exists(path):
            raise gdb.GdbError("ws user: no %s (make kernel builds it)" % path)
        # Linked at its own user address: no offset to give.
        gdb.execute("add-symbol-file %s -o 0" % path, to_string=True)
        print("ws user: symbols of '%s' from %s (ring 3, 0x40000000 up)" % (name, path))


class WsThreads(gdb.Command):
    """Every kernel thread, from the kernel's list of all threads."""

    def __init__(self):
        super().__init__("ws threads", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        states = enum_names("enum thread_state", "THREAD_")
        cur = var("current")
        oncpu = cpu_thread()
        now = now_raw()
        rows = [thread_row(t, cur, oncpu, states, now) for t in all_threads()]
        print_table(THREAD_COLUMNS, rows, RIGHT)
        print("* = current, the running thread. A paused thread's EIP/ESP are its saved\n"
              "context (t->ctx): it resumes where switch_context returns. [live] = the\n"
              "CPU's registers. ~ = with its current turn. PROCESS: pid and program of a\n"
              "ring-3 process, - for a kernel thread. RING: where it runs (live: CS), or\n"
              "for a paused process thread: '3 at EIP' preempted in ring 3, '0 syscall'\n"
              "in a system call.")
        if oncpu is not None and int(oncpu) != int(cur):
            print("> = mid-switch: current is already '%s', but the CPU still runs on "
                  "'%s''s stack." % (tname(cur), tname(oncpu)))


def find_thread(arg):
    try:
        want = int(arg, 0)
    except ValueError:
        want = None
    for t in all_threads():
        if int(t["id"]) == want or (want is None and tname(t) == arg):
            return t
    raise gdb.GdbError("ws: no thread %s (see 'ws threads')" % arg)


def unwind_saved(t, limit=32):
    """Frames of a paused thread from its struct context: a list of
    (pc, text). Follows the ebp chain, and through an interrupt frame
    (trapret) into the code the interrupt stopped."""
    lo, hi = stack_bounds(t)
    ctx = int(t["ctx"])
    eip = saved_eip(t)
    ebp = u32(ctx)                       # struct context: ebp eip
    try:   # trap() returns into alltraps, just before the label trapret
        irq_lo, irq_hi = address_of("alltraps"), address_of("trapret")
        # The IRQ fast paths (kernel/vectors.S) call sched_preempt (IRQ 0's
        # sched_tick_irq) right on top of the trapframe; alltraps passes
        # trap() a pointer to it.
        fast_lo, fast_hi = address_of("irq_first_chip"), address_of("irq_return_to_user")
    except gdb.error:
        irq_lo = irq_hi = None
    try:   # kernel/switch.S: thread_yield, sem_up, ... build no frame
        calls = address_of("irqs_off_calls_range")
        calls_lo, calls_hi = u32(calls), u32(calls + PTR)
    except gdb.error:
        calls_lo = calls_hi = 0
    frames = [(eip, "in " + where(eip, is_return=True) +
               "   <- switch_context returns here")]
    while len(frames) < limit:
        if not (lo <= ebp and ebp + 2 * PTR <= hi) or ebp & 3:
            break
        ret = u32(ebp + PTR)
        nxt = u32(ebp)
        if ret == 0:
            break
        if irq_lo is not None and irq_lo < ret <= irq_hi:
            if fast_lo < ret < fast_hi:
                tf = ebp + 2 * PTR           # the frame itself, above the return address
            else:
                tf = u32(ebp + 2 * PTR)      # trap(struct trapframe *tf)
            if not (lo <= tf < hi):
                break
            vector = u32(tf + 32)
            what = "IRQ %d" % (vector - 32) if vector >= 32 else "exception"
            frames.append((ret, "<interrupt: vector %d, %s; registers at %#x>"
                           % (vector, what, tf)))
            eip = u32(tf + 40)
            frames.append((eip, "in " + where(eip) + "   <- interrupted here"))
            ebp = u32(tf + 8)
            continue
        frames.append((ret, "in " + where(ret, is_return=True)))
        if calls_lo <= ret < calls_hi and ebp + 4 * PTR <= hi:
            ret = u32(ebp + 3 * PTR)         # its caller's, above the EFLAGS it pushed
            frames.append((ret, "in " + where(ret, is_return=True)))
        if nxt <= ebp:
            break
        ebp = nxt
    return frames


class WsBt(gdb.Command):
    """Backtrace of one thread: ws bt ID (or NAME)."""

    def __init__(self):
        super().__init__("ws bt", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        arg = arg.strip()
        if not arg:
            raise gdb.GdbError("usage: ws bt ID")
        t = find_thread(arg)
        states = enum_names("enum thread_state", "THREAD_")
        name = tname(t)
        state = states.get(int(t["state"]), "?")
        oncpu = cpu_thread()
        if oncpu is not None and int(oncpu) == int(t):
            print("thread %d '%s' is on the CPU: its backtrace is gdb's own:" %
                  (int(t["id"]), name))
            gdb.execute("bt")
            return
        if int(t["stack"]) == 0 or int(t["ctx"]) == 0:
            print("thread %d '%s' (%s) has no stack any more." % (int(t["id"]), name, state))
            return
        wait_on = cstr(t["wait_on"])
        print("thread %d '%s' (%s%s), unwound from its saved context at %#x:" % (
            int(t["id"]), name, state, ", waits on " + wait_on if wait_on else "",
            int(t["ctx"])))
        for i, (pc, text) in enumerate(unwind_saved(t)):
            print("#%-2d %#010x %s" % (i, pc, text))


# ---------------------------------------------------------------- switches

def describe(t):
    return "%d %s" % (int(t["id"]), tname(t))


class WsSwitches(gdb.Command):
    """Run until the next N context switches: ws switches [N]."""

    def __init__(self):
        super().__init__("ws switches", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        n = int(arg.strip() or "1", 0)
        if n < 1:
            raise gdb.GdbError("usage: ws switches [N], N >= 1")
        entry = address_of("switch_context")
        reasons = enum_names("enum switch_reason", "SWITCH_")
        states = enum_names("enum thread_state", "THREAD_")
        bp = gdb.Breakpoint("*%#x" % entry, internal=True)
        bp.silent = True
        try:
            for i in range(1, n + 1):
                gdb.execute("continue", to_string=True)
                pc = int(gdb.parse_and_eval("(unsigned int)$pc"))
                if pc != entry:
                    print("ws: stopped at %s, not at a switch; %d of %d reported" %
                          (where(pc), i - 1, n))
                    return
                prev, nxt = var("sched_prev"), var("current")
                why = reasons.get(int(var("sched_last_reason")), "?")
                wait_on = cstr(prev["wait_on"])
                pstate = states.get(int(prev["state"]), "?")
                note = pstate + (" on " + wait_on if wait_on else "")
                print("switch %d: %-18s -> %-18s %-8s (%s is now %s; switch #%d)" % (
                    i, describe(prev), describe(nxt), why,
                    tname(prev), note, int(var("sched_switch_count"))))
        finally:
            bp.delete()
        print("stopped at the entry of switch_context, still on %s's stack; "
              "'stepi' walks the switch." % tname(var("sched_prev")))


# ---------------------------------------------------------------- trace, loop

# kernel/trace.h: a record is two words, the time's low 40 bits (raw_lo,
# raw_hi), to and the reason; "from" is the previous record's "to"; the
# full time comes back from the newest record, whose time is
# sched_switch_raw's or older.
TRACE_TIME_BITS = 40


def decode_trace(ring, size, count, n):
    """The newest n records whose "from" is known (trace_snapshot's rule,
    kernel/trace.c), oldest first, as (record number, raw time, from, to,
    reason)."""
    first = int(var("trace_first"))
    lo = count - size + 1 if count > size else 0
    if count >= size and first == count - size:
        lo = first
    lo = max(lo, first)
    slot = lambda k: ring[k & (size - 1)]  # noqa: E731
    out, ref = [], int(var("sched_switch_raw"))
    mask = (1 << TRACE_TIME_BITS) - 1
    for k in range(count - 1, max(lo, count - n) - 1, -1):
        r = slot(k)
        low40 = int(r["raw_lo"]) | int(r["raw_hi"]) << 32
        ref -= (ref - low40) & mask
        frm = int(var("trace_first_from")) if k == first else int(slot(k - 1)["to"])
        out.append((k, ref, frm, int(r["to"]), int(r["reason"])))
    return out[::-1]


class WsTrace(gdb.Command):
    """The last N scheduling trace records: ws trace [N]."""

    def __init__(self):
        super().__init__("ws trace", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        n = int(arg.strip() or "20", 0)
        try:
            ring = var("trace_ring")
            count = int(var("sched_switch_count"))   # one per switch and record
        except gdb.GdbError:
            raise gdb.GdbError("ws trace: this kernel has no trace ring (kernel/trace.c)")
        size = ring.type.sizeof // ring[0].type.sizeof
        recs = decode_trace(ring, size, count, max(0, n))
        n = len(recs)
        reasons = enum_names("enum switch_reason", "SWITCH_")
        names = {int(t["id"]): tname(t) for t in all_threads()}
        who = lambda i: "%d %s" % (i, names.get(i, "(gone)"))  # noqa: E731
        print("trace: %d switches recorded; the last %d (the ring keeps %d):" %
              (count, n, size - 1))
        # Numbered as ws switches numbers them: switch #1 is the first since boot.
        print(" SWITCH #       TIME ms     +us  FROM               TO                 REASON")
        prev = None
        for k, raw, frm, to, why in recs:
            ns = raw_to_ns(raw)
            gap = "%7d" % ((ns - prev) // 1000) if prev is not None else "      -"
            prev = ns
            print("%9d  %12.3f %s  %-18s %-18s %s" % (
                k + 1, ns / 1e6, gap, who(frm), who(to), reasons.get(why, "?")))
        print("TIME: since boot (PIT clock, 838 ns resolution); +us: since the record above.")


def ms(ns):
    return "%.3f ms" % (ns / 1e6)


def loop_nodes(lst, type_name):
    off = offset_of(type_name, "link")
    ptr = gdb.lookup_type(type_name).pointer()
    return [gdb.Value(n - off).cast(ptr) for n in list_nodes(lst)]


class WsLoop(gdb.Command):
    """The event loop's state (kernel/loop/): ws loop."""

    def __init__(self):
        super().__init__("ws loop", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        try:
            core = var("loop_core")
            cb = var("loop_cb")
        except gdb.GdbError:
            raise gdb.GdbError("ws loop: this kernel has no event loop (kernel/loop/)")
        now = now_ns()
        if now is None or now < int(cb["now"]):
            now = int(cb["now"])
        thread = var("run", "run.c")["thread"]
        if int(thread):
            t = thread.cast(gdb.lookup_type("struct thread").pointer())
            states = enum_names("enum thread_state", "THREAD_")
            wait_on = cstr(t["wait_on"])
            print("event loop: thread %d '%s', %s%s; now ~%s since boot" % (
                int(t["id"]), tname(t), states.get(int(t["state"]), "?"),
                " on '%s'" % wait_on if wait_on else "", ms(now)))
        else:
            print("event loop: not started")
        phases = enum_names("enum loop_phase", "LOOP_")
        print("phase: %s" % phases.get(int(core["phase"]), "?"))
        running = cstr(cb["name"])
        if running:
            print("running now: callback '%s', for %s" % (running, ms(now - int(cb["now"]))))
        else:
            print("running now: no callback")

        heap = var("timers", "timer.c")
        n = int(heap["n"])
        node_off = offset_of("struct loop_timer", "node")
        tptr = gdb.lookup_type("struct loop_timer").pointer()
        timers = [gdb.Value(int(heap["slot"][i]) - node_off).cast(tptr) for i in range(n)]
        timers.sort(key=lambda t: (int(t["node"]["key"]), int(t["node"]["seq"])))
        print("timers pending: %d" % n)
        for t in timers:
            due = int(t["node"]["key"])
            period = int(t["period_ns"])
            print("  %-24s due at %12s (%s)%s, fired %d%s" % (
                cstr(t["name"]), ms(due), "in " + ms(due - now) if due >= now else
                "overdue by " + ms(now - due),
                ", every " + ms(period) if period else ", one-shot", int(t["fired"]),
                ", missed %d" % int(t["missed"]) if int(t["missed"]) else ""))

        posts = var("posts", "post.c")
        head, tail = int(posts["head"]), int(posts["tail"])
        size = int(posts["ring"].type.sizeof // posts["ring"][0].type.sizeof)
        print("posted events queued: %d" % (head - tail))
        for i in range(tail, head):
            e = posts["ring"][i & (size - 1)]
            print("  %-24s arg %#x" % (cstr(e["name"]), int(e["arg"])))
        work = var("work", "work.c")
        calls = loop_nodes(work["calls"], "struct loop_call")
        print("calls from threads queued: %d" % len(calls))
        for c in calls:
            print("  %s" % cstr(c["name"]))
        jobs = loop_nodes(work["work"], "struct loop_call")
        print("jobs for the worker pool: %d" % len(jobs))
        for c in jobs:
            print("  %s" % cstr(c["name"]))
        watchers = loop_nodes(var("watch", "source.c")["watchers"], "struct loop_watcher")
        print("watchers: %d" % len(watchers))
        for w in watchers:
            print("  %-24s %-18s %s, %d calls" % (
                cstr(w["name"]), cstr(w["source"]["name"]),
                "active" if int(w["active"]) else "stopped", int(w["calls"])))

Ws()
WsHelp()
WsThreads()
WsUser()
WsBt()
WsSwitches()
WsTrace()
WsLoop()
