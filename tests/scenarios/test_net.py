"""The NE2000 driver and the IPv4 stack from the outside.

A host-side peer speaks raw Ethernet to the guest over QEMU's dgram netdev
(both ends UDP sockets on 127.0.0.1): ARP, ICMP echo and UDP echo get
correct replies (checksums verified here, independently of the kernel's
code); malformed, truncated, oversized, bad-checksum, fragmented and
garbage frames are dropped and counted by reason in `net`; after a flood of
10,000 junk frames a ping still works. Then QEMU's user network with
restrict=on and a host forward on 127.0.0.1: a host UDP client is echoed,
and `ping` reaches slirp's gateway 10.0.2.2. Without a NIC the kernel boots
and says so once.

Network rules: only 127.0.0.1, restrict=on always, every loop bounded."""
import os
import random
import re
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from demo_line import demo_line  # noqa: E402
from guest import Guest, check  # noqa: E402
import machine  # noqa: E402
# The peer and the frames it builds (tests/lib/ethpeer.py).
from ethpeer import (LOCAL, GUEST_IP, PEER_IP, PEER_MAC, NIC, Peer, arp, arp_resolve,  # noqa: E402,F401
                     boot, check_ip_reply, csum, eth, free_udp_port, icmp_echo, ipv4, udp)


def drops(g):
    """`net`'s counters: {'ip-checksum': 3, ...} plus 'rx_frames' and the rest."""
    out = g.command("net")
    d = {k: int(v) for k, v in re.findall(r"([a-z]+(?:-[a-z]+)+)\s+(\d+)", out)}
    m = re.search(r"in:  (\d+) frames, (\d+) bytes, (\d+) interrupts", out)
    check(m, "net prints no 'in:' line:\n" + out)
    d["rx_frames"] = int(m.group(1))
    m = re.search(r"accepted: (\d+) arp, (\d+) ip \((\d+) icmp, (\d+) udp\)", out)
    d["rx_arp"], d["rx_ip"], d["rx_icmp"], d["rx_udp"] = map(int, m.groups())
    d["total"] = int(re.search(r"dropped: (\d+) frames", out).group(1))
    d["_out"] = out
    return d


def check_silent(peer, secs=0.5):
    """The guest sends nothing for secs seconds."""
    peer.sock.settimeout(secs)
    try:
        f, _ = peer.sock.recvfrom(65536)
    except socket.timeout:
        return
    check(False, "the guest sent a frame: %s" % f[:42].hex())


def heap_used(g):
    m = re.search(r"heap: \d+ bytes, (\d+) used", g.command("mem"))
    check(m, "mem prints no heap line")
    return int(m.group(1))


