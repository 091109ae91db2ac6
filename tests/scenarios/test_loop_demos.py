"""The event loop's demos from the console: each runs with short
parameters under -icount (deterministic, idle time costs no wall time)
and prints its figures with their units. Also `loop echo`: the console
read and written through the loop's serial watchers."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from guest import Guest, check  # noqa: E402
from demo_line import demo_line, demo_lines  # noqa: E402

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
        rows = {r["way"]: r for r in demo_lines(out, "blocking")}
        check(sorted(rows) == ["in_a_row", "loop", "thread_each"], "blocking rows:\n" + out)
        for way in ("1 thread, in a row", "thread per request", "loop callbacks"):
            check(re.search(r"^\s+%s\s+\d+\.\d+ ms" % way, out, re.M), "no row %r:\n%s" % (way, out))
        ms = dict((w, r["total_ns"] / 1e6) for w, r in rows.items())
        check(200 <= ms["in_a_row"] < 215, out)
        check(50 <= ms["thread_each"] < 60, out)
        check(50 <= ms["loop"] < 60, out)
        check(rows["thread_each"]["mem_bytes"] >= 4 * 4096 > rows["loop"]["mem_bytes"], out)
        check(rows["in_a_row"]["blocked_ns"] >= 4 * 50e6 and rows["loop"]["blocked_ns"] == 0, out)


def test_cpu_vs_io_demo():
    with boot() as g:
        out = g.command("cpu-vs-io 40", 120)
        m = demo_line(out, "cpu-vs-io")
        times = [m["threads%d_ns" % k] for k in (1, 2, 4)]
        # One core: splitting does not make it faster (within 5 %).
        check(max(times) <= min(times) * 1.05, out)
        check("needs two cores" in out, out)
        # Under icount QEMU's speed cannot drift: the control run agrees.
        check(m["drift"] == "no" and re.search(r"QEMU ran at a\s+steady\s+speed", out), out)
        check(m["io_sequential_ns"] >= 100e6 and m["io_loop_ns"] < 45e6, out)


def test_stall_demo_names_the_callback():
    with boot() as g:
        out = g.command("stall 150", 120)
        check(re.search(r"callback 'china' has blocked the loop for 5\d ms", out), out)
        lines = demo_lines(out, "stall")
        p99 = dict(((r["way"], r["phase"]), r["p99_ns"] / 1e6) for r in lines if "phase" in r)
        check(len(p99) == 4, "stall rows:\n" + out)
        check(p99[("loop", "blocked")] > 100, out)
        check(p99[("threads", "blocked")] < 25, out)
        summary = [r for r in lines if "stall_name" in r]
        check(len(summary) == 1 and summary[0]["stall_name"] == "china", out)
        check(re.search(r"^\s+loop, while 'china' blocks\s+\d+\s+\d+\.\d{3} ms", out, re.M), out)


def test_order_demo():
    with boot() as g:
        out = g.command("order 6", 120)
        check(len(re.findall(r"^\s+\d+\s+\d+\s+\d+\.\d+ ms\s+\d+\s+\d+\.\d+ ms", out, re.M)) == 6,
              "order rows:\n" + out)
        m = demo_line(out, "order")
        for key in ("run1_order", "run2_order"):
            check(sorted(int(x) for x in m[key].split(",")) == list(range(1, 7)), out)
        check(m["same"] == ("yes" if m["run1_order"] == m["run2_order"] else "no"), out)


def test_spin_freezes_everyone_under_coop():
    with boot() as g:
        m = demo_line(g.command("spin 100", 60), "spin")
        check(m["sched"] == "preemptive" and m["shell_worst_ns"] < 15e6,
              "preemptive spin kept the shell waiting: %r" % m)
        g.command("sched coop")
        out = g.command("spin 100", 60)
        m = demo_line(out, "spin")
        check(m["sched"] == "cooperative" and m["shell_worst_ns"] > 80e6,
              "cooperative spin did not freeze the shell:\n" + out)
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
        g.expect(r"loop echo: \d+ bytes in .*\n")
        out = g.expect(r"@demo loop-echo .*\n").group(0).decode("latin-1")
        g.expect_prompt()
        m = demo_line(out, "loop-echo")
        check(m["bytes_in"] >= 11 and m["bytes_out"] >= 11, "echo counted %r" % m)
