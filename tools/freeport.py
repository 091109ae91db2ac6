#!/usr/bin/env python3
"""Pick a free TCP port on 127.0.0.1 for QEMU's gdbstub.

Each user starts from their own base (like xv6's `uid % 5000 + 25000`), so
two users of one machine begin far apart, and every candidate is probed by
binding it, so neither takes a port the other already holds. A port handed
out in this process is not handed out again (the tests start several
QEMUs at once). Prints the port when run as a program.
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


def port_is_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
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


if __name__ == "__main__":
    print(free_port())
