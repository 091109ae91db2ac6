#!/usr/bin/env python3
"""Pick a free TCP port on 127.0.0.1 for QEMU's gdbstub.

Each user starts from their own base (like xv6's `uid % 5000 + 25000`), so
two users of one machine begin far apart, and every candidate is probed by
binding it, so neither takes a port the other already holds. A port handed
out in this process is not handed out again (the tests start several
QEMUs at once). Prints the port when run as a program; with
`--check TCP UDP` it tells whether make run's host forwards are free, and
names a free one if not.
"""
import os
import socket
import threading

BASE = 25000
USERS = 5000        # distinct per-user bases
TRIES = 200

_lock = threading.Lock()
_given = set()


def user_base():
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return BASE + (uid % USERS) * 7 % USERS + 1000


def port_is_free(port, kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port(start=None):
    """The first free port at or after this user's base."""
    start = start or user_base()
    with _lock:
        for port in range(start, start + TRIES):
            if port not in _given and port_is_free(port):
                _given.add(port)
                return port
    raise RuntimeError("no free TCP port on 127.0.0.1 in %d..%d" % (start, start + TRIES - 1))


def ephemeral_port(kind=socket.SOCK_STREAM):
    """A port the host's kernel just found free (a bind to port 0), outside
    the per-user range: for a port a person types, or a test's own, where
    nobody else of ours races for it."""
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def check(tcp, udp):
    """make run's check before QEMU: QEMU cannot forward a host port that is
    taken, and says so in a line that scrolls away. 0 if both are free."""
    for proto, kind, port, var in (("TCP", socket.SOCK_STREAM, tcp, "NET_TCP_PORT"),
                                   ("UDP", socket.SOCK_DGRAM, udp, "NET_UDP_PORT")):
        if not port_is_free(port, kind):
            other = next(p for p in range(port + 10000 if port < 55000 else 20000, 65536)
                         if port_is_free(p, kind))
            print("webscale: host %s port %d on 127.0.0.1 is taken (another QEMU or server): "
                  "make run %s=%d" % (proto, port, var, other))
            return 1
    return 0


if __name__ == "__main__":
    import sys
    if len(sys.argv) == 4 and sys.argv[1] == "--check":
        sys.exit(check(int(sys.argv[2]), int(sys.argv[3])))
    print(free_port())
