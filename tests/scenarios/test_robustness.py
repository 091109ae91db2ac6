"""Garbage at the console, arguments out of range, Ctrl-C at any moment,
demos run again and again: the shell answers, nothing hangs, nothing leaks."""
import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from guest import Guest, check  # noqa: E402

UPTIME = r"up \d+\.\d{3} s"


def boot(**kw):
    g = Guest(**kw)
    g.expect_prompt(60)
    return g


def heap_and_threads(g):
    # expect() the answers themselves: a late Ctrl-C may have left a spare prompt.
    g.sendline("mem")
    used = int(g.expect(r"(\d+) used").group(1))
    g.sendline("ps")
    ps = g.expect(r"  ID NAME[^\n]*\n((?:[^\n]*\n)*?)\* = running now").group(1).decode("latin-1")
    g.expect_prompt()
    return used, len(re.findall(r"^[ *]\s*\d+ \S", ps, re.M)), ps


def test_cut_escape_sequences_do_not_eat_the_next_line():
    # An escape sequence cut short by Enter used to swallow the Enter and,
    # in ESC [, every byte up to the next letter: "uptime" ran as "ptime".
    with boot() as g:
        for seq in (b"\x1b", b"\x1b[", b"\x1b[1;", b"\x1bO", b"\x1b[12"):
            g.send(seq + b"\ruptime\r")
            g.expect(UPTIME, 10)
            g.expect_prompt()
        g.send(b"\x1bOA\r")                  # the up arrow in application mode
        g.expect(UPTIME, 10)
        g.expect_prompt()


def test_commands_without_arguments_refuse_them():
    with boot() as g:
        for cmd in ("ps", "mem", "clear", "uptime", "irqs", "jobs", "halt"):
            out = g.command(cmd + " 99999999999")
            check("%s: takes no arguments, not '99999999999'" % cmd in out, out, g)
        for line, err in (("threads 26 99999999999", "SECONDS must be a whole number"),
                          ("blocking 201", "N must be a whole number from 1 to 200"),
                          ("stall -5", "MS must be a whole number from 10 to 5000"),
                          ("spin 3001", "MS must be a whole number from 10 to 3000"),
                          ("loop limit 0", "MS must be a whole number from 1 to 60000"),
                          ("loop echo x", "SECONDS must be a whole number"),
                          ("order 13", "N must be a whole number from 2 to 12"),
                          ("cpu-vs-io ''", "MS must be a whole number"),
                          ("sched slice", "usage: sched"), ("trace 1 2", "usage: trace"),
                          ("help 99999999999", "help: no command '99999999999'")):
            out = g.command(line)
            check(err in out and len(out.strip().splitlines()) <= 3, line + ":\n" + out, g)


def test_ctrl_c_behind_typeahead_stops_a_demo():
    # 8 KiB typed into a demo that never reads the console filled the
    # receive ring; input paused, so the Ctrl-C behind it was never seen
    # and `threads 2` ran for ever.
    with boot() as g:
        # Typing that the shell reads is not dropped (every byte typed
        # was once counted as dropped: ring_put returns 0 when it stores).
        out = g.command("irqs")
        check(re.search(r" 0 typeahead bytes dropped", out), "typing counted as dropped:\n" + out, g)
        g.sendline("threads 2")
        g.expect(r"\[1 s\]", 30)
        rnd = random.Random(11)
        g.send(bytes(rnd.choice(b"abcdefgh ijk\r\n") for _ in range(8192)))
        time.sleep(0.3)
        g.send(b"\x03")
        g.expect(r"stopped by Ctrl-C", 15)
        g.expect_prompt()
        out = g.command("irqs")
        m = re.search(r"(\d+) typeahead bytes dropped", out)
        check(m and int(m.group(1)) > 0, "no dropped typeahead counted:\n" + out, g)
        check("countA" not in g.command("ps"), "counting threads left behind", g)
        check(re.search(UPTIME, g.command("uptime")), "shell not back", g)


