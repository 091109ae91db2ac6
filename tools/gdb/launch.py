#!/usr/bin/env python3
"""make gdb / make qemu-gdb: boot the kernel in QEMU, paused, and debug it.

  --mode both   one terminal: QEMU in the background (serial console in a
                log file and a socket), gdb in front, connected and stopped
                at kmain; QEMU ends when gdb ends.
  --mode qemu   QEMU paused in this terminal with the serial console on
                stdio; prints the exact gdb command for a second terminal.

The gdbstub listens on a free 127.0.0.1 port picked per user
(tools/freeport.py). gdb gets its script with -x, so its auto-load
safe-path never matters; the script stops at kmain with a hardware
breakpoint, because software ones set before the boot loader has copied
the kernel into memory get overwritten.
"""
import argparse
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from freeport import free_port, port_is_free  # noqa: E402
import machine  # noqa: E402  tools/machine.py

BUILD = os.path.join(ROOT, "build")
KERNEL = os.path.join(BUILD, "kernel.elf")
TEMPLATE = os.path.join(HERE, "gdbinit.tmpl")
WS_PY = os.path.join(HERE, "ws.py")
SERIAL_LOG = os.path.join(BUILD, "gdb-serial.log")
SERIAL_SOCK = os.path.join(BUILD, "gdb-serial.sock")
QEMU_LOG = os.path.join(BUILD, "gdb-qemu.log")


def qemu_args(port, append, serial_args, icount=False):
    args = [machine.qemu()] + machine.machine() + [
        "-kernel", KERNEL, "-S", "-gdb", "tcp:127.0.0.1:%d" % port]
    if append:
        args += ["-append", append]
    if icount:
        args += machine.ICOUNT
    return args + serial_args


def write_gdbinit(port, stop_at_kmain=True):
    """build/gdbinit-PORT from tools/gdb/gdbinit.tmpl."""
    with open(TEMPLATE) as f:
        text = f.read()
    text = (text.replace("@WS_PY@", WS_PY).replace("@KERNEL@", KERNEL)
            .replace("@PORT@", str(port)))
    if not stop_at_kmain:
        text = text.split("# ---- go to kmain ----")[0]
    path = os.path.join(BUILD, "gdbinit-%d" % port)
    with open(path, "w") as f:
        f.write(text)
    return path


def gdb_command(gdbinit):
    return [os.environ.get("GDB", "gdb"), "-q", "-x", gdbinit]


def wait_listening(proc, port, timeout=10.0):
    """True once QEMU holds the port; False if it exited first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if not port_is_free(port):
            return True
        time.sleep(0.05)
    return False


def start_background_qemu(append, icount):
    """QEMU paused, serial console to a socket that also logs to a file.
    Retries with another port if someone took ours in between."""
    for _ in range(5):
        port = free_port()
        for p in (SERIAL_SOCK,):
            if os.path.exists(p):
                os.unlink(p)
        serial = ["-display", "none", "-monitor", "none",
                  "-chardev", "socket,id=console,path=%s,server=on,wait=off,logfile=%s"
                  % (SERIAL_SOCK, SERIAL_LOG),
                  "-serial", "chardev:console"]
        log = open(QEMU_LOG, "w")
        proc = subprocess.Popen(qemu_args(port, append, serial, icount), stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        if wait_listening(proc, port):
            return proc, port
        stop(proc)
        with open(QEMU_LOG) as f:
            err = f.read()
        if "in use" not in err and "Failed to bind" not in err:
            sys.exit("webscale: QEMU did not start:\n" + err)
    sys.exit("webscale: could not start QEMU's gdbstub on a free port")


def stop(proc):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def mode_both(args):
    proc, port = start_background_qemu(args.append, args.icount)
    gdbinit = write_gdbinit(port)
    rel = lambda p: os.path.relpath(p, os.getcwd())  # noqa: E731
    print("webscale: QEMU paused in the background, gdbstub on 127.0.0.1:%d (pid %d)."
          % (port, proc.pid))
    print("webscale: serial console: watch it with   tail -f %s" % rel(SERIAL_LOG))
    print("          type into it from another terminal:   python3 tools/gdb/console.py")
    print("webscale: gdb stops at kmain. 'ws help' lists the webscale commands;"
          " quitting gdb ends QEMU.")
    if args.append:
        print("webscale: kernel command line '%s'" % args.append)
    sys.stdout.flush()
    # Ctrl-C belongs to gdb (it interrupts the guest); QEMU is in its own
    # session, so the terminal's signals never reach it.
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        rc = subprocess.call(gdb_command(gdbinit), preexec_fn=lambda: signal.signal(
            signal.SIGINT, signal.SIG_DFL))
    finally:
        signal.signal(signal.SIGINT, old)
        stop(proc)
        for p in (gdbinit, SERIAL_SOCK):
            if os.path.exists(p):
                os.unlink(p)
    return rc


def mode_qemu(args):
    port = free_port()
    gdbinit = write_gdbinit(port)
    serial = ["-nographic", "-serial", "mon:stdio"]
    print("webscale: QEMU paused, gdbstub on 127.0.0.1:%d. In a second terminal, here:" % port)
    print()
    print("    cd %s && %s" % (ROOT, " ".join(gdb_command(os.path.relpath(gdbinit, ROOT)))))
    print()
    print("webscale: the serial console is this terminal. Quit QEMU with Ctrl-A X.")
    sys.stdout.flush()
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        rc = subprocess.call(qemu_args(port, args.append, serial, args.icount),
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    finally:
        signal.signal(signal.SIGINT, old)
        if os.path.exists(gdbinit):
            os.unlink(gdbinit)
    # 0 after `halt` or Ctrl-A X; 1, said why, after QEMU's own error or a panic.
    code, why = machine.exit_status(rc, "make qemu-gdb")
    if why:
        print(why)
    return code


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=("both", "qemu"), default="both")
    ap.add_argument("--append", default="", help="kernel command line, e.g. 'run=threads 2'")
    ap.add_argument("--icount", action="store_true",
                    help="deterministic time: one instruction = 1 ns")
    args = ap.parse_args()
    # A SIGTERM (timeout, a closed terminal) still runs the clean-ups.
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    if not os.path.exists(KERNEL):
        sys.exit("webscale: %s is missing; run 'make kernel' first" % KERNEL)
    sys.exit(mode_both(args) if args.mode == "both" else mode_qemu(args))


if __name__ == "__main__":
    main()
