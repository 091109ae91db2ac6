"""What a newcomer meets first, as the README promises it: the ISO boots
as `make run` boots it (QEMU's -nographic, where SeaBIOS copies the VGA
text to the serial line too) with GRUB's boot line once and whole, and the
banner the README shows is the one printed."""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from guest import Guest, check  # noqa: E402
import machine  # noqa: E402  tools/machine.py, on the path guest.py set

ISO = os.path.join(ROOT, "build", "webscale.iso")
README = os.path.join(ROOT, "README.md")
# The README's heap figure may lag the kernel's size by this much.
HEAP_SLACK_PERCENT = 1


class MakeRunGuest(Guest):
    """QEMU with make run's display and console: -nographic, the serial
    line and the monitor on stdio, the CD first, the NIC on the user net."""

    def __init__(self):
        self.args = ([machine.qemu()] + machine.machine() + machine.user_net() +
                     ["-nographic", "-serial", "mon:stdio", "-boot", "d", "-cdrom", ISO])
        self.p = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        self._attach()


def readme_banner():
    """The README's example boot, from its first line to the first prompt."""
    text = open(README).read()
    block = text.split("## What you will see", 1)[1].split("```", 2)[1]
    return block.split("webscale> ", 1)[0].strip("\n").splitlines()


def heap_kib(line):
    m = re.search(r"(\d+) KiB heap", line)
    return int(m.group(1)) if m else None


def test_boot_line_and_banner_as_the_readme_shows():
    check(os.path.exists(ISO), "build/webscale.iso was not built")
    with MakeRunGuest() as g:
        prompt = g.expect_prompt(120)
        boot = g.output[:prompt.start()].replace("\r", "")
        plain = re.sub(r"\x1b(\[[0-9;?]*[A-Za-z]|c)", "", boot)     # ANSI sequences out
        check(boot.count("Booting `webscale'") == 1 and
              re.search(r"^\s*Booting `webscale'\s*$", plain, re.M),
              "GRUB's boot line, once and on a line of its own:\n" + boot, g)
        printed = boot[boot.index("webscale: booting"):].rstrip("\n").splitlines()
        readme = readme_banner()
        mask = lambda lines: [re.sub(r"\d+ KiB heap", "N KiB heap", l) for l in lines]  # noqa: E731
        check(mask(printed) == mask(readme),
              "README's banner:\n%s\nprinted:\n%s" % ("\n".join(readme), "\n".join(printed)), g)
        want, got = heap_kib(readme[1]), heap_kib(printed[1])
        check(abs(want - got) * 100 <= got * HEAP_SLACK_PERCENT,
              "README says %d KiB heap, the kernel has %d KiB: update the README" % (want, got), g)
        g.sendline("halt")
        g.wait_exit(30)
