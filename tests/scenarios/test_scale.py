"""`scale`: N clients served by a thread each and by the event loop, under
-icount (deterministic; idle time costs no wall time). Every row is there
with its units and positive figures; the loop's memory per client is far
below a thread's; switches per request follow wake-ups, not N; running out
of memory for threads is reported and cleaned up; nothing leaks, Ctrl-C
included."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guest import Guest, check  # noqa: E402
from test_robustness import heap_and_threads  # noqa: E402

from columns import check_fits  # noqa: E402
from demo_line import demo_line, demo_lines  # noqa: E402

def boot():
    g = Guest(icount=True)
    g.expect_prompt(60)
    return g


def rows_of(out):
    """scale's rows, from its @demo lines: {(clients, way): figures}."""
    rows = {}
    for r in demo_lines(out, "scale"):
        w = r["window_ns"]
        rows[(r["clients"], r["way"])] = dict(
            rps=r["requests_per_s"], p50=r["p50_ns"] / 1e6, p99=r["p99_ns"] / 1e6,
            switches=r["switches"], per_req=r["switches_per_request"], heap=r["heap_bytes"],
            per_client=r["heap_per_client_bytes"], switching=100.0 * r["switching_ns"] / w,
            overhead=100.0 * r["overhead_ns"] / w, idle=100.0 * r["idle_ns"] / w)
    return rows


# Two tables a user reads, each within 80 columns: what the clients saw,
# and what it cost.
ROW = re.compile(r"^\s+(\d+) (threads|loop)\s+\d+/s\s+\d+\.\d{3} ms\s+\d+\.\d{3} ms\s+\d+\s+"
                 r"\d+\.\d{2}\s*$", re.M)
COST_ROW = re.compile(r"^\s+(\d+) (threads|loop)\s+\d+ B\s+\d+ B(?:\s+\d+\.\d{2} %){3}\s*$", re.M)


def printed_rows(out):
    """The rows of both tables a user reads, with their units, if they agree."""
    seen = sorted((int(m.group(1)), m.group(2)) for m in ROW.finditer(out))
    costs = sorted((int(m.group(1)), m.group(2)) for m in COST_ROW.finditer(out))
    return seen if seen == costs else ("seen", seen, "cost", costs)


def test_scale_table_and_no_leak():
    with boot() as g:
        g.command("scale 1 10 100 window 200", 60)    # the loop's timer heap grows once
        used0, n0, _ = heap_and_threads(g)
        out = g.command("scale 1 10 100 window 200", 60)
        used1, n1, ps = heap_and_threads(g)
        check(used0 == used1 and n0 == n1, "leak: %d -> %d bytes, %d -> %d threads\n%s" %
              (used0, used1, n0, n1, ps), g)
        rows = rows_of(out)
        want = [(n, w) for n in (1, 10, 100) for w in ("threads", "loop")]
        check(sorted(rows) == sorted(want), "scale printed rows %s:\n%s" % (sorted(rows), out))
        check(printed_rows(out) == sorted(want), "the table's rows lack a figure or unit:\n" + out)
        for (n, way), r in rows.items():
            for k in ("rps", "p50", "p99", "switches", "per_req", "heap", "per_client"):
                check(r[k] > 0, "%d %s: %s is not positive:\n%s" % (n, way, k, out))
            # Never short of CPU here: a request every ~11 ms per client.
            check(80 * n <= r["rps"] <= 100 * n, "%d %s: %d requests/s:\n%s" %
                  (n, way, r["rps"], out))
            check(10 <= r["p50"] <= r["p99"] < 13, "%d %s: latency:\n%s" % (n, way, out))
            check(r["idle"] > 40, "%d %s: idle %.2f %%:\n%s" % (n, way, r["idle"], out))
        for n in (1, 10, 100):
            t, lp = rows[(n, "threads")], rows[(n, "loop")]
            check(t["per_client"] >= 4096, "a thread costs less than its stack:\n" + out)
            check(lp["per_client"] * 20 < t["per_client"],
                  "loop memory per client not far below threads':\n" + out)
            # Threads: one switch as a request's thread blocks, at most one
            # more out of idle; never more because N threads sleep.
            check(0.9 <= t["per_req"] <= 2.5, "threads, %d: %.2f switches a request:\n%s" %
                  (n, t["per_req"], out))
            check(lp["per_req"] <= t["per_req"] + 0.05, "loop switches more than threads:\n" + out)
        # The loop's switches per request do not grow with N (they fall:
        # one wake-up of the loop thread serves every timer due by then).
        check(rows[(100, "loop")]["per_req"] <= rows[(1, "loop")]["per_req"], out)
        # Under -icount the work takes the same before and after the rows (but
        # for a PIT tick in one of them) and fits every row: no drift, no row
        # without its overhead.
        work = demo_line(out, "scale-work")
        check(work["drift"] == "no" and work["misfit_rows"] == 0 and
              abs(work["work_before_ns"] - work["work_after_ns"]) * 100 < work["work_before_ns"],
              "drift under icount:\n" + out)
        check("drifted" not in out and "Per request, everything besides the work" in out, out)
        for line in ("Switches follow wake-ups, not threads", "What grows with N is memory",
                     "The CPU never ran out here", "It does not hold on this machine",
                     "switching = switches x"):
            check(line in out, "conclusion lacks %r:\n%s" % (line, out))


