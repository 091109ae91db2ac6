"""GDB scenarios: gdb in batch mode against a paused QEMU.

Each test boots QEMU with -S and its gdbstub on a free 127.0.0.1 port,
runs gdb -batch with the same script `make gdb` uses (tools/gdb/gdbinit.tmpl:
tools/gdb/ws.py loaded, stopped at kmain by a hardware breakpoint), then
the test's own commands. Python blocks print "CHECK key=value" lines that
the test parses; everything else is gdb's and ws's own output.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tools", "gdb"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from guest import Guest, TestFailure, check  # noqa: E402
from freeport import free_port, port_is_free  # noqa: E402
import launch  # noqa: E402

GDB = os.environ.get("GDB", "gdb")
GDB_TIMEOUT = 120       # wall seconds; the guest runs under icount, this only guards a hang

# Runs inside gdb: which thread's stack the CPU is on, independent of ws.py.
PY_HELPERS = r'''
python
def check_oncpu():
    esp = int(gdb.parse_and_eval("(unsigned int)$esp"))
    node = gdb.parse_and_eval("'thread.c'::all_threads")["head"]
    head = int(node.address)
    off = [f.bitpos // 8 for f in gdb.lookup_type("struct thread").fields() if f.name == "all"][0]
    n = int(node["next"])
    while n != head:
        t = gdb.Value(n - off).cast(gdb.lookup_type("struct thread").pointer())
        lo = int(t["stack"])
        if lo <= esp < lo + int(t["stack_size"]):
            return int(t["id"])
        n = int(t["all"]["next"])
    return -1

def check_line(tag, **kv):
    print("CHECK tag=%s %s" % (tag, " ".join("%s=%s" % i for i in kv.items())))
end
'''


class Session:
    """A paused QEMU with a gdbstub; run() drives one gdb -batch against it."""

    def __init__(self, append="", icount=True):
        for _ in range(5):
            self.port = free_port()
            self.guest = Guest(append=append, icount=icount,
                               extra=["-S", "-gdb", "tcp:127.0.0.1:%d" % self.port])
            if self._listening():
                break
            self.guest.kill()
        else:
            raise TestFailure("QEMU's gdbstub did not start:\n" + self.guest.tail())
        self.gdbinit = launch.write_gdbinit(self.port)

    def _listening(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.guest.p.poll() is not None:
                return False
            if not port_is_free(self.port):
                return True
            time.sleep(0.02)
        return False

    def run(self, commands, timeout=GDB_TIMEOUT):
        with tempfile.NamedTemporaryFile("w", suffix=".gdb", delete=False) as f:
            f.write(PY_HELPERS + commands)
            script = f.name
        try:
            p = subprocess.run([GDB, "-q", "-nx", "-batch", "-x", self.gdbinit, "-x", script],
                               capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        except subprocess.TimeoutExpired as e:
            raise TestFailure("gdb timed out after %d s:\n%s" % (timeout, e.stdout or ""))
        finally:
            os.unlink(script)
        self.out = p.stdout + p.stderr
        return self.out

    def checks(self, tag):
        """The key=value dicts of the CHECK lines with this tag."""
        rows = []
        for line in self.out.splitlines():
            if line.startswith("CHECK tag=%s " % tag):
                rows.append(dict(kv.split("=", 1) for kv in line.split()[1:]))
        return rows

    def fail(self, msg):
        raise TestFailure("%s\n--- gdb output:\n%s\n--- serial:\n%s" %
                          (msg, self.out[-6000:], self.guest.tail(1500)))

    def expect(self, cond, msg):
        if not cond:
            self.fail(msg)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.guest.kill()
        if os.path.exists(self.gdbinit):
            os.unlink(self.gdbinit)


# Boot with run=threads 2 and stop as the shell starts the demo.
AT_THREADS_DEMO = """
break cmd_threads
continue
delete
"""


# -------------------------------------------------------------------- (a)

def test_break_on_switch_changes_thread():
    """Issue 2: break on the context-switch routine, continue twice, and
    the running thread changed: the second stop runs on the stack of the
    thread the first stop switched to."""
    with Session("run=threads 2") as s:
        s.run('''
break switch_context
continue
python check_line("stop", oncpu=check_oncpu(), prev=int(gdb.parse_and_eval("sched_prev->id")), next=int(gdb.parse_and_eval("current->id")))
continue
python check_line("stop", oncpu=check_oncpu(), prev=int(gdb.parse_and_eval("sched_prev->id")), next=int(gdb.parse_and_eval("current->id")))
''')
        stops = s.checks("stop")
        s.expect(len(stops) == 2, "expected two stops in switch_context")
        a, b = stops
        s.expect("kmain" in s.out, "gdb did not stop at kmain first")
        s.expect(a["oncpu"] == a["prev"] and b["oncpu"] == b["prev"],
                 "at switch_context's entry the CPU should be on the outgoing thread's stack")
        s.expect(a["prev"] != a["next"], "a switch from a thread to itself")
        s.expect(b["oncpu"] == a["next"] and b["oncpu"] != a["oncpu"],
                 "the running thread did not change between the two stops")


# -------------------------------------------------------------------- (b)

WS_ROW = re.compile(r"^[*> ]\s*(\d+)\s+(\S+)\s+(running|ready|blocked|sleeping|dead)\b", re.M)
PS_ROW = re.compile(r"^\s*\*?\s*(\d+) (\S+)\s+(running|ready|blocked|sleeping|dead)\b", re.M)


def test_ws_threads_matches_ps():
    """ws threads, stopped at the start of the kernel's own ps, lists the
    same threads (id, name, state) that ps then prints."""
    with Session("run=ps") as s:
        s.run('''
break cmd_ps
continue
ws threads
''')
        ws = set(WS_ROW.findall(s.out))
        s.guest.expect(r"= running now", 30)
        ps = set(PS_ROW.findall(s.guest.output))
        s.expect(len(ps) >= 2, "could not read ps's table")
        s.expect(ws == ps, "ws threads %s != ps %s" % (sorted(ws), sorted(ps)))
        s.expect(re.search(r"^\*\s*\d+\s+shell\s", s.out, re.M),
                 "the running thread (the shell, in ps) is not marked with *")


# -------------------------------------------------------------------- (c)

SWITCH = re.compile(r"^switch (\d+): (\d+) (\S+)\s+-> (\d+) (\S+)\s+(\w+)\s+\((.*)\)$", re.M)
REASONS = {"yield", "preempt", "block", "exit"}


def test_ws_switches_reports_three():
    """ws switches 3: three switches, each from the thread the previous one
    switched to, with a reason that fits the outgoing thread's new state;
    the kernel's switch counter moved by exactly three; gdb stays stopped
    at switch_context on the last outgoing thread's stack."""
    with Session("run=threads 2") as s:
        s.run(AT_THREADS_DEMO + '''python check_line("before", count=int(gdb.parse_and_eval("sched_switch_count")))
ws switches 3
python check_line("after", count=int(gdb.parse_and_eval("sched_switch_count")), oncpu=check_oncpu(), at_switch=int(gdb.parse_and_eval("$pc == switch_context")))
''')
        sw = SWITCH.findall(s.out)
        s.expect(len(sw) == 3, "expected 3 switch lines, got %d" % len(sw))
        before, after = s.checks("before"), s.checks("after")
        s.expect(before and after, "missing CHECK lines")
        s.expect(int(after[0]["count"]) - int(before[0]["count"]) == 3,
                 "sched_switch_count did not move by 3")
        for i, (n, fid, fname, tid, tname, why, note) in enumerate(sw):
            s.expect(fid != tid, "switch %s from a thread to itself" % n)
            s.expect(why in REASONS, "switch %s: unknown reason %s" % (n, why))
            if i:
                s.expect(fid == sw[i - 1][3], "switch %s is not from the thread switch %d "
                         "went to" % (n, i))
            now = note.split(" is now ")[1] if " is now " in note else ""
            if why == "preempt":
                s.expect(now.startswith("ready"), "preempted, but %s" % note)
            if why == "block":
                s.expect(now.startswith(("sleeping", "blocked")), "blocked, but %s" % note)
        s.expect(sw[0][2] == "shell" and sw[0][5] == "block",
                 "the shell should go first, blocking in its 1 s sleep")
        s.expect(after[0]["at_switch"] == "1" and after[0]["oncpu"] == sw[-1][1],
                 "not stopped at switch_context on the last outgoing thread's stack")


