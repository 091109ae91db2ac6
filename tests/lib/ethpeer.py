"""The raw-Ethernet peer: the host end of QEMU's dgram netdev.

Both ends are UDP sockets on 127.0.0.1; each datagram carries one Ethernet
frame. The frames are built here from the RFCs (826 ARP, 791 IPv4, 792
ICMP, 768 UDP, 9293 TCP), not from the kernel's code, so that a mistake
in the kernel cannot be repeated on this side. tests/scenarios/test_net.py
and test_tcp.py use it, and so does tools/bench.py, which imports no test.

Network rules: only 127.0.0.1, restrict=on always, every loop bounded."""
import os
import re
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guest import Guest, check  # noqa: E402
import machine  # noqa: E402  (guest.py put tools/ on the path)

LOCAL = machine.LOCAL
GUEST_IP = bytes([10, 0, 2, 15])
PEER_IP = bytes([10, 0, 2, 2])
PEER_MAC = bytes.fromhex("52550a000202")
BCAST_MAC = b"\xff" * 6
NIC = machine.nic()
# The boot line of each card: the NE2000 where machine.py puts it, the
# RTL8139 where the BIOS put it (PCI).
BANNER = {"ne2000": r"NE2000 at 0x300, IRQ 9, MAC ([0-9a-f:]{17})",
          "rtl8139": r"RTL8139 at 0x[0-9a-f]+, IRQ \d+, MAC ([0-9a-f:]{17})"}
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
SO_RCVBUFFORCE = 33         # <asm-generic/socket.h>; Python's socket module lacks it
PEER_RCVBUF = 8 << 20       # bytes


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((LOCAL, 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---- frames, built here from the RFCs, not from the kernel's code ----

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(dst, src, etype, payload):
    return dst + src + struct.pack("!H", etype) + payload


def arp(op, sha, spa, tha, tpa, htype=1, ptype=0x0800, hlen=6, plen=4):
    return struct.pack("!HHBBH", htype, ptype, hlen, plen, op) + sha + spa + tha + tpa


def ipv4(src, dst, proto, payload, ttl=64, flags=0, ident=1, ver_ihl=0x45, total=None,
         bad_csum=False):
    hdr = struct.pack("!BBHHHBBH4s4s", ver_ihl, 0, total if total is not None else 20 + len(payload),
                      ident, flags, ttl, proto, 0, src, dst)
    c = csum(hdr)
    if bad_csum:
        c ^= 0x5555
    return hdr[:10] + struct.pack("!H", c) + hdr[12:] + payload


def icmp_echo(typ, ident, seq, data, bad_csum=False, code=0):
    m = struct.pack("!BBHHH", typ, code, 0, ident, seq) + data
    c = csum(m) ^ (0x1111 if bad_csum else 0)
    return m[:2] + struct.pack("!H", c) + m[4:]


def udp(src, dst, sport, dport, data, zero_csum=False, bad_csum=False, length=None):
    ulen = length if length is not None else 8 + len(data)
    u = struct.pack("!HHHH", sport, dport, ulen, 0) + data
    if zero_csum:
        return u
    pseudo = src + dst + struct.pack("!BBH", 0, 17, 8 + len(data))
    c = csum(pseudo + u) or 0xFFFF
    if bad_csum:
        c ^= 0x00F0
    return u[:6] + struct.pack("!H", c) + u[8:]


class Peer:
    """The host end of -netdev dgram: raw Ethernet frames in UDP datagrams."""

    def __init__(self, nic=machine.DEFAULT_NIC):
        self.nic = nic                 # the guest's card: a key of machine.NICS
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # Room for a burst of replies while this process is slow to read
        # (a loaded host): the default, about 200 KiB, held 256 of 1100.
        # Root may go past net.core.rmem_max (SO_RCVBUFFORCE).
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, PEER_RCVBUF)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, PEER_RCVBUF)
        self.sock.bind((LOCAL, 0))
        self.port = self.sock.getsockname()[1]
        self.qemu_port = free_udp_port()
        self.mac = None

    def netdev(self):
        return ["-netdev", "dgram,id=%s,local.type=inet,local.host=%s,local.port=%d,"
                "remote.type=inet,remote.host=%s,remote.port=%d"
                % (machine.NETDEV_ID, LOCAL, self.qemu_port, LOCAL, self.port)] + machine.nic(self.nic)

    def send(self, frame):
        self.sock.sendto(frame, (LOCAL, self.qemu_port))

    def recv(self, want, timeout=5.0):
        """The first frame for which want(frame) is true; others are skipped."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            check(left > 0, "no matching frame from the guest within %.1f s" % timeout)
            self.sock.settimeout(left)
            try:
                f, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            if want(f):
                return f

    def drain(self):
        self.sock.settimeout(0.05)
        try:
            while True:
                self.sock.recvfrom(65536)
        except socket.timeout:
            pass

    def close(self):
        self.sock.close()


def boot(peer, icount=False):
    g = Guest(icount=icount, extra=peer.netdev())
    g.expect(BANNER[peer.nic], 30)
    peer.mac = bytes.fromhex(re.search(r"MAC ([0-9a-f:]{17})", g.output).group(1).replace(":", ""))
    g.expect_prompt(30)
    return g


def arp_resolve(peer):
    """Teach the guest our MAC the RFC 826 way; return its reply."""
    peer.send(eth(BCAST_MAC, PEER_MAC, 0x0806, arp(1, PEER_MAC, PEER_IP, b"\0" * 6, GUEST_IP)))
    return peer.recv(lambda f: f[12:14] == b"\x08\x06")


def check_ip_reply(f, proto):
    check(f[:6] == PEER_MAC, "reply not sent to our MAC: %s" % f[:6].hex())
    check(f[12:14] == b"\x08\x00", "not IPv4")
    ip = f[14:]
    ihl = (ip[0] & 15) * 4
    check(ip[0] >> 4 == 4 and ihl == 20, "bad version/IHL %02x" % ip[0])
    check(csum(ip[:ihl]) == 0, "IP header checksum wrong in %s" % ip[:20].hex())
    total = struct.unpack("!H", ip[2:4])[0]
    check(ip[12:16] == GUEST_IP and ip[16:20] == PEER_IP and ip[9] == proto,
          "addresses/protocol wrong: %s" % ip[:20].hex())
    check(ip[8] > 0, "TTL 0")
    return ip[ihl:total]


def tcp_seg(sport, dport, seq, ack, flags, data=b"", wnd=8192, mss=None, bad_csum=False,
            src=PEER_IP, dst=GUEST_IP):
    opts = struct.pack("!BBH", 2, 4, mss) if mss else b""
    off = (20 + len(opts)) // 4
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, wnd, 0, 0) + opts
    seg = h + data
    c = csum(src + dst + struct.pack("!BBH", 0, 6, len(seg)) + seg)
    if bad_csum:
        c ^= 0x0F0F
    return seg[:16] + struct.pack("!H", c) + seg[18:]


class TcpPeer(Peer):
    """The same peer, speaking TCP segments from RFC 9293's header layout."""

    def send_tcp(self, *a, **k):
        self.send(eth(self.mac, PEER_MAC, 0x0800, ipv4(PEER_IP, GUEST_IP, 6, tcp_seg(*a, **k))))

    def recv_tcp(self, sport, timeout=5.0):
        """The next segment to our port sport: (seq, ack, flags, wnd, data, options)."""
        f = self.recv(lambda f: f[12:14] == b"\x08\x00" and f[23] == 6 and
                      struct.unpack("!H", f[36:38])[0] == sport, timeout)
        seg = check_ip_reply(f, 6)
        check(csum(GUEST_IP + PEER_IP + struct.pack("!BBH", 0, 6, len(seg)) + seg) == 0,
              "TCP checksum wrong: %s" % seg[:20].hex())
        _, _, seq, ack, off, flags, wnd = struct.unpack("!HHIIBBH", seg[:16])
        hl = (off >> 4) * 4
        return seq, ack, flags, wnd, seg[hl:], seg[20:hl]
