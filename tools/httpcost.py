#!/usr/bin/env python3
"""Guest instructions per HTTP request, for both styles of httpd, and
where they go.

    python3 tools/httpcost.py [--requests N] [--style loop|threads] [--top K]
                              [--kind keep-alive|new] [--path /PAGE]

Boots the kernel (build/no-assert/, as make bench) under
`-icount shift=0,sleep=off` and `-singlestep -d exec,nochain`, as
tools/pathtrace.py does, with the NE2000 on QEMU's dgram netdev (both ends
UDP on 127.0.0.1: tests/lib/ethpeer.py, the raw-Ethernet peer, which
builds every segment itself). Starts `httpd STYLE`, then sends N GETs of
PAGE (default /text): kept alive over one connection, or each on a new
connection (handshake, GET with HTTP/1.0, close). Every instruction the guest runs while they
are served is in QEMU's log: their count over N, by function. Bounded:
every request waits at most 5 s, only 127.0.0.1; the log (about 55 MB per
request) lives in a temporary folder.
"""
import argparse
import collections
import os
import re
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import ethpeer as N  # noqa: E402
import pathtrace  # noqa: E402
from guest import Guest, TestFailure  # noqa: E402

KERNEL = pathtrace.KERNEL

REQ_TIMEOUT_S = 5.0

# The page the goals were set on: httpd's few lines of figures, at
# GET / when the goals were written and at /text since the dashboard took
# GET / (a 2.3 KB template and a snapshot of every kernel statistic:
# --path / measures that one).
PATH = "/text"


def response(peer, port, nxt, ours):
    """Read one response (head + Content-Length body, or to FIN); ACK what
    came. Returns (bytes, next expected seq, fin)."""
    got, fin = b"", False
    deadline = time.monotonic() + REQ_TIMEOUT_S
    while time.monotonic() < deadline:
        seq, ack, flags, wnd, data, _ = peer.recv_tcp(port, REQ_TIMEOUT_S)
        if seq == nxt and data:
            got += data
            nxt += len(data)
        if flags & N.FIN and seq + len(data) == nxt:
            nxt += 1
            fin = True
        if data or fin:
            peer.send_tcp(port, 80, ours, nxt, N.ACK)
        head, sep, body = got.partition(b"\r\n\r\n")
        m = re.search(rb"(?i)content-length: *(\d+)", head)
        if fin or (sep and m and len(body) >= int(m.group(1))):
            return got, nxt, fin
    raise RuntimeError("no whole response within %.0f s" % REQ_TIMEOUT_S)


def handshake(peer, port, isn):
    peer.send_tcp(port, 80, isn, 0, N.SYN, mss=1460)
    iss, ack, flags, _, _, _ = peer.recv_tcp(port, REQ_TIMEOUT_S)
    if flags != N.SYN | N.ACK:
        raise RuntimeError("no SYN-ACK: flags %#x" % flags)
    peer.send_tcp(port, 80, isn + 1, iss + 1, N.ACK)
    return iss + 1


def keepalive_session(peer, n, port, path):
    req = b"GET %s HTTP/1.1\r\nHost: guest\r\n\r\n" % path.encode()
    ours = port << 12
    nxt = handshake(peer, port, ours)
    ours += 1
    for _ in range(n):
        peer.send_tcp(port, 80, ours, nxt, N.ACK | N.PSH, req)
        ours += len(req)
        got, nxt, fin = response(peer, port, nxt, ours)
        if not got.startswith(b"HTTP/1.1 200"):
            raise RuntimeError("response: %r" % got[:40])
    peer.send_tcp(port, 80, ours, nxt, N.ACK | N.FIN)


def new_connection_session(peer, n, port, path):
    req = b"GET %s HTTP/1.0\r\n\r\n" % path.encode()
    for i in range(n):
        p = port + i
        ours = (p << 12) & 0xFFFFFFFF
        nxt = handshake(peer, p, ours)
        ours += 1
        peer.send_tcp(p, 80, ours, nxt, N.ACK | N.PSH, req)
        ours += len(req)
        got, nxt, fin = response(peer, p, nxt, ours)
        if not got.startswith(b"HTTP/1.1 200"):
            raise RuntimeError("response: %r" % got[:40])
        if not fin:
            got, nxt, fin = response(peer, p, nxt, ours)
        peer.send_tcp(p, 80, ours, nxt, N.ACK | N.FIN)


def measure(style, kind, n, top, path=PATH, kernel=None):
    """(instructions per request, [(function, per request)] largest first);
    kernel: the ELF booted (default build/no-assert/kernel.elf)."""
    kernel = kernel or KERNEL
    peer = N.TcpPeer()
    g = None
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "exec.log")
        try:
            g = Guest(icount=True, kernel=kernel, extra=peer.netdev() + [
                "-singlestep", "-d", "exec,nochain", "-D", log])
            m = g.expect(r"NE2000 at 0x300, IRQ 9, MAC ([0-9a-f:]{17})", 120)
            peer.mac = bytes.fromhex(m.group(1).decode().replace(":", ""))
            g.expect_prompt(120)
            N.arp_resolve(peer)
            g.sendline("httpd " + style)
            g.expect(r"Ctrl-C stops", 60)
            # httpd's last line before it sleeps: its formatting is not a request's.
            g.expect(r"httpd: (from the host|make run forwards)[^\n]*\n", 10)
            start = os.path.getsize(log)
            (keepalive_session if kind == "keep-alive" else new_connection_session)(peer, n, 20000, path)
            end = os.path.getsize(log)
        finally:
            if g is not None:
                g.kill()
            peer.close()
        func = pathtrace.function_of(pathtrace.symbols(kernel))
        rx = re.compile(r"^Trace \d+: \S+ \[[0-9a-f]+/([0-9a-f]+)/")
        count = collections.Counter()
        with open(log, errors="replace") as fh:
            fh.seek(start)
            fh.readline()                  # the rest of a line cut at start
            while fh.tell() < end:
                line = fh.readline()
                if not line:
                    break
                m = rx.match(line)
                if m:
                    count[func(int(m.group(1), 16))] += 1
    total = sum(count.values())
    return total / n, [(f, c / n) for f, c in count.most_common(top)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=10)
    ap.add_argument("--style", choices=("loop", "threads"), action="append")
    ap.add_argument("--kind", choices=("keep-alive", "new"), action="append")
    ap.add_argument("--top", type=int, default=8)
    ap.add_argument("--path", default=PATH, help="the page requested (default %(default)s)")
    a = ap.parse_args()
    for style in a.style or ("loop", "threads"):
        for kind in a.kind or ("keep-alive", "new"):
            what = "keep-alive" if kind == "keep-alive" else "new connection"
            try:
                per, parts = measure(style, kind, a.requests, a.top, a.path)
            except (RuntimeError, TestFailure) as e:
                print("httpd %-7s %-15s not measured: %s" % (style, what, str(e).splitlines()[0]))
                continue
            print("httpd %-7s %-15s %8.0f instructions per request (%d requests of %s)" %
                  (style, what, per, a.requests, a.path))
            print("    " + ", ".join("%s %.0f" % fc for fc in parts))


if __name__ == "__main__":
    main()
