"""The dashboard from the host, through QEMU's user network (restrict=on, a
forward on 127.0.0.1 only), in `httpd loop` and `httpd threads`: GET / is
the page with the figures as text in it (for a browser without
JavaScript) and nothing fetched from elsewhere; /dash.js and /dash.css are
user/web/'s files byte for byte; /stats.json is JSON whose fields are
exactly those user/web/stats-json.md documents, with a thread for every
thread, counters that move between two polls, and a timeline inside its
window; other paths 404, other methods 405, HEAD no body; pipelined pages
larger than the loop's send buffer come whole and in order; /slow answers
after its 10 ms with what was pipelined behind it after it, and a client
that leaves while it waits leaves nothing behind; /webscale.svg is there
exactly when the page shows it; the heap is back at its baseline after the
server stops. (tests/scenarios/test_browser.py
loads the page in a real browser on the TAP link.)"""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guest import Guest, check  # noqa: E402
import test_tcp as T  # noqa: E402
from test_http import Conn, heap_back, warm_start  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEB = os.path.join(ROOT, "user", "web")


def documented_fields():
    """The field paths of stats-json.md's table: 'threads[].id', 'net.drops.REASON'."""
    text = open(os.path.join(WEB, "stats-json.md")).read()
    return set(re.findall(r"^\| `([^`]+)` \|", text, re.M))


def field_paths(v, at=""):
    """Every field path of a JSON value, in the doc's notation: lists as
    [] (events' inner lists are values), net.drops' and trace.names' keys
    as REASON and ID."""
    if isinstance(v, dict):
        out = set()
        for k, x in v.items():
            name = {"net.drops": "REASON", "trace.names": "ID"}.get(at, k)
            out |= field_paths(x, (at + "." if at else "") + name)
        return out
    if isinstance(v, list) and at != "trace.events" and at != "trace.reasons":
        out = set()
        for x in v:
            out |= field_paths(x, at + "[]")
        return out or {at + "[]"}
    return {at}


def get(c, path, method="GET"):
    c.send(("%s %s HTTP/1.1\r\nHost: guest\r\n\r\n" % (method, path)).encode())
    return c.response(head_only=method == "HEAD")


def ps_names(g):
    return [m.group(1) for m in re.finditer(r"^\*?\s+\d+ (\S+)", g.command("ps"), re.M)]


def check_stats(s, g, names_before):
    check(s["version"] == 1, "version %r" % s.get("version"), g)
    got, doc = field_paths(s), documented_fields()
    check(got == doc, "stats.json and stats-json.md differ: only in the answer %s, only in "
          "the doc %s" % (sorted(got - doc), sorted(doc - got)), g)
    check(s["threads_total"] == len(s["threads"]), "threads_total %d, %d listed"
          % (s["threads_total"], len(s["threads"])), g)
    names = sorted(t["name"] for t in s["threads"])
    want = sorted(names_before + (["httpd-accept", "http"] if s["httpd"]["style"] == "threads" else []))
    check(names == want, "threads %s, ps said %s" % (names, want), g)
    check(sum(t["idle"] for t in s["threads"]) == 1, "one idle thread", g)
    tr = s["trace"]
    ev = tr["events"]
    check(ev and all(0 <= e[0] <= tr["window_ns"] for e in ev),
          "trace events outside the window: %r" % ev[:3], g)
    check([e[0] for e in ev] == sorted((e[0] for e in ev), reverse=True),
          "trace not oldest first", g)
    check(all(0 <= e[3] < len(tr["reasons"]) for e in ev), "a reason out of range", g)
    check(all(str(e[1]) in tr["names"] and str(e[2]) in tr["names"] for e in ev),
          "a thread of the trace without a name", g)
    check(tr["reasons"] == ["yield", "preempt", "block", "exit"], tr["reasons"], g)
    check(s["net"]["up"] == 1 and "rx-ring-full" in s["net"]["drops"], s["net"], g)
    check(sum(s["sched"]["by_reason"].values()) == s["sched"]["switches"], s["sched"], g)
    check(0 < s["heap"]["used_bytes"] < s["heap"]["total_bytes"], s["heap"], g)