# -------------------------------------------------------------------- (d)

def bt_block(out, tid):
    m = re.search(r"^thread %s '.*\n((?:#.*\n?)+)" % tid, out, re.M)
    return m.group(1) if m else ""


def test_ws_bt_of_sleeping_and_preempted_threads():
    """ws bt of the sleeping shell shows where it sleeps, down to
    thread_entry; of a preempted counter, the interrupt that stopped it
    and the loop it was in. The running thread is untouched."""
    with Session("run=threads 2") as s:
        s.run(AT_THREADS_DEMO + '''ws switches 3
python check_line("regs", pc=int(gdb.parse_and_eval("$pc")), esp=int(gdb.parse_and_eval("$esp")))
ws bt shell
ws bt countA
python check_line("regs", pc=int(gdb.parse_and_eval("$pc")), esp=int(gdb.parse_and_eval("$esp")))
''')
        ids = {m[2]: m[1] for m in SWITCH.findall(s.out)}
        ids.update({m[4]: m[3] for m in SWITCH.findall(s.out)})
        s.expect("shell" in ids and "countA" in ids, "shell and countA not among the switches")
        shell = bt_block(s.out, ids["shell"])
        order = ["schedule", "block", "thread_sleep_until", "shell_sleep_until", "cmd_threads",
                 "thread_start", "thread_entry"]
        pos = [shell.find(" %s+" % f) for f in order]
        s.expect(all(p >= 0 for p in pos) and pos == sorted(pos),
                 "the shell's backtrace should go %s" % " <- ".join(order))
        s.expect("waits on sleep" in s.out, "the shell should wait on sleep")
        count = bt_block(s.out, ids["countA"])
        s.expect("<interrupt: vector 32, IRQ 0" in count and " count_forever+" in count
                 and " sched_tick_irq+" in count,
                 "countA's backtrace should show the PIT interrupt in count_forever")
        regs = s.checks("regs")
        s.expect(len(regs) == 2 and regs[0] == regs[1], "ws bt moved the running thread")


