#!/usr/bin/env python3
"""The kernel's scheduling trace as pictures: Perfetto JSON and an SVG timeline.

Reads a console log holding the output of the shell's `trace dump [MS]`
(user/cmd_trace.c): a file, or stdin with "-". The last dump in it is used.

  tools/trace2view.py build/trace/console.txt --json t.json --svg t.svg

--json writes Chrome's Trace Event Format (one track per thread, an "X"
event for each time a thread held the CPU, its args saying why it left):
open it in https://ui.perfetto.dev (Open trace file) or chrome://tracing.
--svg writes a timeline: a row per thread, a bar for each time it ran,
colored by why it left the CPU, a time axis in ms. Python stdlib only.
"""
import argparse
import json
import math
import re
import sys
from xml.sax.saxutils import escape

# Why a thread left the CPU: sched_reason_name() (kernel/sched.c), plus
# "running" for whoever held it when the dump was taken.
REASONS = ("yield", "preempt", "block", "exit", "running")
COLORS = {"yield": "#4e9a06", "preempt": "#3465a4", "block": "#f57900",
          "exit": "#cc0000", "running": "#888a85"}
NS_PER_US = 1000
NS_PER_MS = 1000000

BEGIN = re.compile(r"trace dump BEGIN start_ns=(\d+) end_ns=(\d+) .*?running=(-?\d+)")
THREAD = re.compile(r"^thread (-?\d+) (\S+)$")
RECORD = re.compile(r"^T (\d+) (-?\d+) (\S+) (-?\d+) (\S+) (\w+)$")


class DumpError(Exception):
    pass


class Trace:
    """One dump: the window [start_ns, end_ns], thread names, switches, and
    the intervals in which each thread held the CPU."""

    def __init__(self, start_ns, end_ns, running, names, records):
        self.start_ns, self.end_ns, self.running = start_ns, end_ns, running
        self.names = names          # id -> name
        self.records = records      # (ns, from, to, reason), oldest first
        self.slices = self._slices()

    def _slices(self):
        """(tid, begin ns, end ns, why it left): the first record's "from"
        ran from the window's start, each record's "to" until the next
        record, the last one's until the end."""
        out = []
        holder = self.records[0][1] if self.records else self.running
        t = self.start_ns
        for ns, frm, to, reason in self.records:
            if frm != holder:
                raise DumpError("switch at %d ns from thread %d, but %d held the CPU" %
                                (ns, frm, holder))
            if ns < t:
                raise DumpError("switch at %d ns is before the one at %d ns" % (ns, t))
            out.append((holder, t, ns, reason))
            holder, t = to, ns
        out.append((holder, t, self.end_ns, "running"))
        return [s for s in out if s[2] > s[1] or s[3] != "running"]

    def name(self, tid):
        return self.names.get(tid, "?")

    def threads(self):
        """The ids of the threads that held the CPU, in id order, idle (0) last."""
        seen = sorted(set(s[0] for s in self.slices))
        return [t for t in seen if t != 0] + [t for t in seen if t == 0]


def parse(text):
    """The last `trace dump` in a console log, as a Trace."""
    text = text.replace("\r", "")
    begins = [m for m in BEGIN.finditer(text)]
    if not begins:
        raise DumpError("no 'trace dump BEGIN' line: run `trace dump [MS]` in the shell")
    b = begins[-1]
    end = text.find("trace dump END", b.end())
    if end < 0:
        raise DumpError("the dump has no 'trace dump END' line (console cut short?)")
    names, records = {}, []
    for line in text[b.end():end].splitlines():
        line = line.strip()
        m = RECORD.match(line)
        if m:
            ns, frm, fname, to, tname, reason = m.groups()
            records.append((int(ns), int(frm), int(to), reason))
            names.setdefault(int(frm), fname)
            names.setdefault(int(to), tname)
            continue
        m = THREAD.match(line)
        if m:
            names[int(m.group(1))] = m.group(2)
    start, stop = int(b.group(1)), int(b.group(2))
    if stop < start:
        raise DumpError("the dump ends (%d ns) before it starts (%d ns)" % (stop, start))
    return Trace(start, stop, int(b.group(3)), names, records)


def to_chrome(tr):
    """Chrome Trace Event Format (JSON object form); times in us."""
    pid = 1
    ev = [{"ph": "M", "pid": pid, "name": "process_name",
           "args": {"name": "webscale: one CPU"}}]
    for i, tid in enumerate(tr.threads()):
        ev.append({"ph": "M", "pid": pid, "tid": tid, "name": "thread_name",
                   "args": {"name": "%d %s" % (tid, tr.name(tid))}})
        ev.append({"ph": "M", "pid": pid, "tid": tid, "name": "thread_sort_index",
                   "args": {"sort_index": i}})
    for tid, b, e, why in tr.slices:
        ev.append({"ph": "X", "pid": pid, "tid": tid, "name": tr.name(tid), "cat": "cpu",
                   "ts": (b - tr.start_ns) / NS_PER_US, "dur": (e - b) / NS_PER_US,
                   "args": {"left_because": why, "start_ns_since_boot": b,
                            "duration_ns": e - b}})
    return {"traceEvents": ev, "displayTimeUnit": "ms",
            "otherData": {"source": "webscale trace dump", "start_ns_since_boot": tr.start_ns,
                          "end_ns_since_boot": tr.end_ns,
                          "clock": "PIT, 838 ns resolution; ts in us since start_ns"}}


