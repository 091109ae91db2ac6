"""What the guest no longer loses or forgets, from the raw-Ethernet peer
(tests/lib/ethpeer.py, QEMU's dgram netdev on 127.0.0.1).

- A burst of echo requests beyond the driver's 256 RX slots and a 16 KiB
  card's ring while the stack is frozen (`sched coop` and `spin`: nothing but interrupts runs):
  the frames wait on the card, every one is answered, rx-ring-full stays 0.
- UDP to a closed port: ICMP port unreachable quoting the datagram's IP
  header and first 8 bytes; none for a broadcast; a burst is held to the
  rate's bucket and the refusals are counted.
- An echo request with a code other than 0 (nmap -O's) answered, code 0;
  a protocol we do not speak: ICMP protocol unreachable, under the same
  rate, the datagram still counted as ip-protocol.
- ARP: a sender outside 10.0.2.0/24 is dropped (arp-off-subnet) and not
  learned; up to 4 packets wait for an address being resolved and leave in
  order when the reply comes, an older one pushed out is counted
  (arp-queue-full); under icount, traffic across the 60 s expiry of the
  peer's entry: a unicast request refreshes it, nothing waits, no
  arp-unresolved.

Network rules: only 127.0.0.1, restrict=on always, every loop bounded."""
import os
import re
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guest import check  # noqa: E402
from ethpeer import (GUEST_IP, PEER_IP, PEER_MAC, BCAST_MAC, Peer, arp, arp_resolve,  # noqa: E402
                     boot, check_ip_reply, csum, eth, icmp_echo, ipv4, udp)
from test_net import drops  # noqa: E402

# 256 RX slots, the rest on the card: 104 more than a 16 KiB card's 52 small
# frames, so the burst also proves the ring in QEMU's 32 KiB (116 of them).
BURST = 360


def echo_request(peer, ident, seq, data, src=PEER_IP):
    return eth(peer.mac, PEER_MAC, 0x0800, ipv4(src, GUEST_IP, 1, icmp_echo(8, ident, seq, data)))


def holds(d):
    return int(re.search(r"full (\d+) times", d["_out"]).group(1))


def test_burst_waits_on_the_card_while_the_stack_is_frozen():
    burst_while_frozen("ne2000", BURST, r"RX ring peak 256 frames")


def burst_while_frozen(nic, burst, ring_full):
    """burst echo requests to a guest with card nic whose stack is frozen
    for 3 s: every one answered, none dropped, and `net` matches ring_full
    (the driver's ring was full at least once, so the frames waited)."""
    peer = Peer(nic)
    try:
        with boot(peer) as g:
            arp_resolve(peer)
            g.command("sched coop")
            before = drops(g)
            g.sendline("spin 3000")
            g.expect(r"A thread spins for 3000 ms", 10)
            time.sleep(0.1)
            # Paced a little, so QEMU's model (which discards what finds its
            # ring full) hands each frame to the card: the ISR runs, the
            # stack does not.
            for i in range(burst):
                peer.send(echo_request(peer, 0x4242, i, b"burst %05d" % i))
                time.sleep(0.002)
            seen = set()
            peer.sock.settimeout(0.2)
            deadline = time.monotonic() + 30
            while len(seen) < burst and time.monotonic() < deadline:
                try:
                    f, _ = peer.sock.recvfrom(65536)
                except socket.timeout:
                    continue
                if f[12:14] == b"\x08\x00" and f[23] == 1 and f[34] == 0:
                    m = check_ip_reply(f, 1)
                    ident, seq = struct.unpack("!HH", m[4:8])
                    check(ident == 0x4242 and m[8:] == b"burst %05d" % seq, "echo reply %s" % m.hex())
                    seen.add(seq)
            g.expect_prompt(30)
            g.command("sched preempt")
            after = drops(g)
            check(len(seen) == burst, "%d of %d echo requests answered, missing %s\n%s"
                  % (len(seen), burst, sorted(set(range(burst)) - seen)[:10], after["_out"]))
            check(after["rx_frames"] - before["rx_frames"] == burst, after["_out"])
            check(after["total"] == before["total"] and after["rx-ring-full"] == 0, after["_out"])
            check(holds(after) >= 1, "the RX ring never filled: the test proved nothing\n" + after["_out"])
            check(re.search(ring_full, after["_out"]), after["_out"])
    finally:
        peer.close()


