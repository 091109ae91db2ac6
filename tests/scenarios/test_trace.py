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