def test_ws_bt_through_sem_down():
    """sem_down (kernel/switch.S) builds no frame of its own: ws bt of a
    worker waiting for work still goes through it to worker_main."""
    with Session("run=order 2") as s:
        s.run("""break cmd_order
continue
delete
break thread_sleep_ns
continue
delete
ws bt worker1
""")
        m = re.search(r"^thread (\d+) 'worker1'", s.out, re.M)
        s.expect(m, "no backtrace of worker1")
        bt = bt_block(s.out, m.group(1))
        order = ["waitq_sleep_counted", "sem_down", "worker_main", "thread_start", "thread_entry"]
        pos = [bt.find(" %s+" % f) for f in order]
        s.expect(all(p >= 0 for p in pos) and pos == sorted(pos),
                 "worker1's backtrace should go %s" % " <- ".join(order))


def test_caller_eflags_through_sem_down():
    """GDB's own unwind reads a caller's EFLAGS where sem_down pushed them
    (the CFI in kernel/switch.S): in cmd_order, which called sem_down with
    interrupts on, IF is set, although the wait below runs with it clear."""
    with Session("run=order 2") as s:
        s.run("""break cmd_order
continue
delete
break waitq_sleep_counted if $_streq(current->name, "shell")
continue
delete
python check_line("here", eflags=int(gdb.parse_and_eval("$eflags")))
frame function cmd_order
python check_line("caller", eflags=int(gdb.parse_and_eval("$eflags")))
""")
        here, caller = s.checks("here"), s.checks("caller")
        s.expect(here and caller, "did not stop in the shell's wait and reach cmd_order's frame")
        s.expect(not int(here[0]["eflags"]) & 0x200, "the wait should run with interrupts off")
        s.expect(int(caller[0]["eflags"]) & 0x200,
                 "cmd_order's frame shows EFLAGS %#x: IF clear, the wait's, not the caller's"
                 % int(caller[0]["eflags"]))


