"""The loop's phase contracts are checked, not hoped for: a callback that
runs the loop inside itself (tests/kernel/test_loop_run.c, suite
loop_reenter) stops the kernel with the ASSERT's expression, file, line
and function."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from guest import PANIC_STATUS, Guest, check  # noqa: E402


def test_loop_reentered_from_callback_asserts():
    with Guest(append="test=loop_reenter", icount=True) as g:
        status = g.wait_exit(60)
        out = g.output
        check("*** PANIC in thread 'loop': ASSERT(loop_core.owner != current) failed" in out,
              "no ASSERT naming the re-entered loop", g)
        check(re.search(r"at kernel/loop/run\.c:\d+ in claim\(\)", out), "no file:line of claim()", g)
        check("loop_run_once" in out, "the backtrace does not show loop_run_once", g)
        check(status == PANIC_STATUS, "exit status %r, expected a panic's" % status, g)