def pages(port, g, names_before):
    """Every page and error on one connection; returns the requests served."""
    c = Conn(port)
    status, f, html = get(c, "/")
    check(status == 200 and f["content-type"] == "text/html; charset=utf-8", (status, f), g)
    check('<script src="/dash.js">' in html and 'href="/dash.css"' in html, html[:200], g)
    check(not re.search(r"(src|href)=\"(https?:)?//", html), "the page fetches from elsewhere", g)
    figures = re.search(r'<pre id="figures">(.*?)</pre>', html, re.S)
    check(figures and re.search(r"requests served: \d+", figures.group(1)), html[-800:], g)
    for n in names_before:           # a line per thread, for a browser without JavaScript
        check(re.search(r"^\s+\d+ %s " % re.escape(n), figures.group(1), re.M),
              "no line for thread %s in %s" % (n, figures.group(1)), g)
    for name, ctype in (("dash.js", "text/javascript"), ("dash.css", "text/css")):
        status, f, body = get(c, "/" + name)
        want = open(os.path.join(WEB, name), "rb").read().decode("latin-1")
        check(status == 200 and f["content-type"].startswith(ctype) and body == want,
              "/%s: %d %s, %d bytes (the file has %d)" % (name, status, f, len(body), len(want)), g)
    for name in ("dashboard.html", "dash.js", "dash.css"):   # no CDN: nothing from elsewhere
        text = open(os.path.join(WEB, name)).read().replace('xmlns="http://www.w3.org/2000/svg"', "")
        check("://" not in text and "@import" not in text, "%s names another site" % name, g)
    status, f, body = get(c, "/stats.json")
    check(status == 200 and f["content-type"] == "application/json", (status, f), g)
    s1 = json.loads(body)
    check_stats(s1, g, names_before)
    time.sleep(0.3)
    s2 = json.loads(get(c, "/stats.json")[2])
    check(s2["now_ns"] > s1["now_ns"] and s2["sched"]["switches"] > s1["sched"]["switches"],
          "nothing moved between two polls", g)
    check(s2["httpd"]["requests"] == s1["httpd"]["requests"] + 1, "requests %d then %d"
          % (s1["httpd"]["requests"], s2["httpd"]["requests"]), g)
    for path in ("/nothing", "/stats.json/", "/dash.js.map", "/index.html"):
        check(get(c, path)[0] == 404, "%s: not 404" % path, g)
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        status, f, _ = get(c, "/stats.json", method)
        check(status == 405 and f.get("allow") == "GET, HEAD", "%s: %d %r" % (method, status, f), g)
    status, f, _ = get(c, "/stats.json", "HEAD")
    check(status == 200 and int(f["content-length"]) > 1000, "HEAD: %d %r" % (status, f), g)
    check(c.nothing_more(), "HEAD sent a body: %r" % c.buf[:80], g)
    status, _, text = get(c, "/text")
    check(status == 200 and "requests served" in text, text, g)
    # Pipelined, bodies larger than the loop's 4 KiB send buffer: whole, in order.
    c.send(b"".join(b"GET %s HTTP/1.1\r\nHost: guest\r\n\r\n" % p
                    for p in (b"/stats.json", b"/dash.js", b"/stats.json", b"/", b"/text")))
    got = [c.response() for _ in range(5)]
    check([r[0] for r in got] == [200] * 5, [r[0] for r in got], g)
    a, b = json.loads(got[0][2]), json.loads(got[2][2])
    check(b["httpd"]["requests"] == a["httpd"]["requests"] + 2, "pipelined out of order", g)
    check(got[1][2] == open(os.path.join(WEB, "dash.js")).read() and "<!DOCTYPE html>" in got[3][2],
          "pipelined bodies mixed up", g)
    check(c.nothing_more(), "bytes after the pipeline: %r" % c.buf[:80], g)
    # The slow service: 10 ms, then /text's page; pipelined behind it a
    # /text waits its turn (the loop parks the request on a timer).
    t0 = time.monotonic()
    c.send(b"GET /slow HTTP/1.1\r\nHost: guest\r\n\r\nGET /text HTTP/1.1\r\nHost: guest\r\n\r\n")
    (s1, _, slow), (s2, _, fast) = c.response(), c.response()
    served = [int(re.search(r"requests served: (\d+)", b).group(1)) for b in (slow, fast)]
    check(s1 == s2 == 200 and served[1] == served[0] + 1, "slow then text: %d %d %r"
          % (s1, s2, served), g)
    check(time.monotonic() - t0 >= 0.010, "the slow service answered in under 10 ms", g)
    # The plot: there once make webscale made one and the kernel was built after.
    status, f, svg = get(c, "/webscale.svg")
    check((status == 200 and f["content-type"] == "image/svg+xml" and svg.startswith("<svg") and
           'src="/webscale.svg"' in html) or (status == 404 and "webscale.svg" not in html),
          "/webscale.svg %d, the page %s it" % (status, "shows" if "webscale.svg" in html else
                                                "does not show"), g)
    c.close()
    # A connection that goes while its request waits for the slow service:
    # its timer goes with it (the heap check after the stop sees a leak).
    c = Conn(port)
    c.send(b"GET /slow HTTP/1.1\r\nHost: guest\r\n\r\n")
    c.close()
    time.sleep(0.1)
    return 3 + 2 + 4 + 4 + 1 + 1 + 5 + 2 + 1 + 1   # 404 and 405 are answered, not refused


def dashboard(style):
    port = T.free_tcp_port()
    with Guest(extra=T.user_net(port)) as g:
        g.expect_prompt(30)
        names_before = ps_names(g)
        base = warm_start(g, port, style, "/stats.json")
        served = pages(port, g, names_before)
        g.send("\x03")
        m = g.expect(r"httpd: stopped after \d+ ms: (\d+) requests served", 30)
        check(int(m.group(1)) == served, "served %s, sent %d" % (m.group(1), served), g)
        heap_back(g, base)


def test_dashboard_loop():
    dashboard("loop")


def test_dashboard_threads():
    dashboard("threads")