# -------------------------------------------------------------------- (e)

STEP_SWITCHES = 4


def test_stepi_through_switch_keeps_backtrace():
    """stepi through switch_context, for switches into a new thread and into
    a preempted one: at every instruction bt names the current function,
    has no ?? frame, and ends at thread_entry or _start. The hook-stop
    shows the next instruction."""
    with Session("run=threads 2") as s:
        s.run(AT_THREADS_DEMO + '''ws switches 1
stepi
python
import re
steps = 0
for k in range(%d):
    if k:
        gdb.execute("ws switches 1", to_string=True)
    for i in range(40):
        where = gdb.execute("x/i $pc", to_string=True)
        fn = where.split("<")[1].split("+")[0].split(">")[0]
        bt = gdb.execute("bt", to_string=True)
        frames = [l for l in bt.splitlines() if l.startswith("#")]
        # Frame 0 and the frames inlined at the same pc (they show no address).
        same_pc = frames[:1] + [f for f in frames[1:]
                                if not f.split(None, 1)[1].startswith("0x")][:8]
        ok = (frames and any(fn + " " in f for f in same_pc) and "??" not in bt
              and "Backtrace stopped" not in bt
              and ("thread_entry" in frames[-1] or "_start" in frames[-1]))
        steps += 1
        if not ok:
            check_line("bad", switch=k, step=i, fn=fn)
            print(bt)
        if not re.search(r"<switch_context[+>]", where):
            break
        gdb.execute("stepi", to_string=True)
check_line("done", steps=steps)
end
''' % STEP_SWITCHES)
        s.expect(not s.checks("bad"), "a backtrace went bad while stepping")
        done = s.checks("done")
        # 5 instructions in switch_context and the one it returns to; the
        # first switch is entered one stepi late.
        s.expect(done and int(done[0]["steps"]) == STEP_SWITCHES * 6 - 1,
                 "stepped fewer instructions than %d switches have" % STEP_SWITCHES)
        s.expect(re.search(r"^=> 0x[0-9a-f]+ <switch_context\+1>:", s.out, re.M),
                 "no hook-stop x/i line after stepi")


# -------------------------------------------------------------------- (f)

LOOP_TIMER = re.compile(r"^  (\w+)\s+due at\s+([\d.]+) ms \((?:in|overdue by) [\d.]+ ms\), "
                        r"(one-shot|every [\d.]+ ms), fired (\d+)", re.M)


def test_ws_loop_shows_armed_timers():
    """The loop suite arms eight one-shot timers (50, 10, 30, 20, 40, 10, 5,
    25 ms). Stopped in the first callback, ws loop names it as running
    and lists the seven still pending, in deadline order."""
    with Session("test=loop") as s:
        s.run('''
break record_fire
continue
ws loop
''')
        s.expect(re.search(r"^event loop: thread \d+ 'loop', running", s.out, re.M),
                 "ws loop does not show the loop thread running")
        s.expect("running now: callback 'record_fire'" in s.out,
                 "ws loop does not name the running callback")
        s.expect("phase: timers" in s.out, "ws loop does not say the loop runs its timers")
        timers = [t for t in LOOP_TIMER.findall(s.out) if t[0] == "record_fire"]
        s.expect(len(timers) == 7, "expected 7 pending record_fire timers, got %d" % len(timers))
        dues = [float(t[1]) for t in timers]
        s.expect(dues == sorted(dues) and dues[-1] - dues[0] > 35,
                 "timers not in deadline order over 10..50 ms: %s" % dues)
        s.expect(all(t[2] == "one-shot" and t[3] == "0" for t in timers),
                 "the pending timers should be one-shot and not fired yet")


