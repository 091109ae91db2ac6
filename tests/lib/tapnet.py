#!/usr/bin/env python3
"""A direct link to the guest: a TAP device inside a private network namespace.

Through slirp (QEMU's user network) every TCP connection ends in QEMU on
the host, so a client never meets the guest's own TCP. Here the NE2000's
frames go straight to a TAP device, and the host kernel's TCP (wrk, ab,
curl, nmap, hping3) talks to the guest's:

    with TapNet() as net:
        g = net.guest(append="run=httpd loop")   # QEMU, inside the namespace
        out = net.run(["curl", "-s", net.url()])  # a client, inside it too
        s = net.connect()                          # a Python socket made inside it

What it creates: a network namespace (`ip netns`) with its loopback up and
IPv6 off (so that Linux's router solicitations do not land in the guest's
drop counters), and in it the TAP device machine.TAP_IFNAME with the host
side's address HOST_IP/24; QEMU runs inside the namespace with
`-netdev tap,ifname=...,script=no,downscript=no` (tools/machine.py), the
guest keeps its static 10.0.2.15/24, gateway 10.0.2.2. Nothing is routed
in or out: the namespace has no other interface, so all traffic stays in
it. What it removes, on leaving the `with`, at exit (atexit), on Ctrl-C
and on SIGTERM/SIGHUP: every process still in the namespace (all of them
started here), the TAP device, the namespace. A namespace left by a run
that was killed outright (SIGKILL) is removed by the next run.

Needs root and /dev/net/tun; unavailable() says why not, for a SKIP
(and so does TAP=0, which turns the link off on purpose).

As a program (what `make run NET=tap` uses):
    tests/lib/tapnet.py [--netns NAME] -- COMMAND...
runs COMMAND (QEMU) inside a fresh namespace NAME, prints how to reach the
guest, and removes everything when COMMAND ends; its status is COMMAND's.
"""
import atexit
import ctypes
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import machine  # noqa: E402  tools/machine.py: the tap variant of the network
from guest import Skip  # noqa: E402

GUEST_IP = "10.0.2.15"      # the guest's static address (kernel/net)
HOST_IP = "10.0.2.2"        # the namespace's side of the link: the guest's gateway
PREFIX_LEN = 24
TEST_PREFIX = "wstest"      # the tests' namespaces: wstest<pid>-<n>
# Open files for a client: wrk -c1000 needs 1000 and some, make bench holds
# up to 10,000 idle sockets.
CLIENT_FILES = 16384
CLONE_NEWNET = 0x40000000   # <sched.h>, for setns(2)
# Frames the TAP device holds for QEMU (its txqueuelen; Linux's default is
# 1000). A card with backpressure (the RTL8139) leaves frames here while the
# guest is behind, and the device drops what does not fit (its TX "dropped"
# in `ip -s link`): wrk -c1000 overflowed 1000 by about 500 frames.
TAP_QUEUE_FRAMES = 10000


def unavailable():
    """Why the direct link cannot be made here, or None. TAP=0 in the
    environment turns it off on purpose (no namespaces made)."""
    if os.environ.get("TAP") == "0":
        return "TAP=0: the TAP tests are turned off"
    if os.geteuid() != 0:
        return "not root: the TAP tests need root (ip netns, /dev/net/tun)"
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun: the kernel has no TUN/TAP device"
    if not shutil.which("ip"):
        return "no 'ip' command (Debian package iproute2)"
    return None


def _ip(*args, check=True):
    p = subprocess.run(["ip"] + list(args), capture_output=True, text=True, timeout=30)
    if check and p.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(args), (p.stderr or p.stdout).strip()))
    return p


def _pids(ns):
    p = _ip("netns", "pids", ns, check=False)
    return [int(x) for x in p.stdout.split()] if p.returncode == 0 else []


def _netns_names():
    p = _ip("netns", "list", check=False)
    return [line.split()[0] for line in p.stdout.splitlines() if line.strip()]


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def remove_stale():
    """Remove the namespaces of test runs that died without cleaning up
    (their pid, in the name, is gone); never another live run's."""
    for ns in _netns_names():
        m = re.fullmatch(TEST_PREFIX + r"(\d+)-\d+", ns)
        if m and not _alive(int(m.group(1))):
            _teardown(ns)


