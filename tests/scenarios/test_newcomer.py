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
from freeport import ephemeral_port  # noqa: E402  (not freeport's per-user range: other tests take it)

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


SETUP = os.path.join(ROOT, "tools", "setup.sh")
GROUP_OF_NOTE = {"(make test only)": "test", "(make bochs only)": "bochs"}


def readme_packages():
    """{(group, package)} from the README's table of what setup.sh installs."""
    text = open(README).read()
    table = text.split("What `tools/setup.sh` installs, and why:", 1)[1].split("\n\n")[1]
    got = set()
    for row in table.splitlines()[2:]:
        first = row.split("|")[1]
        group = next((g for note, g in GROUP_OF_NOTE.items() if note in first), "base")
        # the packages are the backticked words before the row's note
        for pkg in re.findall(r"`([^`]+)`", first):
            got.add((group, pkg))
    return got


def test_readme_lists_what_setup_installs():
    p = subprocess.run([SETUP, "--list", "test", "bochs"], capture_output=True, text=True)
    check(p.returncode == 0, "setup.sh --list: %s" % p.stderr)
    listed = {tuple(line.split()) for line in p.stdout.splitlines()}
    readme = readme_packages()
    check(len(listed) > 20 and listed == readme,
          "README's table and tools/setup.sh differ: only in setup.sh %s, only in the "
          "README %s" % (sorted(listed - readme), sorted(readme - listed)))
    groups = {g for g, _ in listed}
    check(("test", "clang") in listed and ("base", "clang") not in listed and
          groups == {"base", "test", "bochs"}, "clang only for make test: %s" % sorted(listed))


def run_setup_as_nobody(tmp, terminal):
    """setup.sh with nothing on PATH but id and a fake sudo that needs a
    password (sudo -n fails, as for a user without NOPASSWD); stdin a
    terminal (a pseudo-terminal) or not. As root we drop to nobody, so that
    setup.sh does not take its root path."""
    import pty
    import shutil
    os.chmod(tmp, 0o755)
    os.symlink("/usr/bin/id", os.path.join(tmp, "id"))
    sudo = os.path.join(tmp, "sudo")
    with open(sudo, "w") as f:
        f.write('#!/bin/sh\n[ "$1" = -n ] && exit 1\necho "fake-sudo: $*"\nexit 0\n')
    os.chmod(sudo, 0o755)
    script = os.path.join(tmp, "setup.sh")
    shutil.copyfile(SETUP, script)
    os.chmod(script, 0o644)
    drop = (["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            if os.geteuid() == 0 else [])
    master, slave = pty.openpty() if terminal else (None, None)
    try:
        return subprocess.run(drop + ["env", "PATH=" + tmp, "/bin/sh", script],
                              stdin=slave if terminal else subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60, cwd=tmp)
    finally:
        if terminal:
            os.close(master)
            os.close(slave)


def test_setup_asks_sudo_for_a_password_only_from_a_terminal():
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        p = run_setup_as_nobody(tmp, terminal=True)
    check(p.returncode == 0 and "may ask for your password" in p.stdout and
          re.search(r"^fake-sudo: apt-get update", p.stdout, re.M) and
          re.search(r"^fake-sudo: DEBIAN_FRONTEND=noninteractive apt-get install -y "
                    r"--no-install-recommends .*gcc-i686-linux-gnu", p.stdout, re.M),
          "from a terminal setup.sh should run sudo, which asks for the password:\n%s%s"
          % (p.stdout, p.stderr))
    with tempfile.TemporaryDirectory() as tmp:
        p = run_setup_as_nobody(tmp, terminal=False)
    check(p.returncode == 1 and "fake-sudo" not in p.stdout and
          re.search(r"^\s+sudo apt-get update && sudo apt-get install -y", p.stdout, re.M),
          "without a terminal setup.sh should print the command, not run sudo:\n%s%s"
          % (p.stdout, p.stderr))


def make_run_kernel(*words):
    p = subprocess.run(["make", "-s", "run-kernel"] + list(words), cwd=ROOT,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


def test_make_run_tells_a_qemu_error_from_a_clean_halt():
    import socket
    # QEMU's own errors exit 1, as (0 << 1) | 1 once did for halt: the
    # kernel's exits are odd and at least 3, and make run says which.
    for rc, want in ((0, 0), (1, 1), (3, 0), (5, 1), (255, 1), (143, 1)):
        check(machine.exit_status(rc)[0] == want, "exit status %d -> %r" % (rc, machine.exit_status(rc)))
    tcp, udp = ephemeral_port(socket.SOCK_STREAM), ephemeral_port(socket.SOCK_DGRAM)
    rc, out = make_run_kernel("NET_TCP_PORT=%d" % tcp, "NET_UDP_PORT=%d" % udp,
                              "APPEND=run=halt")
    check(rc == 0 and "halting" in out and "error" not in out,
          "make run-kernel after halt: exit %d\n%s" % (rc, out[-2000:]))
    # A host forward QEMU cannot bind (make run's own check turned off, as
    # when another program takes the port between the check and QEMU).
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    try:
        rc, out = make_run_kernel("NET_TCP_PORT=%d" % s.getsockname()[1],
                                  "NET_UDP_PORT=%d" % udp, "PORT_CHECK=true", "APPEND=run=halt")
    finally:
        s.close()
    check(rc != 0 and "make run-kernel: QEMU stopped with an error (exit status 1)" in out,
          "make run-kernel with QEMU failing: exit %d\n%s" % (rc, out[-2000:]))
