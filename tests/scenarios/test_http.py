"""HTTP framing in `httpd loop` and `httpd threads`, from the host through
QEMU's user network (restrict=on, a forward on 127.0.0.1 only): 20
pipelined GETs in one write get 20 whole responses in order; a POST whose
24-byte body looks like a request gets 405 and the GET after it 200 (the
body skipped, not parsed); HEAD gets GET's fields and no body; a 6 KiB
cookie gets 200; a 9 KiB head gets 431 and a close; a chunked body 411 and
a close. The stop report counts TIME-WAIT apart and the heap comes back.
With the raw-Ethernet peer: connections the server closed, in TIME-WAIT,
stay out of the heap per open connection."""
import os
import re
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from columns import check_fits  # noqa: E402
from demo_line import demo_line  # noqa: E402
from guest import Guest, check  # noqa: E402
import test_tcp as T  # noqa: E402

TIMEOUT = 30


class Conn:
    """One client connection that reads responses framed by Content-Length."""

    def __init__(self, port):
        self.s = socket.create_connection((T.LOCAL, port), timeout=TIMEOUT)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def _fill(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError
        self.buf += d

    def response(self, head_only=False):
        """(status, fields, body) of the next response."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        fields = {k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
        n = 0 if head_only else int(fields["content-length"])
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, fields, body.decode("latin-1")

    def closed(self):
        """Nothing more comes, and the guest closed: EOF within the timeout."""
        try:
            while True:
                self._fill()
        except EOFError:
            return self.buf == b""
        except socket.timeout:
            return False

    def nothing_more(self, secs=0.5):
        self.s.settimeout(secs)
        try:
            self._fill()
        except socket.timeout:
            pass
        except EOFError:
            return False
        finally:
            self.s.settimeout(TIMEOUT)
        return self.buf == b""

    def close(self):
        self.s.close()


GET = b"GET / HTTP/1.1\r\nHost: guest\r\n\r\n"


def cases(port, g):
    """Every case on its own connection; returns (served, refused) counts."""
    # 20 pipelined GETs in one write: 20 whole responses, in order (the
    # page counts the requests served, so each says one more).
    c = Conn(port)
    c.send(GET * 20)
    served = []
    for i in range(20):
        status, f, body = c.response()
        check(status == 200 and len(body) == int(f["content-length"]),
              "pipelined %d: %d" % (i, status), g)
        served.append(int(re.search(r"requests served: (\d+)", body).group(1)))
    check(served == list(range(served[0], served[0] + 20)), "out of order: %r" % served, g)
    check(c.nothing_more(), "bytes after 20 responses: %r" % c.buf[:80], g)
    # ... and the connection is still open: one more.
    c.send(GET)
    check(c.response()[0] == 200, "after the pipeline", g)
    c.close()
    # A POST whose body looks like a request, then a GET: 405, then 200.
    c = Conn(port)
    body = b"GET /smuggled HTTP/1.1\r\n"
    check(len(body) == 24, "the body is 24 bytes")
    c.send(b"POST / HTTP/1.1\r\nHost: guest\r\nContent-Length: 24\r\n\r\n" + body + GET)
    status, f, _ = c.response()
    check(status == 405 and "GET" in f.get("allow", ""), "POST: %d %r" % (status, f), g)
    status, _, page = c.response()
    check(status == 200 and "requests served" in page, "GET after the POST: %d" % status, g)
    check(c.nothing_more(), "a third response: the body was parsed: %r" % c.buf[:80], g)
    # HEAD: GET's fields, no body; the next response follows at once.
    c.send(b"HEAD / HTTP/1.1\r\nHost: guest\r\n\r\n" + GET)
    status, f, _ = c.response(head_only=True)
    check(status == 200 and int(f["content-length"]) > 100, "HEAD: %d %r" % (status, f), g)
    check(c.buf == b"" or c.buf.startswith(b"HTTP/1.1 200 OK\r\n"),
          "HEAD sent a body: %r" % c.buf[:80], g)
    status, f2, _ = c.response()
    check(status == 200 and f2.keys() == f.keys(), "GET after HEAD: %r %r" % (f, f2), g)
    c.close()
    # A 6 KiB cookie: 200 (and the connection stays).
    c = Conn(port)
    c.send(b"GET / HTTP/1.1\r\nHost: guest\r\nCookie: " + b"c" * 6144 + b"\r\n\r\n" + GET)
    check(c.response()[0] == 200 and c.response()[0] == 200, "6 KiB cookie", g)
    c.close()
    # A 9 KiB head: 431 and a close.
    c = Conn(port)
    c.send(b"GET / HTTP/1.1\r\nHost: guest\r\nCookie: " + b"c" * 9216 + b"\r\n\r\n")
    status, f, _ = c.response()
    check(status == 431 and f["connection"] == "close", "9 KiB head: %d" % status, g)
    check(c.closed(), "no close after 431: %r" % c.buf[:80], g)
    c.close()
    # A chunked body: 411 and a close, the chunks never read as requests.
    c = Conn(port)
    c.send(b"POST / HTTP/1.1\r\nHost: guest\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"12\r\nGET / HTTP/1.1\r\n\r\n\r\n0\r\n\r\n")
    status, f, _ = c.response()
    check(status == 411 and f["connection"] == "close", "chunked: %d" % status, g)
    check(c.closed(), "no close after 411: %r" % c.buf[:80], g)
    c.close()
    return 20 + 1 + 1 + 1 + 1 + 1 + 2, 2


def warm_start(g, port, style, path="/"):
    """A warm-up run of `httpd STYLE` with one GET of path (what stays grown
    grows), the heap's baseline after it, and the server started again.
    Returns the baseline, for heap_back."""
    g.sendline("httpd " + style)
    g.expect(r"Ctrl-C stops", 10)
    check(T.get(port, path)[0] == 200, "warm-up request", g)
    g.send("\x03")
    g.expect(r"httpd: stopped", 30)
    g.expect_prompt(10)
    time.sleep(0.8)                      # TIME-WAIT (500 ms) ends
    base = T.heap_used(g)
    g.sendline("httpd " + style)
    g.expect(r"Ctrl-C stops", 10)
    return base


def heap_back(g, base):
    """After the server stopped: the heap at its baseline once TIME-WAIT ends."""
    g.expect_prompt(10)
    time.sleep(0.8)
    check(T.heap_used(g) == base, "heap: %d before, %d after" % (base, T.heap_used(g)), g)
    check("PANIC" not in g.output, g.tail())


def framing(style):
    port = T.free_tcp_port()
    with Guest(extra=T.user_net(port)) as g:
        g.expect_prompt(30)
        base = warm_start(g, port, style)
        served, refused = cases(port, g)
        g.send("\x03")
        g.expect(r"httpd: stopped after \d+ ms: (\d+) requests served, (\d+) refused", 30)
        g.expect(r"TIME-WAIT, apart from the open ones: \d+ connections at the stop", 10)
        m = g.expect(r"request heads held [^:]*:\s+(\d+)\s+at\s+most\s+at\s+once", 10)
        check(int(m.group(1)) >= 1, "the 6 KiB head came in pieces, yet none was held", g)
        r = demo_line(g.expect(r"@demo httpd .*\n", 10).group(0).decode("latin-1"), "httpd")
        report = g.output[g.output.rfind("httpd: stopped after"):]
        check_fits(check, "httpd's report", report[:report.find("@demo httpd")], g)
        check(r["requests"] == served and r["bad_requests"] == refused, g.tail(), g)
        check(r["open_max"] <= 3 and "time_wait_max" in r, g.tail(), g)
        heap_back(g, base)


def test_framing_loop():
    framing("loop")


def test_framing_threads():
    framing("threads")



def fetch_server_closes(peer, port):
    """GET / over HTTP/1.0 by hand: the guest answers and closes first,
    our FIN follows, so the guest's end waits in TIME-WAIT."""
    peer.send_tcp(port, 80, 1000, 0, T.SYN, mss=1460)
    iss, _, flags, _, _, _ = peer.recv_tcp(port)
    check(flags == T.SYN | T.ACK, "no SYN-ACK: %#x" % flags)
    req = b"GET / HTTP/1.0\r\n\r\n"
    peer.send_tcp(port, 80, 1001, iss + 1, T.ACK | T.PSH, req)
    nxt, got, deadline = iss + 1, b"", time.monotonic() + 10
    while time.monotonic() < deadline:
        seq, _, flags, _, data, _ = peer.recv_tcp(port)
        if seq == nxt:
            got += data
            nxt += len(data)
            if flags & T.FIN:
                nxt += 1
                break
    check(got.startswith(b"HTTP/1.1 200 OK\r\n"), "response: %r" % got[:60])
    peer.send_tcp(port, 80, 1001 + len(req), nxt, T.ACK | T.FIN)
    _, ack, _, _, _, _ = peer.recv_tcp(port)
    check(ack == 1001 + len(req) + 1, "our FIN not acknowledged")
    return nxt


def test_time_wait_apart_loop():
    """Connections the server closed first wait in TIME-WAIT (500 ms, 96
    bytes each): the report counts them apart, and the heap per connection
    at the peak of open ones leaves them out. Counted in, 5 or more of them
    beside 3 idle connections (128 bytes each) would make it over 256.
    Through the raw-Ethernet peer: slirp reuses ports, and a SYN that meets
    TIME-WAIT waits a second, longer than TIME-WAIT lasts."""
    peer, g = T.boot_peer_httpd()
    try:
        with g:
            t0 = time.monotonic()
            for i in range(10):
                fetch_server_closes(peer, 42000 + i)
            for i in range(3):                 # a new peak of open ones: 3 idle
                port = 43000 + i
                peer.send_tcp(port, 80, 1000, 0, T.SYN, mss=1460)
                iss, _, flags, _, _, _ = peer.recv_tcp(port)
                check(flags == T.SYN | T.ACK, "no SYN-ACK: %#x" % flags)
                peer.send_tcp(port, 80, 1001, iss + 1, T.ACK)
            secs = time.monotonic() - t0
            time.sleep(0.05)
            g.send("\x03")
            r = demo_line(g.expect(r"@demo httpd .*\n", 30).group(0).decode("latin-1"), "httpd")
            print("TIME-WAIT at the peak: %d (%.2f s for 10 closes and 3 handshakes); "
                  "heap per connection %d bytes" % (r["time_wait_at_peak"], secs,
                                                   r["heap_per_connection_bytes"]))
            check(r["open_max"] == 3 and r["time_wait_at_peak"] >= 5,
                  "wanted 3 open and 5 or more in TIME-WAIT at the peak (%.2f s): %r" % (secs, r), g)
            check(r["time_wait_max"] >= r["time_wait_at_peak"], g.tail(), g)
            check(r["heap_per_connection_bytes"] <= 256, "TIME-WAIT counted in: %r" % r, g)
            g.expect_prompt(10)
            check("PANIC" not in g.output, g.tail())
    finally:
        peer.close()


def gone_clients_closed(style):
    """Three clients vanish without a word (their FIN or RST never comes:
    lost, or never sent): one that connected and sent nothing, one that
    sent half a head, one that got its answer and kept the connection
    alive. Under icount (the idle guest's clock runs ahead) the guest closes
    each with FIN once HTTPD_IDLE_MS (user/httpd.h; up to twice that for
    the loop's sweep) has passed without a byte, and, as nobody acknowledges the FINs, gives them
    up: no connection is left. Before, all three were held for ever."""
    peer = T.TcpPeer()
    try:
        with T.N.boot(peer, icount=True) as g:
            T.N.arp_resolve(peer)
            g.sendline("httpd " + style)
            g.expect(r"Ctrl-C stops", 10)
            sends = {43100: b"", 43101: b"GET /text HTTP/1.1\r\nHo",
                     43102: b"GET /text HTTP/1.1\r\n\r\n"}
            for port, data in sends.items():
                peer.send_tcp(port, 80, 1000, 0, T.SYN, mss=1460)
                iss, _, flags, _, _, _ = peer.recv_tcp(port)
                check(flags == T.SYN | T.ACK, "no SYN-ACK: %#x" % flags, g)
                peer.send_tcp(port, 80, 1001, iss + 1, T.ACK | (T.PSH if data else 0), data)
                if port == 43102:                    # its answer, acknowledged
                    seq, _, _, _, got, _ = peer.recv_tcp(port)
                    while not got:
                        seq, _, _, _, got, _ = peer.recv_tcp(port)
                    check(got.startswith(b"HTTP/1.1 200 OK"), "response: %r" % got[:40], g)
                    peer.send_tcp(port, 80, 1001 + len(data), seq + len(got), T.ACK)
            # Silence from here on, but for ARP: the guest's entry for us
            # expires meanwhile and it asks again before it can send.
            fins = set()
            deadline = time.monotonic() + 120
            while fins != set(sends) and time.monotonic() < deadline:
                peer.sock.settimeout(max(0.1, deadline - time.monotonic()))
                try:
                    f, _ = peer.sock.recvfrom(65536)
                except socket.timeout:
                    break
                if f[12:14] == b"\x08\x06" and f[20:22] == b"\x00\x01":
                    peer.send(T.N.eth(peer.mac, T.N.PEER_MAC, 0x0806,
                                      T.N.arp(2, T.N.PEER_MAC, T.N.PEER_IP, peer.mac, T.N.GUEST_IP)))
                elif f[12:14] == b"\x08\x00" and f[23] == 6 and f[47] & T.FIN:
                    fins.add(struct.unpack("!H", f[36:38])[0])
            wall = 120 - (deadline - time.monotonic())
            check(fins == set(sends), "no FIN to %s after %.0f s (wall) of silence"
                  % (sorted(set(sends) - fins), wall), g)
            g.send("\x03")
            r = demo_line(g.expect(r"@demo httpd .*\n", 30).group(0).decode("latin-1"), "httpd")
            g.expect_prompt(10)
            check(r["idle_closed"] == 3 and r["open_at_stop"] == 0, "%r" % r, g)
            # Nobody acknowledges the FINs: the stack gives them up.
            for _ in range(120):
                out = g.command("net")
                if re.search(r"\b0 connections now", out):
                    break
                time.sleep(0.5)
            print("httpd %s: 3 silent clients closed idle after %.0f s of wall time; "
                  "%s" % (style, wall, re.search(r"\d+ connections now[^;]*", out).group(0)))
            check(re.search(r"\b0 connections now", out), out, g)
            check("PANIC" not in g.output, g.tail())
    finally:
        peer.close()


def test_gone_clients_closed_loop():
    gone_clients_closed("loop")


def test_gone_clients_closed_threads():
    gone_clients_closed("threads")
