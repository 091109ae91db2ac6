"""TCP (RFC 9293) and `httpd` from the outside.

With QEMU's user network (restrict=on, a host forward on 127.0.0.1 only):
a Python HTTP client gets the page from `httpd loop` and `httpd threads`,
sequential and ~20 concurrent requests all succeed, garbage gets 400, and
the heap is back at its baseline once the server stopped and TIME-WAIT is
over. With the raw-Ethernet dgram peer of tests/lib/ethpeer.py, segments built here
from the RFC: the handshake's fields, RST to a closed port for every
segment without RST (the FIN, Xmas and null scans too), a bad checksum
and flag soup to the listening port dropped and counted, a SYN flood
answered in full (the backlog, then SYN cookies) while a real connection
still completes on its cookie, and the retransmission of data the peer
does not acknowledge.

Network rules: only 127.0.0.1, restrict=on always, every loop bounded."""
import concurrent.futures as cf
import http.client
import os
import re
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_line import demo_line  # noqa: E402
from guest import Guest, c_define, check  # noqa: E402
import machine  # noqa: E402
import test_net as N  # noqa: E402
# The raw-Ethernet peer (tests/lib/ethpeer.py) and TCP's flags.
from ethpeer import LOCAL, TcpPeer, FIN, SYN, RST, PSH, ACK  # noqa: E402


