"""Real clients against the guest on the TAP link, and what they and the
guest report: tests/scenarios/test_tap.py and tools/bench.py both read
these figures.

    with TapNet() as net, Server(net, "loop") as srv:
        w = wrk(net, conns=1000, secs=10)   # wrk's own report, parsed
        r = srv.stop()                      # httpd's @demo line
        f = guest_net(srv.g)                # `net`: drops by reason, resets, ...

Every client runs inside the namespace, with its own count and time limit
and a wall-clock timeout on top, so none can run on.
"""
import errno
import os
import re
import selectors
import socket as so
import subprocess
import time
import xml.etree.ElementTree as ET

from demo_line import demo_line
from guest import TestFailure, check
from tapnet import GUEST_IP
import machine  # noqa: E402  tools/machine.py (tapnet put it on the path): the NICs

# ---- the guest's side: `net`, `mem`, httpd ----

# (key, pattern) for `net`'s figures; a figure missing from the output
# (someone reworded it) is None rather than a wrong number.
NET_FIGURES = [
    ("rx_frames", r"in:\s+(\d+) frames"),
    ("rx_ring_peak", r"RX ring peak (\d+) frames"),
    ("arp_requests", r"(\d+) arp requests"),
    ("handshakes", r"(\d+) handshakes"),
    ("conns_now", r"(\d+) connections now"),
    ("conns_max", r"connections now \((\d+) at most"),
    ("time_wait", r"(\d+) in TIME-WAIT"),
    ("syn_evicted", r"(\d+) evicted"),
    ("retransmits", r"(\d+) retransmits"),
    ("tcp_timeouts", r"(\d+) timed out"),
    ("resets_sent", r"resets (\d+) sent"),
    ("resets_received", r"resets \d+ sent, (\d+) received"),
    ("dropped", r"dropped: (\d+) frames"),
]


def guest_net(g):
    """`net` as a dict: NET_FIGURES, and 'drops': {reason: frames}."""
    out = g.command("net")
    f = {}
    for key, rx in NET_FIGURES:
        m = re.search(rx, out)
        f[key] = int(m.group(1)) if m else None
    tail = out.split("dropped:", 1)[1] if "dropped:" in out else ""
    f["drops"] = _reasons(tail)
    m = re.search(r"resets sent, by reason:\s*\n(.*?)\n\s*arp:", out, re.S)
    f["rst_reasons"] = _reasons(m.group(1)) if m else {}
    f["_out"] = out
    return f


def _reasons(table):
    """`net`'s 'name count' tables (drops, resets) as {name: count}."""
    return {k: int(v) for k, v in re.findall(r"([a-z]+(?:-[a-z]+)*)\s+(\d+)", table)}


def _nonzero(d):
    return ", ".join("%s %d" % (k, v) for k, v in sorted(d.items()) if v) or "none"


def drops_text(f):
    """The nonzero drop reasons, 'rx-ring-full 12, tcp-backlog-full 3', or 'none'."""
    return _nonzero(f["drops"])


def rst_text(f):
    """The guest's RSTs by nonzero reason, 'abort 3, no-port 1', or 'none'."""
    return _nonzero(f["rst_reasons"])


def tap_tx(net):
    """(frames the namespace has sent into the TAP device so far, that is
    towards the guest; frames the device dropped on the way because its
    queue for QEMU was full): tx_packets and tx_drop in /proc/net/dev."""
    for line in net.sh(["cat", "/proc/net/dev"]).stdout.splitlines():
        name, _, counts = line.partition(":")
        if name.strip() == net.tap:
            c = counts.split()
            return int(c[9]), int(c[11])
    raise TestFailure("no %s in /proc/net/dev" % net.tap)


class LinkCount:
    """Frames the host sent the guest against the frames the guest's card
    delivered (`net`'s "in: N frames"), over a stretch: the difference
    never reached the guest. QEMU's NE2000 has no flow control (its
    NetClientInfo has no can_receive): a frame that comes while its ring
    is full (52 small frames) is dropped before the guest can see it.
    With the RTL8139 frames wait in QEMU and the TAP device instead, and
    what finds the device's queue full is dropped there: counted apart."""

    def __init__(self, net, g):
        self.net, self.g = net, g
        (self.sent0, self.tapdrop0), self.got0 = tap_tx(net), guest_net(g)["rx_frames"]

    def text(self, f):
        """With f, `net`'s figures taken after the stretch."""
        sent, tapdrop = tap_tx(self.net)
        sent, tapdrop = sent - self.sent0, tapdrop - self.tapdrop0
        got = f["rx_frames"] - self.got0
        self.lost = sent - got
        return ("link: the host sent %d frames, the guest's card delivered %d: %d (%.1f %%) "
                "lost before the guest (QEMU, the card); the TAP device dropped %d more on its "
                "full queue (%.1f %% of the %d offered)"
                % (sent, got, sent - got, 100.0 * (sent - got) / max(sent, 1), tapdrop,
                   100.0 * tapdrop / max(sent + tapdrop, 1), sent + tapdrop))


