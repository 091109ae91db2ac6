"""`latency` (the talk's speed-of-light table, measured) and `top` (ps,
live) from the console. latency runs under -icount on both clocks: the
486 has no TSC (PIT nanoseconds), -cpu pentium has one (cycles)."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from guest import Guest, check  # noqa: E402

from columns import check_fits  # noqa: E402
from demo_line import demo_line  # noqa: E402

SCALED = (r"(?:< 0\.1 s|\d+\.\d s|\d+ s|\d+ min(?: \d+ s)?|\d+ h(?: \d+ min)?"
          r"|\d+ days?(?: \d+ h)?|\d+ months|\d+ years)")
# The rows a user reads, and their keys in the @demo line.
ROWS = [("one instruction", "instruction"), ("function call", "call"),
        ("mutex lock", "mutex"), ("IRQ entry \\+ exit", "irq"),
        ("event-loop dispatch", "loop_dispatch"), ("cooperative switch", "yield_switch"),
        ("preemptive switch", "preempt_switch"), ("event-loop round trip", "loop_round_trip"),
        ("semaphore round trip", "semaphore_round_trip"),
        ("system call from ring 3", "syscall"), ("process switch", "process_switch"),
        ("switch between 2 threads of a process", "thread_switch"),
        ("page fault from ring 3", "page_fault"),
        ("serial byte, polled", "serial_polled"),
        ("serial byte, interrupt-driven", "serial_irq"), ("sleep wake-up", "sleep_late")]


def row_text(out, name, unit):
    """The row as printed: its value and scaled column (what a user reads)."""
    m = re.search(r"^  (%s.*?)\s+(\d+(?:\.\d+)? (?:%s|us))   (%s)\r?$" % (name, unit, SCALED),
                  out, re.M)
    check(m, "latency: no row %r with a number, %s and a scaled time:\n%s" % (name, unit, out))
    return m.group(2), m.group(3)


def latency_rows(extra, unit):
    with Guest(icount=True, extra=extra) as g:
        g.expect_prompt(60)
        out = g.command("latency", 60)
        # 80 columns on either clock (uptime: the TSC's boot line)
        check_fits(check, "latency", out, g)
        check_fits(check, "uptime", g.command("uptime"), g)
        line = demo_line(out, "latency")
        rows = {}
        for name, key in ROWS:
            row_text(out, name, unit)
            v = line.get("%s_%s" % (key, unit))
            check(isinstance(v, float) and v > 0, "latency: %s is %r:\n%s" % (key, v, out))
            rows[key] = v
        check(re.search(r"^  NIC round trip.*not measured\s+\(no NIC\)", out, re.M), out)
        check(line["nic_round_trip_" + unit] == "-", out)
        check("context switch ~30 us = ~1 day" in out, "the talk's rows missing:\n" + out)
        # The talk's "calling into the OS is a context switch", from the rows.
        m = re.search(r"Calling into the OS is a mode switch: (.*?); a switch to another\s+"
                      r"process:\s+(.*?) \(", out)
        check(m and m.group(1) == row_text(out, "system call from ring 3", unit)[0]
              and m.group(2) == row_text(out, "process switch", unit)[0],
              "the crossing line does not quote its rows:\n" + out)
        check(rows["irq"] < rows["syscall"] < rows["thread_switch"] <= rows["process_switch"]
              < rows["page_fault"],
              "ring-3 rows out of order: %r" % rows)
        check_conclusion(out, unit, rows)
        # plausible order: instruction < call < IRQ < any switch
        check(rows["instruction"] < rows["call"] < rows["irq"]
              < min(rows["yield_switch"], rows["preempt_switch"]),
              "latency rows out of order: %r\n%s" % (rows, out))
        # under icount an instruction is 1 ns (PIT) or 1 cycle (TSC); scaled 1.0 s
        check(0.9 <= rows["instruction"] <= 1.1, out)
        check(row_text(out, "one instruction", unit)[1] == "1.0 s", out)
        # a 1 ms sleep wakes at the first tick after its deadline: under a tick late
        check(rows["sleep_late"] < 1100000, out)
        return out, rows


def check_conclusion(out, unit, rows):
    """The conclusion quotes the switch rows printed above it, and its
    ratio to the talk's ~30 us is theirs."""
    for name, key, how in (("cooperative switch", "yield_switch", "yielding"),
                           ("preemptive switch", "preempt_switch", "preempted by the PIT")):
        value, scaled = row_text(out, name, unit)
        m = re.search(r"%s, costs (.*?) = (.*?) scaled:\s+(\d+(?:\.\d)?) times less than the talk's"
                      % how, out)
        check(m, "no conclusion for the %s row:\n%s" % (name, out))
        check(m.group(1) == value and m.group(2) == scaled,
              "the conclusion says %s = %s, the %s row %s = %s:\n%s"
              % (m.group(1), m.group(2), name, value, scaled, out))
        ns = rows[key] * 1000 / demo_line(out, "latency")["units_per_us"]
        check(abs(float(m.group(3)) - 30000 / ns) < 1.5,
              "%s: %s times less, from %.1f ns:\n%s" % (name, m.group(3), ns, out))


