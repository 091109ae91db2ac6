"""A real browser against the guest: Debian's chromium, headless, run
inside the TAP link's network namespace (tests/lib/tapnet.py), so it can
reach the guest and nothing else. tools/setup.sh installs it where the TAP
tests can run (root, /dev/net/tun).

    page = load(net, "http://10.0.2.15/", shot="build/browser/x.png", budget_ms=4000)
    page.dom, page.console, page.shot

Chromium's own headless mode: --dump-dom prints the DOM once the page's
virtual time budget has run out (timers run in virtual time, fetches in
real time), --screenshot saves what it drew. Its console messages (a
JavaScript exception among them: "Uncaught ...") come on stderr as
INFO:CONSOLE lines, which --enable-logging=stderr turns on. Background
traffic (updates, sync, safe browsing) is turned off: the namespace has
no route out anyway.
"""
import os
import re
import shutil
import struct
import tempfile
import zlib

CHROMIUM = "chromium"
CONSOLE = re.compile(r"^\[[^\]]*:CONSOLE[^\]]*\] (.*)$", re.M)


def unavailable():
    """Why chromium cannot be run here, or None."""
    if not shutil.which(CHROMIUM):
        return "no chromium (tools/setup.sh installs Debian's chromium as root where TAP works)"
    return None


class Page:
    def __init__(self, rc, dom, stderr, shot):
        self.rc, self.dom, self.stderr, self.shot = rc, dom, stderr, shot
        self.console = CONSOLE.findall(stderr)


def load(net, url, shot, budget_ms=4000, size=(1200, 1400), timeout=180):
    """Load url in headless chromium inside net's namespace; a Page with
    its DOM after budget_ms of virtual time, its console messages, and the
    screenshot's path."""
    os.makedirs(os.path.dirname(shot), exist_ok=True)
    if os.path.exists(shot):
        os.remove(shot)
    with tempfile.TemporaryDirectory(prefix="wschromium") as profile:
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--no-default-browser-check", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-extensions",
               "--disable-domain-reliability", "--user-data-dir=" + profile,
               "--enable-logging=stderr", "--v=0",
               "--virtual-time-budget=%d" % budget_ms, "--window-size=%d,%d" % size,
               "--screenshot=" + os.path.abspath(shot), "--dump-dom", url]
        p = net.run(cmd, timeout)
    return Page(p.returncode, p.stdout, p.stderr, shot)


def png_colours(path):
    """The number of distinct pixel values in a PNG (8-bit RGB or RGBA,
    as chromium writes), by decoding its rows: 1 means blank."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("%s is not a PNG" % path)
    at, idat, w, h, ctype = 8, b"", 0, 0, 0
    while at < len(data):
        n, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            if depth != 8 or ctype not in (2, 6):
                raise ValueError("%s: depth %d, colour type %d" % (path, depth, ctype))
        elif kind == b"IDAT":
            idat += body
        at += 12 + n
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), w * bpp
    prev, colours = bytearray(stride), set()
    for y in range(h):
        f, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):        # undo the row filter [PNG spec 9.2]
            a = row[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                row[i] = (row[i] + a) & 255
            elif f == 2:
                row[i] = (row[i] + b) & 255
            elif f == 3:
                row[i] = (row[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        if y % 8 == 0:                 # every 8th row is plenty to tell blank from not
            colours.update(bytes(row[i:i + bpp]) for i in range(0, stride, bpp * 4))
        prev = row
    return len(colours)
