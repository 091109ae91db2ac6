"""Checked contracts and waits that do not poll: a broken state transition
panics with the ASSERT's expression, file and line; Ctrl-C stops a sleeping
demo, a ping and httpd within a millisecond or two of guest time (under
-icount, so the figure is instructions, not host load); ping and httpd do
not count their own polling as context switches."""
import os
import random
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from guest import PANIC_STATUS, Guest, check  # noqa: E402
import machine  # noqa: E402  tools/machine.py, on the path guest.py set

NET = machine.user_net()
ASSERT_RE = r"ASSERT\((.+)\) failed\s+at (\S+):(\d+) in (\w+)\(\)"
# Guest microseconds from the Ctrl-C (stamped by the console's IRQ) to the
# command's return. The old shell napped 100 ms between looks, ping 1 ms.
PROMPT_US = 2000


def boot(**kw):
    g = Guest(icount=True, **kw)
    g.expect_prompt(60)
    return g


def test_broken_transitions_fail_an_assert_with_file_and_line():
    for suite, func, expr in (("assert_wake", "end_wait", "THREAD_BLOCKED"),
                              ("assert_irqs", "waitq_wake_first", "!irqs_enabled()"),
                              # the wait's start, inline in waitq_sleep_counted
                              ("assert_sleep", "block_on", "irq_nesting == 0"),
                              # schedule's body, inline in it and the hot paths
                              ("assert_schedule", "switch_away", "prev_states")):
        with Guest(append="test=" + suite, icount=True) as g:
            status = g.wait_exit(60)
            m = re.search(ASSERT_RE, g.output)
            check(m, "%s: no ASSERT report" % suite, g)
            text, path, line, fn = m.group(1), m.group(2), int(m.group(3)), m.group(4)
            check(fn == func and expr in text, "%s: wrong ASSERT: %s" % (suite, m.group(0)), g)
            src = open(os.path.join(ROOT, path)).read().splitlines()
            # The line named starts that ASSERT (which may go on over the
            # next lines); ASSERT_IRQS_OFF() is ASSERT(!irqs_enabled()).
            near = "".join(src[line - 1:line + 2]).replace(" ", "")
            want = "ASSERT_IRQS_OFF()" if text == "!irqs_enabled()" else "ASSERT(" + text
            want = want.replace(" ", "")[:30]
            check(want in near, "%s: %s:%d does not hold ASSERT(%s)" % (suite, path, line, text), g)
            # The backtrace starts at panic's caller, each frame once, and
            # names a return address by the call's function (eip - 1).
            frames = re.findall(r"#(\d+) ([0-9a-f]{8}) (\S+)\+", g.output)
            check(len(frames) >= 3 and frames[0][2] == "assert_fail" and frames[1][1] != frames[0][1],
                  "%s: backtrace should start at assert_fail, each frame once: %r" % (suite, frames[:3]), g)
            if suite == "assert_sleep":
                # sem_down (kernel/switch.S) builds no frame: the backtrace
                # still names the function that called it.
                names = [f[2] for f in frames]
                check("sem_down" in names and names[names.index("sem_down") + 1:][:1] == ["sleeping_handler"],
                      "the backtrace should go sem_down <- sleeping_handler: %r" % names, g)
            check("*** PANIC" in g.output and status == PANIC_STATUS,
                  "%s: exit status %r, expected a panic's" % (suite, status), g)


def stop_with_ctrl_c(g):
    g.send(b"\x03")
    m = g.expect(r"stopped by Ctrl-C, (\d+) us \(\d+ ns\) after it", 20)
    g.expect_prompt(20)
    return int(m.group(1))


def switches(g):
    return int(re.search(r"(\d+) context switches", g.command("uptime")).group(1))


def test_ctrl_c_stops_a_sleeping_demo_promptly():
    with boot() as g:
        g.sendline("top")
        g.expect(r"switches/s", 30)
        time.sleep(0.3)
        us = stop_with_ctrl_c(g)
        check(us < PROMPT_US, "top took %d us of guest time to stop" % us, g)


def test_ping_waits_for_its_reply_without_polling_and_stops_at_ctrl_c():
    with boot(extra=NET) as g:
        # 10.0.2.99 never answers ARP: the ping waits out its whole timeout.
        before = switches(g)
        out = g.command("ping 10.0.2.99 1", 30)
        check("no reply within 1000 ms" in out, out, g)
        n = switches(g) - before
        # Polling every 1 ms was ~2000 switches; one wait is a handful
        # (the loop's ARP retries, uptime itself).
        check(n < 50, "a 1 s ping wait cost %d context switches" % n, g)
        g.sendline("ping 10.0.2.99 100")
        g.expect(r"no reply within 1000 ms", 30)
        us = stop_with_ctrl_c(g)
        check(us < PROMPT_US, "ping took %d us of guest time to stop" % us, g)


def test_httpd_stops_promptly_and_counts_no_polling():
    with boot(extra=NET) as g:
        g.sendline("httpd threads 8080")
        g.expect(r"Ctrl-C stops", 30)
        time.sleep(1.0)
        us = stop_with_ctrl_c(g)
        out = g.output
        ms = int(re.search(r"httpd: stopped after (\d+) ms", out).group(1))
        sw = int(re.search(r"context switches: (\d+)", out).group(1))
        check(ms >= 500, "httpd ran only %d ms of guest time" % ms, g)
        # Idle, with nobody connecting: waking every 100 ms to look for
        # Ctrl-C was 20 switches a second of its own.
        check(sw * 1000 < 3 * ms, "an idle httpd counted %d switches in %d ms" % (sw, ms), g)
        check(us < PROMPT_US, "httpd took %d us of guest time to stop" % us, g)


def test_ctrl_c_behind_typeahead_stops_a_demo_that_sleeps_until_it():
    # httpd sleeps until Ctrl-C and reads nothing: 8 KiB typed meanwhile
    # fill the receive ring, the UART holds the rest, the Ctrl-C behind it
    # must still get through (the driver drops stale typeahead, counted).
    with boot(extra=NET) as g:
        g.sendline("httpd threads 8080")
        g.expect(r"Ctrl-C stops", 30)
        time.sleep(0.3)
        rnd = random.Random(5)
        g.send(bytes(rnd.choice(b"abcdefgh ijk\r\n") for _ in range(8192)))
        time.sleep(0.3)
        stop_with_ctrl_c(g)
        m = re.search(r"(\d+) typeahead bytes dropped", g.command("irqs"))
        check(m and int(m.group(1)) > 0, "no dropped typeahead counted", g)