def wait_closed(g, secs):
    """Poll `net` until the stack holds no connection (the closes that a
    stop began have ended), at most secs wall seconds; (net figures,
    seconds waited)."""
    t0 = time.monotonic()
    while True:
        f = guest_net(g)
        if f["conns_now"] == 0 or time.monotonic() - t0 >= secs:
            return f, time.monotonic() - t0
        time.sleep(0.5)


def guest_uptime_s(g):
    """The guest's own clock, in seconds since boot (`uptime`). Under TCG on
    a loaded host it runs slower than the wall clock (PIT ticks come late)."""
    m = re.search(r"up ([\d.]+) s", g.command("uptime"))
    check(m, "uptime prints no 'up N s'", g)
    return float(m.group(1))


def heap_used(g):
    m = re.search(r"heap: \d+ bytes, (\d+) used", g.command("mem"))
    check(m, "mem prints no heap line", g)
    return int(m.group(1))


def heap_blocks(g):
    """(bytes used, blocks held): `mem`'s allocations less its frees."""
    out = g.command("mem")
    m = re.search(r"heap: \d+ bytes, (\d+) used", out)
    n = re.search(r"(\d+) allocations, (\d+) frees", out)
    check(m and n, "mem prints no heap or allocations line", g)
    return int(m.group(1)), int(n.group(1)) - int(n.group(2))


class Server:
    """`httpd STYLE` in a guest booted on the link; stop() returns httpd's
    @demo line. The guest is killed on leaving the `with`."""

    def __init__(self, net, style, icount=False, nic=machine.DEFAULT_NIC):
        self.net, self.style, self.icount, self.nic = net, style, icount, nic
        self.g = None

    def __enter__(self):
        self.g = self.net.guest(nic=self.nic, icount=self.icount)
        self.mac = self.g.expect(r"MAC ([0-9a-f:]{17})", 60).group(1).decode()
        self.g.expect_prompt(60)
        return self

    def __exit__(self, *exc):
        self.g.kill()

    def start(self):
        self.g.sendline("httpd " + self.style)
        self.g.expect(r"listening on TCP port 80; Ctrl-C stops", 20)

    def stop(self):
        self.g.send("\x03")
        m = self.g.expect(r"@demo httpd .*\n", 120)
        self.g.expect_prompt(30)
        return demo_line(m.group(0).decode("latin-1"), "httpd")

    def warm_up(self):
        """A first short run grows what stays grown (the loop's timer heap,
        its table of callback names), so a heap baseline taken after it holds."""
        self.start()
        check(curl(self.net)[0] == 200, "the warm-up request failed", self.g)
        self.stop()


# ---- the clients ----

def _timed(net, cmd, timeout):
    p = net.run(cmd, timeout)
    return p.returncode, p.stdout, p.stderr


def curl_cmd(net, path="/", secs=5):
    """curl's words for one GET, at most secs seconds; it prints 'STATUS
    SECONDS CONNECTED FIRST_BYTE' (the last two 0 when it never got there)."""
    return ["curl", "-s", "-o", "/dev/null", "-m", str(secs), "-w",
            "%{http_code} %{time_total} %{time_connect} %{time_starttransfer}", net.url(path)]


def curl_result(out):
    """(HTTP status or 0 when none came, seconds) from curl_cmd's output."""
    code, _, rest = out.partition(" ")
    t = rest.split()[:1]
    return (int(code) if code.isdigit() and int(code) else 0), (float(t[0]) if t else None)


def curl_phases(out):
    """(seconds to the handshake's end, seconds to the first byte of the
    answer) from curl_cmd's output, None for a phase curl never reached."""
    f = out.split()[2:4]
    return tuple(float(f[i]) or None if i < len(f) else None for i in range(2))


def curl(net, path="/", secs=5):
    """(HTTP status or 0, seconds) of one GET by curl."""
    return curl_result(_timed(net, curl_cmd(net, path, secs), secs + 10)[1])


# The flooder stands for another machine, but here it shares the host's
# cores with QEMU: at the lowest priority it takes no CPU time the emulated
# machine wants. Unshaped it still offers about five times the frames the
# guest can take (the guest took 1.9 million in 10 s at nice 19 against 1.3
# million at nice 0, of 9-10 million offered).
FLOOD_NICE = 19


