"""GDB commands that go backwards through context switches, for replays
of recordings (make replay, tools/rr.py): `ws rswitch`, `ws rswitches N`.

They use QEMU's reverse execution (reverse-continue), which works only
when QEMU replays a recording; a live `make gdb` session says so.

`ws rswitch` stops at the entry of switch_context of the most recent
switch before where you stand: from inside the switch or from the first
instructions of the new thread, that is the switch you are in or just
came out of; from the entry of a switch, the one before it. At that entry
schedule() has already written what it decided: sched_prev (from),
current (to), sched_last_reason and sched_switch_count (the switch's
number), so the line printed is exact.

Load after tools/gdb/ws.py (make replay does): its helpers are reused and
these commands join its `ws` prefix. Loaded alone, this file imports ws.py
from its own directory.
"""
import os
import sys

import gdb


def _ws_module():
    """ws.py's helpers: gdb's `source` runs files in __main__, so after
    `source ws.py` they are there; otherwise import it as a module (which
    also defines the `ws` prefix and its commands)."""
    import __main__
    if all(hasattr(__main__, n) for n in ("Ws", "var", "address_of", "describe",
                                          "enum_names", "tname", "where")):
        return __main__
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    import ws
    return ws


_ws = _ws_module()


def _rswitch_here(entry):
    """One reverse-continue to the switch_context entry; a line describing
    the switch, or None if execution stopped elsewhere."""
    out = gdb.execute("reverse-continue", to_string=True)
    pc = int(gdb.parse_and_eval("(unsigned int)$pc"))
    if pc != entry:
        # Before the kernel is loaded its counter reads 0 as well.
        if "No more reverse-execution history" in out or int(_ws.var("sched_switch_count")) == 0:
            return None, ("ws: no switch before this point: back at the start of the "
                          "recording (pc %#x)" % pc)
        return None, "ws: stopped at %s, not at a switch" % _ws.where(pc)
    reasons = _ws.enum_names("enum switch_reason", "SWITCH_")
    prev, nxt = _ws.var("sched_prev"), _ws.var("current")
    why = reasons.get(int(_ws.var("sched_last_reason")), "?")
    return int(_ws.var("sched_switch_count")), "switch #%d: %-18s -> %-18s %s" % (
        int(_ws.var("sched_switch_count")), _ws.describe(prev), _ws.describe(nxt), why)


def _rswitches(n):
    if n < 1:
        raise gdb.GdbError("usage: ws rswitches [N], N >= 1")
    entry = _ws.address_of("switch_context")
    bp = gdb.Breakpoint("*%#x" % entry, internal=True)
    bp.silent = True
    done = 0
    try:
        for _ in range(n):
            try:
                count, line = _rswitch_here(entry)
            except gdb.error as e:
                if "does not support" in str(e):
                    raise gdb.GdbError("ws: this target cannot run backwards (%s); "
                                       "reverse execution needs a replay: make replay" % e)
                raise
            print(line)
            if count is None:
                break
            done += 1
    finally:
        bp.delete()
    if done:
        print("stopped at the entry of switch_context, still on %s's stack; 'stepi' walks "
              "the switch forward, 'reverse-stepi' steps back into schedule()."
              % _ws.tname(_ws.var("sched_prev")))
    return done


class WsRswitch(gdb.Command):
    """Reverse-continue to the previous context switch: ws rswitch."""

    def __init__(self):
        super().__init__("ws rswitch", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        if arg.strip():
            raise gdb.GdbError("usage: ws rswitch (ws rswitches N goes back N)")
        _rswitches(1)


class WsRswitches(gdb.Command):
    """Go back N context switches, newest first: ws rswitches [N]."""

    def __init__(self):
        super().__init__("ws rswitches", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        _rswitches(int(arg.strip() or "1", 0))


HELP = """\
Backwards, in a replay (make replay; tools/gdb/ws_reverse.py):
  ws rswitch        reverse-continue to the previous context switch; print from -> to
  ws rswitches [N]  go back N switches (default 1), newest first
  set exec-direction reverse   then continue, stepi, and 'ws switches N' go
                    backwards too (the same switches, printed newest first);
                    'set exec-direction forward' turns back
  reverse-stepi, reverse-next, reverse-continue, reverse-finish: gdb's own; each
                    reloads QEMU's snapshot and replays up to the step before.
                    'monitor savevm NAME' here makes later steps back from here faster."""


class WsRhelp(gdb.Command):
    """The reverse commands."""

    def __init__(self):
        super().__init__("ws rhelp", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        print(HELP)


WsRswitch()
WsRswitches()
WsRhelp()