def free_tcp_port():
    s = socket.socket()
    s.bind((LOCAL, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def user_net(port):
    return machine.user_net(tcp=port)


def heap_used(g):
    m = re.search(r"heap: \d+ bytes, (\d+) used", g.command("mem"))
    check(m, "mem prints no heap line")
    return int(m.group(1))


# Generous: under load a SYN that met a full backlog waits for slirp's
# own retransmission, seconds later; a lost connection still fails.
HTTP_TIMEOUT = 30


def get(port, path="/", timeout=HTTP_TIMEOUT):
    c = http.client.HTTPConnection(LOCAL, port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read().decode("latin-1")
    finally:
        c.close()


def serve_and_check(style):
    port = free_tcp_port()
    with Guest(extra=user_net(port)) as g:
        g.expect_prompt(30)
        # A first short run grows what stays grown (the loop's timer heap,
        # its table of callback names): the baseline is taken after it.
        g.sendline("httpd " + style)
        g.expect(r"Ctrl-C stops", 10)
        for _ in range(3):
            check(get(port)[0] == 200, "warm-up request", g)
        g.send("\x03")
        g.expect(r"httpd: stopped", 30)
        g.expect_prompt(10)
        time.sleep(0.8)                # TIME-WAIT (500 ms) ends
        base = heap_used(g)
        g.sendline("httpd " + style)
        g.expect(r"listening on TCP port 80; Ctrl-C stops", 10)
        # Sequential, each on a new connection; slirp may first ARP.
        t0 = time.monotonic()
        n_seq = 60
        for _ in range(n_seq):
            status, body = get(port)
            check(status == 200, "status %d" % status, g)
        secs = time.monotonic() - t0
        check(re.search(r"requests served: \d+", body) and "bytes of heap" in body, body, g)
        # Keep-alive: several requests on one connection.
        c = http.client.HTTPConnection(LOCAL, port, timeout=HTTP_TIMEOUT)
        for _ in range(5):
            c.request("GET", "/")
            r = c.getresponse()
            check(r.status == 200 and "requests served" in r.read().decode(), "keep-alive", g)
        c.close()
        # ~20 at once.
        with cf.ThreadPoolExecutor(20) as ex:
            res = list(ex.map(lambda _: get(port), range(40)))
        check(all(s == 200 for s, _ in res), "concurrent: %r" % [s for s, _ in res], g)
        status, _ = get(port, "/nothing")
        check(status == 404, "404 wanted, got %d" % status, g)
        # Garbage gets 400 and a close.
        s = socket.create_connection((LOCAL, port), timeout=HTTP_TIMEOUT)
        s.sendall(b"\x01\x02 garbage \xff\r\n\r\n")
        reply = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            reply += d
        s.close()
        check(reply.startswith(b"HTTP/1.1 400 Bad Request\r\n"), "garbage: %r" % reply[:80], g)
        g.send("\x03")
        g.expect(r"httpd: stopped after \d+ ms: \d+ requests served", 30)
        m = g.expect(r"memory per connection at the peak:\s+(\d+)\s+bytes\s+of\s+heap\s+\(struct\s+tcp_conn\s+(\d+)\s+bytes", 10)
        check(int(m.group(2)) <= 256, "a connection costs %s bytes" % m.group(2), g)
        r = demo_line(g.expect(r"@demo httpd .*\n", 10).group(0).decode("latin-1"), "httpd")
        check(r["requests"] == n_seq + 5 + 40 + 1 and r["bad_requests"] == 1, g.tail(), g)
        check(r["switches"] > 0 and r["heap_per_connection_bytes"] > 0, g.tail(), g)
        g.expect_prompt(10)
        time.sleep(0.8)                # TIME-WAIT (500 ms) ends
        check(heap_used(g) == base, "heap: %d before, %d after\n%s" % (base, heap_used(g), g.command("net")), g)
        out = g.command("net")
        check(re.search(r"\b0 connections now", out), out, g)
        check("PANIC" not in g.output, g.tail())
        return n_seq / secs


def test_httpd_loop_from_the_host():
    rate = serve_and_check("loop")
    print("httpd loop: %.0f sequential requests/s (host wall clock)" % rate)


def test_httpd_threads_from_the_host():
    rate = serve_and_check("threads")
    print("httpd threads: %.0f sequential requests/s (host wall clock)" % rate)


def tcp_drops(g):
    return N.drops(g)


def boot_peer_httpd():
    peer = TcpPeer()
    g = N.boot(peer)
    N.arp_resolve(peer)
    g.sendline("httpd loop")
    g.expect(r"Ctrl-C stops", 10)
    return peer, g


def test_handshake_rst_checksum_flags():
    peer, g = boot_peer_httpd()
    try:
        with g:
            # RST to a closed port, for a SYN: seq 0, ack = its seq + 1.
            peer.send_tcp(40001, 81, 1000, 0, SYN)
            seq, ack, flags, _, _, _ = peer.recv_tcp(40001)
            check(flags == RST | ACK and seq == 0 and ack == 1001, "closed port: flags %#x seq %d ack %d" % (flags, seq, ack))
            # RFC 9293 3.10.7.1 for the scanners' probes: FIN (nmap -sF),
            # Xmas (-sX: FIN+PSH+URG), null (-sN), SYN+FIN; without ACK the
            # RST acknowledges SEG.SEQ + SEG.LEN, with ACK it sits at SEG.ACK.
            URG = 0x20
            for port, seg_flags, sq, ak, want in ((40011, FIN, 2000, 0, (RST | ACK, 0, 2001)),
                                                  (40012, FIN | PSH | URG, 3000, 0, (RST | ACK, 0, 3001)),
                                                  (40013, 0, 4000, 0, (RST | ACK, 0, 4000)),
                                                  (40014, SYN | FIN, 5000, 0, (RST | ACK, 0, 5002)),
                                                  (40015, FIN | ACK, 6000, 777, (RST, 777, None))):
                peer.send_tcp(port, 82, sq, ak, seg_flags)
                seq, ack, flags, _, data, _ = peer.recv_tcp(port)
                check((flags, seq) == want[:2] and (want[2] is None or ack == want[2]) and not data,
                      "closed port, flags %#x in: flags %#x seq %d ack %d out" % (seg_flags, flags, seq, ack))
            peer.send_tcp(40016, 82, 1, 2, RST | FIN)     # holds RST: nothing answers it
            # The handshake on port 80: SYN-ACK acks our ISN + 1, offers a window and MSS 1460.
            peer.send_tcp(40002, 80, 5000, 0, SYN, mss=1400)
            iss, ack, flags, wnd, _, opts = peer.recv_tcp(40002)
            check(flags == SYN | ACK and ack == 5001 and wnd > 0, "SYN-ACK: flags %#x ack %d wnd %d" % (flags, ack, wnd))
            check(opts[:4] == struct.pack("!BBH", 2, 4, 1460), "no MSS option: %s" % opts.hex())
            peer.send_tcp(40002, 80, 5001, iss + 1, ACK)
            req = b"GET / HTTP/1.0\r\n\r\n"
            peer.send_tcp(40002, 80, 5001, iss + 1, ACK | PSH, req)
            got = b""
            fin = False
            nxt = iss + 1
            deadline = time.monotonic() + 5
            while not fin and time.monotonic() < deadline:
                seq, ack, flags, wnd, data, _ = peer.recv_tcp(40002)
                check(ack == 5001 + len(req), "ack of the request: %d" % ack)
                if seq == nxt:
                    got += data
                    nxt += len(data)
                    if flags & FIN:
                        fin = True
                        nxt += 1
            check(fin and got.startswith(b"HTTP/1.1 200 OK\r\n"), "response: %r" % got[:60])
            peer.send_tcp(40002, 80, 5001 + len(req), nxt, ACK | FIN)
            _, ack, flags, _, _, _ = peer.recv_tcp(40002)
            check(flags & ACK and ack == 5001 + len(req) + 1, "our FIN not acked: %#x %d" % (flags, ack))

            before = dict.fromkeys(("tcp-checksum", "tcp-bad-flags", "tcp-bad-ack"), 0)
            # A bad checksum is dropped and counted, nothing answers it.
            peer.send_tcp(40003, 80, 1, 0, SYN, bad_csum=True)
            # Flag soup: SYN+FIN, null, Xmas.
            for f in (SYN | FIN, 0, FIN | PSH | 0x20):
                peer.send_tcp(40004, 80, 1, 0, f)
            # A segment of an unknown connection with ACK: RST seq = its ack.
            peer.send_tcp(40005, 80, 77, 123456, ACK)
            seq, _, flags, _, _, _ = peer.recv_tcp(40005)
            check(flags == RST and seq == 123456, "RST for a stray ACK: %#x %d" % (flags, seq))
            time.sleep(0.3)
            g.send("\x03")
            g.expect_prompt(20)
            after = tcp_drops(g)
            check(after["tcp-checksum"] - before["tcp-checksum"] == 1, after["_out"])
            check(after["tcp-bad-flags"] - before["tcp-bad-flags"] == 3, after["_out"])
            check(after["tcp-bad-ack"] - before["tcp-bad-ack"] == 1, after["_out"])
            peer.sock.settimeout(0.2)
            try:
                while True:
                    f, _ = peer.sock.recvfrom(65536)
                    check(not (f[23] == 6 and struct.unpack("!H", f[36:38])[0] in (40003, 40004, 40016)),
                          "the guest answered a dropped segment")
            except socket.timeout:
                pass
    finally:
        peer.close()


def syn_acks(peer, ports, got, quiet):
    """Add to got the ports among `ports` that got a SYN-ACK, reading until
    quiet s pass without a frame."""
    peer.sock.settimeout(quiet)
    try:
        while True:
            f, _ = peer.sock.recvfrom(65536)
            if f[12:14] == b"\x08\x00" and f[23] == 6 and f[47] == SYN | ACK:
                port = struct.unpack("!H", f[36:38])[0]
                if port in ports:
                    got.add(port)
    except socket.timeout:
        pass


# user/cmd_httpd.c's HTTP_BACKLOG: half-open and unaccepted connections.
HTTPD_BACKLOG = c_define("user/cmd_httpd.c", "HTTP_BACKLOG")


def test_syn_flood_cookies_and_retransmission():
    peer, g = boot_peer_httpd()
    try:
        with g:
            # FLOOD SYNs from ports nobody will finish: httpd's backlog
            # (HTTPD_BACKLOG) holds that many half-open ones, every other SYN
            # gets a SYN cookie: all FLOOD are answered. Paced so the card's
            # ring keeps up, and read meanwhile so our socket's buffer does.
            flood = HTTPD_BACKLOG + 44
            ports = set(range(20000, 20000 + flood))
            got = set()
            for i, port in enumerate(sorted(ports)):
                peer.send_tcp(port, 80, 1000 * i, 0, SYN)
                if i % 16 == 15:
                    syn_acks(peer, ports, got, 0.025)
            syn_acks(peer, ports, got, 0.5)
            check(got == ports, "%d of %d SYNs got no SYN-ACK: %s" % (len(ports - got), flood, sorted(ports - got)[:10]))
            # A real client still gets through, and its request is answered.
            peer.send_tcp(41000, 80, 9000, 0, SYN)
            iss, ack, flags, _, _, _ = peer.recv_tcp(41000)
            check(flags == SYN | ACK and ack == 9001, "no SYN-ACK during the flood: %#x" % flags)
            peer.send_tcp(41000, 80, 9001, iss + 1, ACK)
            req = b"GET /text HTTP/1.1\r\n\r\n"     # a page of one segment
            peer.send_tcp(41000, 80, 9001, iss + 1, ACK | PSH, req)
            # Withhold the ACK of the response: it comes again, same seq, later.
            seq1, _, _, _, data1, _ = peer.recv_tcp(41000)
            while not data1:
                seq1, _, _, _, data1, _ = peer.recv_tcp(41000)
            t1 = time.monotonic()
            seq2, _, _, _, data2, _ = peer.recv_tcp(41000, 3)
            while not data2:
                seq2, _, _, _, data2, _ = peer.recv_tcp(41000, 3)
            dt = time.monotonic() - t1
            check(seq2 == seq1 and data2 == data1 and data1.startswith(b"HTTP/1.1 200 OK"),
                  "retransmission differs: %d/%d %r" % (seq1, seq2, data2[:30]))
            # The cookie kept no SYN-ACK timing and the response is not
            # acknowledged: RFC 6298's initial RTO, 1 s.
            check(0.9 < dt < 2.0, "retransmitted after %.3f s (RTO 1 s wanted)" % dt)
            # Acknowledge it now: no more copies.
            peer.send_tcp(41000, 80, 9001 + len(req), seq1 + len(data1), ACK)
            g.send("\x03")
            g.expect(r"httpd: stopped after \d+ ms: 1 requests served", 20)
            g.expect_prompt(10)
            out = g.command("net")
            m = re.search(r"(\d+) SYNs took a slot, (\d+) cookies sent, (\d+) came back,\s+"
                          r"\d+ completed a half-open one; half-open at most (\d+);\s+"
                          r"(\d+) retransmits", out)
            check(m, out)
            took, sent, back, most, rexmit = (int(x) for x in m.groups())
            check(most <= HTTPD_BACKLOG, "half-open reached %d: httpd's backlog is %d\n%s"
                  % (most, HTTPD_BACKLOG, out))
            check(rexmit >= 1, out)
            # The real client came back with a cookie (the backlog was still
            # half-open); every SYN either took a slot or got a cookie.
            check(back == 1 and took + sent == flood + 1, out)
            check("PANIC" not in g.output, g.tail())
    finally:
        peer.close()
