#!/usr/bin/env python3
"""make bochs: boot build/webscale.iso in Bochs, the emulator Pintos uses.

  python3 tools/bochs.py [--iso ISO] [--ips N] [--tcp PORT --udp PORT] [--debugger]

The machine is QEMU's (tools/machine.py: memory, the NE2000 at 0x300 on
IRQ 9), built for Debian's Bochs 2.7:

- PCI off: with it on (i440FX), Bochs stops at once with "IRQ 9 conflict,
  NE2000 ethernet NIC with PIIX3 IRQ routing": the chipset's PCI interrupt
  routing claims IRQ 9, which the ISA NE2000 needs.
- COM1, the console, is a socket on 127.0.0.1 (a free port), which this
  program bridges to the terminal; Ctrl-A X quits, as in QEMU.
- Bochs's own terminal (its text display and its debugger's prompt) is a
  pseudo-terminal of its own, kept in build/bochs/PORT-screen.txt. Debian builds
  Bochs with its debugger, which stops before the first instruction; the
  command file given with -rc says `c` (continue). With --debugger (make
  bochs BOCHS_DEBUG=1) Bochs runs in this terminal instead, at its
  debugger's first prompt, and the console is typed from another one.
- The NIC is on Bochs's slirp with `restricted = 1` (the guest reaches
  nothing outside) and host forwards bound to 127.0.0.1 alone, like QEMU's
  user network.
- Time: `cpu: ips=N` is the emulated CPU's speed in instructions per
  second, the rate of its TSC and what its PIT is counted against. An
  interactive run uses `clock: sync=slowdown` (guest time never runs ahead
  of the wall clock); the tests use sync=none, where guest time is the
  instruction count divided by ips, like QEMU's -icount.

`halt` ends Bochs through its shutdown port (kernel/panic.c). The exit
status is 0 after `halt` or Ctrl-A X, 1 when Bochs stopped for any other
reason (it says why, from build/bochs/PORT-bochs.log, which it keeps then).
"""
import argparse
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import termios
import threading
import time
import tty

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import machine  # noqa: E402  tools/machine.py: the one definition of the machine
from freeport import ephemeral_port, free_port  # noqa: E402

BUILD = os.path.join(ROOT, "build", "bochs")
ISO = os.path.join(ROOT, "build", "webscale.iso")
BOCHS = os.environ.get("BOCHS", "bochs")
BIOS = "/usr/share/bochs/BIOS-bochs-latest"         # package bochsbios
VGABIOS = "/usr/share/vgabios/vgabios.bin"           # package vgabios
MAC = "52:54:00:12:34:56"                            # QEMU's first NIC's
DEFAULT_IPS = 50000000      # 50 million instructions per second
CONNECT_SECONDS = 30        # for Bochs to open COM1's socket
BIND_TRIES = 3              # ports tried for COM1
CTRL_A = b"\x01"
# The line Bochs logs when the guest writes "Shutdown" to port 0x8900.
SHUTDOWN_LOGGED = "shutdown requested"


def bochsrc(iso, serial_port, ips, sync, slirp_conf, log):
    """The machine, in bochsrc syntax."""
    return "\n".join([
        "megs: %d" % machine.MEMORY_MB,
        "cpu: count=1, ips=%d, reset_on_triple_fault=0" % ips,
        "clock: sync=%s, time0=local" % sync,
        "romimage: file=%s" % BIOS,
        "vgaromimage: file=%s" % VGABIOS,
        "pci: enabled=0",
        "ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14",
        "ata0-master: type=cdrom, path=%s, status=inserted" % iso,
        "boot: cdrom",
        "floppy_bootsig_check: disabled=1",
        "com1: enabled=1, mode=socket-server, dev=%s:%d" % (machine.LOCAL, serial_port),
        "ne2k: ioaddr=%#x, irq=%d, mac=%s, ethmod=slirp, script=%s"
        % (machine.NIC_IOBASE, machine.NIC_IRQ, MAC, slirp_conf),
        # No sound card or speaker: without a sound device ALSA's probing
        # crashes Debian's Bochs ("buffer overflow detected").
        "speaker: enabled=0",
        "sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy",
        "display_library: term",
        "log: %s" % log,
        "panic: action=fatal",
        "error: action=report",
        "info: action=report",
        "debug: action=ignore",
        ""])


def slirp_config(tcp, udp):
    """Bochs's slirp: restricted, forwards on 127.0.0.1 only (guest 80 and 7)."""
    lines = ["# slirp config", "restricted = 1"]
    if tcp:
        lines.append("hostfwd = tcp:%s:%d-:80" % (machine.LOCAL, tcp))
    if udp:
        lines.append("hostfwd = udp:%s:%d-:7" % (machine.LOCAL, udp))
    return "\n".join(lines) + "\n"


