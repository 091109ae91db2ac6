#!/usr/bin/env python3
"""make webscale: the talk's question answered end to end on the TAP link.

For each style (`httpd threads`, `httpd loop`) one guest is booted on the
direct link (tests/lib/tapnet.py, no icount: real clients need real time),
and for each route and each number of connections N in CONNS, httpd is
started, /stats.json read, `wrk -t1 -cN -dSECS` run against the route,
/stats.json read again and httpd stopped (its @demo line). The routes:

  fast  /text: a few hundred bytes of figures, answered at once;
  slow  /slow: the same after a 10 ms wait for a "slow service" (the talk's
        "totally free service in China"): a blocking sleep in the thread
        style, a loop timer in the loop style (user/httpd_serve.c).

Each row: requests/s, p50 and p99 (wrk), socket errors and connections
opened (httpd's count; the row says how many of the N it got: on the
RTL8139, the default NIC here (WEBSCALE_NIC), all of them; QEMU's NE2000
loses SYNs at 1,000, README "The network cards"); from the guest: context switches
per request and the CPU's busy share over the run (the two /stats.json
samples), heap per connection at the peak of open ones and how many were
open then (httpd's report). Writes, under build/webscale/:

  answer.md     the table and one-line verdicts computed from it;
  webscale.svg  requests/s and heap per connection against connections,
                both styles, both routes, log x axis (the dashboard shows
                it once the kernel is built again: tools/embed.py);
  rows.json     every figure, for programs.

These are wall-clock figures under TCG on a shared host (its load average
is printed beside them): they vary from run to run; the comparisons are
the answer. Needs root and /dev/net/tun: otherwise one SKIP line.
Environment: WEBSCALE_SECS (seconds of wrk per row, default 8),
WEBSCALE_CONNS (default "1,10,100,1000"), WEBSCALE_OUT (default
build/webscale).
"""
import json
import math
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from guest import TestFailure  # noqa: E402
import tapnet  # noqa: E402
from tapload import Server, wrk  # noqa: E402

STYLES = ("threads", "loop")
ROUTES = (("fast", "/text"), ("slow", "/slow"))
SLOW_MS = 10                 # HTTPD_SLOW_MS in user/httpd.h
SECS = int(os.environ.get("WEBSCALE_SECS", "8"))
# The card: the RTL8139 holds a burst of 1,000 SYNs (QEMU backpressure),
# the NE2000 drops part of it inside QEMU (WEBSCALE_NIC=ne2000 shows it).
NIC = os.environ.get("WEBSCALE_NIC", "rtl8139")
CONNS = [int(c) for c in os.environ.get("WEBSCALE_CONNS", "1,10,100,1000").split(",")]
OUT = os.environ.get("WEBSCALE_OUT", os.path.join(ROOT, "build", "webscale"))
SETTLE_S = 1.0               # after wrk: TIME-WAIT (500 ms) and stragglers end


def load():
    return "load average %.2f %.2f %.2f (1/5/15 min)" % os.getloadavg()


def stats(net):
    """The guest's /stats.json, by curl inside the namespace."""
    p = net.run(["curl", "-s", "-m", "10", net.url("/stats.json")], 20)
    try:
        return json.loads(p.stdout)
    except ValueError:
        raise TestFailure("/stats.json did not parse (curl status %d): %r"
                          % (p.returncode, p.stdout[:200]))


def row(srv, route, path, conns):
    """One wrk run against a fresh httpd, and the guest's figures around it."""
    srv.start()
    s0 = stats(srv.net)
    w = wrk(srv.net, conns=conns, secs=SECS, path=path)
    s1 = stats(srv.net)
    time.sleep(SETTLE_S)
    d = srv.stop()
    # httpd counts a request before it builds the answer: each sample
    # counts itself, so between them lie wrk's requests and s1's own.
    served = s1["httpd"]["requests"] - s0["httpd"]["requests"] - 1
    dt = s1["now_ns"] - s0["now_ns"]
    switches = s1["sched"]["switches"] - s0["sched"]["switches"]
    idle = s1["sched"]["idle_ns"] - s0["sched"]["idle_ns"]
    return {
        "style": srv.style, "route": route, "path": path, "conns": conns, "secs": SECS,
        "rps": w["rps"], "p50_ms": w["p50_ms"], "p99_ms": w["p99_ms"],
        "requests": w["requests"], "errors": w["errors"], "connect": w["connect"],
        "read": w["read"], "write": w["write"], "timeout": w["timeout"], "non2xx": w["non2xx"],
        "opened": d["connections"] - 2,        # the two curls of /stats.json
        "open_max": d["open_max"],
        "heap_per_conn": d["heap_per_connection_bytes"],
        "guest_requests": served,
        "switches_per_request": switches / served if served > 0 else None,
        "cpu_busy_pct": 100.0 * (dt - idle) / dt if dt > 0 else None,
        "guest_secs": dt / 1e9,
    }


