"""Names and labels that say what they count (issue 10, item 6): trace
uses the names the kernel remembers and the demo's own letters, and says
when nothing happened; order labels its time column; spin's conclusion
agrees with the lateness it printed; stall under `sched coop` says why the
detector's report comes after the callback returned; httpd says which
switches it counts (test_jobs.py checks that line)."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from demo_line import demo_line  # noqa: E402
from guest import Guest, check  # noqa: E402


def test_trace_letters_and_names_match_the_demo():
    # Both from the command line: typed after the demo, "trace 200" could
    # arrive seconds of guest time later on a loaded host (the idle guest's
    # clock leaps ahead under icount, sleep=off), with nothing left to show.
    with Guest(append="run=threads 3 1; trace 200", icount=True) as g:
        g.expect(r"took turns", 120)
        g.expect_prompt()
        out = g.next_run_output()
        legend = re.findall(r"([A-Z?]) = (\d+) (\S+)( \(ended\))?", out)
        counters = [(l, name) for l, _, name, ended in legend if name.startswith("count")]
        check(len(counters) == 3, "three counters in the legend: %r\n%s" % (legend, out), g)
        for letter, name in counters:
            check(name == "count" + letter, "letter %s for %s" % (letter, name), g)
        check(all(e for _, _, name, e in legend if name.startswith("count")),
              "the counters have ended and say so:\n" + out, g)
        line = re.search(r"^  ([A-Z.? ]{64})\r?$", out, re.M).group(1)
        check(set("ABC") <= set(line), "the timeline shows A, B and C: %r" % line, g)
        check("Nothing happened" not in out, out, g)


def test_trace_at_an_idle_shell_says_nothing_happened():
    with Guest(icount=True) as g:
        g.expect_prompt(60)
        g.command("sched", 30)
        out = g.command("trace 50")
        line = re.search(r"^  ([A-Z.? ]{64})\r?$", out, re.M).group(1)
        check(set(line) <= set(". ") | set(re.findall(r"([A-Z]) = \d+ shell", out)),
              "only idle and the shell: %r" % line, g)
        check(re.search(r"Nothing happened: only idle \(and this command\) held the CPU", out),
              out, g)


def test_order_labels_its_time_column():
    with Guest(icount=True) as g:
        g.expect_prompt(60)
        out = g.command("order 3", 60)
        check(re.search(r"run 1: request +sent->done +run 2: request +sent->done", out), out, g)
        check("sent->done: from sending the request to the end of its parsing" in out, out, g)


def spin(g, cmd):
    # Up to its @demo line: a job's output redraws the prompt meanwhile.
    start = g.pos
    g.sendline(cmd)
    g.expect(r"@demo spin .*\n", 120)
    with g.cv:
        out = g.buf[start:g.pos].decode("latin-1")
    r = demo_line(out, "spin")
    worst = max(r["shell_worst_ns"], r["loop_worst_ns"])
    m = re.search(r"worst was ([\d.]+) ms late|heartbeat was ([\d.]+) ms late", out.replace("\r\n", " "))
    check(m, "no worst figure in the conclusion:\n" + out, g)
    said = float(m.group(1) or m.group(2))
    check(abs(said - worst / 1e6) < 0.001, "the conclusion says %s ms, the rows %d ns" % (said, worst), g)
    return out, worst, m.group(1) is not None


def test_spin_conclusion_agrees_with_its_figures():
    with Guest(icount=True) as g:
        g.expect_prompt(60)
        # Alone: within a 10 ms slice and a 1 ms tick, and it says so.
        out, worst, within = spin(g, "spin 200")
        check(worst <= 11_000_000 and within, out, g)
        # Beside two counting threads (a job), a heartbeat waits for both.
        g.sendline("threads 2 3 &")
        g.expect(r"job 1 runs in the background", 10)
        out, worst, within = spin(g, "spin 200")
        check(worst > 11_000_000 and not within and
              "other threads took turns too" in re.sub(r"\s+", " ", out), out, g)


def test_stall_under_coop_explains_the_late_report():
    with Guest(icount=True) as g:
        g.expect_prompt(60)
        out = g.command("stall 100", 120)
        check(out.find("has blocked the loop") < out.find("returned after"),
              "preemptive: the detector reports while it blocks:\n" + out, g)
        g.command("sched coop")
        out = g.command("stall 100", 120)
        i, j = out.find("returned after"), out.find("had blocked the loop")
        check(0 <= i < j, "cooperative: returned, then the late report:\n" + out, g)
        check("when the detector noticed" in out and "the scheduler is cooperative" in out, out, g)
        check("has blocked the loop" not in out, out, g)