def burst(peer, n, datagram):
    """n datagrams (datagram(i) each) in a row, paced a little so QEMU's
    model hands each to the card; then (what the bucket holds them to) the
    ICMP errors that came back: (frames, the most the rate allows)."""
    t0 = time.monotonic()
    for i in range(n):
        peer.send(eth(peer.mac, PEER_MAC, 0x0800, datagram(i)))
        time.sleep(0.0005)
    most = 10 + int((time.monotonic() - t0) * 100) + 1
    time.sleep(0.5)
    got = []
    peer.sock.settimeout(0.3)
    try:
        while True:
            got.append(peer.sock.recvfrom(65536)[0])
    except socket.timeout:
        pass
    return got, most


def port_unreachable(f):
    return f[12:14] == b"\x08\x00" and f[23] == 1 and f[34] == 3


def test_udp_to_a_closed_port_gets_icmp_port_unreachable_within_the_rate():
    peer = Peer()
    try:
        with boot(peer) as g:
            arp_resolve(peer)
            dgram = ipv4(PEER_IP, GUEST_IP, 17, udp(PEER_IP, GUEST_IP, 40123, 9999, b"anyone there?"),
                         ident=0x1234)
            peer.send(eth(peer.mac, PEER_MAC, 0x0800, dgram))
            m = check_ip_reply(peer.recv(port_unreachable), 1)
            check(csum(m) == 0, "ICMP checksum wrong: %s" % m.hex())
            check(m[0] == 3 and m[1] == 3 and m[4:8] == b"\0\0\0\0",
                  "not type 3 code 3 with a zero 'unused': %s" % m[:8].hex())
            check(m[8:] == dgram[:28], "the quote is not the IP header + 8 bytes:\n%s\n%s"
                  % (m[8:].hex(), dgram[:28].hex()))
            # To the subnet's broadcast and on a broadcast frame: no answer.
            bdst = bytes([10, 0, 2, 255])
            peer.send(eth(BCAST_MAC, PEER_MAC, 0x0800,
                          ipv4(PEER_IP, bdst, 17, udp(PEER_IP, bdst, 40124, 9999, b"all?"))))
            peer.send(eth(BCAST_MAC, PEER_MAC, 0x0800, dgram))
            time.sleep(0.3)
            peer.sock.settimeout(0.3)
            try:
                while True:
                    f, _ = peer.sock.recvfrom(65536)
                    check(not port_unreachable(f), "port unreachable for a broadcast: %s" % f.hex())
            except socket.timeout:
                pass
            before = drops(g)
            # 60 in a row: the bucket's 10, less the one above, plus what it
            # refills at 100 a second meanwhile; the rest refused and counted.
            frames, most = burst(peer, 60, lambda i: ipv4(PEER_IP, GUEST_IP, 17, udp(
                PEER_IP, GUEST_IP, 41000 + i, 9999, b"x")))
            got = sum(map(port_unreachable, frames))
            after = drops(g)
            m = re.search(r"(\d+) port unreachables, \d+ protocol unreachables,\s+(\d+) not sent "
                          r"\(over 100 per second\)", after["_out"])
            check(m, after["_out"])
            sent, limited = int(m.group(1)), int(m.group(2))
            check(after["udp-no-port"] - before["udp-no-port"] == 60, after["_out"])
            check(1 <= got <= most and sent == 1 + got and limited == 60 - got,
                  "%d answered (at most %d), %d sent, %d refused\n%s" % (got, most, sent, limited, after["_out"]))
    finally:
        peer.close()


def protocol_unreachable(f):
    return f[12:14] == b"\x08\x00" and f[23] == 1 and f[34] == 3 and f[35] == 2


