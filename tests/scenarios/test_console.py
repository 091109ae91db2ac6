"""The shell over the serial console: commands, errors, line editing,
history, Ctrl-C, halt; a 1 MiB paste; a panic's report and exit status."""
import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from columns import check_fits  # noqa: E402
from demo_line import demo_line, demo_lines  # noqa: E402
from guest import PANIC_STATUS, Guest, check  # noqa: E402
import machine  # noqa: E402  tools/machine.py, on the path guest.py set


def boot(**kw):
    g = Guest(**kw)
    g.expect_prompt(60)
    return g


def test_boot_turns_line_wrap_back_on():
    # SeaBIOS leaves the terminal with auto-wrap off (ESC[?7l); the kernel's
    # first bytes must turn it on again (ESC[?7h) or long lines are cut.
    with boot() as g:
        out = g.output
        i = out.find("webscale: booting")
        check(i > 0 and "\x1b[?7h" in out[:i], "no ESC[?7h before the banner", g)


# Every command's output, with arguments that are quick under -icount (the
# tables' widths do not grow with them), and the cooperative texts; with
# the NIC, as `make run` boots. latency on the TSC and without -icount:
# test_latency.py.
WIDTH_COMMANDS = ("help", "ps", "uptime", "mem", "irqs", "sched", "loop", "latency", "blocking",
                  "order", "cpu-vs-io", "spin 100", "threads 2 1", "trace", "top 1",
                  "scale 1 10 window 100", "sched coop", "latency", "spin 100", "threads 2 1",
                  "stall 100", "sched preempt", "loop", "net", "ping 10.0.2.2 2")


def test_output_fits_80_columns():
    with boot(icount=True, extra=machine.user_net()) as g:
        check_fits(check, "the banner", g.output, g)
        for cmd in WIDTH_COMMANDS:
            check_fits(check, cmd, g.command(cmd, 240), g)


def test_help_lists_every_command():
    with boot() as g:
        out = g.command("help")
        for cmd in ("help", "ps", "uptime", "threads", "sched", "halt"):
            check(re.search(r"^\s+%s\b" % cmd, out, re.M), "help lacks %s:\n%s" % (cmd, out))


def test_errors_are_one_line():
    with boot() as g:
        out = g.command("frobnicate now")
        check("frobnicate: unknown command" in out, "no error for an unknown command:\n" + out)
        out = g.command("threads")
        check("usage: threads N [SECONDS]" in out, out)
        out = g.command("threads 0")
        check("threads: N must be a whole number from 1 to 26, not '0'" in out, out)
        out = g.command("threads 99999999999999999999")
        check("must be a whole number" in out, out)
        out = g.command("sched slice 0")
        check("MS must be a whole number from 1" in out, out)
        out = g.command("sched turbo")
        check("sched: unknown setting 'turbo'" in out, out)
        out = g.command("sched stats")        # known, its on|off missing
        check("sched stats: say on or off" in out and "unknown" not in out, out)
        # still alive and well
        check("idle" in g.command("ps"), "ps after errors failed")


def test_long_line_rejected_without_corruption():
    with boot() as g:
        g.sendline("x" * 1000)
        g.expect(r"line too long \(at most 255 characters\); ignored")
        g.expect_prompt()
        out = g.command("uptime")
        check(re.search(r"up \d+\.\d{3} s", out), "uptime after a long line:\n" + out)


def test_line_editing_and_history():
    with boot() as g:
        # Backspace, Ctrl-U and Ctrl-W edit the line before Enter.
        g.send("upt\x7fxx\x08\x08time\r")            # "upt" -> "up" -> "upxx" -> "up" + "time"
        g.expect(r"up \d+\.\d{3} s")
        g.expect_prompt()
        g.send("garbage words\x15uptime\r")           # Ctrl-U drops the whole line
        g.expect(r"up \d+\.\d{3} s")
        g.expect_prompt()
        g.send("sched slice bogus\x17\x17\x17sched\r")  # Ctrl-W three words
        g.expect(r"scheduler: round robin")
        g.expect_prompt()
        # Up arrow twice brings back "uptime"; Enter runs it.
        g.send("\x1b[A\x1b[A\r")
        g.expect(r"up \d+\.\d{3} s")
        g.expect_prompt()


