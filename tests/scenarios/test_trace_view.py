"""`trace dump` and tools/trace2view.py: the trace as Perfetto JSON and SVG."""
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from guest import Guest, check  # noqa: E402
import trace2view  # noqa: E402

NS_PER_TICK = 1000000     # one PIT tick at 1000 Hz is 999,847 ns
SVG_NS = "{http://www.w3.org/2000/svg}"

# A hand-written dump, as the shell prints it (CRLF, with a prompt around).
SMALL_DUMP = """webscale> trace dump 10\r
trace dump BEGIN start_ns=1000000 end_ns=11000000 span_ms=10 records=4 running=3\r
# thread <id> <name>; T <time ns since boot> ...\r
thread 3 shell\r
thread 4 countA\r
thread 0 idle\r
T 2000000 4 countA 5 countB preempt\r
T 6000000 5 countB 0 idle block\r
T 7000000 0 idle 4 countA yield\r
T 9500000 4 countA 3 shell exit\r
trace dump END\r
webscale> """


def check_views(tr, what):
    """The JSON and SVG of a parsed trace, checked against the trace."""
    doc = json.loads(json.dumps(trace2view.to_chrome(tr)))
    xs = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    named = {e["tid"] for e in doc["traceEvents"]
             if e["ph"] == "M" and e["name"] == "thread_name"}
    seen = {t for r in tr.records for t in r[1:3]} | {tr.running}
    check(seen <= {e["tid"] for e in xs} | {tr.running},
          "%s: threads %s have no events" % (what, seen - {e["tid"] for e in xs}))
    check({e["tid"] for e in xs} <= named, "%s: a track without a name" % what)
    end = 0.0
    for e in xs:
        check(e["ts"] + 1e-6 >= end, "%s: events overlap or go back in time at %r" % (what, e))
        check(e["dur"] >= 0, "%s: negative duration %r" % (what, e))
        check(e["args"]["left_because"] in trace2view.REASONS, "%s: no reason in %r" % (what, e))
        end = e["ts"] + e["dur"]
    span_us = (tr.end_ns - tr.start_ns) / 1000
    total = sum(e["dur"] for e in xs)
    check(abs(total - span_us) <= NS_PER_TICK / 1000,
          "%s: durations sum to %.3f us, the dump spans %.3f us" % (what, total, span_us))
    check(abs(end - span_us) <= NS_PER_TICK / 1000, "%s: the events end before the dump" % what)

    root = ET.fromstring(trace2view.to_svg(tr))
    rows = [t.text for t in root.iter(SVG_NS + "text") if t.get("class") == "row"]
    check(len(rows) == len(tr.threads()), "%s: %d rows for %d threads" %
          (what, len(rows), len(tr.threads())))
    for tid in tr.threads():
        check("%d %s" % (tid, tr.name(tid)) in rows, "%s: no row for thread %d" % (what, tid))
    ticks = [t.text for t in root.iter(SVG_NS + "text") if t.get("class") == "tick"]
    check(len(ticks) >= 3 and all(t.endswith(" ms") for t in ticks),
          "%s: axis ticks %r" % (what, ticks))
    check(any("ms" in (t.text or "") for t in root.iter(SVG_NS + "text")
              if t.get("class") == "axis"), "%s: no axis label in ms" % what)
    legend = {t.text for t in root.iter(SVG_NS + "text") if t.get("class") == "legend"}
    check({"yield", "preempt", "block", "exit"} <= legend, "%s: legend %r" % (what, legend))
    return xs


def test_parser_on_a_small_dump():
    """Hand-written: countA 1-2 ms, countB 2-6, idle 6-7, countA 7-9.5,
    the shell 9.5-11, each ended by the reason of the switch after it."""
    tr = trace2view.parse("noise\nwebscale> trace dump 5\r\ntrace dump BEGIN start_ns=0 "
                          "end_ns=1 records=0 running=3\r\ntrace dump END\r\n" + SMALL_DUMP)
    check(tr.start_ns == 1000000 and tr.end_ns == 11000000, "not the last dump")
    check(tr.names == {0: "idle", 3: "shell", 4: "countA", 5: "countB"}, repr(tr.names))
    want = [(4, 1000000, 2000000, "preempt"), (5, 2000000, 6000000, "block"),
            (0, 6000000, 7000000, "yield"), (4, 7000000, 9500000, "exit"),
            (3, 9500000, 11000000, "running")]
    check(tr.slices == want, "slices %r" % tr.slices)
    check(tr.threads() == [3, 4, 5, 0], "rows %r" % tr.threads())
    xs = check_views(tr, "small dump")
    check([(e["tid"], e["ts"], e["dur"]) for e in xs] ==
          [(4, 0.0, 1000.0), (5, 1000.0, 4000.0), (0, 5000.0, 1000.0), (4, 6000.0, 2500.0),
           (3, 8500.0, 1500.0)], "events %r" % xs)
    check(trace2view.nice_step(10) == 1 and trace2view.nice_step(200) == 20 and
          trace2view.nice_step(0.3) == 0.05, "axis steps")
    for bad in ("no dump here", SMALL_DUMP.replace("trace dump END", ""),
                SMALL_DUMP.replace("T 6000000 5 countB", "T 6000000 6 countC")):
        try:
            trace2view.parse(bad)
            check(False, "parsed a broken dump: %r" % bad[-200:])
        except trace2view.DumpError:
            pass


def test_dump_of_threads_converts():
    """`threads 3 1` then `trace dump 200` under icount: three counters
    preempted in turn; every thread seen gets a track and a row."""
    with Guest(append="run=threads 3 1; trace dump 200; halt", icount=True) as g:
        status = g.wait_exit(60)
        out = g.output
    check(status == 0, "halt should exit 0, got %r" % status, g)
    tr = trace2view.parse(out)
    check(len(tr.records) >= 10, "only %d switches in 200 ms" % len(tr.records), g)
    check(abs(tr.end_ns - tr.start_ns - 200000000) <= NS_PER_TICK,
          "the dump spans %d ns, not 200 ms" % (tr.end_ns - tr.start_ns), g)
    names = set(tr.names.values())
    check({"countA", "countB", "countC", "shell"} <= names, "names %r" % names, g)
    check(sum(1 for r in tr.records if r[3] == "preempt") >= 10, "too few preemptions", g)
    check_views(tr, "threads 3 1")
    # The command line works too, on the console as a file and on stdin.
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "console.txt")
        open(log, "w", encoding="latin-1").write(out)
        p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "trace2view.py"), log,
                            "--json", os.path.join(d, "t.json"), "--svg",
                            os.path.join(d, "t.svg")], capture_output=True, text=True)
        check(p.returncode == 0, "trace2view failed: %s" % p.stderr)
        json.load(open(os.path.join(d, "t.json")))
        ET.parse(os.path.join(d, "t.svg"))
        p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "trace2view.py"), "-"],
                           input=out, capture_output=True, text=True)
        check(p.returncode == 0 and "countA" in p.stdout and " ms on the CPU" in p.stdout,
              "stdin: %s%s" % (p.stdout, p.stderr))
