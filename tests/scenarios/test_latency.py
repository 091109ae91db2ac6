"""`latency` (the talk's speed-of-light table, measured) and `top` (ps,
live) from the console. latency runs under -icount on both clocks: the
486 has no TSC (PIT nanoseconds), -cpu pentium has one (cycles)."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from guest import Guest, check  # noqa: E402

SCALED = (r"(?:< 0\.1 s|\d+\.\d s|\d+ s|\d+ min(?: \d+ s)?|\d+ h(?: \d+ min)?"
          r"|\d+ days?(?: \d+ h)?|\d+ months|\d+ years)")
ROWS = ["one instruction", "function call", "mutex lock", "IRQ entry \\+ exit",
        "event-loop dispatch", "cooperative switch", "preemptive switch",
        "event-loop round trip", "semaphore round trip", "serial byte, polled",
        "serial byte, interrupt-driven", "sleep wake-up"]


def latency_rows(extra, unit):
    with Guest(icount=True, extra=extra) as g:
        g.expect_prompt(60)
        out = g.command("latency", 60)
        rows = {}
        for name in ROWS:
            m = re.search(r"^  (%s.*?)\s+(\d+(?:\.\d+)?) (%s|us)   (%s)\r?$" % (name, unit, SCALED),
                          out, re.M)
            check(m, "latency: no row %r with a number, %s and a scaled time:\n%s"
                  % (name, unit, out))
            v = float(m.group(2)) * (1000 if m.group(3) == "us" else 1)
            check(v > 0, "latency: row %r is not positive:\n%s" % (name, out))
            rows[name] = v
        check(re.search(r"^  NIC round trip\s+n/a\s+\(no NIC\)", out, re.M), out)
        check("context switch ~30 us = ~1 day" in out, "the talk's rows missing:\n" + out)
        check(re.search(r"Where the talk is off for this machine: .* \d+ times less", out, re.S), out)
        # plausible order: instruction < call < IRQ < any switch
        check(rows["one instruction"] < rows["function call"] < rows["IRQ entry \\+ exit"]
              < min(rows["cooperative switch"], rows["preemptive switch"]),
              "latency rows out of order: %r\n%s" % (rows, out))
        # under icount an instruction is 1 ns (PIT) or 1 cycle (TSC); scaled 1.0 s
        check(0.9 <= rows["one instruction"] <= 1.1, out)
        check(re.search(r"one instruction .*   1\.0 s", out), out)
        # a 1 ms sleep wakes at the first tick after its deadline: under a tick late
        check(rows["sleep wake-up"] < 1100000, out)
        return out, rows


def test_latency_pit_clock():
    out, rows = latency_rows([], "ns")
    check("clock: PIT, resolution 838 ns" in out, out)


def test_latency_tsc_clock():
    out, rows = latency_rows(["-cpu", "pentium"], "cycles")
    check(re.search(r"clock: TSC, resolution 1 cycle, (99\d|100\d) cycles/us", out), out)
    # exact under icount: a yield switch is a few hundred instructions
    check(50 < rows["cooperative switch"] < 1000, out)


def test_latency_without_icount_is_plausible():
    # Plain TCG, the PIT clock, wall time: the figures depend on the host,
    # but an add instruction cannot take 0.01 ns (what picking the fastest
    # batch once reported, when a PIT reading was a tick off) or 50 ns.
    with Guest() as g:
        g.expect_prompt(60)
        out = g.command("latency", 120)
        m = re.search(r"^  one instruction.*?\s+(\d+(?:\.\d+)?) ns   1\.0 s\r?$", out, re.M)
        check(m, "no instruction row:\n" + out)
        check(0.05 <= float(m.group(1)) <= 50, "one instruction = %s ns:\n%s" % (m.group(1), out))


ANSI_HOME_CLEAR = "\x1b[H\x1b[2J"


def test_top_refreshes_and_returns():
    with Guest(icount=True) as g:
        g.expect_prompt(60)
        out = g.command("top 2", 30)
        check(out.count(ANSI_HOME_CLEAR) == 2, "top 2 should redraw twice:\n%r" % out)
        last = out.split(ANSI_HOME_CLEAR)[-1]
        check(re.search(r"^top - up \d+\.\d{3} s, \d+ context switches/s, idle \d+\.\d %, "
                        r"heap \d+ of \d+ bytes used, \d+ threads", last, re.M), last)
        shares = [float(x) for x in re.findall(r"^[ *]\s*\d+ \S+\s+\w+ .*?(\d+\.\d) %\s+\d+\s+\d+\r?$",
                                                last, re.M)]
        check(len(shares) >= 3, "top shows too few threads:\n" + last)
        check(99.0 <= sum(shares) <= 101.0, "shares sum to %.1f %%:\n%s" % (sum(shares), last))
        check(re.search(r"idle\s+ready.*\d+\.\d %", last), "no idle row:\n" + last)
        check("usage: top" in g.command("top 1 2"), "no usage for extra arguments")


def test_top_stops_on_ctrl_c():
    with Guest(icount=True) as g:
        g.expect_prompt(60)
        g.sendline("top")
        g.expect(r"top - up", 30)
        g.expect(r"top - up", 30)
        g.send("\x03")
        g.expect_prompt(30)
        check("top - up" not in g.command("uptime"), "top kept drawing after Ctrl-C")