def _teardown(ns):
    """Every process in ns (all started by us in it) stopped, then its TAP
    device and the namespace removed. Safe to call twice."""
    if ns not in _netns_names():
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = _pids(ns)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        for _ in range(50):
            if not _pids(ns):
                break
            threading.Event().wait(0.1)
    _ip("-n", ns, "link", "del", machine.TAP_IFNAME, check=False)
    _ip("netns", "del", ns, check=False)


_live = set()               # namespaces made by this process and not yet removed
_live_lock = threading.Lock()
_counter = [0]


def _cleanup_all():
    with _live_lock:
        names = list(_live)
        _live.clear()
    for ns in names:
        _teardown(ns)


def _on_signal(signum, frame):
    # Leave through the normal path, so that `with` blocks and atexit run.
    raise SystemExit(128 + signum)


def _install_handlers():
    atexit.register(_cleanup_all)
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) == signal.SIG_DFL:
            signal.signal(sig, _on_signal)


_install_handlers()


def raise_file_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = CLIENT_FILES if hard == resource.RLIM_INFINITY else min(CLIENT_FILES, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: " + os.strerror(e))


class TapNet:
    """The namespace, its TAP device, and ways to run things inside it."""

    def __init__(self, name=None):
        why = unavailable()
        if why:
            raise RuntimeError(why)
        if name is None:
            with _live_lock:
                _counter[0] += 1
                name = "%s%d-%d" % (TEST_PREFIX, os.getpid(), _counter[0])
        self.ns = name
        self.tap = machine.TAP_IFNAME
        self.made = False

    # ---- making and removing it ----

    def create(self):
        remove_stale()
        if self.ns in _netns_names():
            if _pids(self.ns):
                raise RuntimeError("network namespace %s is in use (pids %s); pick another name"
                                   % (self.ns, " ".join(map(str, _pids(self.ns)))))
            _teardown(self.ns)      # left by a run that was killed outright
        with _live_lock:
            _live.add(self.ns)
        self.made = True
        try:
            _ip("netns", "add", self.ns)
            self.sh(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                     "net.ipv6.conf.default.disable_ipv6=1"])
            _ip("-n", self.ns, "link", "set", "lo", "up")
            _ip("-n", self.ns, "tuntap", "add", "dev", self.tap, "mode", "tap")
            _ip("-n", self.ns, "addr", "add", "%s/%d" % (HOST_IP, PREFIX_LEN), "dev", self.tap)
            _ip("-n", self.ns, "link", "set", self.tap, "txqueuelen", str(TAP_QUEUE_FRAMES), "up")
        except Exception:
            self.remove()
            raise
        return self

    def remove(self):
        if not self.made:
            return
        with _live_lock:
            _live.discard(self.ns)
        _teardown(self.ns)
        self.made = False

    def __enter__(self):
        return self.create()

    def __exit__(self, *exc):
        self.remove()

    # ---- things inside it ----

    def prefix(self):
        """The words that run a command inside the namespace."""
        return ["ip", "netns", "exec", self.ns]

    def sh(self, cmd, timeout=60):
        """Run cmd inside the namespace; raise on failure."""
        p = self.run(cmd, timeout)
        if p.returncode != 0:
            raise RuntimeError("%s: status %d: %s" % (" ".join(cmd), p.returncode,
                                                       (p.stderr or p.stdout).strip()))
        return p

    def run(self, cmd, timeout):
        """cmd inside the namespace, bounded by timeout wall seconds (then
        killed: subprocess.TimeoutExpired). A CompletedProcess, text."""
        return subprocess.run(self.prefix() + list(cmd), capture_output=True, text=True,
                              timeout=timeout, preexec_fn=raise_file_limit)

    def popen(self, cmd, **kw):
        """cmd inside the namespace, in the background; stop it by its pid."""
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        return subprocess.Popen(self.prefix() + list(cmd), text=True,
                                preexec_fn=raise_file_limit, **kw)

    def guest(self, nic=machine.DEFAULT_NIC, **kw):
        """A Guest (tests/lib/guest.py) whose QEMU runs inside the namespace
        with its NIC (a key of machine.NICS) on the TAP device."""
        from guest import Guest
        extra = machine.tap_net(self.tap, nic) + list(kw.pop("extra", ()))
        return Guest(prefix=self.prefix(), extra=extra, **kw)

    def socket(self, family=socket.AF_INET, type=socket.SOCK_STREAM):
        """A socket that belongs to the namespace (made there with setns(2),
        this thread only, and back), usable from any thread."""
        with open("/run/netns/" + self.ns) as target, open("/proc/thread-self/ns/net") as home:
            _setns(target.fileno())
            try:
                return socket.socket(family, type)
            finally:
                _setns(home.fileno())

    def connect(self, port=80, timeout=10):
        s = self.socket()
        s.settimeout(timeout)
        try:
            s.connect((GUEST_IP, port))
        except Exception:
            s.close()
            raise
        return s

    def url(self, path="/"):
        return "http://%s%s" % (GUEST_IP, path)