def nice_step(span_ms, ticks=10):
    """An axis step of 1, 2 or 5 x 10^k ms giving at most about `ticks` ticks."""
    raw = span_ms / ticks
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if mag * m >= raw:
            return mag * m


def to_svg(tr):
    width, left, right, top, row_h, bar_h = 1100, 150, 30, 60, 30, 20
    threads = tr.threads()
    plot_w = width - left - right
    axis_y = top + row_h * len(threads) + 6
    height = axis_y + 90
    span = max(tr.end_ns - tr.start_ns, 1)
    x = lambda ns: left + (ns - tr.start_ns) * plot_w / span  # noqa: E731
    row = {tid: i for i, tid in enumerate(threads)}
    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
         'viewBox="0 0 %d %d" font-family="sans-serif" font-size="13">' %
         (width, height, width, height),
         '<rect width="100%" height="100%" fill="white"/>',
         '<text x="%d" y="24" font-size="16" font-weight="bold">Who held the CPU: '
         '%d switches in %.3f ms</text>' % (left, len(tr.records), span / NS_PER_MS),
         '<text x="%d" y="44" fill="#555">from %.3f ms to %.3f ms since boot; '
         'one core, so one bar at a time; idle (hlt) drawn pale</text>' %
         (left, tr.start_ns / NS_PER_MS, tr.end_ns / NS_PER_MS)]
    for tid, i in row.items():
        y = top + i * row_h
        if i % 2:
            o.append('<rect x="0" y="%d" width="%d" height="%d" fill="#f4f4f4"/>' %
                     (y, width, row_h))
        o.append('<text class="row" x="%d" y="%d" text-anchor="end">%s</text>' %
                 (left - 8, y + row_h / 2 + 5, escape("%d %s" % (tid, tr.name(tid)))))
    span_ms = span / NS_PER_MS
    step = nice_step(span_ms)
    ticks = [i * step for i in range(int(span_ms / step + 1e-9) + 1)]
    for t in ticks:         # grid lines first, so the bars cover them
        xx = left + t * plot_w / span_ms
        o.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ccc"/>' %
                 (xx, top, xx, axis_y))
    for tid, b, e, why in tr.slices:
        y = top + row[tid] * row_h + (row_h - bar_h) / 2
        o.append('<rect x="%.2f" y="%.1f" width="%.2f" height="%d" fill="%s"%s>'
                 '<title>%s: %.3f ms to %.3f ms (%.3f ms), then %s</title></rect>' %
                 (x(b), y, max(x(e) - x(b), 0.5), bar_h, COLORS.get(why, "#000"),
                  ' fill-opacity="0.35"' if tid == 0 else "",
                  escape(tr.name(tid)), (b - tr.start_ns) / NS_PER_MS,
                  (e - tr.start_ns) / NS_PER_MS, (e - b) / NS_PER_MS, escape(why)))
    # The time axis, in ms since the dump's start.
    o.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' %
             (left, axis_y, left + plot_w, axis_y))
    for t in ticks:
        xx = left + t * plot_w / span_ms
        o.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black"/>' %
                 (xx, axis_y, xx, axis_y + 5))
        o.append('<text class="tick" x="%.1f" y="%d" text-anchor="middle">%g ms</text>' %
                 (xx, axis_y + 19, round(t, 6)))
    o.append('<text class="axis" x="%d" y="%d" text-anchor="middle">time (ms since the '
             'start of the dump)</text>' % (left + plot_w / 2, axis_y + 40))
    # The legend: why each bar ended.
    lx, ly = left, axis_y + 62
    o.append('<text x="%d" y="%d" text-anchor="end">left the CPU by:</text>' % (lx - 8, ly + 12))
    for why in REASONS:
        o.append('<rect x="%d" y="%d" width="14" height="14" fill="%s"/>' % (lx, ly, COLORS[why]))
        label = "still running at the end" if why == "running" else why
        o.append('<text class="legend" x="%d" y="%d">%s</text>' % (lx + 20, ly + 12, label))
        lx += 40 + 8 * len(label)
    o.append('</svg>')
    return "\n".join(o) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log", help="console log with a `trace dump` in it, or - for stdin")
    ap.add_argument("--json", help="write Chrome/Perfetto Trace Event JSON here")
    ap.add_argument("--svg", help="write an SVG timeline here")
    a = ap.parse_args(argv)
    text = sys.stdin.read() if a.log == "-" else open(a.log, encoding="latin-1").read()
    try:
        tr = parse(text)
    except DumpError as e:
        sys.exit("trace2view: %s" % e)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(to_chrome(tr), f, indent=0)
        print("trace2view: %s (open in https://ui.perfetto.dev or chrome://tracing)" % a.json)
    if a.svg:
        with open(a.svg, "w") as f:
            f.write(to_svg(tr))
        print("trace2view: %s (open in a browser)" % a.svg)
    if not a.json and not a.svg:
        for tid in tr.threads():
            ns = sum(e - b for t, b, e, _ in tr.slices if t == tid)
            print("%4d %-16s %10.3f ms on the CPU" % (tid, tr.name(tid), ns / NS_PER_MS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