def test_garbage_bytes_are_dropped():
    with boot() as g:
        rnd = random.Random(7)
        junk = bytes(rnd.choice(range(0x04, 0x20)) for _ in range(200))
        junk = bytes(b for b in junk if b not in b"\r\n\x15\x17\x1b\x08\x7f\x09\x05\x0b\x0c")  # keys
        g.send(junk + b"uptime\r")
        g.expect(r"\(dropped \d+ control bytes\)")
        g.expect(r"up \d+\.\d{3} s")
        g.expect_prompt()


def test_threads_share_one_core():
    with boot() as g:
        out = g.command("threads 4 2", timeout=60)
        # Every second, four threads with about a quarter of the CPU each.
        lines = demo_lines(out, "threads")
        seconds = [r for r in lines if "second" in r]
        check(len(seconds) == 8 and len(re.findall(r"^\s+[A-D] count[A-D]\s+\d+\s+\d+\.\d %",
                                                    out, re.M)) == 8,
              "expected 4 threads x 2 seconds:\n" + out)
        for r in seconds:
            pct = 100.0 * r["cpu_ns"] / r["span_ns"]
            check(18 <= pct <= 33, "thread %s got %.1f %%:\n%s" % (r["thread"], pct, out))
        summary = [r for r in lines if "ran_ms" in r]
        check(len(summary) == 1 and summary[0]["threads"] == 4 and summary[0]["preempted"] > 0,
              out)
        timeline = re.findall(r"^  ([A-Ds.?]{70})\r?$", out, re.M)
        check(timeline and all(c in timeline[-1] for c in "ABCD"),
              "timeline does not show all four threads:\n" + out)
        check("4 threads ran for" in out, out)
        # and they are gone afterwards
        check("countA" not in g.command("ps"), "counting threads still listed by ps")


def test_ctrl_c_stops_a_demo():
    with boot() as g:
        g.sendline("threads 2")
        g.expect(r"\[1 s\]", 60)
        g.send("\x03")
        g.expect(r"2 threads ran for")
        g.expect(r"stopped by Ctrl-C")
        g.expect_prompt()
        check("countA" not in g.command("ps"), "threads left behind after Ctrl-C")


def test_threads_summary_after_ctrl_c_covers_its_run():
    """A Ctrl-C in the middle of a second: the summary's preemptions and its
    run time cover the same span. It once added up only the seconds whose
    table was printed ("ran for 1962 ms and were preempted 102 times")."""
    with boot() as g:
        g.sendline("threads 2")
        g.expect(r"\[1 s\]", 60)
        g.expect(r"\[2 s\]", 60)
        g.expect(r"last 70 ticks", 60)
        time.sleep(0.5)
        g.send("\x03")          # somewhere in the third second
        g.expect(r"stopped by Ctrl-C")
        out = g.output[g.output.rfind("threads 2"):]
        g.expect_prompt()
        seconds = [r for r in demo_lines(out, "threads") if "second" in r]
        summary = [r for r in demo_lines(out, "threads") if "ran_ms" in r]
        check(len(summary) == 1, out)
        s = summary[0]
        in_tables = sum(r["preempted"] for r in seconds)
        check(s["preempted"] >= in_tables, "summary %d < the tables' %d:\n%s"
              % (s["preempted"], in_tables, out))
        # Two threads, 10 ms slices: one preemption per 10 ms of the run,
        # give or take the start, the stop and the shell's own turns.
        print("  threads 2, Ctrl-C: %d preemptions in %d ms (%d in the tables)"
              % (s["preempted"], s["ran_ms"], in_tables))
        check(s["ran_ms"] > 2000 and s["preempted"] >= s["ran_ms"] // 10 - 3,
              "%d preemptions in %d ms of 10 ms slices:\n%s" % (s["preempted"], s["ran_ms"], out))


def test_one_thread_has_the_core_to_itself():
    with boot() as g:
        out = g.command("threads 1 1")
        check("1 thread ran for" in out and "took turns" not in out, out)


def test_sched_settings_live():
    with boot() as g:
        check("time slice is now 3 ms" in g.command("sched slice 3"), "slice not set")
        check("slice 3 ms" in g.command("sched"), "slice not shown")
        check("cooperative" in g.command("sched coop"), "coop")
        check("preemptive" in g.command("sched preempt"), "preempt")