def test_echo_with_a_code_answered_and_an_unknown_protocol_gets_protocol_unreachable():
    peer = Peer()
    try:
        with boot(peer) as g:
            arp_resolve(peer)
            before = drops(g)
            # nmap -O's first echo request: code 9, which RFC 792 does not give echo.
            peer.send(eth(peer.mac, PEER_MAC, 0x0800,
                          ipv4(PEER_IP, GUEST_IP, 1, icmp_echo(8, 0x0909, 295, b"\0" * 120, code=9))))
            m = check_ip_reply(peer.recv(lambda f: f[12:14] == b"\x08\x00" and f[23] == 1 and f[34] == 0), 1)
            check(csum(m) == 0 and m[1] == 0, "echo reply's checksum or code wrong: %s" % m[:8].hex())
            check(struct.unpack("!HH", m[4:8]) == (0x0909, 295) and m[8:] == b"\0" * 120,
                  "echo reply's identifier, sequence or data wrong: %s" % m[:16].hex())
            # Protocol 253 (RFC 3692's for experiments): type 3 code 2,
            # quoting the IP header and 8 bytes.
            dgram = ipv4(PEER_IP, GUEST_IP, 253, b"experiment 253", ident=0x2530)
            peer.send(eth(peer.mac, PEER_MAC, 0x0800, dgram))
            m = check_ip_reply(peer.recv(protocol_unreachable), 1)
            check(csum(m) == 0 and m[4:8] == b"\0\0\0\0", "ICMP checksum or 'unused' wrong: %s" % m.hex())
            check(m[8:] == dgram[:28], "the quote is not the IP header + 8 bytes:\n%s\n%s"
                  % (m[8:].hex(), dgram[:28].hex()))
            # A burst is held to the bucket the port unreachables use.
            frames, most = burst(peer, 40, lambda i: ipv4(PEER_IP, GUEST_IP, 254, b"x" * 8,
                                                          ident=0x2540 + i))
            got = sum(map(protocol_unreachable, frames))
            after = drops(g)
            m = re.search(r"(\d+) port unreachables, (\d+) protocol unreachables,\s+(\d+) not sent",
                          after["_out"])
            check(m, after["_out"])
            port, proto, limited = map(int, m.groups())
            check(port == 0 and proto == 1 + got and 1 <= got <= most and limited == 40 - got,
                  "%d answered of 40 (at most %d), %d sent, %d refused\n%s"
                  % (got, most, proto, limited, after["_out"]))
            check(after["ip-protocol"] - before["ip-protocol"] == 41, after["_out"])
            check(after["icmp-type"] == before["icmp-type"] and after["rx_icmp"] - before["rx_icmp"] == 1,
                  "the echo request was dropped:\n" + after["_out"])
    finally:
        peer.close()


STRANGER_MAC = bytes.fromhex("020000000050")


def test_arp_learns_only_the_subnet_and_queues_per_address():
    peer = Peer()
    try:
        with boot(peer) as g:
            arp_resolve(peer)
            # Requests for us from outside 10.0.2.0/24: dropped, not learned, not answered.
            for i, spa in enumerate(([192, 168, 7, 7], [10, 0, 3, 2], [172, 16, 0, 1])):
                peer.send(eth(BCAST_MAC, bytes.fromhex("0200000001%02x" % i), 0x0806,
                              arp(1, bytes.fromhex("0200000001%02x" % i), bytes(spa), b"\0" * 6, GUEST_IP)))
            time.sleep(0.3)
            d = drops(g)
            check(d["arp-off-subnet"] == 3, d["_out"])
            check(re.search(r"arp: 1 of 8 entries", d["_out"]), "an outsider was learned:\n" + d["_out"])

            # Six echo requests from 10.0.2.50, whom the guest does not know:
            # it asks once, holds the four newest, and sends them in order
            # when we answer for 10.0.2.50.
            stranger = bytes([10, 0, 2, 50])
            for i in range(6):
                peer.send(echo_request(peer, 0x5050, i, b"held %d" % i, src=stranger))
                time.sleep(0.01)
            f = peer.recv(lambda f: f[12:14] == b"\x08\x06" and f[20:22] == b"\x00\x01")
            check(f[:6] == BCAST_MAC and f[38:42] == stranger, "ARP request for 10.0.2.50: %s" % f[:42].hex())
            peer.send(eth(peer.mac, STRANGER_MAC, 0x0806, arp(2, STRANGER_MAC, stranger, peer.mac, GUEST_IP)))
            seqs = []
            while len(seqs) < 4:
                f = peer.recv(lambda f: f[12:14] == b"\x08\x00" and f[23] == 1 and f[34] == 0)
                check(f[:6] == STRANGER_MAC and f[30:34] == stranger, "to the wrong station: %s" % f[:34].hex())
                seqs.append(struct.unpack("!H", f[40:42])[0])
            check(seqs == [2, 3, 4, 5], "held packets out of order or wrong: %s" % seqs)
            d = drops(g)
            check(d["arp-queue-full"] == 2 and d["arp-unresolved"] == 0, d["_out"])
    finally:
        peer.close()


