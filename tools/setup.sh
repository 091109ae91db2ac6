#!/bin/sh
# Installs what webscale needs to build, boot, test and debug, if it is missing.
# Called by `make run`, `make test` and friends before anything else.
# Debian/Ubuntu: apt-get as root, sudo otherwise; if neither works, print the
# exact command and stop.
set -eu

# command-or-file : Debian package that provides it. The last group are the
# real clients of the TAP tests (tests/scenarios/test_tap.py, make bench):
# ip for the network namespace, wrk, ab, curl, nc, nmap, hping3, and
# tcpdump for diagnosis. hping3 lives in /usr/sbin, which a user's PATH may lack.
NEEDS="
i686-linux-gnu-gcc:gcc-i686-linux-gnu
i686-linux-gnu-ld:binutils-i686-linux-gnu
qemu-system-i386:qemu-system-x86
qemu-img:qemu-utils
grub-mkrescue:grub-common
grub-file:grub-common
/usr/lib/grub/i386-pc/multiboot.mod:grub-pc-bin
xorriso:xorriso
mformat:mtools
gdb:gdb
python3:python3
gcc:gcc
clang:clang
ip:iproute2
wrk:wrk
ab:apache2-utils
curl:curl
nc.openbsd:netcat-openbsd
nmap:nmap
/usr/sbin/hping3:hping3
tcpdump:tcpdump
"

missing=""
for pair in $NEEDS; do
    what=${pair%%:*}
    pkg=${pair#*:}
    case "$what" in
        /*) [ -e "$what" ] && continue ;;
        *) command -v "$what" >/dev/null 2>&1 && continue ;;
    esac
    case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
done

# The dashboard's browser test (tests/scenarios/test_browser.py) needs a real
# browser, Debian's chromium (about 100 MB), only where it can run: as root
# with /dev/net/tun, like the TAP tests (TAP=0 turns both off). Installed
# once: present, it is not looked for again.
if [ "$(id -u)" = 0 ] && [ -e /dev/net/tun ] && [ "${TAP:-1}" != 0 ] &&
   ! command -v chromium >/dev/null 2>&1; then
    missing="$missing chromium"
fi

[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
echo "webscale: missing packages:$missing"
# Bounded: a stuck mirror stops the install after APT_TIMEOUT seconds.
APT_TIMEOUT=900
if [ "$(id -u)" = 0 ]; then
    timeout $APT_TIMEOUT apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive timeout $APT_TIMEOUT $cmd
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive $cmd
else
    echo "webscale: cannot install them myself (not root, no password-less sudo)."
    echo "Run this, then try again:"
    echo "    sudo apt-get update && sudo $cmd"
    exit 1
fi
