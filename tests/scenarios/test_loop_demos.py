"""The event loop's demos from the console: each runs with short
parameters under -icount (deterministic, idle time costs no wall time)
and prints its figures with their units. Also `loop echo`: the console
read and written through the loop's serial watchers."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from guest import Guest, check  # noqa: E402

UNIT = r"\d+\.\d{3} (?:ms|us)"


def boot():
    g = Guest(icount=True)
    g.expect_prompt(60)
    return g


def test_loop_state():
    with boot() as g:
        out = g.command("loop")
        for what in ("pending: \\d+ timers, \\d+ watchers, \\d+ posted events",
                     "events/s", "timer lag .*: last " + UNIT + ", max " + UNIT,
                     "stall limit 50 ms"):
            check(re.search(what, out), "loop state lacks %r:\n%s" % (what, out))
        out = g.command("loop limit 20")
        check("longer than 20 ms is now reported by name" in out, out)
        check("stall limit 20 ms" in g.command("loop"), "loop limit not shown")
        check("usage: loop" in g.command("loop frob"), "no usage for a bad loop argument")


def test_blocking_demo():
    with boot() as g:
        out = g.command("blocking 4 50", 120)
        rows = dict((m.group(1).strip(), float(m.group(2))) for m in re.finditer(
            r"^\s+(1 thread, calls in a row|1 thread per request|event loop, callbacks)"
            r"\s+(\d+\.\d+) ms", out, re.M))
        check(len(rows) == 3, "blocking printed %d rows:\n%s" % (len(rows), out))
        check(200 <= rows["1 thread, calls in a row"] < 215, out)
        check(50 <= rows["1 thread per request"] < 60, out)
        check(50 <= rows["event loop, callbacks"] < 60, out)


def test_cpu_vs_io_demo():
    with boot() as g:
        out = g.command("cpu-vs-io 40", 120)
        times = [float(x) for x in re.findall(r"^\s+\d threads?\s+(\d+\.\d+) ms", out, re.M)]
        check(len(times) == 3, "cpu-vs-io rows:\n" + out)
        # One core: splitting does not make it faster (within 5 %).
        check(max(times) <= min(times) * 1.05, out)
        check("needs two cores" in out, out)
        # Under icount QEMU's speed cannot drift: the control run agrees.
        check("1 thread again" in out and "same as the first" in out, out)
        seq = float(re.search(r"one after another\s+(\d+\.\d+) ms", out).group(1))
        loop = float(re.search(r"in the event loop\s+(\d+\.\d+) ms", out).group(1))
        check(seq >= 100 and loop < 45, out)


def test_stall_demo_names_the_callback():
    with boot() as g:
        out = g.command("stall 150", 120)
        check(re.search(r"callback 'china' has blocked the loop for 5\d ms", out), out)
        p99 = {}
        for m in re.finditer(r"^\s+(loop|threads), (before|while 'china' blocks)\s+\d+\s+"
                             r"(\d+\.\d+) ms\s+(\d+\.\d+) ms\s+(\d+\.\d+) ms", out, re.M):
            p99[(m.group(1), m.group(2))] = float(m.group(4))
        check(len(p99) == 4, "stall rows:\n" + out)
        check(p99[("loop", "while 'china' blocks")] > 100, out)
        check(p99[("threads", "while 'china' blocks")] < 25, out)


def test_order_demo():
    with boot() as g:
        out = g.command("order 6", 120)
        rows = re.findall(r"^\s+\d+\s+(\d+)\s+\d+\.\d+ ms\s+(\d+)\s+\d+\.\d+ ms", out, re.M)
        check(len(rows) == 6, "order rows:\n" + out)
        for col in (0, 1):
            check(sorted(int(r[col]) for r in rows) == list(range(1, 7)), out)
        check("order" in out.splitlines()[-2], out)


def test_spin_freezes_everyone_under_coop():
    with boot() as g:
        out = g.command("spin 100", 60)
        worst = float(re.search(r"shell thread: \d+ heartbeats, worst (\d+\.\d+) ms", out).group(1))
        check(worst < 15, "preemptive spin kept the shell waiting %s ms:\n%s" % (worst, out))
        g.command("sched coop")
        out = g.command("spin 100", 60)
        worst = float(re.search(r"shell thread: \d+ heartbeats, worst (\d+\.\d+) ms", out).group(1))
        check(worst > 80, "cooperative spin did not freeze the shell:\n" + out)
        check("everybody froze" in out, out)
        g.command("sched preempt")
        check("idle" in g.command("ps"), "shell not back after spin")


def test_loop_echo_through_watchers():
    with boot() as g:
        g.sendline("loop echo 30")
        g.expect("no call blocks")
        g.send("hello loop\r")
        g.expect("HELLO LOOP")
        g.send("\x03")
        out = g.expect(r"loop echo: (\d+) bytes in .*\n")
        g.expect_prompt()
        check(int(out.group(1)) >= 11, "echo counted %s bytes" % out.group(1))