def test_arp_icmp_udp_replies():
    peer = Peer()
    try:
        with boot(peer) as g:
            # ARP: a reply to us, about 10.0.2.15, with the guest's MAC.
            f = arp_resolve(peer)
            check(f[:6] == PEER_MAC and f[6:12] == peer.mac, "ARP reply addressing: %s" % f[:14].hex())
            htype, ptype, hlen, plen, op = struct.unpack("!HHBBH", f[14:22])
            check((htype, ptype, hlen, plen, op) == (1, 0x0800, 6, 4, 2), "ARP reply header %s" % f[14:22].hex())
            check(f[22:28] == peer.mac and f[28:32] == GUEST_IP, "ARP sender wrong")
            check(f[32:38] == PEER_MAC and f[38:42] == PEER_IP, "ARP target wrong")

            # ICMP echo: same id, seq and data; checksum right.
            data = bytes(range(56))
            peer.send(eth(peer.mac, PEER_MAC, 0x0800,
                          ipv4(PEER_IP, GUEST_IP, 1, icmp_echo(8, 0x4242, 7, data))))
            f = peer.recv(lambda f: f[12:14] == b"\x08\x00" and f[23] == 1)
            m = check_ip_reply(f, 1)
            check(csum(m) == 0, "ICMP checksum wrong: %s" % m[:8].hex())
            check(m[0] == 0 and m[1] == 0 and m[4:8] == struct.pack("!HH", 0x4242, 7) and m[8:] == data,
                  "echo reply differs: %s" % m.hex())

            # UDP echo on port 7, with and without a checksum; odd length.
            for zero in (False, True):
                payload = b"is it web scale?" + (b"!" if zero else b"")
                peer.send(eth(peer.mac, PEER_MAC, 0x0800,
                              ipv4(PEER_IP, GUEST_IP, 17, udp(PEER_IP, GUEST_IP, 40000, 7, payload,
                                                              zero_csum=zero))))
                f = peer.recv(lambda f: f[12:14] == b"\x08\x00" and f[23] == 17)
                u = check_ip_reply(f, 17)
                sport, dport, ulen, c = struct.unpack("!HHHH", u[:8])
                check((sport, dport, ulen) == (7, 40000, 8 + len(payload)), "UDP header %s" % u[:8].hex())
                check(c != 0 and csum(PEER_IP + GUEST_IP + struct.pack("!BBH", 0, 17, ulen) + u[:ulen]) == 0,
                      "UDP checksum wrong: %s" % u.hex())
                check(u[8:ulen] == payload, "UDP echo differs: %r" % u[8:])

            d = drops(g)
            check(d["total"] == 0, "a good exchange dropped frames:\n" + d["_out"])
            check(d["rx_arp"] == 1 and d["rx_icmp"] == 1 and d["rx_udp"] == 2, d["_out"])
            check(re.search(r"10\.0\.2\.2\s+52:55:0a:00:02:02 \(confirmed \d+ ms ago\)", d["_out"]),
                  "the ARP table lacks the peer:\n" + d["_out"])

            # The guest pings us: it asks ARP (it knows us already), we answer the echo.
            stop = threading.Event()

            def responder():
                peer.sock.settimeout(0.1)
                while not stop.is_set():
                    try:
                        f, _ = peer.sock.recvfrom(65536)
                    except socket.timeout:
                        continue
                    if f[12:14] == b"\x08\x00" and f[23] == 1 and f[34] == 8:
                        ip = f[14:34]
                        m = f[34:14 + struct.unpack("!H", ip[2:4])[0]]
                        peer.send(eth(peer.mac, PEER_MAC, 0x0800,
                                      ipv4(PEER_IP, GUEST_IP, 1, icmp_echo(0, *struct.unpack("!HH", m[4:8]),
                                                                          m[8:]), ttl=99)))
            t = threading.Thread(target=responder, daemon=True)
            t.start()
            try:
                out = g.command("ping 10.0.2.2 2", 20)
            finally:
                stop.set()
                t.join(5)
            check(len(re.findall(r"64 bytes from 10\.0\.2\.2: seq=\d ttl=99 time=\d+ us \(\d+ ns\)", out)) == 2,
                  "ping of the peer:\n" + out)
            m = demo_line(out, "ping")
            check(m["sent"] == m["received"] == 2 and 0 < m["min_ns"] <= m["avg_ns"] <= m["max_ns"],
                  out)
    finally:
        peer.close()


