"""The RTL8139 driver (drivers/rtl8139.c, PCI) from the outside.

QEMU's user network (restrict=on, host forwards on 127.0.0.1): UDP echo,
ping to slirp's gateway, curl through the forward; the boot line names
the card with the BIOS's ports and IRQ line. A raw-Ethernet peer over
QEMU's dgram netdev (tests/lib/ethpeer.py): malformed frames each dropped
once under their reason, giants included (which the NE2000 model cannot
even store), garbage and a flood, and a ping after; a burst while the
stack is frozen that overfills the 64 KiB ring: the frames wait in QEMU
(backpressure) and every one is answered, with no drop. The same card on
the TAP link is in tests/scenarios/test_tap.py (curl, ping flood, wrk
-c1000, a frozen-stack hold).

Network rules: only 127.0.0.1, restrict=on always, every loop bounded."""
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
sys.path.insert(0, HERE)
from guest import Guest, check  # noqa: E402
import machine  # noqa: E402
from freeport import free_port  # noqa: E402
from ethpeer import PEER_MAC, Peer, arp_resolve, boot, eth  # noqa: E402
from test_net import (alive_after_the_flood, bad_and_garbage_frames_each_dropped_once,  # noqa: E402
                      drops, heap_used, user_net_echo_and_ping)
from test_net_hold import burst_while_frozen  # noqa: E402

NIC = "rtl8139"
RING_BYTES = 65536
# Echo requests of 60 bytes take 68 in the ring (header and CRC): 963 fill
# it; the rest wait in QEMU and its socket (a small number, so the host's
# socket buffer, about 200 KiB, holds them).
BURST = 1100
JUMBO = 9000          # bytes: longer than any frame the card may lend


def test_boot_line_and_user_net_udp_echo_and_ping_gateway():
    user_net_echo_and_ping(NIC)


def test_curl_through_the_user_net_forward():
    port = free_port()            # a TCP port on 127.0.0.1 no one holds (tools/freeport.py)
    with Guest(extra=machine.user_net(tcp=port, kind=NIC)) as g:
        m = g.expect(r"RTL8139 at (0x[0-9a-f]+), IRQ (\d+), MAC", 30)
        iobase, irq = int(m.group(1), 16), int(m.group(2))
        check(iobase >= 0x1000 and 0 < irq < 16 and irq != 2,
              "the BIOS's PCI ports %#x and IRQ %d look wrong" % (iobase, irq), g)
        g.expect_prompt(30)
        g.sendline("httpd loop")
        g.expect(r"listening on TCP port 80", 20)
        codes = []
        for _ in range(5):
            p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-m", "10", "-w", "%{http_code}",
                                "http://%s:%d/" % (machine.LOCAL, port)],
                               capture_output=True, text=True, timeout=30)
            codes.append(p.stdout)
        g.send("\x03")
        g.expect(r"@demo httpd .*requests=(\d+)", 30)
        g.expect_prompt(30)
        check(codes == ["200"] * 5, "curl through the forward: %s" % codes, g)
        out = g.command("net")
        check(re.search(r"RX ring peak \d+ of %d bytes" % RING_BYTES, out), out)
        check(re.search(r"dropped: 0 frames", out), out)


def test_bad_frames_each_dropped_once_giants_and_a_flood():
    peer = Peer(NIC)
    try:
        with boot(peer) as g:
            arp_resolve(peer)
            frames, garbage, after = bad_and_garbage_frames_each_dropped_once(g, peer)

            # Giants: QEMU's RTL8139 stores them whole in the ring; the
            # driver must skip each exactly (a wrong skip would lose the
            # ring, and count rx-bad-ring-header). Paced: the host's socket
            # buffer is the only place one could be lost.
            used = heap_used(g)
            for i in range(200):
                peer.send(eth(peer.mac, PEER_MAC, 0x86DD, bytes([i & 255]) * (JUMBO if i % 2 else 46)))
                time.sleep(0.002)
            time.sleep(0.5)
            before, after = after, drops(g)
            check(after["rx-too-long"] - before["rx-too-long"] == 100, after["_out"])
            check(after["eth-type"] - before["eth-type"] == 100, after["_out"])
            check(after["rx-bad-ring-header"] == 0 and after["rx-card-missed"] == 0, after["_out"])

            # A flood as fast as the socket takes it: whatever reaches the
            # guest is dropped by reason, and it still answers a ping.
            for i in range(10000):
                peer.send(frames[i % len(frames)][1] if i % 3 else garbage[i % len(garbage)])
            time.sleep(1.0)
            flood = drops(g)
            got = flood["rx_frames"] - after["rx_frames"]
            check(got > 0, "the flood never reached the guest")
            check(flood["total"] - after["total"] >= got, "frames in the flood not dropped:\n"
                  + flood["_out"])
            check(flood["rx-bad-ring-header"] == 0, flood["_out"])
            alive_after_the_flood(g, peer, used)
    finally:
        peer.close()


def test_burst_waits_in_qemu_while_the_stack_is_frozen():
    burst_while_frozen(NIC, BURST, r"RX ring peak 6\d{4} of %d bytes" % RING_BYTES)
