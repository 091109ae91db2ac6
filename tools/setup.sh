#!/bin/sh
# Installs what webscale needs to build, boot, test and debug, if it is missing.
# Called by `make run`, `make test` and friends before anything else.
#
#   tools/setup.sh             what make, make run, make gdb, make bench need
#   tools/setup.sh test        and clang, which only make test uses
#   tools/setup.sh bochs       and Bochs, which only make bochs uses
#   tools/setup.sh --list [GROUP...]   print "GROUP PACKAGE" lines, install nothing
#
# Debian/Ubuntu: apt-get as root; through sudo otherwise (from a terminal
# sudo may ask for your password; without one only a password-less sudo
# is tried); if neither works, print the exact command and stop.
# README.md's table "What tools/setup.sh installs" lists these packages
# (tests/scenarios/test_newcomer.py checks that the two agree).
set -eu

# command-or-file:Debian package that provides it (a file may be a glob).
# The last group are the real clients of the TAP tests and make bench
# (tests/scenarios/test_tap.py): ip for the network namespace, tc for the
# flood test's shaped link (tests/lib/tapnet.py, ShapedLink), wrk, ab,
# curl, nc, nmap, hping3, ping (ping -f), and tcpdump for diagnosis. hping3 lives in
# /usr/sbin, which a user's PATH may lack.
BASE_NEEDS="
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
ip:iproute2
tc:iproute2
wrk:wrk
ab:apache2-utils
curl:curl
nc.openbsd:netcat-openbsd
nmap:nmap
/usr/sbin/hping3:hping3
ping:iputils-ping
tcpdump:tcpdump
"
# make test compiles every guest file with a second compiler.
TEST_NEEDS="
clang:clang
"
# make bochs: Bochs 2.7, its BIOS and VGA BIOS, and its terminal display
# (the only one that needs no X; make bochs keeps it out of sight).
BOCHS_NEEDS="
bochs:bochs
/usr/lib/*/bochs/plugins/libbx_term_gui.so:bochs-term
/usr/share/bochs/BIOS-bochs-latest:bochsbios
/usr/share/vgabios/vgabios.bin:vgabios
"

list=""
if [ "${1:-}" = --list ]; then
    list=yes
    shift
fi
groups="base"
for extra in "$@"; do
    case "$extra" in
        test|bochs) groups="$groups $extra" ;;
        *) echo "usage: tools/setup.sh [--list] [test] [bochs]" >&2; exit 2 ;;
    esac
done

needs_of() {
    case "$1" in
        base) echo "$BASE_NEEDS" ;;
        test) echo "$TEST_NEEDS" ;;
        bochs) echo "$BOCHS_NEEDS" ;;
    esac
}

if [ -n "$list" ]; then
    for group in $groups; do
        for pair in $(needs_of "$group"); do
            echo "$group ${pair#*:}"
        done
    done | uniq
    exit 0
fi

missing=""
for group in $groups; do
    for pair in $(needs_of "$group"); do
        what=${pair%%:*}
        pkg=${pair#*:}
        case "$what" in
            /*) for file in $what; do [ -e "$file" ] && continue 2; done ;;
            *) command -v "$what" >/dev/null 2>&1 && continue ;;
        esac
        case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
    done
done

# The dashboard's browser test (tests/scenarios/test_browser.py) needs a real
# browser, Debian's chromium (about 100 MB), only where it can run: as root
# with /dev/net/tun, like the TAP tests (TAP=0 turns both off), and only for
# make test (the test group). Installed
# once: present, it is not looked for again.
case " $groups " in *" test "*) browser=1 ;; *) browser=0 ;; esac
if [ "$browser" = 1 ] && [ "$(id -u)" = 0 ] && [ -e /dev/net/tun ] && [ "${TAP:-1}" != 0 ] &&
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
elif command -v sudo >/dev/null 2>&1 && [ -t 0 ]; then
    echo "webscale: installing them with sudo, which may ask for your password."
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive $cmd
else
    echo "webscale: cannot install them myself (not root, no password-less sudo,"
    echo "and no terminal for sudo to ask for a password)."
    echo "Run this, then try again:"
    echo "    sudo apt-get update && sudo $cmd"
    exit 1
fi
