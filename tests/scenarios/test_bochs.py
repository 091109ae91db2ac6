"""Bochs 2.7 (tools/bochs.py, make bochs) boots the GRUB ISO to the prompt,
and the demos that depend on the machine behave there: threads preempted by
the PIT, latency on Bochs's TSC, ps, the NE2000 on IRQ 9 with PCI off, a
cooperative spin that freezes the shell, and halt through Bochs's shutdown
port. Bochs runs with clock sync=none (guest time = instructions / ips, a
halted CPU costs no wall time), so the whole test takes a few seconds.
tools/setup.sh installs Bochs if it can; if it cannot, the test says SKIP
and why."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from guest import Skip, TestFailure, check  # noqa: E402
from demo_line import demo_line, demo_lines  # noqa: E402
from bochsguest import BochsGuest, bochs, ensure_bochs  # noqa: E402

MS = 1000000    # ns


def test_boots_and_runs_the_demos():
    why = ensure_bochs()
    if why:
        raise Skip(why)
    check(os.path.exists(bochs.ISO), "build/webscale.iso was not built")
    with BochsGuest() as g:
        boot = g.expect_prompt(60)
        banner = g.output[:boot.end()]
        check("CPU: CPUID, TSC" in banner, "Bochs's CPU has a TSC:\n" + banner, g)
        check(banner.count("Booting `webscale'") <= 1, "GRUB's boot line twice:\n" + banner, g)

        out = g.command("threads 2 1", 60)
        rows = demo_lines(out, "threads")
        shares = [r["cpu_ns"] / r["span_ns"] for r in rows if "thread" in r]
        check(len(shares) == 2 and all(0.4 < s < 0.6 for s in shares),
              "two threads should share the CPU about equally:\n" + out, g)
        check(rows[-1].get("threads") == 2 and rows[-1]["preempted"] > 50,
              "the PIT should preempt them about every 10 ms:\n" + out, g)

        out = g.command("latency", 60)
        line = demo_line(out, "latency")
        check(line["clock"] == "tsc", "latency should use Bochs's TSC:\n" + out, g)
        # Bochs's TSC counts one cycle per instruction.
        check(0.9 < line["instruction_cycles"] < 1.1, "one instruction, one cycle:\n" + out, g)
        for key in ("yield_switch_cycles", "preempt_switch_cycles", "irq_cycles"):
            check(isinstance(line[key], float) and line[key] > 0, "%s not measured:\n%s"
                  % (key, out), g)
        # The kernel rounds its thousandths half up (168.250 -> 168.3), where
        # Python's "%.1f" rounds the binary value half to even (168.2).
        tenths = (round(line["yield_switch_cycles"] * 1000) + 50) // 100
        check("%d.%d cycles" % divmod(tenths, 10) in out.split("Where the talk")[1],
              "the conclusion should quote the yield row:\n" + out, g)
        # Bochs sends a byte at 115200 baud's pace: 86.8 us, 4340 cycles at 50 MIPS.
        byte_us = line["serial_polled_cycles"] / line["units_per_us"]
        check(80 < byte_us < 95 and re.search(r"It paces the UART to its\s+baud rate", out),
              "a polled serial byte at the line's pace:\n" + out, g)

        check("idle" in g.command("ps") and "shell" in g.command("ps"), "ps", g)
        check("NE2000 at 0x300, IRQ 9" in g.command("net"), "net: the NE2000 on IRQ 9", g)

        g.command("sched coop")
        out = g.command("spin 100", 60)
        spin = demo_line(out, "spin")
        check(spin["sched"] == "cooperative" and spin["shell_worst_ns"] > 80 * MS,
              "a cooperative spin should freeze the shell:\n" + out, g)
        g.command("sched preempt")
        out = g.command("spin 100", 60)
        spin = demo_line(out, "spin")
        check(spin["sched"] == "preemptive" and spin["shell_worst_ns"] < 15 * MS,
              "a preemptive spin should keep the shell within a slice:\n" + out, g)

        g.sendline("halt")
        check(g.wait_exit(30) == 0, "halt should end Bochs through its shutdown port", g)


def test_its_own_debugger():
    """make bochs BOCHS_DEBUG=1: Bochs's debugger in a terminal (a pseudo-
    terminal here, its controlling one, so Ctrl-C reaches Bochs), stopped
    before the first instruction; the console on the socket it names; `c`
    boots to the prompt, Ctrl-C stops at a prompt again, `q` quits (0)."""
    import pty
    import select
    import socket
    import time
    why = ensure_bochs()
    if why:
        raise Skip(why)
    pid, term = pty.fork()
    if pid == 0:
        os.execvp(sys.executable, [sys.executable, os.path.join(bochs.HERE, "bochs.py"),
                                   "--debugger"])
    said = bytearray()

    def until(pattern, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            m = re.search(pattern, said)
            if m:
                return m
            if select.select([term], [], [], 0.2)[0]:
                try:
                    said.extend(os.read(term, 65536))
                except OSError:
                    break
        raise TestFailure("Bochs's terminal: no %r within %d s in:\n%s"
                          % (pattern, seconds, said.decode("latin-1")[-2000:]))

    sock = None
    try:
        port = int(until(rb"nc 127\.0\.0\.1 (\d+)", 30).group(1))
        deadline = time.monotonic() + 30
        while sock is None and time.monotonic() < deadline:
            try:
                sock = socket.create_connection(("127.0.0.1", port))
            except OSError:
                time.sleep(0.1)
        check(sock is not None, "the console's socket never opened")
        until(rb"Next at t=0\r?\n.*\r?\n.*<bochs:1> ", 30)
        os.write(term, b"c\n")
        console = bytearray()
        sock.settimeout(60)
        while b"webscale> " not in console:
            data = sock.recv(4096)
            check(data, "the console closed before the prompt:\n" + console.decode("latin-1"))
            console.extend(data)
        os.write(term, b"\x03")
        until(rb"<bochs:2> ", 30)
        os.write(term, b"q\n")
        _, status = os.waitpid(pid, 0)
        pid = None
        check(os.waitstatus_to_exitcode(status) == 0, "bochs.py --debugger: status %d" % status)
    finally:
        if sock:
            sock.close()
        if pid:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(term)