# ---- a wire's rate and a fair queue, on the host -> guest side ----

# hping3 -S's frame: Ethernet 14 + IPv4 20 + TCP 20 bytes, no options. htb
# counts rates in bits/s of whole frames (skb->len, Ethernet header included,
# no padding to 60 on a TAP device); ShapedLink turns frames/s into bits/s
# with this size, the size of nearly every frame a SYN flood brings (the
# flood's SYNs and Linux's RSTs to the guest's SYN-ACKs).
SYN_FRAME_BYTES = 54
SHAPE_BURST_S = 0.005   # htb's bucket: 5 ms at the rate (at least two full frames)
SHAPE_QUANTUM = 1514    # bytes a class sends in its DRR turn: one full frame
# The flood's guaranteed share of the rate; above it, it only borrows what
# the other class leaves.
SHAPE_FLOOD_SHARE = 0.01
SHAPE_OTHER, SHAPE_FLOOD = "1:10", "1:20"   # htb classes (hex minors: 0x10, 0x20)
# u32 on the IP header (offsets from its start, no IP options): protocol 6
# (TCP) at 9, total length 40 at 2 (20 + 20: a TCP header with no options),
# and TCP's flags byte at 20 + 13 = 33 holding SYN (0x02) alone.
BARE_SYN_U32 = ["match", "ip", "protocol", "6", "0xff", "match", "u16", "0x0028", "0xffff", "at",
                "2", "match", "u8", "0x02", "0xff", "at", "33"]