def bad_frames(mac):
    """(reason, frame) pairs: each frame must be dropped for that reason."""
    E = lambda payload, t=0x0800: eth(mac, PEER_MAC, t, payload)  # noqa: E731
    good_icmp = icmp_echo(8, 1, 1, b"x" * 8)
    return [
        ("eth-type", E(b"\x60" + b"\0" * 50, 0x86DD)),                        # IPv6
        ("eth-type", E(b"\0" * 46, 0x8100)),                                  # VLAN tag
        ("arp-malformed", E(arp(1, PEER_MAC, PEER_IP, b"\0" * 6, GUEST_IP, plen=16), 0x0806)),
        ("arp-malformed", E(arp(9, PEER_MAC, PEER_IP, b"\0" * 6, GUEST_IP), 0x0806)),
        ("arp-not-for-us", E(arp(1, bytes.fromhex("020000000077"), bytes([10, 0, 2, 77]), b"\0" * 6,
                                 bytes([10, 0, 2, 99])), 0x0806)),
        ("ip-truncated", E(ipv4(PEER_IP, GUEST_IP, 1, good_icmp, total=1000))),
        ("ip-bad-header", E(ipv4(PEER_IP, GUEST_IP, 1, good_icmp, ver_ihl=0x65))),
        ("ip-bad-header", E(ipv4(PEER_IP, GUEST_IP, 1, good_icmp, ver_ihl=0x43))),
        ("ip-checksum", E(ipv4(PEER_IP, GUEST_IP, 1, good_icmp, bad_csum=True))),
        ("ip-reserved-flag", E(ipv4(PEER_IP, GUEST_IP, 1, good_icmp, flags=0x8000))),
        ("ip-reserved-flag", E(ipv4(PEER_IP, GUEST_IP, 1, good_icmp, flags=0xE000 | 0x1FFF))),  # flag soup
        ("ip-fragment", E(ipv4(PEER_IP, GUEST_IP, 1, good_icmp, flags=0x2000))),
        ("ip-fragment", E(ipv4(PEER_IP, GUEST_IP, 1, good_icmp, flags=0x0010))),
        ("ip-not-for-us", E(ipv4(PEER_IP, bytes([10, 0, 2, 99]), 1, good_icmp))),
        ("ip-bad-source", E(ipv4(bytes([127, 0, 0, 1]), GUEST_IP, 1, good_icmp))),
        ("ip-bad-source", E(ipv4(bytes([10, 0, 2, 255]), GUEST_IP, 1, good_icmp))),
        ("ip-protocol", E(ipv4(PEER_IP, GUEST_IP, 132, b"\0" * 20))),        # SCTP
        ("icmp-truncated", E(ipv4(PEER_IP, GUEST_IP, 1, b"\x08\0\0\0"))),
        ("icmp-checksum", E(ipv4(PEER_IP, GUEST_IP, 1, icmp_echo(8, 1, 1, b"y" * 8, bad_csum=True)))),
        ("icmp-type", E(ipv4(PEER_IP, GUEST_IP, 1, icmp_echo(13, 1, 1, b"\0" * 12)))),  # timestamp
        ("icmp-type", E(ipv4(PEER_IP, GUEST_IP, 1, icmp_echo(0, 9, 9, b"unasked")))),    # stray reply
        ("echo-refused", E(ipv4(PEER_IP, bytes([10, 0, 2, 255]), 1, good_icmp))),
        ("echo-refused", E(ipv4(PEER_IP, b"\xff" * 4, 17, udp(PEER_IP, b"\xff" * 4, 1000, 7, b"amp")))),
        ("udp-truncated", E(ipv4(PEER_IP, GUEST_IP, 17, udp(PEER_IP, GUEST_IP, 1, 7, b"abc", length=4)))),
        ("udp-truncated", E(ipv4(PEER_IP, GUEST_IP, 17, udp(PEER_IP, GUEST_IP, 1, 7, b"abc", length=200)))),
        ("udp-checksum", E(ipv4(PEER_IP, GUEST_IP, 17, udp(PEER_IP, GUEST_IP, 1, 7, b"abc", bad_csum=True)))),
        ("udp-no-port", E(ipv4(PEER_IP, GUEST_IP, 17, udp(PEER_IP, GUEST_IP, 1, 9999, b"abc")))),
        ("rx-too-long", E(b"\0" * 1600)),                                      # a giant
    ]


def bad_and_garbage_frames_each_dropped_once(g, peer):
    """bad_frames, then 50 garbage frames after our MAC, paced so no ring
    fills: each dropped once under its reason (the garbage whatever its
    reason), none lost, none accepted; the giant never reaches the stack
    (the driver read its header and skipped it). (frames, garbage, `net`
    after)."""
    before = drops(g)
    frames = bad_frames(peer.mac)
    for _reason, f in frames:
        peer.send(f)
        time.sleep(0.002)          # no ring ever fills: every frame must be counted
    time.sleep(0.3)
    after = drops(g)
    want = {}
    for reason, _f in frames:
        want[reason] = want.get(reason, 0) + 1
    for reason, n in want.items():
        check(after.get(reason, -1) - before.get(reason, 0) == n,
              "%s: %d more, want %d\n%s" % (reason, after.get(reason, -1) - before.get(reason, 0),
                                            n, after["_out"]))
    check(after["total"] - before["total"] == len(frames), after["_out"])
    check(after["rx_frames"] - before["rx_frames"] == len(frames) - 1, after["_out"])

    rng = random.Random(1)
    garbage = [peer.mac + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 1500)))
               for _ in range(50)]
    for f in garbage:
        peer.send(f)
        time.sleep(0.002)
    time.sleep(0.3)
    before, after = after, drops(g)
    check(after["rx_frames"] - before["rx_frames"] == len(garbage), after["_out"])
    check(after["total"] - before["total"] == len(garbage), after["_out"])
    return frames, garbage, after


