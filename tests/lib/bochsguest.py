"""A Guest whose machine is Bochs (tools/bochs.py) instead of QEMU: the same
expect/command/sendline on COM1's socket.

    with BochsGuest() as g:          # build/webscale.iso, clock sync=none
        g.expect_prompt()
        g.command("threads 2 1")
        g.sendline("halt")
        g.wait_exit()                # 0 after halt (Bochs's shutdown port)

Under sync=none guest time is the instruction count over ips, as under
QEMU's -icount, and a halted CPU costs no wall time.
"""
import os
import subprocess
import sys

from guest import Guest, TestFailure, ROOT

sys.path.insert(0, os.path.join(ROOT, "tools"))
import bochs  # noqa: E402  tools/bochs.py


def ensure_bochs():
    """None if Bochs is here or tools/setup.sh installed it; else why not."""
    p = subprocess.run([os.path.join(ROOT, "tools", "setup.sh"), "bochs"],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        return "bochs cannot be installed here: " + (p.stdout + p.stderr).strip()
    return None


class BochsGuest(Guest):
    def __init__(self, iso=bochs.ISO, ips=bochs.DEFAULT_IPS, sync="none"):
        self.bx = bochs.Bochs(iso, ips, sync)
        self.p = self.bx.proc
        self.args = ["bochs", "-f", self.bx.files[0]]
        self.stopped = False
        self._attach()

    def _read(self):
        try:
            return self.bx.sock.recv(65536)
        except OSError:
            return b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.bx.sock.sendall(data)

    def wait_exit(self, timeout=60):
        """0 when the guest ended Bochs through its shutdown port."""
        try:
            self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise TestFailure("expected Bochs to exit within %g s; it was still running"
                              % timeout, self)
        self.t.join(5)
        return 0 if self.bx.halted() else None

    def kill(self):
        with self.cv:
            if self.killed_at is None:
                self.killed_at = len(self.buf)
        if not self.stopped:
            self.stopped = True
            self.bx.stop(keep_logs=False)