def style_rows(style):
    rows = []
    with tapnet.TapNet() as net, Server(net, style, nic=NIC) as srv:
        srv.warm_up()
        for route, path in ROUTES:
            for c in CONNS:
                r = row(srv, route, path, c)
                print("  %s" % line(r), flush=True)
                rows.append(r)
    return rows


def fmt(v, spec="%.1f"):
    return "-" if v is None else spec % v


HEAD = ("| style | route | connections | opened | requests/s | guest requests/s | p50 ms "
        "| p99 ms | socket errors | switches/request | CPU busy | heap/connection | open at once |")


def line(r):
    return ("%-7s %-4s c%-4d opened %4d  %8s req/s  p50 %6s ms  p99 %7s ms  errors %4d  "
            "%5s switches/req  busy %5s %%  %5d B/conn (%d at once)"
            % (r["style"], r["route"], r["conns"], r["opened"], fmt(r["rps"], "%.0f"),
               fmt(r["p50_ms"]), fmt(r["p99_ms"]), r["errors"], fmt(r["switches_per_request"], "%.2f"),
               fmt(r["cpu_busy_pct"]), r["heap_per_conn"], r["open_max"]))


def guest_rps(r):
    """Requests/s as the guest counted them, on its own clock (under TCG on
    a loaded host it runs slower than the wall clock wrk reads)."""
    return r["guest_requests"] / r["guest_secs"] if r["guest_secs"] > 0 else None


def table(rows):
    out = [HEAD, "|" + "---|" * 13]
    for r in rows:
        out.append("| %s | %s | %d | %d | %s | %s | %s | %s | %d | %s | %s %% | %d B | %d |" % (
            r["style"], "%s `%s`" % (r["route"], r["path"]), r["conns"], r["opened"],
            fmt(r["rps"], "%.0f"), fmt(guest_rps(r), "%.0f"), fmt(r["p50_ms"]), fmt(r["p99_ms"]),
            r["errors"],
            fmt(r["switches_per_request"], "%.2f"), fmt(r["cpu_busy_pct"]), r["heap_per_conn"],
            r["open_max"]))
    return out


# ---- verdicts: each sentence computed from the rows ----

def pick(rows, style, route):
    return {r["conns"]: r for r in rows if r["style"] == style and r["route"] == route}


def winner(a, b, key="rps"):
    """('threads'|'loop'|'neither', percent more) for rows a (threads), b (loop)."""
    x, y = a.get(key), b.get(key)
    if not x or not y:
        return "neither", 0.0
    if abs(x - y) / max(x, y) < 0.05:
        return "neither", 100.0 * abs(x - y) / min(x, y)
    return ("threads", 100.0 * (x - y) / y) if x > y else ("loop", 100.0 * (y - x) / x)


def trend(values):
    """'grows', 'falls' or 'stays' from the first to the last of values."""
    vals = [v for v in values if v is not None]
    if len(vals) < 2 or not vals[0]:
        return "stays"
    ratio = vals[-1] / vals[0]
    return "grows" if ratio > 1.3 else "falls" if ratio < 0.77 else "stays"


def pct(v, whole):
    return None if v is None else 100.0 * v / whole