def test_threads_end_under_cooperative_scheduling():
    # Cooperative counters never gave the CPU back: `threads 2 1` after
    # `sched coop` never returned, and Ctrl-C could not reach the shell.
    with boot() as g:
        g.command("sched coop")
        out = g.command("threads 2 1", 20)
        check("2 threads ran for" in out, out, g)
        g.sendline("threads 3")
        g.expect("Ctrl-C stops", 10)
        time.sleep(0.5)
        g.send(b"\x03")
        g.expect(r"3 threads ran for", 10)
        g.expect_prompt()
        g.command("sched preempt")
        check("countA" not in g.command("ps"), "counting threads left behind", g)


def test_random_bytes_at_the_prompt():
    # Every byte value, cut escape sequences, NULs, DEL, bursts of CR/LF,
    # over-long lines: afterwards the shell still runs commands.
    rnd = random.Random(1234)
    junk = bytearray(rnd.randrange(256) for _ in range(30000))
    junk += b"\x1b[" + b"\r\n" * 50 + b"\x00" * 100 + b"\x7f" * 300 + b"y" * 2000 + b"\r"
    junk = junk.replace(b"\x03", b"")       # Ctrl-C is tested on its own
    with boot(icount=True) as g:
        g.send(bytes(junk))
        g.send(b"\x15uptime\r")
        g.expect(UPTIME, 60)
        g.expect_prompt()
        out = g.output
        check("PANIC" not in out and "exception" not in out, "crashed", g)
        check("line too long" in out and "dropped" in out, "junk not refused/counted", g)


def test_paste_of_printable_and_binary_junk():
    # 512 KiB of random text lines then 256 KiB of binary junk at the prompt.
    rnd = random.Random(99)
    text = bytearray()
    while len(text) < 512 * 1024:
        text += bytes(rnd.randrange(0x20, 0x7F) for _ in range(rnd.randrange(0, 300))) + b"\r\n"
    binary = bytes(rnd.randrange(256) for _ in range(256 * 1024)).replace(b"\x03", b"")
    with boot(icount=True) as g:
        g.send(bytes(text) + binary)
        g.send(b"\x03")
        time.sleep(0.5)
        g.send(b"\x15mem\r")
        g.expect(r"heap: \d+ bytes", 120)
        g.expect_prompt()
        check("PANIC" not in g.output, "crashed", g)


DEMOS = ("blocking 20 20", "stall 30", "spin 30", "order 6", "cpu-vs-io 20",
         "threads 26 1", "loop echo 1", "trace 50", "loop", "scale 1 10 window 50")


def test_no_leak_around_every_demo():
    with boot(icount=True) as g:
        for d in DEMOS:                     # the first run may start the worker pool
            g.command(d, 60)
        used0, n0, _ = heap_and_threads(g)
        for d in DEMOS * 2:
            g.command(d, 60)
        used1, n1, ps = heap_and_threads(g)
        check(used0 == used1 and n0 == n1, "leak: %d -> %d bytes, %d -> %d threads\n%s" %
              (used0, used1, n0, n1, ps), g)


def test_ctrl_c_at_different_moments_leaks_nothing():
    with boot() as g:
        for d in ("blocking 20 50", "stall 300", "cpu-vs-io 300", "order 12", "scale 100"):
            g.command(d, 60)
        used0, n0, _ = heap_and_threads(g)
        for d in ("blocking 20 50", "stall 300", "cpu-vs-io 300", "order 12", "threads 5",
                  "scale 100"):
            for delay in (0.05, 0.4, 1.2):
                g.sendline(d)
                time.sleep(delay)
                g.send(b"\x03")
                g.expect_prompt(30)
        time.sleep(0.5)
        g.send(b"\x15")
        used1, n1, ps = heap_and_threads(g)
        check(used0 == used1 and n0 == n1, "leak after Ctrl-C: %d -> %d bytes, %d -> %d "
              "threads\n%s" % (used0, used1, n0, n1, ps), g)


def test_demos_under_every_scheduler_setting():
    with boot(icount=True) as g:
        for mode in ("sched coop", "sched slice 1", "sched slice 10000", "sched preempt",
                     "sched slice 10"):
            g.command(mode)
            for d in ("blocking 5 10", "stall 20", "spin 20", "order 3", "cpu-vs-io 10",
                      "scale 10 window 50"):
                out = g.command(d, 60)
                check("error" not in out and "PANIC" not in out, mode + " | " + d + "\n" + out, g)
        check("idle" in g.command("ps"), "shell not back", g)