def uptime_s(g):
    m = re.search(r"up (\d+\.\d+) s", g.command("uptime"))
    check(m, "uptime prints no 'up N.NNN s':\n" + g.tail())
    return float(m.group(1))


def test_arp_entry_in_use_is_refreshed_before_it_expires():
    """Under icount (guest time runs ahead while the guest idles), echo
    requests back to back for 75 s of guest time, past the peer's 60 s
    ARP expiry: the guest asks again, unicast, before it expires, keeps
    answering meanwhile, and never asks by broadcast."""
    peer = Peer()
    try:
        with boot(peer, icount=True) as g:
            arp_resolve(peer)
            t0 = uptime_s(g)
            asked = []                 # destination MAC of each ARP request for us
            seq = 0
            now = t0
            wall_end = time.monotonic() + 240
            while now < t0 + 75 and time.monotonic() < wall_end:
                for _ in range(20):
                    peer.send(echo_request(peer, 0x7e57, seq & 0xFFFF, b"keep going"))
                    deadline = time.monotonic() + 5
                    while True:
                        left = deadline - time.monotonic()
                        check(left > 0, "echo %d not answered within 5 s (guest %.1f s after the "
                              "first ARP)" % (seq, now - t0), g)
                        peer.sock.settimeout(left)
                        try:
                            f, _ = peer.sock.recvfrom(65536)
                        except socket.timeout:
                            continue
                        if f[12:14] == b"\x08\x06" and f[20:22] == b"\x00\x01" and f[38:42] == PEER_IP:
                            asked.append(f[:6])
                            peer.send(eth(peer.mac, PEER_MAC, 0x0806,
                                          arp(2, PEER_MAC, PEER_IP, peer.mac, GUEST_IP)))
                        elif (f[12:14] == b"\x08\x00" and f[23] == 1 and f[34] == 0 and
                              struct.unpack("!H", f[40:42])[0] == seq & 0xFFFF):
                            break
                    seq += 1
                    time.sleep(0.02)   # the guest idles: under icount its clock runs ahead
                now = uptime_s(g)
            d = drops(g)
            check(now >= t0 + 75, "only %.1f s of guest time passed" % (now - t0))
            check(asked, "the guest never asked for 10.0.2.2 again in %.1f s\n%s" % (now - t0, d["_out"]))
            check(all(m == PEER_MAC for m in asked),
                  "ARP by broadcast: the entry expired while in use (%s)\n%s"
                  % ([m.hex() for m in asked], d["_out"]))
            m = re.search(r"\((\d+) refreshes\)", d["_out"])
            check(m and int(m.group(1)) >= 1, d["_out"])
            check(d["total"] == 0, "drops during the run:\n" + d["_out"])
            m = re.search(r"10\.0\.2\.2\s+52:55:0a:00:02:02 \(confirmed (\d+) ms ago\)", d["_out"])
            check(m and int(m.group(1)) < (now - t0) * 1000 - 50000,
                  "the entry was not renewed:\n" + d["_out"])
    finally:
        peer.close()