class ShapedLink:
    """What a real wire and a fair switch give the guest, standing in front
    of the TAP device (tc, in the namespace, on its egress: host -> guest):

        with ShapedLink(net, frames_per_s=40000) as link:
            ...                              # flood and clients
            link.classes()                   # {SHAPE_FLOOD: (frames, dropped), ...}

    Why it is needed: Linux's tun driver has no flow control. tun_net_xmit
    puts each frame into its ring for QEMU (TAP_QUEUE_FRAMES) and drops the
    one that finds it full, whoever sent it; it never stops the queue above
    it, so the qdisc there cannot hold a frame back or choose which to drop.
    A sender faster than the guest, `hping3 -S --flood` offering about a
    million frames/s to a guest that takes 45-210 thousand under TCG (by
    the host's speed and load), then has the device drop some 80 % of ALL
    frames for the guest, a client's SYNs and requests among them, a loss
    no real link gives a server. A wire has a rate: frames wait in front
    of it, in the switch port's queue, and a fair switch keeps one
    flooding sender from taking the whole queue from the others.

    What it does: an htb root qdisc whose rate (frames_per_s of
    SYN_FRAME_BYTES frames, in bits/s) is set below what the guest takes,
    so the tun ring never fills: the queue, and any drops, move into htb,
    where they can be ordered. Under it two classes: SHAPE_FLOOD for bare
    SYNs (IP total length 40, TCP flags SYN alone: what hping3 -S crafts;
    Linux's own SYN carries options, so curl's is longer), guaranteed
    SHAPE_FLOOD_SHARE of the rate and otherwise only what is left;
    SHAPE_OTHER, first, for everything else (ARP, curl's handshake, ACKs
    and requests, Linux's RSTs). A per-flow fair queue (sfq, fq_codel)
    would give a one-connection client its turn without knowing what a
    flood looks like, but this host's kernel has neither; the split by
    shape is the test's knowledge of its own flood, the host's doing and
    not the guest's: the guest still gets a flood at nearly the rate it
    can take, from the client's own address, and must answer every SYN.

    Two more things change, both measured. A sender in the namespace
    (hping3) is held back by its own socket's send buffer while htb holds
    its frames, as a full card holds back the machine it is in: htb drops
    nothing, and the flood comes at the link's rate (split about evenly
    between its SYNs and Linux's RSTs to the guest's SYN-ACKs). And frames
    that come one by one, as on a wire, cost the emulated machine more
    than a full queue's worth at once: under TCG the guest takes less
    than half the frames/s through the link that it takes from the full
    TAP device (tests/scenarios/test_tap.py, SHAPE_FRACTION)."""

    def __init__(self, net, frames_per_s):
        self.net, self.frames_per_s = net, frames_per_s
        self.bits_per_s = int(frames_per_s * SYN_FRAME_BYTES * 8)
        self.burst = max(2 * SHAPE_QUANTUM, int(self.bits_per_s / 8 * SHAPE_BURST_S))

    def _tc(self, *words):
        self.net.sh(["tc"] + list(words))

    def _htb_class(self, parent, classid, rate, *more):
        self._tc("class", "add", "dev", self.net.tap, "parent", parent, "classid", classid, "htb",
                 "rate", "%dbit" % rate, "ceil", "%dbit" % self.bits_per_s, "burst",
                 "%db" % self.burst, "cburst", "%db" % self.burst, "quantum", str(SHAPE_QUANTUM),
                 *more)

    def __enter__(self):
        tap = self.net.tap
        try:
            self._tc("qdisc", "add", "dev", tap, "root", "handle", "1:", "htb", "default",
                     SHAPE_OTHER.split(":")[1])
        except RuntimeError as e:
            raise self._missing(e, "the htb qdisc")
        try:
            self._htb_class("1:", "1:1", self.bits_per_s)                 # the wire
            self._htb_class("1:1", SHAPE_OTHER, self.bits_per_s, "prio", "0")
            self._htb_class("1:1", SHAPE_FLOOD, int(self.bits_per_s * SHAPE_FLOOD_SHARE),
                            "prio", "1")
            self._tc("filter", "add", "dev", tap, "parent", "1:", "protocol", "ip", "prio", "1",
                     "u32", *BARE_SYN_U32, "flowid", SHAPE_FLOOD)
        except RuntimeError as e:
            self.__exit__()
            raise self._missing(e, "the u32 classifier")
        return self

    @staticmethod
    def _missing(e, what):
        """A host kernel without what the link needs (tc says the kind is
        unknown or not found) cannot run the test as it is meant: a Skip
        that says so, never a pass. Any other failure stays one."""
        if re.search(r"unknown|not found", str(e), re.I):
            return Skip("the host's kernel lacks %s, which the shaped link needs (%s)" % (what, e))
        return e

    def __exit__(self, *exc):
        self.net.run(["tc", "qdisc", "del", "dev", self.net.tap, "root"], 30)

    def classes(self):
        """{classid: (frames sent on to the TAP device, frames dropped)} of
        the two leaf classes, from `tc -s class show`."""
        out = self.net.sh(["tc", "-s", "class", "show", "dev", self.net.tap]).stdout
        found = {cid: (int(n), int(d)) for cid, n, d in re.findall(
            r"class htb (\S+) .*\n\s*Sent \d+ bytes (\d+) pkt \(dropped (\d+)", out)}
        return {cid: found.get(cid, (0, 0)) for cid in (SHAPE_OTHER, SHAPE_FLOOD)}


def main(argv):
    name = "webscale"
    if argv[:1] == ["--netns"] and len(argv) >= 2:
        name, argv = argv[1], argv[2:]
    if argv[:1] != ["--"] or len(argv) < 2:
        sys.exit(__doc__)
    why = unavailable()
    if why:
        sys.exit("tapnet: cannot make the TAP link: %s. Try: sudo make run NET=tap" % why)
    with TapNet(name) as net:
        print("webscale: TAP link: network namespace %s, device %s (%s/%d), guest %s. From "
              "another terminal, as root:\n    ip netns exec %s curl %s\n"
              "(in the guest first: httpd loop). Removed when QEMU ends."
              % (net.ns, net.tap, HOST_IP, PREFIX_LEN, GUEST_IP, net.ns, net.url()), flush=True)
        p = subprocess.Popen(net.prefix() + argv[1:])
        while True:
            try:
                return p.wait()
            except KeyboardInterrupt:
                continue            # the terminal's Ctrl-C is QEMU's (it quits with Ctrl-A X)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