def write_config(port, iso, ips, sync, tcp, udp):
    """build/bochs/PORT-bochsrc, -slirp.conf and -rc (the debugger's one
    command, `c`); returns those paths and the log's."""
    base = os.path.join(BUILD, "%d" % port)
    files = [base + "-bochsrc", base + "-slirp.conf", base + "-rc"]
    log = base + "-bochs.log"
    with open(files[1], "w") as f:
        f.write(slirp_config(tcp, udp))
    with open(files[0], "w") as f:
        f.write(bochsrc(iso, port, ips, sync, files[1], log))
    with open(files[2], "w") as f:
        f.write("c\n")          # the debugger's first prompt: continue
    return files, log


class Bochs:
    """Bochs running the ISO: .sock is COM1, .proc the process. Bochs's own
    terminal goes to build/bochs/PORT-screen.txt, its log to PORT-bochs.log."""

    def __init__(self, iso=ISO, ips=DEFAULT_IPS, sync="slowdown", tcp=None, udp=None):
        if not os.path.exists(iso):
            raise RuntimeError("%s is not built (make iso)" % iso)
        os.makedirs(BUILD, exist_ok=True)
        # COM1's port was free when picked, but another program may take it
        # before Bochs binds it: then Bochs stops at once, and we try again.
        for attempt in range(BIND_TRIES):
            self._start(iso, ips, sync, tcp, udp)
            try:
                self.sock = self._connect()
                return
            except RuntimeError:
                if not self.bind_failed() or attempt == BIND_TRIES - 1:
                    raise
                for path in (self.log, self.screen_path):
                    os.unlink(path)

    def _start(self, iso, ips, sync, tcp, udp):
        self.port = free_port()
        self.files, self.log = write_config(self.port, iso, ips, sync, tcp, udp)
        self.screen_path = self.log.replace("-bochs.log", "-screen.txt")
        rc_file, _, commands = self.files
        master, slave = pty.openpty()
        self.proc = subprocess.Popen([BOCHS, "-q", "-f", rc_file, "-rc", commands],
                                     stdin=slave, stdout=slave, stderr=slave,
                                     cwd=BUILD, start_new_session=True)
        os.close(slave)
        self.pty = master
        self.screen = open(self.screen_path, "wb")
        self.said = bytearray()         # what Bochs wrote to its terminal
        self.said_cv = threading.Condition()
        self.drainer = threading.Thread(target=self._drain, daemon=True)
        self.drainer.start()

    def _connect(self):
        """COM1's socket, once Bochs says it listens there (it waits for us
        before it runs): not before, or we might reach another program
        that took the port first."""
        listening = ("com1: waiting for client to connect (host:%s, port:%d)"
                     % (machine.LOCAL, self.port)).encode()
        deadline = time.monotonic() + CONNECT_SECONDS
        with self.said_cv:
            while (listening not in self.said and self.proc.poll() is None and
                   time.monotonic() < deadline):
                self.said_cv.wait(0.1)
            ready = listening in self.said
        if ready:
            try:
                return socket.create_connection((machine.LOCAL, self.port))
            except OSError:
                pass
        self.stop()
        raise RuntimeError("Bochs did not open COM1 on %s:%d: %s"
                           % (machine.LOCAL, self.port, self.why()))

    def _drain(self):
        """Copy what Bochs writes to its terminal into the screen file (and
        self.said), so that its display never blocks on a full terminal."""
        while True:
            try:
                data = os.read(self.pty, 65536)
            except OSError:         # Bochs has closed its terminal
                data = b""
            with self.said_cv:
                if not data:
                    self.said_cv.notify_all()
                    return
                self.said += data
                self.said_cv.notify_all()
            self.screen.write(data)
            self.screen.flush()

    def halted(self):
        """Whether the guest ended Bochs through the shutdown port."""
        try:
            with open(self.log, errors="replace") as f:
                return SHUTDOWN_LOGGED in f.read()
        except OSError:
            return False

    def log_lines(self, levels):
        """The log's lines of these levels (Bochs writes a time, then the
        level's letter: i info, e error, p panic)."""
        try:
            with open(self.log, errors="replace") as f:
                return [l.rstrip() for l in f if re.match(r"\d+[%s]\[" % levels, l)]
        except OSError:
            return []

    def bind_failed(self):
        return any("bind() or listen() failed" in l for l in self.log_lines("ep"))

    def why(self):
        """Bochs's own last words: its log's last error or panic lines."""
        return "\n".join(self.log_lines("ep")[-5:]) or "see %s" % self.log

    def stop(self, keep_logs=True):
        """End Bochs (SIGTERM; its terminal display restores itself).
        keep_logs=False also removes its log and screen."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.drainer.join(5)
        os.close(self.pty)
        self.screen.close()
        for path in self.files + ([] if keep_logs else [self.log, self.screen_path]):
            if os.path.exists(path):
                os.unlink(path)


def bridge(bx):
    """This terminal <-> COM1 until Bochs ends or Ctrl-A X. True if the
    user quit with Ctrl-A X."""
    stdin = sys.stdin.fileno()
    after_ctrl_a = False
    while True:
        r, _, _ = select.select([stdin, bx.sock], [], [], 1.0)
        if bx.sock in r:
            data = bx.sock.recv(65536)
            if not data:
                return False
            os.write(sys.stdout.fileno(), data)
        if stdin in r:
            data = os.read(stdin, 1024)
            out = b""
            for b in data:
                c = bytes([b])
                if after_ctrl_a:
                    after_ctrl_a = False
                    if c in (b"x", b"X"):
                        return True
                    out += c if c == CTRL_A else CTRL_A + c
                elif c == CTRL_A:
                    after_ctrl_a = True
                else:
                    out += c
            if out:
                bx.sock.sendall(out)
        if bx.proc.poll() is not None:
            return False


def debugger(args):
    """Bochs in this terminal, its debugger's prompt first (before the
    first instruction); the console from a second terminal. Bochs waits
    for that connection before it prompts."""
    os.makedirs(BUILD, exist_ok=True)
    port = ephemeral_port()
    files, log = write_config(port, args.iso, args.ips, "slowdown", args.tcp, args.udp)
    print("webscale: Bochs's debugger in this terminal: `c` runs, Ctrl-C stops and prompts "
          "again, `q` quits.\nwebscale: first attach the console from a second terminal "
          "(Bochs waits for it):\n\n    stty raw -echo; nc %s %d; stty sane\n"
          % (machine.LOCAL, port))
    sys.stdout.flush()
    # Ctrl-C is Bochs's (it stops the simulation at a prompt), not ours; a
    # closed terminal still removes the files.
    old_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
    old_hup = signal.signal(signal.SIGHUP, lambda *_: sys.exit(1))
    rc = None
    try:
        rc = subprocess.call([BOCHS, "-q", "-f", files[0]], cwd=BUILD,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGHUP, old_hup)
        for path in files + ([log] if rc == 0 else []):
            if os.path.exists(path):
                os.unlink(path)
        if sys.stdout.isatty():
            sys.stdout.write("\033[?7h")
    if rc != 0:
        print("webscale: Bochs exited with status %s; its log: %s" % (rc, os.path.relpath(log)))
    return rc


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iso", default=ISO)
    ap.add_argument("--ips", type=int, default=DEFAULT_IPS,
                    help="emulated instructions per second (default %d)" % DEFAULT_IPS)
    ap.add_argument("--tcp", type=int, help="host TCP port forwarded to the guest's port 80")
    ap.add_argument("--udp", type=int, help="host UDP port forwarded to the guest's port 7")
    ap.add_argument("--debugger", action="store_true",
                    help="Bochs's debugger in this terminal, the console in another")
    args = ap.parse_args()
    if not os.path.exists(args.iso):
        print("webscale: %s is not built (make iso)" % args.iso)
        return 1
    if args.debugger:
        return debugger(args)
    print("webscale: booting %s in Bochs (%d instructions/s). Quit with Ctrl-A X, "
          "or type 'halt'." % (os.path.relpath(args.iso), args.ips))
    sys.stdout.flush()
    try:
        bx = Bochs(args.iso, args.ips, "slowdown", args.tcp, args.udp)
    except (OSError, RuntimeError) as e:
        print("webscale: Bochs did not start: %s" % e)
        return 1
    interactive = sys.stdin.isatty()
    saved = termios.tcgetattr(sys.stdin) if interactive else None
    quit_by_user = False
    try:
        if interactive:
            tty.setraw(sys.stdin.fileno())
        quit_by_user = bridge(bx)
    finally:
        if saved:
            termios.tcsetattr(sys.stdin, termios.TCSADRAIN, saved)
        if sys.stdout.isatty():
            sys.stdout.write("\033[?7h")   # line wrap back on (the BIOS may turn it off)
        bx.sock.close()
        if not quit_by_user:
            try:
                bx.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        clean = quit_by_user or bx.halted()
        bx.stop(keep_logs=not clean)
    if clean:
        return 0
    print("\nwebscale: Bochs stopped with an error (status %s):\n%s\n(its log: %s)"
          % (bx.proc.returncode, bx.why(), os.path.relpath(bx.log)))
    return 1


if __name__ == "__main__":
    sys.exit(main())
