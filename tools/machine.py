#!/usr/bin/env python3
"""The one QEMU machine webscale runs on, for every runner.

The Makefile's run targets take its arguments from the command line below;
tests/lib/guest.py, tools/gdb/launch.py, tools/rr.py and tools/bench.py
import it. Change the machine here and every one of them follows.

  python3 tools/machine.py                  the machine: CPU, memory, debug exit
  python3 tools/machine.py --net TCP UDP    the NIC on the user network, with
                                            host forwards 127.0.0.1:TCP -> :80
                                            and 127.0.0.1:UDP -> :7
  python3 tools/machine.py --tap [IFNAME]   the NIC on TAP device IFNAME (default
                                            TAP_IFNAME); tests/lib/tapnet.py makes
                                            it, inside a network namespace
  python3 tools/machine.py --status RC [WHO]   after QEMU exited with RC: say why
                                            if it was not a clean halt, and exit
                                            with make's status (0: halt or Ctrl-A X)
  ... --nic NAME                            which NIC, one of NICS (default
                                            DEFAULT_NIC): make run NIC=rtl8139
"""
import os
import shlex
import sys

CPU = "486"                 # no TSC: the PIT is the clock (bench asks for a pentium)
MEMORY_MB = 32
# isa-debug-exit: a byte v written here makes QEMU exit with (v << 1) | 1.
# The kernel writes its status + DEBUG_EXIT_BIAS (kernel/panic.c), so its
# exits are odd and at least 3, apart from QEMU's own errors, which exit
# QEMU_ERROR, and from Ctrl-A X or a signal's SIGTERM, which exit 0.
DEBUG_EXIT_PORT = 0xF4
DEBUG_EXIT_BIAS = 1
QEMU_ERROR = 1
PANIC_STATUS = 0x7E         # the kernel's status after a panic; QEMU exits with 255
# The NE2000 where drivers/ne2k.c probes for it.
NIC_IOBASE, NIC_IRQ = 0x300, 9
# The network cards the kernel drives (kernel/devices.c probes the RTL8139
# on PCI, then the NE2000): QEMU's -device for each, on netdev NETDEV_ID.
# The RTL8139's ports and IRQ line are the BIOS's choice (PCI).
NICS = {
    "ne2000": "ne2k_isa,netdev=%s,iobase=%#x,irq=%d",
    "rtl8139": "rtl8139,netdev=%s",
}
DEFAULT_NIC = "ne2000"
NETDEV_ID = "n0"
LOCAL = "127.0.0.1"         # the only host address a forward may bind to
# The TAP device of the direct link (tests/lib/tapnet.py). It lives in a
# network namespace of its own, so one fixed name never collides.
TAP_IFNAME = "wstap0"

# One instruction = 1 ns of guest time; idle time costs no wall time.
ICOUNT = ["-icount", "shift=0,sleep=off,align=off"]


def qemu():
    return os.environ.get("QEMU", "qemu-system-i386")


def machine():
    """CPU, memory, no reboot on a triple fault, the debug exit."""
    return ["-cpu", CPU, "-m", str(MEMORY_MB), "-no-reboot",
            "-device", "isa-debug-exit,iobase=%#x,iosize=1" % DEBUG_EXIT_PORT]


def nic(kind=DEFAULT_NIC):
    """NIC kind (a key of NICS) on netdev NETDEV_ID; the caller supplies the netdev."""
    if kind not in NICS:
        raise ValueError("no NIC %r: one of %s" % (kind, ", ".join(sorted(NICS))))
    if kind == "ne2000":
        return ["-device", NICS[kind] % (NETDEV_ID, NIC_IOBASE, NIC_IRQ)]
    return ["-device", NICS[kind] % NETDEV_ID]


def user_net(tcp=None, udp=None, kind=DEFAULT_NIC):
    """The NIC on QEMU's user network. restrict=on: the guest reaches nothing
    outside; the host reaches the guest only through these forwards, bound
    to 127.0.0.1 alone (tcp -> guest port 80, udp -> guest port 7)."""
    opts = "user,id=%s,restrict=on" % NETDEV_ID
    if tcp:
        opts += ",hostfwd=tcp:%s:%d-:80" % (LOCAL, tcp)
    if udp:
        opts += ",hostfwd=udp:%s:%d-:7" % (LOCAL, udp)
    return ["-netdev", opts] + nic(kind)


def tap_net(ifname=TAP_IFNAME, kind=DEFAULT_NIC):
    """The NIC on an existing TAP device: frames go straight to the host's
    kernel, whose TCP (wrk, curl, nmap) then meets the guest's own. QEMU
    runs no scripts (script=no, downscript=no): tests/lib/tapnet.py creates
    the device, addresses it and removes it."""
    return ["-netdev", "tap,id=%s,ifname=%s,script=no,downscript=no" % (NETDEV_ID, ifname)] + nic(kind)


def guest_status(rc):
    """The status the kernel ended the run with (0 after `halt` or an
    all-pass test run), from QEMU's exit status rc; None when the kernel did
    not end it (0: Ctrl-A X or killed; 1: QEMU's own error)."""
    if rc >= 3 and rc & 1:
        return (rc >> 1) - DEBUG_EXIT_BIAS
    return None


def exit_status(rc, who="make run"):
    """What make run (or another launcher, who) exits with after QEMU
    exited with rc, and the line that says why when it is not 0."""
    status = guest_status(rc)
    if status == 0 or rc == 0:
        return 0, None
    if status == PANIC_STATUS:
        return 1, "%s: the kernel panicked (QEMU exit status %d)" % (who, rc)
    if status is not None:
        return 1, "%s: the kernel exited with status %d (1: an in-kernel test failed)" % (
            who, status)
    if rc == QEMU_ERROR:
        return 1, "%s: QEMU stopped with an error (exit status 1): its message is above" % who
    return 1, "%s: QEMU ended with exit status %d" % (who, rc)


def main(argv):
    if argv[:1] == ["--status"] and len(argv) in (2, 3):
        code, why = exit_status(int(argv[1]), *argv[2:])
        if why:
            print(why)
        sys.exit(code)
    kind = DEFAULT_NIC
    if "--nic" in argv:
        i = argv.index("--nic")
        if i + 1 >= len(argv) or argv[i + 1] not in NICS:
            sys.exit("machine.py: --nic takes one of %s" % ", ".join(sorted(NICS)))
        kind = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    if argv[:1] == ["--net"] and len(argv) == 3:
        args = user_net(int(argv[1]), int(argv[2]), kind)
    elif argv[:1] == ["--tap"] and len(argv) <= 2:
        args = tap_net(*argv[1:], kind=kind)
    elif not argv:
        args = machine()
    else:
        sys.exit(__doc__)
    print(" ".join(shlex.quote(a) for a in args))


if __name__ == "__main__":
    main(sys.argv[1:])
