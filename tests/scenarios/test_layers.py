"""The layering of kernel/ and drivers/: the kernel declares the interfaces,
the drivers implement them, and one file wires them at boot.

- No file under kernel/ includes a driver header but the boot wiring
  (kernel/devices.c): `grep -rln '#include "drivers/' kernel/` names it alone.
- A driver includes other drivers' headers, the driver-facing kernel headers
  (IRQ registration and the controller, wait queues, the clock, the console
  port, the netdev) and the kernel's freestanding helpers, nothing else:
  in particular not <webscale/net.h>, whose drop reasons belong to kernel/net."""
import glob
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from guest import check  # noqa: E402

BOOT_WIRING = {"kernel/devices.c"}

DRIVER_FACING = {
    "kernel/irq.h",          # irq_register, and what the controller implements
    "kernel/clock.h",        # the clock, and what the timer implements
    "kernel/console.h",      # a console port and the console's byte handler
    "kernel/net/netdev.h",   # a network card
    "kernel/sched.h",        # wait queues
    "kernel/x86.h",          # port I/O, interrupt flag
    "kernel/lib/ring.h",     # the byte ring and its barrier
}
FREESTANDING = {"stddef.h", "stdint.h", "webscale/errno.h", "webscale/string.h",
                "webscale/time.h"}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)', re.M)


def sources(folder):
    for path in sorted(glob.glob(os.path.join(ROOT, folder, "**", "*.[chS]"), recursive=True)):
        yield os.path.relpath(path, ROOT), open(path).read()


def test_kernel_includes_drivers_only_in_the_boot_wiring():
    found = {path for path, text in sources("kernel")
             for kind, name in INCLUDE.findall(text)
             if kind == '"' and name.startswith("drivers/")}
    check(BOOT_WIRING <= found, "the boot wiring %s includes no driver: the test looks in the "
          "wrong place" % sorted(BOOT_WIRING))
    extra = found - BOOT_WIRING
    check(not extra, "kernel files that include driver headers: %s; only %s may (use "
          "kernel/irq.h, clock.h, console.h, net/netdev.h)" % (sorted(extra), sorted(BOOT_WIRING)))


def test_drivers_include_only_driver_facing_headers():
    seen = 0
    for path, text in sources("drivers"):
        for kind, name in INCLUDE.findall(text):
            seen += 1
            ok = (kind == '"' and (name.startswith("drivers/") or name in DRIVER_FACING)) or \
                 (kind == "<" and name in FREESTANDING)
            check(ok, "%s includes %s%s%s: a driver may include drivers/, %s and <%s>" % (
                path, kind, name, ">" if kind == "<" else '"', ", ".join(sorted(DRIVER_FACING)),
                ">, <".join(sorted(FREESTANDING))))
    check(seen > 10, "found only %d includes under drivers/" % seen)


RING3_ANGLE = {"stdarg.h", "stddef.h", "stdint.h", "webscale/errno.h", "webscale/string.h",
               "webscale/syscall.h"}
RING3_QUOTE = {"user/ring3/lib/ulib.h"}
RING3_RUNTIME_QUOTE = {"kernel/lib/format.h"}   # the pure formatting engine, compiled again


def test_ring3_programs_include_only_the_abi_and_their_runtime():
    """user/ring3/ runs in ring 3: it reaches the kernel only through int 0x80,
    so it includes the system call ABI, the freestanding headers and its
    runtime, never a kernel header (the runtime also the pure printf engine)."""
    seen = 0
    for path, text in sources("user/ring3"):
        allowed = RING3_QUOTE | (RING3_RUNTIME_QUOTE if path.startswith("user/ring3/lib/") else set())
        for kind, name in INCLUDE.findall(text):
            seen += 1
            ok = (kind == "<" and name in RING3_ANGLE) or (kind == '"' and name in allowed)
            check(ok, "%s includes %s: a ring-3 program may include only <%s> and %s"
                  % (path, name, ">, <".join(sorted(RING3_ANGLE)), ", ".join(sorted(allowed))))
    check(seen > 10, "found only %d includes under user/ring3" % seen)
