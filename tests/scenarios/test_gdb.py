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
GDB_TIMEOUT = 60

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
