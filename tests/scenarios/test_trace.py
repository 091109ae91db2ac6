"""The shell's `trace`: a timeline drawn from the kernel's trace ring."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from guest import Guest, check  # noqa: E402


def test_trace_timeline_after_threads():
    """After `threads 2 1`, `trace 50` draws two counters taking turns
    every slice (10 ms of 50 = about 6 of the 64 columns each) and counts
    the preemptions among the switches."""
    # Both commands from the command line, not the second typed after the
    # first: the idle guest's time (icount, sleep=off) leaps ahead while a
    # loaded host is slow to deliver typing, and "the last 50 ms" would be
    # seconds after the counters ended.
    with Guest(append="run=threads 2 1; trace 50", icount=True) as g:
        g.expect(r"took turns", 60)
        g.expect_prompt()
        out = g.next_run_output()
        m = re.search(r"^  ([A-Z.? ]{64})\r?$", out, re.M)
        check(m, "no 64-column timeline", g)
        line = m.group(1)
        runs = re.findall(r"(A+|B+)", line)
        check(len(runs) >= 4 and set(r[0] for r in runs) >= {"A", "B"},
              "counters A and B should alternate: %r" % line, g)
        check(re.search(r"A = \d+ countA( \(ended\))?\s+B = \d+ countB", out), "no legend", g)
        m = re.search(r"(\d+) switches in it: \d+ yield, (\d+) preempt", out)
        check(m and int(m.group(2)) >= 3, "too few preemptions counted", g)


def test_trace_says_it_began_at_stats_on():
    """`sched stats on` starts the trace again. After a second of
    switches with stats off, and right after `sched stats on`, `trace`
    says no switch has happened since; after `threads 2 1` (a second of
    switches), `trace 5000` reaches back only to the restart and says the
    trace began then, and its count of switches since boot says it leaves
    out the time stats were off. Neither blames the ring (1024 records,
    far from full here) nor says nothing was ever recorded."""
    with Guest(append="run=sched stats off; threads 2 1; sched stats on; trace; threads 2 1; "
                      "trace 5000", icount=True) as g:
        g.expect(r"stats on: every switch", 60)
        g.expect(r"took turns", 60)
        g.expect(r"switches since boot: counted only while 'sched stats' was on", 30)
        out = g.output
        check("trace: no switches since 'sched stats on' began the trace again" in out,
              "an empty trace after 'sched stats on' does not say why", g)
        m = re.search(r"trace: the trace began (\d+) ms ago, at 'sched stats on'; nothing before", out)
        check(m and 1000 <= int(m.group(1)) <= 1500,
              "trace 5000 after 'sched stats on' and a 1 s demo does not say the trace began "
              "1-1.5 s ago: %s" % (m and m.group(0)), g)
        check("reaches back only" not in out and "no switches recorded yet" not in out,
              "trace blames the ring, which is not full, or says nothing was recorded", g)
