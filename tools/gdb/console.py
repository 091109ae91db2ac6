#!/usr/bin/env python3
"""Type into the serial console of a `make gdb` session.

`make gdb` puts the guest's COM1 on a Unix socket (build/gdb-serial.sock)
that also logs to build/gdb-serial.log. This connects the terminal to it,
raw, like `socat -,raw,echo=0 UNIX-CONNECT:build/gdb-serial.sock`.
Ctrl-] quits (the guest goes on). Only the standard library.
"""
import os
import select
import socket
import sys
import termios
import tty

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOCK = os.path.join(ROOT, "build", "gdb-serial.sock")
QUIT = b"\x1d"   # Ctrl-]


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else SOCK
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
    except OSError as e:
        sys.exit("console: cannot connect to %s (%s); is `make gdb` running?" % (path, e))
    print("console: connected to %s; Ctrl-] quits. (While gdb holds the guest "
          "stopped, it cannot answer.)\r" % path)
    fd = sys.stdin.fileno()
    old = termios.tcgetattr(fd) if os.isatty(fd) else None
    try:
        if old:
            tty.setraw(fd)
        while True:
            r, _, _ = select.select([fd, s], [], [])
            if s in r:
                data = s.recv(4096)
                if not data:
                    break
                os.write(sys.stdout.fileno(), data)
            if fd in r:
                data = os.read(fd, 1024)
                if not data or QUIT in data:
                    break
                s.sendall(data)
    finally:
        if old:
            termios.tcsetattr(fd, termios.TCSADRAIN, old)
        print("\nconsole: closed")


if __name__ == "__main__":
    main()