def test_latency_pit_clock():
    out, rows = latency_rows([], "ns")
    check("clock: PIT, resolution 838 ns" in out, out)
    check(demo_line(out, "latency")["clock"] == "pit", out)


def test_latency_tsc_clock():
    out, rows = latency_rows(["-cpu", "pentium"], "cycles")
    line = demo_line(out, "latency")
    check(line["clock"] == "tsc" and 990 <= line["units_per_us"] <= 1009, out)
    check(re.search(r"clock: TSC, resolution 1 cycle, (99\d|100\d) cycles/us", out), out)
    # exact under icount: a yield switch is a few hundred instructions, and
    # a preemption from the PIT's entry is below make bench's 375 from A's
    # last instruction plus a loop turn
    check(50 < rows["yield_switch"] < 1000, out)
    check(100 < rows["preempt_switch"] < 600, out)
    # each switch row again with 'sched stats off', below it and cheaper
    # (no CPU time, counts or trace), and the setting put back on after
    for key in ("yield_switch", "preempt_switch", "semaphore_round_trip"):
        bare = line.get(key + "_nostats_cycles")
        check(isinstance(bare, float) and 0 < bare < rows[key],
              "%s with stats off: %r, on: %r\n%s" % (key, bare, rows[key], out))
    check(len(re.findall(r"^    the same, 'sched stats off'\s+\d", out, re.M)) == 3, out)


# latency's rows and make bench's names for the same measurement.
BENCH_NAMES = [("yield_switch", "yield_switch"),
               ("yield_switch_nostats", "yield_switch_nostats"),
               ("preempt_switch", "preempt_switch_from_irq"),
               ("preempt_switch_nostats", "preempt_switch_from_irq_nostats"),
               ("irq", "irq_round_trip"), ("semaphore_round_trip", "semaphore_round_trip"),
               ("semaphore_round_trip_nostats", "semaphore_round_trip_nostats"),
               ("loop_dispatch", "loop_event"), ("syscall", "null_syscall"),
               ("process_switch", "process_switch"), ("thread_switch", "thread_switch"),
               ("page_fault", "page_fault")]


