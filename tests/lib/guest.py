"""Boot the webscale kernel in QEMU and talk to its serial console.

    g = Guest(append="test=sched", icount=True)
    g.expect(r"webscale> ")
    g.sendline("ps")
    g.expect(r"idle")
    status = g.wait_exit()        # 0 after `halt` or an all-pass test run

QEMU's isa-debug-exit makes QEMU exit with (v << 1) | 1 when the kernel
writes v, its status + 1; wait_exit() maps that back to the status
(machine.guest_status; a panic's is PANIC_STATUS). A QEMU exit the kernel
did not ask for (killed, Ctrl-A X, QEMU's own error) is reported as None.

A failed check, expect or wait_exit raises TestFailure, which knows the
file and line of the check in the test and the guest it was about;
tests/run.py prints both, and the guest's last lines.
"""
import os
import re
import signal
import subprocess
import sys
import threading
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KERNEL = os.environ.get("WS_KERNEL") or os.path.join(ROOT, "build", "kernel.elf")
sys.path.insert(0, os.path.join(ROOT, "tools"))
import machine  # noqa: E402  tools/machine.py: the one definition of the machine

ICOUNT = machine.ICOUNT
PANIC_STATUS = machine.PANIC_STATUS


LIB = os.path.dirname(os.path.abspath(__file__))
TAIL_LINES = 40           # of the guest's console, in a failure report


def check_site():
    """(file:line, source line) of the innermost caller outside tests/lib:
    the check in the test, not the helper that raised."""
    for fs in reversed(traceback.extract_stack()):
        if os.path.dirname(os.path.abspath(fs.filename)) != LIB:
            return "%s:%d" % (os.path.relpath(fs.filename, ROOT), fs.lineno), (fs.line or "").strip()
    return "?", ""


class TestFailure(Exception):
    """A failed check. where, source: the check's place in the test and its
    line of code; guest: the Guest whose console shows why, if known."""

    def __init__(self, msg, guest=None):
        super().__init__(msg)
        self.guest = guest
        self.where, self.source = check_site()


class Skip(Exception):
    """A test that cannot run here (no root, no /dev/net/tun) or is not due
    yet; its message says why. tests/run.py reports it as SKIP, neither a
    pass nor a failure."""


# The guests each thread has booted since forget_guests(): tests/run.py
# shows the last one's console when a test fails for any reason.
_booted = threading.local()


def forget_guests():
    _booted.guests = []


def guests_booted():
    return getattr(_booted, "guests", [])


def machine_args(kernel=KERNEL, append="", icount=False, extra=(), cdrom=None, prefix=()):
    """prefix: words before QEMU's, e.g. `ip netns exec NS` (tests/lib/tapnet.py)."""
    args = list(prefix) + [machine.qemu()] + machine.machine() + ["-display", "none", "-monitor", "none"]
    if cdrom:
        args += ["-cdrom", cdrom]
    else:
        args += ["-kernel", kernel]
    if append:
        args += ["-append", append]
    if icount:
        args += ICOUNT
    return args + list(extra)


class Guest:
    def __init__(self, append="", icount=False, extra=(), serial="stdio", kernel=KERNEL,
                 cdrom=None, prefix=()):
        args = machine_args(kernel, append, icount, extra, cdrom, prefix) + ["-serial", serial]
        self.args = args
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        self._attach()

    def _attach(self):
        """Collect the console, chunk by chunk from _read(), in a thread."""
        _booted.guests = guests_booted() + [self]
        self.buf = bytearray()
        self.pos = 0          # expect() searches from here
        self.killed_at = None  # the console's length when kill() stopped QEMU
        self.cv = threading.Condition()
        self.eof = False
        self.t = threading.Thread(target=self._reader, daemon=True)
        self.t.start()

    def _read(self):
        return self.p.stdout.read1(65536)

    def _reader(self):
        while True:
            chunk = self._read()
            with self.cv:
                if not chunk:
                    self.eof = True
                    self.cv.notify_all()
                    return
                self.buf += chunk
                self.cv.notify_all()

    @property
    def output(self):
        with self.cv:
            return self.buf.decode("latin-1")

    def tail(self, n=3000):
        return self.output[-n:]

    def tail_lines(self, n=TAIL_LINES):
        """The console's last n lines, without what QEMU said when killed."""
        with self.cv:
            text = self.buf[:self.killed_at].decode("latin-1")
        return text.replace("\r", "").splitlines()[-n:]

    def expect(self, pattern, timeout=30):
        """Wait for a regex in the output after the previous match."""
        rx = re.compile(pattern.encode("latin-1") if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                m = rx.search(self.buf, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                left = deadline - time.monotonic()
                if self.eof or left <= 0:
                    why = "QEMU exited first" if self.eof else "not within %g s" % timeout
                    raise TestFailure("expected output matching %r: %s" % (pattern, why), self)
                self.cv.wait(min(left, 1.0))

    def expect_prompt(self, timeout=30):
        return self.expect(r"webscale> ", timeout)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def sendline(self, line):
        self.send(line + "\r")

    def command(self, line, timeout=60):
        """Type a command at the prompt; return its output up to the next prompt."""
        self.sendline(line)
        start = self.pos
        self.expect(r"webscale> ", timeout)
        with self.cv:
            return self.buf[start:self.pos].decode("latin-1")

    def next_run_output(self, timeout=60):
        """With run=A; B on the command line, after A's prompt: B's output,
        up to its own prompt. Tests that look at the last moments of A
        (trace) take B this way instead of typing it: the idle guest's
        clock (icount, sleep=off) leaps ahead while a loaded host is slow
        to deliver typing."""
        with self.cv:
            start = self.pos
        self.expect(r"webscale> ", timeout)
        with self.cv:
            return self.buf[start:self.pos].decode("latin-1")

    def wait_exit(self, timeout=60):
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise TestFailure("expected QEMU to exit within %g s; it was still running"
                              % timeout, self)
        self.t.join(5)
        return machine.guest_status(rc)

    def kill(self):
        if self.p.poll() is None:
            with self.cv:
                self.killed_at = len(self.buf)
            try:
                os.killpg(self.p.pid, signal.SIGTERM)
                self.p.wait(5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()


def c_define(relpath, name):
    """The number a source file (relpath from the repository's root)
    #defines as name: a test that needs one of the kernel's limits reads it
    where it is set, instead of keeping a copy that would go stale."""
    with open(os.path.join(ROOT, relpath)) as f:
        return int(re.search(r"^#define %s (\d+)" % name, f.read(), re.M).group(1))


def check(cond, msg, guest=None):
    """Fail with msg unless cond; the report shows this call's line of code,
    which says what was expected, and guest's console (or the last guest
    the test booted)."""
    if not cond:
        raise TestFailure(msg, guest)
