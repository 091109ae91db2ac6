"""make bench's real-client rows: wrk and real sockets against the guest's
own TCP on the TAP link (tests/lib/tapnet.py), reported, never gated.

For each card (machine.NICS: the NE2000, whose QEMU model drops what finds
its ring full, and the RTL8139, whose frames wait in QEMU instead) and
each style, one boot without icount (real clients need real time):
`httpd STYLE`, then wrk -t1 -cC -d10s for C = 1, 100, 1000, each its own
httpd run with `net` read before and after, so every row has its own
connections opened (httpd's count, and how many were open at once),
requests/s, p50/p99, socket errors, non-2xx, and the guest's rx drops by
reason and retransmits. Then idle connections held by real sockets
(tapload.hold_idle: the host's TCP does the handshakes), beside bench.py's
raw-peer figure, with the default card. These are wall-clock figures under TCG on a shared host:
the host's load average is printed beside them.

Needs root (a network namespace, /dev/net/tun): otherwise one line says so.
"""
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from guest import TestFailure  # noqa: E402
import tapnet  # noqa: E402
from tapload import Server, drops_text, guest_net, hold_idle, wrk  # noqa: E402
import machine  # noqa: E402  tools/machine.py: the cards

WRK_CLIENTS = (1, 100, 1000)
WRK_SECS = 10
IDLE_CAP = 10000          # as bench.py's raw peer
IDLE_BUDGET_S = 45.0


def load():
    return "load average %.2f %.2f %.2f (1/5/15 min)" % os.getloadavg()


def delta(after, before):
    """The change in `net`'s figures: drops by reason and retransmits."""
    drops = {k: v - before["drops"].get(k, 0) for k, v in after["drops"].items()}
    return {"drops": {k: v for k, v in drops.items() if v},
            "retransmits": (after["retransmits"] or 0) - (before["retransmits"] or 0)}


def wrk_row(srv, conns):
    before = guest_net(srv.g)
    srv.start()
    w = wrk(srv.net, conns=conns, secs=WRK_SECS)
    time.sleep(1)
    d = srv.stop()
    dn = delta(guest_net(srv.g), before)
    return {"clients": conns, "wrk": w, "opened": d["connections"], "at_once": d["open_max"],
            "drops": dn["drops"], "retransmits": dn["retransmits"]}


def idle_row(srv):
    srv.start()
    held, why, secs = hold_idle(srv.net, IDLE_CAP, IDLE_BUDGET_S,
                                settle_s=0.002 if srv.style == "threads" else 0.0)
    try:
        d = srv.stop()
    finally:
        for s in held:
            s.close()
    return {"held": len(held), "open": d["open_at_stop"], "why": why, "secs": secs,
            "per_conn": d["heap_per_connection_bytes"]}


def style_rows(net, style, nic, idle):
    with Server(net, style, nic=nic) as srv:
        rows = [wrk_row(srv, c) for c in WRK_CLIENTS]
        return rows, idle_row(srv) if idle else None


def fmt(v, spec="%.1f"):
    return "-" if v is None else spec % v


def print_wrk(nic, style, rows):
    for r in rows:
        w = r["wrk"]
        if w["requests"] is None:
            print("  %-7s %-7s %6d  wrk reported nothing (status %s)" % (nic, style, r["clients"],
                                                                      w["rc"]))
            continue
        errors = "%d/%d/%d/%d" % (w["connect"], w["read"], w["write"], w["timeout"])
        print("  %-7s %-7s %6d %7d %7d %10s %7s %7s %13s %7d %8d %7d" % (
            nic, style, r["clients"], r["opened"], r["at_once"], fmt(w["rps"]), fmt(w["p50_ms"]),
            fmt(w["p99_ms"]), errors, w["non2xx"], sum(r["drops"].values()), r["retransmits"]))
        if r["drops"]:
            print("  %-15s %6s   drops: %s" % ("", "", drops_text({"drops": r["drops"]})))


def main():
    """Print the rows; returns nothing: reported, not gated."""
    why = tapnet.unavailable()
    if why:
        print("\n  real clients on the TAP link: skipped: %s" % why)
        return
    tapnet.raise_file_limit()
    print("\nReal clients on the TAP link (tests/lib/tapnet.py; no icount: host wall clock, "
          "so these depend on the host; %s at the start):" % load())
    print("  wrk -t1 -cN -d%ds against httpd's page; 'opened': connections httpd accepted, "
          "'at once': its peak;" % WRK_SECS)
    print("  socket errors connect/read/write/timeout (wrk's 2 s timeout); rx drops and "
          "retransmits from the guest's `net`, this row only.")
    print("  %-7s %-7s %6s %7s %7s %10s %7s %7s %13s %7s %8s %7s" % (
        "card", "style", "wrk -c", "opened", "at once", "requests/s", "p50 ms", "p99 ms",
        "socket errors", "non-2xx", "drops", "retrans"))
    idle = {}
    for nic in sorted(machine.NICS):
        for style in ("loop", "threads"):
            try:
                with tapnet.TapNet() as net:
                    rows, r = style_rows(net, style, nic, nic == machine.DEFAULT_NIC)
                if r:
                    idle[style] = r
                print_wrk(nic, style, rows)
            except (TestFailure, RuntimeError) as e:
                print("  %-7s %-7s not measured: %s" % (nic, style, str(e).splitlines()[0]))
    for style, r in idle.items():
        note = "stopped at %s after %.1f s" % (r["why"], r["secs"])
        if r["why"] == "the cap":
            note += " of %d, not at a refusal: the limit is higher, unmeasured" % IDLE_CAP
        print("  %-70s %8d %-12s" % ("idle TCP connections held by real sockets, httpd %s, %s "
                                     "(open at Ctrl-C)" % (style, machine.DEFAULT_NIC), r["open"], "connections"))
        print("  %-70s %8s %-12s (%s; %d bytes of heap each)" % ("", "", "", note, r["per_conn"]))
    print("  (%s at the end)" % load())


if __name__ == "__main__":
    main()