def test_latency_agrees_with_make_bench():
    """Every figure latency prints under icount is make bench's for the same
    path, on the same kernel (this one, with its ASSERTs), within the
    spread a different PIT phase gives: 2 instructions or 2 %. Each side
    averages many runs of the path, and the phase moves only the runs a
    tick lands in."""
    g = Guest(append="test=bench", icount=True, extra=["-cpu", "pentium"])
    status = g.wait_exit(600)
    bench = {m.group(1): int(m.group(2))
             for m in re.finditer(r"^bench (\w+) (\d+) instructions", g.output, re.M)}
    check(status == 0 and bench, "the bench suite failed (status %r)" % status, g)
    with Guest(icount=True, extra=["-cpu", "pentium"]) as h:
        h.expect_prompt(60)
        out = h.command("latency", 60)
    line = demo_line(out, "latency")
    for key, name in BENCH_NAMES:
        ours = line.get(key + "_cycles")
        check(isinstance(ours, float), "latency printed no %s:\n%s" % (key, out))
        check(name in bench, "make bench's suite has no %s" % name)
        theirs = bench[name]
        check(abs(ours - theirs) <= max(2.0, 0.02 * theirs),
              "latency's %s is %.1f instructions, make bench's %s %d" % (key, ours, name, theirs))


def test_latency_cooperative_says_why_not():
    # Cooperative: nothing preempts, and the row says so; the loop rows
    # still measure (the loop thread runs when the shell blocks).
    with Guest(icount=True) as g:
        g.expect_prompt(60)
        g.command("sched coop")
        out = g.command("latency", 60)
        line = demo_line(out, "latency")
        check(re.search(r"^  preemptive switch.*not measured\s+\(cooperative mode: nothing "
                        r"preempts \('sched preempt'\)\)", out, re.M), out)
        check(line["preempt_switch_ns"] == "-", out)
        for key in ("loop_dispatch", "loop_round_trip", "yield_switch"):
            check(isinstance(line[key + "_ns"], float), "%s not measured:\n%s" % (key, out))
        check("preempted by the PIT" not in out, "a conclusion for a row not measured:\n" + out)


def test_latency_without_icount_is_plausible():
    # Plain TCG, the PIT clock, wall time: the figures depend on the host,
    # but an add instruction cannot take 0.01 ns (what picking the fastest
    # batch once reported, when a PIT reading was a tick off) or 50 ns; a
    # preemption timed from the IRQ's entry leaves out how late QEMU
    # delivered it (17-110 us when timed from the PIT's firing).
    with Guest() as g:
        g.expect_prompt(60)
        out = g.command("latency", 120)
        check_fits(check, "latency without -icount", out, g)
        line = demo_line(out, "latency")
        insn = line["instruction_ns"]
        check(isinstance(insn, float) and 0.05 <= insn <= 50, "one instruction = %r ns:\n%s"
              % (insn, out))
        check(row_text(out, "one instruction", "ns")[1] == "1.0 s", out)
        for name, key in ROWS:
            v = line[key + "_ns"]
            check(v == "-" or v > 0, out)
            if v == "-":
                check(re.search(r"^  %s.*not measured\s+\((?!cooperative)[^)]+\)" % name, out,
                                re.M), "%s: not measured, and no reason:\n%s" % (name, out))
        # Figures that follow the host's speed say so where they are printed,
        # and the line that sets them beside xv6's and Linux's instruction
        # counts does not call them instructions.
        flat = " ".join(out.split())
        check("Without -icount (make run) the emulated clock follows the host's speed" in flat,
              "latency does not say its figures depend on the host's speed:\n" + out)
        check("ns: instructions" not in flat and
              "measured on this machine under -icount shift=0, where one ns is one instruction"
              in flat, "the crossing line does not say where ns are instructions:\n" + out)


ANSI_HOME_CLEAR = "\x1b[H\x1b[2J"


def test_top_refreshes_and_returns():
    with Guest(icount=True) as g:
        g.expect_prompt(60)
        out = g.command("top 2", 30)
        check(out.count(ANSI_HOME_CLEAR) == 2, "top 2 should redraw twice:\n%r" % out)
        last = out.split(ANSI_HOME_CLEAR)[-1]
        check(re.search(r"^top - up \d+\.\d{3} s, \d+ threads, \d+ context switches/s, "
                        r"idle \d+\.\d %\r?\nheap: \d+ of \d+ bytes used\r?$", last, re.M), last)
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
