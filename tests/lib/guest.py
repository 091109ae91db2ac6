"""Boot the webscale kernel in QEMU and talk to its serial console.

    g = Guest(append="test=sched", icount=True)
    g.expect(r"webscale> ")
    g.sendline("ps")
    g.expect(r"idle")
    status = g.wait_exit()        # 0 after `halt` or an all-pass test run

QEMU's isa-debug-exit makes QEMU exit with (v << 1) | 1 when the kernel
writes v; wait_exit() maps that back to v (a panic writes 0x7F). A plain
QEMU exit (killed, Ctrl-A X) is reported as None.
"""
import os
import re
import signal
import subprocess
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KERNEL = os.environ.get("WS_KERNEL") or os.path.join(ROOT, "build", "kernel.elf")
QEMU = os.environ.get("QEMU", "qemu-system-i386")

# One instruction = 1 ns of guest time; idle time costs no wall time.
ICOUNT = ["-icount", "shift=0,sleep=off,align=off"]


class TestFailure(Exception):
    pass


def machine_args(kernel=KERNEL, append="", icount=False, extra=(), cdrom=None):
    args = [QEMU, "-cpu", "486", "-m", "32", "-no-reboot", "-display", "none",
            "-monitor", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=1"]
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
                 cdrom=None):
        args = machine_args(kernel, append, icount, extra, cdrom) + ["-serial", serial]
        self.args = args
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        self.buf = bytearray()
        self.pos = 0          # expect() searches from here
        self.cv = threading.Condition()
        self.eof = False
        self.t = threading.Thread(target=self._reader, daemon=True)
        self.t.start()

    def _reader(self):
        while True:
            chunk = self.p.stdout.read1(65536)
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
                    why = "QEMU exited" if self.eof else "timed out after %d s" % timeout
                    raise TestFailure("%s waiting for %r; output ends with:\n%s" %
                                      (why, pattern, self.buf[-3000:].decode("latin-1")))
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

    def wait_exit(self, timeout=60):
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise TestFailure("QEMU still running after %d s; output ends with:\n%s" %
                              (timeout, self.tail()))
        self.t.join(5)
        if rc & 1:
            return rc >> 1
        return None

    def kill(self):
        if self.p.poll() is None:
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


def check(cond, msg, guest=None):
    if not cond:
        if guest is not None:
            msg += "\noutput ends with:\n" + guest.tail()
        raise TestFailure(msg)