def test_sched_stats_off_says_not_measured():
    """`sched stats off`: ps, top and uptime print no CPU time or switch
    count, and say why; back on, ps has figures again and says what the
    off spell left out; a bad word is an error that changes nothing."""
    with boot() as g:
        check("stats: on" in g.command("sched"), "stats not on by default", g)
        out = g.command("sched stats maybe")
        check("neither on nor off" in out and "usage" in out.lower(), out, g)
        check("stats: on" in g.command("sched"), "a bad word changed the setting", g)
        check("stats off" in g.command("sched stats off"), "no answer to stats off", g)
        check("stats: off" in g.command("sched"), "stats off not shown", g)
        ps = g.command("ps")
        check(re.search(r"idle\s+\S+\s+-\s+-\s+-\s+\d+/\d+", ps), "ps prints figures:\n" + ps, g)
        check("CPU ms, VOL, INVOL: not measured" in ps, "ps does not say why:\n" + ps, g)
        top = g.command("top 1", 10)
        check("context switches/s, idle -" in top.replace("- context", "-context")
              or re.search(r"- context switches/s, idle -", top), "top prints rates:\n" + top, g)
        check("not measured" in top, "top does not say why:\n" + top, g)
        up = g.command("uptime")
        check("not measured" in up, "uptime does not say so", g)
        # and prints no figure that stood still when stats went off
        check(re.search(r"idle -\r?\n", up) and
              "- context switches: - yield, - preempt, - block, - exit" in up,
              "uptime prints figures:\n" + up, g)
        check("stats on" in g.command("sched stats on"), "no answer to stats on", g)
        ps = g.command("ps")
        check(re.search(r"idle\s+\S+\s+\d+\.\d+\s+\d+\s+\d+", ps), "no figures back:\n" + ps, g)
        check(re.search(r"they leave out\s+\d+ ms", ps), "ps does not say what was left out:\n" + ps, g)


def test_threads_with_stats_off_says_not_measured():
    """`threads` under `sched stats off`: its CPU shares and preemptions
    come from the scheduler's bookkeeping, so they are "-" and said to be
    not measured (they were 0.0 % and 0, figures that look measured); the
    counts, which the threads keep themselves, are still there. Stats on
    again, the figures are back."""
    with Guest(append="run=sched stats off; threads 2 1; sched stats on; threads 2 1") as g:
        g.expect(r"took turns", 60)
        g.expect(r"stats on: every switch", 60)
        g.expect(r"took turns", 60)
        g.expect_prompt()
        off, on = g.output.split("stats on: every switch")
        rows = [r for r in demo_lines(off, "threads") if "second" in r]
        check(len(rows) == 2 and all(r["cpu_ns"] == "-" and r["preempted"] == "-" and
                                     r["counted"] > 0 for r in rows), off, g)
        check(re.search(r"^\s+A countA\s+\d+\s+-\s+-\r?$", off, re.M), off, g)
        check("CPU share, preempted: not measured" in off, off, g)
        summary = [r for r in demo_lines(off, "threads") if "ran_ms" in r]
        check(len(summary) == 1 and summary[0]["preempted"] == "-", off, g)
        check("preempted 0 times" not in off and " 0.0 %" not in off, off, g)
        check_fits(check, "threads under sched stats off", off.split("webscale> threads")[1], g)
        rows = [r for r in demo_lines(on, "threads") if "second" in r]
        check(len(rows) == 2 and all(r["cpu_ns"] > 0 and r["preempted"] > 0 for r in rows),
              on, g)
        check("not measured" not in on, on, g)


def test_switch_counting_demos_under_stats_off():
    """latency, blocking, cpu-vs-io and scale report the scheduler's
    counts (switches, idle time) and the switch as it runs by default.
    Under `sched stats off` these read 0 and latency's rows equalled their
    "the same, 'sched stats off'" rows; now each turns the bookkeeping on
    for its run, says so, and leaves it off again after."""
    with Guest(append="run=sched stats off; latency; blocking 3 10; cpu-vs-io 10; "
                      "scale 2 window 50; sched", icount=True) as g:
        g.expect(r"stats: off", 300)
        out = g.output
        lat = demo_line(out, "latency")
        for row in ("yield_switch", "semaphore_round_trip"):
            check(lat[row + "_ns"] > lat[row + "_nostats_ns"], "%s: %r" % (row, lat), g)
        for r in demo_lines(out, "blocking"):
            check(r["switches"] > 0, "blocking counted no switch: %r" % r, g)
        check(re.search(r"^  2 threads .* [1-9]\d* switches\r?$", out, re.M), out, g)
        rows = demo_lines(out, "scale")
        check(rows and all(r.get("switches", 1) > 0 and r.get("idle_ns", 1) > 0 for r in rows),
              "scale: %r" % rows, g)
        for cmd in ("latency", "blocking", "cpu-vs-io", "scale"):
            check("%s: its figures need the scheduler's bookkeeping" % cmd in out, cmd, g)