def syn_flood(net, secs, port=80):
    """`hping3 -S --flood` at the guest's port, in the background, from the
    namespace's own address (HOST_IP: the client's, so the flood's source
    ports pass over curl's own too); timeout(1) ends it after secs, whatever
    becomes of the caller. The caller waits for it (or stops it by its pid)."""
    return net.popen(["timeout", "%g" % secs, "nice", "-n", str(FLOOD_NICE), "hping3", "-q", "-S",
                      "-p", str(port), "--flood", GUEST_IP],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def flood_intake(net, secs, lead_s=0.5):
    """Frames/s the guest takes while an unshaped flood keeps the TAP
    device's queue full: a flood of lead_s + secs, and the frames QEMU read
    from the device (tap_tx) over its last secs. With the RTL8139 QEMU reads
    a frame only when the card has room for it (backpressure), and none is
    lost between them (LinkCount), so this is the rate the guest's card
    delivers when it is all the guest does: under TCG it depends on the
    host's speed. Returns when the flood has ended."""
    flood = syn_flood(net, lead_s + secs + 0.5)
    try:
        time.sleep(lead_s)
        t0, (sent0, _) = time.monotonic(), tap_tx(net)
        time.sleep(secs)
        t1, (sent1, _) = time.monotonic(), tap_tx(net)
    finally:
        flood.wait(secs + 10)
    return (sent1 - sent0) / (t1 - t0)


def _ms(value, unit):
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


# What the load tools fetch: httpd's short page of figures (a few hundred
# bytes, one segment), the page GET / served before the dashboard, so that
# their figures measure the stack and the styles, not the dashboard's page.
LOAD_PATH = "/text"


def wrk(net, conns, secs, threads=1, timeout_s=2, path=LOAD_PATH):
    """wrk -tT -cC -dS --latency against the guest's path; its report as a
    dict: requests, rps, p50_ms, p99_ms, connect/read/write/timeout errors,
    non2xx. wrk counts a reply later than timeout_s as a timeout."""
    cmd = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % secs, "--latency",
           "--timeout", "%ds" % timeout_s, net.url(path)]
    rc, out, err = _timed(net, cmd, secs + 60)
    r = {"rc": rc, "out": out + err, "secs": secs, "connect": 0, "read": 0, "write": 0,
         "timeout": 0, "non2xx": 0}
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        r["connect"], r["read"], r["write"], r["timeout"] = map(int, m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        r["non2xx"] = int(m.group(1))
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    r["requests"] = int(m.group(1)) if m else None
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    r["rps"] = float(m.group(1)) if m else None
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)" % pct, out, re.M)
        r[key] = _ms(*m.groups()) if m else None
    r["errors"] = r["connect"] + r["read"] + r["write"] + r["timeout"]
    return r


def wrk_text(w):
    if w["requests"] is None:
        return "wrk reported nothing (status %s): %s" % (w["rc"], w["out"].strip()[-200:])
    return ("%d requests, %.0f requests/s, p50 %s ms, p99 %s ms; socket errors: connect %d, "
            "read %d, write %d, timeout %d; non-2xx %d"
            % (w["requests"], w["rps"] or 0, _fmt(w["p50_ms"]), _fmt(w["p99_ms"]), w["connect"],
               w["read"], w["write"], w["timeout"], w["non2xx"]))


def _fmt(v):
    return "-" if v is None else "%.1f" % v


def ab(net, n, c):
    """ab -n N -c C (a new connection per request) of LOAD_PATH; its report as a dict:
    complete, failed and the kinds (connect, receive, length, exceptions),
    non2xx, reset (ab stopped at 'Connection reset by peer'), rps."""
    rc, out, err = _timed(net, ["ab", "-n", str(n), "-c", str(c), "-s", "10", net.url(LOAD_PATH)],
                          180)
    r = {"rc": rc, "out": out + err, "reset": "reset by peer" in out + err}
    for key, rx in (("complete", r"Complete requests:\s+(\d+)"),
                    ("failed", r"Failed requests:\s+(\d+)"),
                    ("non2xx", r"Non-2xx responses:\s+(\d+)"),
                    ("partial", r"Total of (\d+) requests completed")):
        m = re.search(rx, out)
        r[key] = int(m.group(1)) if m else 0
    m = re.search(r"\(Connect: (\d+), Receive: (\d+), Length: (\d+), Exceptions: (\d+)\)", out)
    r["connect"], r["receive"], r["length"], r["exceptions"] = map(int, m.groups()) if m else (0,) * 4
    m = re.search(r"Requests per second:\s+([\d.]+)", out)
    r["rps"] = float(m.group(1)) if m else None
    return r


def ab_text(a):
    if a["reset"] or not a["complete"]:
        return ("ab stopped after %d requests%s (status %d): %s"
                % (a["partial"], ", connection reset by peer" if a["reset"] else "", a["rc"],
                   a["out"].strip().splitlines()[-1] if a["out"].strip() else ""))
    return ("%d complete, %.0f requests/s, %d failed (connect %d, receive %d, length %d, "
            "exceptions %d), non-2xx %d" % (a["complete"], a["rps"] or 0, a["failed"],
                                             a["connect"], a["receive"], a["length"],
                                             a["exceptions"], a["non2xx"]))