def verdicts(rows):
    out = []
    for route, path in ROUTES:
        t, lp = pick(rows, "threads", route), pick(rows, "loop", route)
        wins = {"threads": [], "loop": [], "neither": []}
        for c in CONNS:
            if c in t and c in lp:
                who, more = winner(t[c], lp[c])
                wins[who].append("c%d (%+.0f %%)" % (c, more) if who != "neither" else "c%d" % c)
        parts = ["%s wins at %s" % (w, ", ".join(v)) for w, v in wins.items() if v and w != "neither"]
        if wins["neither"]:
            parts.append("within 5 %% at %s" % ", ".join(wins["neither"]))
        what = ("the fast page `%s`" % path if route == "fast"
                else "the slow service `%s` (%d ms a request)" % (path, SLOW_MS))
        out.append("- **Requests/s, %s**: %s." % (what, "; ".join(parts) or "not measured"))
        if route == "slow":
            share = []
            for c in CONNS:
                bound = c * 1000.0 / SLOW_MS
                share.append("c%d %s/%s" % (c, fmt(pct(t.get(c, {}).get("rps"), bound), "%.0f %%"),
                                            fmt(pct(lp.get(c, {}).get("rps"), bound), "%.0f %%")))
            out.append("- **How much of the wait's bound each reached** (N connections get at "
                       "most N x %d requests/s through a %d ms wait; threads/loop): %s."
                       % (1000 // SLOW_MS, SLOW_MS, ", ".join(share)))
    for style in STYLES:
        f = pick(rows, style, "fast")
        per = [f[c]["heap_per_conn"] for c in CONNS if c in f]
        sw = [f[c]["switches_per_request"] for c in CONNS if c in f]
        out.append("- **%s, what grows with N** (`/text`): heap per connection at the peak, "
                   "buffers in flight included, %s (%s bytes at c%d..c%d; the total is N times "
                   "it); switches per request %s (%s)."
                   % (style, trend(per), "/".join(str(p) for p in per), CONNS[0], CONNS[-1],
                      trend(sw), "/".join(fmt(v, "%.2f") for v in sw)))
    for route, path in ROUTES:
        ft, fl = pick(rows, "threads", route), pick(rows, "loop", route)
        both = [c for c in CONNS if c in ft and c in fl]
        if both and ft[both[-1]]["heap_per_conn"] and fl[both[-1]]["heap_per_conn"]:
            big = both[-1]
            a, b = ft[big]["heap_per_conn"], fl[big]["heap_per_conn"]
            out.append("- **Memory, `%s` at c%d**: a connection costs the threads style %d bytes "
                       "of heap at the peak (a 4 KiB stack and buffers in flight) against the "
                       "loop's %d: %.1f times as much." % (path, big, a, b, a / b))
    short = [r for r in rows if r["opened"] < r["conns"] or r["errors"]]
    if short:
        out.append("- **Lost on the way** (card %s; QEMU's NE2000 drops SYNs under load): " % NIC +
                   "; ".join("%s %s c%d opened %d of %d, %d socket errors"
                             % (r["style"], r["route"], r["conns"], r["opened"], r["conns"],
                                r["errors"]) for r in short) + ".")
    else:
        out.append("- Every connection of every row opened, no socket errors.")
    return out


# ---- the plot ----

COLOURS = {"threads": "#3465a4", "loop": "#f57900"}
DASH = {"fast": "", "slow": ' stroke-dasharray="6 4"'}


def panel(rows, key, x0, y0, w, h, title, unit):
    """One panel of the SVG: key against connections, log x; its elements."""
    vals = [r[key] for r in rows if r[key]]
    top = max(vals) * 1.1 if vals else 1
    lo, hi = math.log10(min(CONNS)), math.log10(max(CONNS)) or 1
    def px(c):
        return x0 + (math.log10(c) - lo) / ((hi - lo) or 1) * w
    def py(v):
        return y0 + h - v / top * h
    o = ['<text x="%d" y="%d" font-weight="bold">%s</text>' % (x0, y0 - 10, title),
         '<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>' % (x0, y0, w, h)]
    for c in CONNS:
        o.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (px(c), y0, px(c), y0 + h))
        o.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>' % (px(c), y0 + h + 16, c))
    for i in range(5):
        v = top * i / 4
        o.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (x0 - 6, py(v) + 4, "%.0f" % v))
    o.append('<text x="%d" y="%d" text-anchor="middle">connections (log scale)</text>'
             % (x0 + w // 2, y0 + h + 34))
    o.append('<text x="%d" y="%d" text-anchor="middle" transform="rotate(-90 %d %d)">%s</text>'
             % (x0 - 52, y0 + h // 2, x0 - 52, y0 + h // 2, unit))
    for style in STYLES:
        for route, _ in ROUTES:
            pts = [(px(r["conns"]), py(r[key])) for r in rows
                   if r["style"] == style and r["route"] == route and r[key] is not None]
            if pts:
                o.append('<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>'
                         % (COLOURS[style], DASH[route], " ".join("%.1f,%.1f" % p for p in pts)))
                o += ['<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (x, y, COLOURS[style])
                      for x, y in pts]
    return o


def svg(rows, note):
    W, H = 960, 430
    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
         'font-family="sans-serif" font-size="12">' % (W, H, W, H),
         '<rect width="100%" height="100%" fill="white"/>',
         '<text x="20" y="24" font-size="15" font-weight="bold">Is it web scale? httpd threads '
         'against httpd loop, wrk on the TAP link</text>',
         '<text x="20" y="42" fill="#555">%s</text>' % note]
    o += panel(rows, "rps", 90, 80, 360, 260, "requests/s", "requests/s")
    o += panel(rows, "heap_per_conn", 560, 80, 360, 260, "heap per connection at the peak",
               "bytes")
    y = 400
    x = 90
    for style in STYLES:
        for route, path in ROUTES:
            o.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>'
                     % (x, y, x + 30, y, COLOURS[style], DASH[route]))
            label = "%s, %s" % (style, path if route == "fast" else "%s (%d ms wait)" % (path, SLOW_MS))
            o.append('<text x="%d" y="%d">%s</text>' % (x + 36, y + 4, label))
            x += 210
    o.append("</svg>")
    return "\n".join(o) + "\n"


def write(rows, started):
    os.makedirs(OUT, exist_ok=True)
    note = ("wrk -t1 -d%ds per point; QEMU TCG without icount, wall clock; %s"
            % (SECS, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))))
    md = ["# Is it web scale? `make webscale`", "",
          "Measured %s on this machine (%s at the start, %s at the end): QEMU TCG without icount, "
          "so wall-clock figures that vary from run to run; the comparisons are the answer. "
          "wrk -t1 -cN -d%ds against `httpd threads` and `httpd loop` on the TAP link; "
          "*opened*: connections httpd accepted (wrk may open more than N: it "
          "reconnects after an error); *guest requests/s*: httpd's count over the guest's own "
          "clock (slower than the wall clock under TCG on a loaded host); *switches/request* and *CPU busy*: from the "
          "guest's /stats.json before and after; *heap/connection*: httpd's figure at the peak "
          "of open connections (*open at once*), TIME-WAIT not counted."
          % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)), started_load, load(), SECS),
          "", "![requests/s and heap per connection against connections](webscale.svg)", ""]
    md += table(rows) + ["", "## Verdicts", ""] + verdicts(rows) + [""]
    with open(os.path.join(OUT, "answer.md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(OUT, "webscale.svg"), "w") as f:
        f.write(svg(rows, note))
    with open(os.path.join(OUT, "rows.json"), "w") as f:
        json.dump(rows, f, indent=1)


def main():
    global started_load
    why = tapnet.unavailable()
    if why:
        print("make webscale: SKIP: %s" % why)
        return 0
    tapnet.raise_file_limit()
    started, started_load = time.time(), load()
    print("make webscale: wrk -t1 -cN -d%ds for N in %s, routes %s, both styles (%s)"
          % (SECS, ", ".join(map(str, CONNS)), ", ".join(p for _, p in ROUTES), started_load),
          flush=True)
    rows = []
    for style in STYLES:
        try:
            rows += style_rows(style)
        except (TestFailure, RuntimeError) as e:
            print("make webscale: httpd %s not measured: %s" % (style, str(e).splitlines()[0]))
            return 1
    write(rows, started)
    print("\n".join(verdicts(rows)))
    print("make webscale: %s/answer.md and webscale.svg written in %.0f s; `make` again to show "
          "the plot in the dashboard" % (os.path.relpath(OUT, ROOT), time.time() - started))
    return 0


started_load = ""

if __name__ == "__main__":
    sys.exit(main())