# -------------------------------------------------------------------- (g)

TRACE_ROW = re.compile(r"^\s+(\d+)\s+([\d.]+)\s+(?:-|\d+)\s+(\d+) \S+\s+(\d+) \S+\s+(\w+)$", re.M)


def test_ws_trace_matches_switches():
    """The kernel's trace ring (kernel/trace.c) records every switch:
    ws trace 3 decodes the same three switches ws switches 3 just saw,
    in time order, numbered up to the kernel's switch count."""
    with Session("run=threads 2") as s:
        s.run(AT_THREADS_DEMO + '''ws switches 3
ws trace 3
python check_line("count", switches=int(gdb.parse_and_eval("sched_switch_count")))
''')
        sw = [(m[1], m[3], m[5]) for m in SWITCH.findall(s.out)]
        tr = TRACE_ROW.findall(s.out)
        s.expect(len(sw) == 3 and len(tr) == 3, "expected 3 switches and 3 trace records")
        s.expect([(t[2], t[3], t[4]) for t in tr] == sw,
                 "trace %s != switches %s" % (tr, sw))
        times = [float(t[1]) for t in tr]
        s.expect(times == sorted(times), "trace times go backwards: %s" % times)
        # Numbered from boot as ws switches numbers them ("switch #N").
        s.expect(int(tr[-1][0]) == int(s.checks("count")[0]["switches"]),
                 "the last record is not the last switch")
        numbers = [int(m) for m in re.findall(r"; switch #(\d+)\)$", s.out, re.M)]
        s.expect(numbers == [int(t[0]) for t in tr],
                 "ws switches numbered %s, ws trace %s" % (numbers, [t[0] for t in tr]))


# -------------------------------------------------------------------- ring 3

def test_step_from_ring3_into_a_system_call_and_back():
    """The README's walk: stop in a ring-3 program (its symbols from
    ws user), follow its getpid into the kernel (bt runs from sys_getpid
    through the int 0x80 frame back into the program), ws threads names
    the process, and the iret lands in ring 3 right after the int."""
    with Session("run=spawn hello x") as s:
        s.run('''
ws user hello
hbreak main
continue
python check_line("main", cs=int(gdb.parse_and_eval("$cs")))
hbreak sys_getpid
continue
python check_line("sys", cs=int(gdb.parse_and_eval("$cs")), ret=int(gdb.parse_and_eval("((struct trapframe *)(current->stack + current->stack_size - 60))->eip")))
bt
ws threads
tbreak *trapret
continue
stepi 3
python check_line("back", cs=int(gdb.parse_and_eval("$cs")), pc=int(gdb.parse_and_eval("$pc")))
''')
        main, sys_, back = (s.checks(t) for t in ("main", "sys", "back"))
        s.expect(main and int(main[0]["cs"]) & 3 == 3, "main did not stop in ring 3")
        s.expect(sys_ and int(sys_[0]["cs"]) & 3 == 0, "sys_getpid not in ring 0")
        s.expect(re.search(r"<signal handler called>\s*\n#\d+\s+getpid \(\) at user/ring3/lib/ulib\.c"
                           r".*\n#\d+\s+0x[0-9a-f]+ in main .*hello\.c", s.out),
                 "bt from sys_getpid does not reach the program's frames")
        s.expect(re.search(r"^\*\s*\d+\s+hello\s+running\s.*\s1 hello\s+0\s", s.out, re.M),
                 "ws threads does not name the process and its ring")
        s.expect(back and int(back[0]["cs"]) & 3 == 3 and
                 int(back[0]["pc"]) == int(sys_[0]["ret"]),
                 "the iret did not return to ring 3 after the int 0x80")