def nmap(net, scan, ports="1-1024"):
    """nmap SCAN (-sS, -sF, ...) of PORTS, no host discovery or DNS, one
    retry, bounded; {state: [ports]} for every port, from its XML report
    (the ports it folds into <extraports> are listed by count only:
    {state: count} under 'extra')."""
    rc, out, err = _timed(net, ["nmap", "-n", "-Pn", scan, "-p", ports, "--max-retries", "1",
                                "--host-timeout", "90s", "-oX", "-", GUEST_IP], 150)
    check(rc == 0 and out.strip(), "nmap %s: status %d: %s" % (scan, rc, err.strip()))
    root = ET.fromstring(out)
    states, extra = {}, {}
    for p in root.iter("port"):
        states.setdefault(p.find("state").get("state"), []).append(int(p.get("portid")))
    for e in root.iter("extraports"):
        extra[e.get("state")] = extra.get(e.get("state"), 0) + int(e.get("count"))
    return {"ports": states, "extra": extra}


def nmap_count(r, state):
    return len(r["ports"].get(state, [])) + r["extra"].get(state, 0)


# ---- raw HTTP on one connection ----

def read_responses(sock, n, heads_only=(), timeout=10):
    """Read up to n HTTP responses from sock, in order, framed by their
    Content-Length (none for the indexes in heads_only: replies to HEAD).
    Returns (responses, rest, closed, reset): each response a dict
    (status, headers, body); rest: bytes after the last whole response."""
    buf, closed, reset = b"", False, False
    sock.settimeout(0.5)
    deadline = time.monotonic() + timeout
    responses = []
    while len(responses) < n and not closed and time.monotonic() < deadline:
        try:
            d = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            closed = reset = True
            break
        if not d:
            closed = True
        buf += d
        while len(responses) < n:
            r, used = _one_response(buf, len(responses) in heads_only)
            if r is None:
                break
            responses.append(r)
            buf = buf[used:]
    return responses, buf, closed, reset


def _one_response(buf, head_only):
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None, 0
    lines = buf[:end].decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    if not m:
        raise TestFailure("not an HTTP response: %r" % buf[:120])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    length = 0 if head_only else int(headers.get("content-length", "0"))
    if len(buf) < end + 4 + length:
        return None, 0
    body = buf[end + 4:end + 4 + length]
    return {"status": int(m.group(1)), "headers": headers, "body": body}, end + 4 + length


# ---- idle connections held by real sockets ----

def hold_idle(net, cap, budget_s, window=8, settle_s=0.0):
    """Open up to cap connections to the guest's port 80 from real sockets
    made in the namespace (the host's TCP does the handshakes), at most
    window connecting at once, and keep them open, sending nothing. Stops
    at the cap, after budget_s wall seconds, when a connect fails or takes
    over 3 s, or when the guest closes or resets one it holds.
    settle_s: a pause after each window's worth (a thread-style acceptor
    empties its queue meanwhile). Returns (held sockets, why it stopped,
    seconds); the caller closes the sockets."""
    sel = selectors.DefaultSelector()
    held, pending, why = [], {}, None
    t0 = time.monotonic()
    try:
        while why is None:
            now = time.monotonic()
            if len(held) >= cap:
                why = "the cap"
                break
            if now - t0 > budget_s:
                why = "the %.0f s time budget" % budget_s
                break
            while len(pending) < window and len(held) + len(pending) < cap:
                s = net.socket()
                s.setblocking(False)
                rc = s.connect_ex((GUEST_IP, 80))
                if rc not in (0, errno.EINPROGRESS):
                    s.close()
                    why = "connect: %s" % os.strerror(rc)
                    break
                pending[s] = now
                sel.register(s, selectors.EVENT_WRITE)
            if pending and now - min(pending.values()) > 3:
                why = "a connect not done in 3 s"
                break
            for key, ev in sel.select(0.5):
                s = key.fileobj
                if s in pending:
                    del pending[s]
                    sel.unregister(s)
                    err = s.getsockopt(so.SOL_SOCKET, so.SO_ERROR)
                    if err:
                        s.close()
                        why = "a connect failed: %s" % os.strerror(err)
                        break
                    held.append(s)
                    sel.register(s, selectors.EVENT_READ)
                    if settle_s and len(held) % window == 0:
                        time.sleep(settle_s)
                else:                 # a held one became readable: EOF or RST
                    try:
                        got = s.recv(1)
                        why = "the guest sent data on an idle connection" if got else \
                            "a FIN from the guest"
                    except ConnectionResetError:
                        why = "a reset from the guest"
                    break
    finally:
        for s in pending:
            s.close()
        sel.close()
    return held, why, time.monotonic() - t0
