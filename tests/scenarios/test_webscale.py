"""make webscale (tools/webscale.py): its verdicts and plot computed from
hand-made rows (no root needed), and a short run on the TAP link (root:
otherwise one SKIP line): wrk for 2 s at 1 and 10 connections, both
styles, both routes, written under build/webscale-smoke/: a table row for
every run, figures with their units that make sense (the slow service
never beats its bound of N x 100 requests/s, which it would if it did not
wait), the verdicts, an SVG that parses with a line per style and route."""
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from guest import Skip, check  # noqa: E402
import tapnet  # noqa: E402
import webscale as W  # noqa: E402

SVG_NS = "{http://www.w3.org/2000/svg}"
SMOKE_OUT = os.path.join(ROOT, "build", "webscale-smoke")
SMOKE_CONNS = (1, 10)


def fake(style, route, conns, rps, heap, sw, opened=None):
    return {"style": style, "route": route, "path": dict(W.ROUTES)[route], "conns": conns,
            "secs": 2, "rps": rps, "p50_ms": 1.0, "p99_ms": 5.0, "requests": int(rps * 2),
            "errors": 0, "connect": 0, "read": 0, "write": 0, "timeout": 0, "non2xx": 0,
            "opened": conns if opened is None else opened, "open_max": conns,
            "heap_per_conn": heap, "guest_requests": int(rps * 2), "switches_per_request": sw,
            "cpu_busy_pct": 50.0, "guest_secs": 2.0}


def test_verdicts_and_plot_from_rows():
    W.CONNS = [1, 10, 100, 1000]
    rows = []
    for c in W.CONNS:
        rows.append(fake("threads", "fast", c, 3000 if c < 100 else 1500, 4400, 8.0 / c ** 0.5))
        rows.append(fake("loop", "fast", c, 2000 if c < 100 else 3000, 160, 1.5,
                         opened=600 if c == 1000 else None))
        rows.append(fake("threads", "slow", c, min(90 * c, 2000), 4400, 10.0))
        rows.append(fake("loop", "slow", c, min(95 * c, 5000), 230, 4.0))
    v = "\n".join(W.verdicts(rows))
    check("fast page `/text`**: threads wins at c1 (+50 %), c10 (+50 %); loop wins at c100 "
          "(+100 %), c1000 (+100 %)" in v, v)
    check(re.search(r"slow service `/slow` \(10 ms a request\)\*\*: loop wins at c1 \(\+6 %\), "
                    r"c10 \(\+6 %\), c100 \(\+150 %\), c1000 \(\+150 %\)", v), v)
    check("c1 90 %/95 %, c10 90 %/95 %, c100 20 %/50 %, c1000 2 %/5 %" in v, v)
    check("**threads, what grows with N** (`/text`): heap per connection at the peak, buffers "
          "in flight included, stays" in v, v)
    check("switches per request falls (8.00/2.53/0.80/0.25)" in v, v)
    check("**loop, what grows with N** (`/text`): heap per connection at the peak, buffers "
          "in flight included, stays" in v and "switches per request stays" in v, v)
    check("`/text` at c1000**: a connection costs the threads style 4400 bytes" in v and
          "27.5 times as much" in v, v)
    check("loop fast c1000 opened 600 of 1000, 0 socket errors" in v, v)
    svg = ET.fromstring(W.svg(rows, "a note"))
    lines = svg.findall(SVG_NS + "polyline")
    check(len(lines) == 8, "%d lines: want 2 panels x 2 styles x 2 routes" % len(lines))
    check(all(len(p.get("points").split()) == 4 for p in lines), "4 points a line")
    table = W.table(rows)
    check(len(table) == 2 + len(rows) and table[0].startswith("| style | route |"), table[:3])
    check(all(ln.count("|") == 14 for ln in table), "a row of the wrong width: %s" % table[:3])


def test_make_webscale_smoke():
    why = tapnet.unavailable()
    if why:
        raise Skip(why)
    env = dict(os.environ, WEBSCALE_SECS="2", WEBSCALE_CONNS=",".join(map(str, SMOKE_CONNS)),
               WEBSCALE_OUT=SMOKE_OUT)
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "webscale.py")], env=env,
                       capture_output=True, text=True, timeout=400)
    print("\n".join("  " + ln for ln in p.stdout.splitlines() if ln.startswith("  ")), flush=True)
    check(p.returncode == 0, "webscale.py: status %d\n%s%s" % (p.returncode, p.stdout[-2000:],
                                                             p.stderr[-2000:]))
    rows = json.load(open(os.path.join(SMOKE_OUT, "rows.json")))
    want = {(s, r, c) for s in W.STYLES for r, _ in W.ROUTES for c in SMOKE_CONNS}
    check({(r["style"], r["route"], r["conns"]) for r in rows} == want, rows)
    for r in rows:
        what = "%s %s c%d: %r" % (r["style"], r["route"], r["conns"], r)
        check(r["rps"] and r["rps"] > 0 and r["p50_ms"] and r["p99_ms"] >= r["p50_ms"], what)
        check(r["opened"] >= r["conns"] and r["errors"] == 0, what)
        check(r["heap_per_conn"] > 0 and r["open_max"] >= 1, what)
        check(r["switches_per_request"] is not None and r["switches_per_request"] >= 0, what)
        check(r["cpu_busy_pct"] is not None and 0 < r["cpu_busy_pct"] <= 100, what)
        if r["route"] == "slow":     # it waited: never more than N x 100 a second
            check(r["rps"] <= r["conns"] * 1000.0 / W.SLOW_MS * 1.1, "the slow service did not "
                  "wait: " + what)
    md = open(os.path.join(SMOKE_OUT, "answer.md")).read()
    check(md.count("\n| threads |") == 4 and md.count("\n| loop |") == 4, md)
    check("## Verdicts" in md and "**Requests/s, the fast page" in md and "**Memory" in md, md)
    svg = ET.parse(os.path.join(SMOKE_OUT, "webscale.svg")).getroot()
    check(len(svg.findall(SVG_NS + "polyline")) == 8, "the plot's lines")