def test_scale_bad_arguments():
    with boot() as g:
        for line, err in (("scale 0", "N must be a whole number from 1 to 10000"),
                          ("scale 10001", "N must be a whole number from 1 to 10000"),
                          ("scale window 10", "MS must be a whole number from 50 to 10000"),
                          ("scale 1 window", "usage: scale"),
                          ("scale 1 2 3 4 5 6 7 8 9", "at most 8 values of N")):
            out = g.command(line)
            check(err in out and len(out.strip().splitlines()) <= 3, line + ":\n" + out, g)


def test_scale_out_of_memory_reported_and_cleaned_up():
    with boot() as g:
        # 10,000 threads do not fit in 32 MiB: reported, cleaned up, and the
        # loop still serves the 10,000 clients (the first run grows the
        # loop's timer heap, which it keeps: the baseline comes after it).
        out = g.command("scale 10000 window 50", 120)
        check(re.search(r"no memory for client thread \d+ of 10000", out), out, g)
        rows = rows_of(out)
        check(list(rows) == [(10000, "loop")], "rows after running out of memory:\n" + out, g)
        check("10000 threads did not fit in the heap" in out, out, g)
        check_fits(check, "scale out of memory", out, g)
        used0, n0, _ = heap_and_threads(g)
        g.command("scale 10000 window 50", 120)
        used1, n1, ps = heap_and_threads(g)
        check(used0 == used1 and n0 == n1, "leak after running out of memory: %d -> %d bytes, "
              "%d -> %d threads\n%s" % (used0, used1, n0, n1, ps), g)


def test_scale_ctrl_c_in_either_row_leaks_nothing():
    with boot() as g:
        g.command("scale 100 window 50", 60)
        used0, n0, _ = heap_and_threads(g)
        # Ctrl-C in the middle of the threads' row, then in the loop's (as
        # soon as the threads' row is printed).
        g.sendline("scale 100 window 2000")
        time.sleep(0.3)
        g.send(b"\x03")
        g.expect_prompt(30)
        g.sendline("scale 100 window 2000")
        g.expect(r"100 threads .*\n", 60)
        g.send(b"\x03")
        out = g.expect(r"([^\n]*\n)*?webscale> ", 30).group(0).decode("latin-1")
        check("100 loop" not in out, "Ctrl-C did not stop the loop's row:\n" + out, g)
        time.sleep(0.3)
        g.send(b"\x15")
        used1, n1, ps = heap_and_threads(g)
        check(used0 == used1 and n0 == n1, "leak after Ctrl-C: %d -> %d bytes, %d -> %d "
              "threads\n%s" % (used0, used1, n0, n1, ps), g)


def test_scale_without_icount_never_prints_an_impossible_figure():
    # Without -icount the host's load changes QEMU's speed between the
    # work's timing and the rows (a busy host once gave 42, 83 and 146 us
    # for 50 us of work). Whatever it does here: every overhead printed
    # leaves room for the switching, a row whose work does not fit says
    # "-", and drift is reported when the two timings of the work disagree.
    with Guest() as g:
        g.expect_prompt(60)
        out = g.command("scale 1 100 window 100", 120)
        check_fits(check, "scale without icount", out, g)
        work = demo_line(out, "scale-work")
        before, after = work["work_before_ns"], work["work_after_ns"]
        drift = abs(after - before) * 100 > before * 10
        check(work["drift"] == ("yes" if drift else "no"), "drift flag:\n" + out, g)
        misfits = 0
        for r in demo_lines(out, "scale"):
            if r["overhead_ns"] == "-":
                misfits += 1
                continue
            busy = r["window_ns"] - r["idle_ns"]
            check(r["switching_ns"] <= r["overhead_ns"] <= busy,
                  "an impossible overhead: %r\n%s" % (r, out), g)
        check(work["misfit_rows"] == misfits, "misfit rows:\n" + out, g)
        check(("QEMU's speed drifted" in out) == drift, "drift said iff measured:\n" + out, g)
        check(("in %d row" % misfits in out) == (misfits > 0), "'-' explained:\n" + out, g)
        check(("Per request, everything besides the work" in out) == (not drift and not misfits),
              "per-request overhead only when the work's figure held:\n" + out, g)
