"""The dashboard in a real browser: the guest on the TAP link
(tests/lib/tapnet.py), `httpd loop` or `httpd threads`, and Debian's
chromium headless inside the link's namespace (tests/lib/browser.py)
loading http://10.0.2.15/ with a virtual time budget of several polls.
Checks: at least two polls drawn, the clock and the switch count moved
between the first and the last, a row in the threads table for every
thread (the guest's `ps` before the server, and the server's own), the
timeline a row per thread, the no-JavaScript text hidden, no console
message at all (an exception would be "Uncaught ..."), no failed poll,
and a screenshot under build/browser/ that is not blank.

Without root, /dev/net/tun or chromium: one SKIP line saying why."""
import functools
import html
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import browser  # noqa: E402
from guest import Skip, check  # noqa: E402
import tapnet  # noqa: E402
from tapnet import TapNet  # noqa: E402
from tapload import Server  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHOTS = os.path.join(ROOT, "build", "browser")
BUDGET_MS = 5000             # virtual time: about 5 polls of 1 s
POLLS_AT_LEAST = 2
COLOURS_AT_LEAST = 16        # distinct pixel values: text, bars, the timeline's colours


def needs_browser(fn):
    @functools.wraps(fn)
    def run():
        why = tapnet.unavailable() or browser.unavailable()
        if why:
            raise Skip(why)
        fn()
    return run


def attr(dom, name):
    m = re.search(r'<html[^>]* %s="([^"]*)"' % name, dom)
    return m.group(1) if m else None


def thread_rows(dom):
    """(id, name) of every row of the threads table."""
    body = re.search(r'<table id="threads">.*?<tbody[^>]*>(.*?)</tbody>', dom, re.S)
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td>", body.group(1) if body else "")
    return [(int(i), html.unescape(n)) for i, n in rows]


def dashboard_in_chromium(style):
    with TapNet() as net, Server(net, style) as srv:
        ps = srv.g.command("ps")
        names = re.findall(r"^\*?\s+\d+ (\S+)", ps, re.M)
        srv.start()
        shot = os.path.join(SHOTS, "dashboard-%s.png" % style)
        page = browser.load(net, net.url("/"), shot, BUDGET_MS)
        r = srv.stop()
        polls = int(attr(page.dom, "data-polls") or 0)
        rows = thread_rows(page.dom)
        status = re.search(r'<p id="status">(.*?)</p>', page.dom, re.S)
        print("  browser %s: chromium status %d, %d polls, %d thread rows (%s), %d console "
              "messages, %d requests served; screenshot %s"
              % (style, page.rc, polls, len(rows), " ".join(n for _, n in rows),
                 len(page.console), r["requests"], os.path.relpath(shot, ROOT)), flush=True)
        check(page.rc == 0 and page.dom.strip(), "chromium: status %d: %s" % (page.rc, page.stderr[-600:]))
        check(not page.console, "console messages: %s" % page.console[:5])
        check(polls >= POLLS_AT_LEAST, "%d polls drawn in %d ms of virtual time; status: %s"
              % (polls, BUDGET_MS, status.group(1) if status else page.dom[:300]))
        check(status and "failed" not in status.group(1), "a poll failed: %s" % status.group(1))
        check(int(attr(page.dom, "data-last-ns")) > int(attr(page.dom, "data-first-ns")) and
              int(attr(page.dom, "data-last-switches")) > int(attr(page.dom, "data-first-switches")),
              "the figures did not move: %s" % re.search(r"<html[^>]*>", page.dom).group(0))
        total = re.search(r'<tbody data-total="(\d+)"', page.dom)
        check(total and int(total.group(1)) == len(rows), "rows %d, threads_total %s"
              % (len(rows), total and total.group(1)))
        want = set(names) | ({"httpd-accept"} if style == "threads" else set())
        check(want <= {n for _, n in rows}, "no row for %s" % (want - {n for _, n in rows}))
        check(len({i for i, _ in rows}) == len(rows), "a thread twice: %s" % rows)
        timeline = re.search(r'<div id="timeline" data-rows="(\d+)">\s*<svg', page.dom)
        check(timeline and int(timeline.group(1)) >= len(rows), "timeline: %s"
              % (timeline.group(0) if timeline else "no SVG"))
        check(re.search(r'<section id="text" hidden', page.dom), "the text figures still show")
        check(os.path.exists(shot), "no screenshot")
        colours = browser.png_colours(shot)
        check(colours >= COLOURS_AT_LEAST, "the screenshot is blank: %d colours" % colours)


@needs_browser
def test_dashboard_in_chromium_loop():
    dashboard_in_chromium("loop")


@needs_browser
def test_dashboard_in_chromium_threads():
    dashboard_in_chromium("threads")