def alive_after_the_flood(g, peer, used):
    """Still serving: a ping from here answered, no panic, and the heap as
    it was before the flood (the stack allocates nothing: fixed rings)."""
    peer.drain()
    peer.send(eth(peer.mac, PEER_MAC, 0x0800,
                  ipv4(PEER_IP, GUEST_IP, 1, icmp_echo(8, 0x7777, 1, b"after the flood"))))
    f = peer.recv(lambda f: f[12:14] == b"\x08\x00" and f[23] == 1 and f[34] == 0)
    m = check_ip_reply(f, 1)
    check(csum(m) == 0 and m[8:] == b"after the flood", "echo after the flood: %s" % m.hex())
    check("PANIC" not in g.output and "CPU exception" not in g.output, g.tail())
    check(heap_used(g) == used, "the heap grew during the flood")


def test_ping_refuses_what_never_leaves_a_host():
    """`ping` to an address no datagram may be sent to (RFC 1122 3.2.1.3)
    says why and sends nothing: 127.0.0.1 and 0.0.0.0 went to the
    gateway's MAC, multicast too, and our own address was asked by ARP."""
    peer = Peer()
    try:
        with boot(peer) as g:
            arp_resolve(peer)
            peer.drain()
            for addr, why in (("127.0.0.1", "loopback"), ("0.0.0.0", "this host"),
                              ("224.0.0.1", "multicast"), ("240.0.0.1", "reserved"),
                              ("10.0.2.15", "our own address")):
                out = g.command("ping %s 1" % addr, 20)
                check(re.search(r"ping: %s is .*%s.*; nothing sent" % (re.escape(addr), why), out)
                      and "PING" not in out, "ping %s:\n%s" % (addr, out))
            check_silent(peer)
            # Broadcast is still a destination (ping -b): one request, to ff:ff:...
            out = g.command("ping 255.255.255.255 1", 20)
            check("1 sent" in out, out)
            f = peer.recv(lambda f: f[12:14] == b"\x08\x00" and f[23] == 1)
            check(f[:6] == b"\xff" * 6 and f[30:34] == b"\xff" * 4, f[:42].hex())
            check("PANIC" not in g.output, g.tail())
    finally:
        peer.close()


def test_udp_echo_refuses_a_service_port():
    """A datagram to the echo service from port 7 (another host's echo, as a
    forger would write it) or 19 (chargen) is not answered, or the two
    services would answer each other for ever (CERT CA-1996-01): dropped
    and counted as echo-refused. From a client's port it is echoed."""
    peer = Peer()
    try:
        with boot(peer) as g:
            arp_resolve(peer)
            before = drops(g)
            for sport in (7, 19, 1023):
                peer.send(eth(peer.mac, PEER_MAC, 0x0800,
                              ipv4(PEER_IP, GUEST_IP, 17, udp(PEER_IP, GUEST_IP, sport, 7, b"loop?"))))
            check_silent(peer)
            peer.send(eth(peer.mac, PEER_MAC, 0x0800,
                          ipv4(PEER_IP, GUEST_IP, 17, udp(PEER_IP, GUEST_IP, 1024, 7, b"client"))))
            f = peer.recv(lambda f: f[12:14] == b"\x08\x00" and f[23] == 17)
            u = check_ip_reply(f, 17)
            check(struct.unpack("!HH", u[:4]) == (7, 1024) and u[8:] == b"client", u.hex())
            after = drops(g)
            check(after["echo-refused"] - before["echo-refused"] == 3, after["_out"])
            check(after["rx_udp"] - before["rx_udp"] == 4, after["_out"])
    finally:
        peer.close()