def test_paste_of_a_command_and_its_input():
    """A command that reads the console gets the lines pasted after it,
    whole, and the next prompt nothing: the shell read 64 bytes at a time
    and kept those after the Enter, so `loop echo` got "c" of "abc" and
    the prompt after it "ab"; `spawn echo` got "o", "exit" and the prompt
    "hell"."""
    with boot() as g:
        g.send("loop echo 2\rabc\r")
        m = g.expect(r"@demo loop-echo bytes_in=(\d+) ", 30)
        g.expect_prompt()
        check(int(m.group(1)) == 4 and "ABC" in g.output, "loop echo got part of it", g)
        g.send("spawn echo\rhello\rexit\r")
        g.expect(r"process \d+ 'echo' exited with code 0", 30)
        g.expect_prompt()
        check(re.search(r"blocking read\)\r\nhello\r\nexit\r\n", g.output), "echo got part of it "
              "or ended a line with a bare LF", g)
        time.sleep(0.5)
        check(g.output.endswith("webscale> "), "typed at the next prompt: %r" % g.output[-40:], g)
        out = g.command("uptime")
        check(re.search(r"^up \d+\.\d{3} s", out, re.M), "the prompt's line is not clean: %r" % out, g)


def test_halt_exits_qemu_cleanly():
    with boot() as g:
        g.sendline("halt")
        status = g.wait_exit(30)
        check(status == 0, "halt gave exit status %r" % status, g)


def test_paste_1mib_arrives_whole():
    data = random.Random(1).randbytes(1024 * 1024)
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    with Guest(append="test=paste") as g:
        g.expect(r"paste: ready for 1048576 bytes", 60)
        g.send(data)
        m = g.expect(r"paste: received (\d+) bytes, fnv1a ([0-9a-f]{8}), (\d+) RX pauses", 240)
        check(int(m.group(1)) == len(data), "wrong count", g)
        check(int(m.group(3)) > 0, "the receive ring never filled: flow control untested", g)
        check(int(m.group(2), 16) == h, "hash %s, expected %08x" % (m.group(2), h), g)
        check(g.wait_exit(60) == 0, "paste suite failed", g)


def test_exception_in_irq_handler_panics():
    with Guest(append="test=panic_irq", icount=True) as g:
        status = g.wait_exit(60)
        out = g.output
        check("CPU exception 0 (#DE divide error)" in out, "no exception report", g)
        check("inside an IRQ handler" in out, "report does not say IRQ", g)
        check("divide_in_irq" in out, "backtrace lacks the handler's name", g)
        check("*** PANIC" in out, "no panic", g)
        check(status == PANIC_STATUS, "exit status %r, expected a panic's" % status, g)


def test_tsc_only_when_cpuid_says():
    with Guest() as g:                      # -cpu 486: QEMU reports no TSC
        g.expect(r"CPU: ([^,]+, [^,]*TSC)", 60)
        check("no TSC" in g.output, "a 486 must not use the TSC", g)
    with Guest(extra=["-cpu", "pentium"]) as g:
        m = g.expect(r"CPU: (CPUID, \w* ?TSC)", 60)
        check(m.group(1) == b"CPUID, TSC", "a Pentium has a TSC", g)


def test_ps_shows_states():
    with boot() as g:
        out = g.command("ps")
        # The shell runs ps, so it is the running one; idle is merely ready.
        check(re.search(r"^\*\s*\d+ shell\s+running", out, re.M), "shell not running:\n" + out)
        check(re.search(r"^\s+0 idle\s+ready", out, re.M), "idle not ready:\n" + out)
        check(re.search(r"^\s+\d+ \S+\s+(blocked|sleeping)\s+\S", out, re.M),
              "no waiting thread with what it waits on:\n" + out)