def test_bad_frames_dropped_by_reason_and_flood():
    peer = Peer()
    try:
        with boot(peer) as g:
            arp_resolve(peer)
            frames, garbage, after = bad_and_garbage_frames_each_dropped_once(g, peer)
            peer.drain()

            used = heap_used(g)
            # A flood: 10,000 junk frames as fast as the socket takes them.
            # QEMU's ISA NE2000 discards what finds its ring full (it has no
            # can_receive to hold frames back): the guest sees what it can.
            t0 = time.monotonic()
            for i in range(10000):
                peer.send(frames[i % len(frames)][1] if i % 3 else garbage[i % len(garbage)])
            time.sleep(0.5)
            flood = drops(g)
            got = flood["rx_frames"] - after["rx_frames"]
            check(got > 0, "the flood never reached the guest")
            check(flood["total"] - after["total"] >= got,
                  "frames in the flood not dropped:\n" + flood["_out"])
            del t0

            # Jumbo frames (9000 bytes) in a burst: QEMU's NE2000 keeps room
            # for one 1518-byte frame only, so it writes over frames not yet
            # read. The driver must notice impossible ring headers, empty the
            # ring, count it (rx-bad-ring-header) and go on.
            peer.drain()
            for i in range(600):
                peer.send(eth(peer.mac, PEER_MAC, 0x86DD, bytes([i & 255]) * (9000 if i % 2 else 46)))
            time.sleep(0.5)
            jumbo = drops(g)
            # However the card mangled them (a whole giant, or a ring header
            # that a giant overwrote), the driver must have noticed some.
            noticed = sum(jumbo.get(k, 0) - flood.get(k, 0)
                          for k in ("rx-too-long", "rx-bad-ring-header", "rx-overflow"))
            check(noticed > 0, "no giant was seen:\n" + jumbo["_out"])

            alive_after_the_flood(g, peer, used)
    finally:
        peer.close()


def test_user_net_udp_echo_and_ping_gateway():
    user_net_echo_and_ping(machine.DEFAULT_NIC)


def user_net_echo_and_ping(nic):
    """On QEMU's user network with card nic: a host datagram echoed, slirp's
    gateway pinged, nothing outside reached, latency's NIC row measured."""
    port = free_udp_port()
    with Guest(extra=machine.user_net(udp=port, kind=nic)) as g:
        g.expect_prompt(30)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        reply = None
        try:
            s.settimeout(0.3)
            for _ in range(5):             # slirp may first ARP for the guest
                s.sendto(b"hello from the host", (LOCAL, port))
                try:
                    reply, _ = s.recvfrom(2048)
                    break
                except socket.timeout:
                    continue
        finally:
            s.close()
        # The datagram reached the guest and it answered. libslirp 4.7 drops
        # every UDP datagram from the guest under restrict=on (udp_input:
        # "if (slirp->restricted) goto bad"), replies through a hostfwd too,
        # so the host may never see the echo; a later libslirp may pass it.
        d = drops(g)
        check(d["rx_udp"] >= 1 and re.search(r"[1-9]\d* udp echoes", d["_out"]),
              "the forwarded datagram was not echoed by the guest:\n" + d["_out"])
        check(reply in (None, b"hello from the host"), "wrong UDP echo: %r" % reply)
        # slirp answers ICMP echo to its gateway address itself, restrict=on or not.
        out = g.command("ping 10.0.2.2 2", 20)
        check(len(re.findall(r"64 bytes from 10\.0\.2\.2: seq=\d ttl=\d+ time=\d+ us \(\d+ ns\)", out)) == 2, out)
        m = demo_line(out, "ping")
        check(m["to"] == "10.0.2.2" and m["sent"] == m["received"] == 2, out)
        # restrict=on: nothing outside answers.
        out2 = g.command("ping 8.8.8.8 1", 20)
        m = demo_line(out2, "ping")
        check(m["sent"] == 1 and m["received"] == 0 and "min_ns" not in m,
              "restrict=on let a ping out:\n" + out2)
        # Ctrl-C stops a ping that gets no answers (10.0.2.99: no ARP reply).
        g.sendline("ping 10.0.2.99 100")
        g.expect(r"no reply within 1000 ms", 10)
        g.send("\x03")
        g.expect(r"--- 10\.0\.2\.99: \d+ sent, 0 received, 100 % lost", 10)
        g.expect(r"stopped by Ctrl-C", 10)
        g.expect_prompt(10)
        out = g.command("latency", 60)
        check(re.search(r"^  NIC round trip \(ICMP echo to gateway, best of 3\)\s+\d+(\.\d+)? (ns|us)   ",
                        out, re.M), out)
        time.sleep(3.5)                # ARP gives 10.0.2.99 up 3 s after the first ask
        d = drops(g)
        # Only the pings to 10.0.2.99 that waited for ARP in vain were dropped.
        check(d["total"] == d["arp-unresolved"] >= 1, d["_out"])


def test_no_nic_boots_and_says_so_once():
    with Guest() as g:
        g.expect_prompt(30)
        check(g.output.count("no NE2000 at 0x300: no network") == 1, g.output)
        check("no NIC" in g.command("net"), g.tail())
        check("no NIC" in g.command("ping"), g.tail())
        check("not an IPv4 address" in g.command("ping 10.0.2"), g.tail())
