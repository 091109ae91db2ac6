#!/usr/bin/env python3
"""make record / make replay / make replay-check: QEMU's record/replay.

  record --demo "threads 2 3" [--name N]   boot build/kernel.elf with
        run=DEMO; halt, record every nondeterministic input, and keep it all
        in build/rec/N/ (N defaults to the demo's words joined by '-'):
          kernel.elf      the kernel that ran (replays need the very same binary)
          qemu.rr         QEMU's replay log
          snapshot.qcow2  the disk image that holds the 'init' snapshot only
          console.txt     the serial console, as recorded
          qemu-args.txt   the exact QEMU command line (run in that directory)
          meta.json       the demo, the kernel's sha256, QEMU's version, costs
  replay [--name N]  replay it paused under gdb with tools/gdb/ws.py and
        ws_reverse.py loaded: continue, stepi, and reverse-stepi,
        reverse-continue, ws rswitch go backwards.
  check [--name N]   replay without gdb; the console must be byte-identical.
  costs              slowdown of record and replay, log bytes per guest second.

Without --name, replay and check take the newest recording. A recording
replays only with the kernel it was made with: if build/kernel.elf has
changed since, replay and check refuse and say how to go on.

Facts of QEMU 7.2 this relies on (issue 5): -net none (a default e1000
makes a replay from the snapshot wait forever), -global
apic-common.vapic=off (without it loading a snapshot taken after boot
deadlocks), a separate qcow2 image only for snapshots, -kernel (a GRUB ISO
would need blkreplay drives), and an end by the guest's own exit or
SIGTERM: a log cut by SIGKILL is unreadable. Record and replay must have
the same devices and icount shift, so replay runs the stored command line
with rr=record changed to rr=replay and its outputs renamed.
"""
import argparse
import difflib
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "gdb"))
from freeport import free_port  # noqa: E402
import machine  # noqa: E402  tools/machine.py: the one definition of the machine
import launch  # noqa: E402  tools/gdb/launch.py: gdb, stopping QEMU

BUILD = os.path.join(ROOT, "build")
REC_ROOT = os.path.join(BUILD, "rec")
KERNEL = os.path.join(BUILD, "kernel.elf")
WS_REVERSE_PY = os.path.join(HERE, "gdb", "ws_reverse.py")

# Guest time under record is 2^SHIFT ns per instruction: 7 keeps a guest
# second at 7.8 million instructions, so seconds-long demos record in
# about a wall second.
DEFAULT_SHIFT = 7
RECORD_TIMEOUT = 300      # wall seconds a demo may take before SIGTERM ends it

# Files of a recording (all names relative to its directory).
K_COPY, LOG, SNAP, CONSOLE = "kernel.elf", "qemu.rr", "snapshot.qcow2", "console.txt"
META, ARGS_TXT = "meta.json", "qemu-args.txt"
# What a replay writes instead, so that the recording itself stays as it was.
REPLAY_SNAP, REPLAY_CONSOLE = "replay-snapshot.qcow2", "replay-console.txt"


class RRError(Exception):
    """A clear message for the user; no traceback."""


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def qemu_bin():
    return machine.qemu()


def qemu_version():
    out = subprocess.run([qemu_bin(), "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else "?"


def default_name(demo):
    name = re.sub(r"[^A-Za-z0-9_.]+", "-", demo).strip("-.")
    return name or "run"


def boot_command(demo):
    """The kernel command line: the demo, then halt, so that the guest ends
    the recording itself (user/shell.c runs ';'-separated commands)."""
    cmds = [c.strip() for c in demo.split(";") if c.strip()]
    if not cmds or cmds[-1] != "halt":
        cmds.append("halt")
    return "run=" + "; ".join(cmds)


# With --net, the NE2000 on QEMU's user network (restrict=on: nothing leaves
# the machine; no host forwards, so a replay needs no free ports). The
# filter-replay object records every frame delivered to the card and feeds
# the same frames back in the replay: without it the replay gets none.
NET_ARGS = machine.user_net() + [
    "-object", "filter-replay,id=r0,netdev=%s" % machine.NETDEV_ID]


def record_args(demo, shift, net=False):
    """The recording's QEMU command line, to run in its directory."""
    return ([qemu_bin()] + machine.machine() +
            ["-display", "none", "-monitor", "none",
             "-kernel", K_COPY, "-append", boot_command(demo)] +
            (NET_ARGS if net else ["-net", "none"]) +
            ["-global", "apic-common.vapic=off",
             "-drive", "file=%s,if=none,id=rr-snapshots" % SNAP,
             "-icount", "shift=%d,rr=record,rrfile=%s,rrsnapshot=init" % (shift, LOG),
             "-serial", "file:" + CONSOLE])


def replay_args(meta):
    """The recorded command line, replaying: rr=replay, and the snapshot
    image and console file of the replay instead of the recording's."""
    swap = {"rr=record": "rr=replay", "file=" + SNAP: "file=" + REPLAY_SNAP,
            "file:" + CONSOLE: "file:" + REPLAY_CONSOLE}
    out = []
    for a in meta["args"]:
        for old, new in swap.items():
            a = a.replace(old, new)
        out.append(a)
    return out


# ---------------------------------------------------------------- record

def record(demo, name=None, out_dir=None, shift=DEFAULT_SHIFT, kernel=KERNEL,
           timeout=RECORD_TIMEOUT, echo=True, net=False):
    """Record DEMO; returns the recording's directory."""
    if not demo.strip():
        raise RRError('say what to record: make record DEMO="threads 2 3"')
    if not os.path.exists(kernel):
        raise RRError("%s is missing; run 'make kernel' first" % kernel)
    d = out_dir or os.path.join(REC_ROOT, name or default_name(demo))
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    shutil.copyfile(kernel, os.path.join(d, K_COPY))
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", os.path.join(d, SNAP), "64M"],
                   check=True)
    args = record_args(demo, shift, net)
    with open(os.path.join(d, ARGS_TXT), "w") as f:
        f.write("cd %s && %s\n" % (shlex.quote(d), " ".join(shlex.quote(a) for a in args)))
    if echo:
        print("webscale: recording '%s' into %s (icount shift=%d: 1 instruction = %d ns "
              "of guest time)" % (demo, rel(d), shift, 1 << shift), flush=True)
    t0 = time.monotonic()
    stopped_by = None
    proc = subprocess.Popen(args, cwd=d, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    console = os.path.join(d, CONSOLE)
    shown = 0
    try:
        while proc.poll() is None:
            if time.monotonic() - t0 > timeout:
                stopped_by = "SIGTERM after %d s" % timeout
                break
            shown = show_new(console, shown, echo)
            time.sleep(0.05)
    except KeyboardInterrupt:
        stopped_by = "SIGTERM after Ctrl-C"
    if stopped_by:
        # SIGTERM, never SIGKILL: QEMU then closes the log properly.
        os.killpg(proc.pid, signal.SIGTERM)
    rc = proc.wait()
    wall = time.monotonic() - t0
    show_new(console, shown, echo)
    qemu_out = proc.stdout.read().decode("latin-1")
    status = machine.guest_status(rc)
    meta = {
        "demo": demo, "args": args, "shift": shift,
        "kernel_sha256": sha256(os.path.join(d, K_COPY)),
        "kernel_source": os.path.abspath(kernel),
        "qemu_version": qemu_version(),
        "recorded_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "record_wall_s": round(wall, 3),
        "exit_status": status, "stopped_by": stopped_by,
        "log_bytes": os.path.getsize(os.path.join(d, LOG)),
    }
    with open(os.path.join(d, META), "w") as f:
        json.dump(meta, f, indent=1)
    if qemu_out.strip():
        print(qemu_out.rstrip(), file=sys.stderr)
    if status is None and not stopped_by:
        raise RRError("QEMU ended without the guest's exit (status %d); the recording in "
                      "%s is probably unusable" % (rc, rel(d)))
    if echo:
        how = stopped_by or "the guest halted (exit status %s)" % status
        print("webscale: recorded in %.2f s wall, %s; log %d bytes. Replay it:\n"
              "    make replay REC=%s        (paused under gdb; reverse-stepi works)\n"
              "    make replay-check REC=%s  (the console must come out identical)"
              % (wall, how, meta["log_bytes"], os.path.basename(d), os.path.basename(d)))
    return d


def show_new(path, shown, echo):
    """Copy what the guest printed since last time to our stdout."""
    if not echo or not os.path.exists(path):
        return shown
    with open(path, "rb") as f:
        f.seek(shown)
        data = f.read()
    if data:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return shown + len(data)


# ---------------------------------------------------------------- replay

def rel(path):
    r = os.path.relpath(path, os.getcwd())
    return path if r.startswith("../..") else r


def find_recording(name=None, rec_dir=None):
    if rec_dir:
        d = rec_dir
    elif name:
        d = os.path.join(REC_ROOT, name)
    else:
        metas = [os.path.join(REC_ROOT, n, META) for n in
                 (os.listdir(REC_ROOT) if os.path.isdir(REC_ROOT) else [])]
        metas = [m for m in metas if os.path.exists(m)]
        if not metas:
            raise RRError('no recordings in %s yet: make record DEMO="threads 2 3"'
                          % rel(REC_ROOT))
        d = os.path.dirname(max(metas, key=os.path.getmtime))
    if not os.path.exists(os.path.join(d, META)):
        have = sorted(os.listdir(REC_ROOT)) if os.path.isdir(REC_ROOT) else []
        raise RRError("no recording %s (there %s: %s)" % (
            rel(d), "is" if len(have) == 1 else "are", ", ".join(have) or "none"))
    with open(os.path.join(d, META)) as f:
        return d, json.load(f)


def check_kernel(d, meta, kernel=KERNEL, recorded_kernel=False):
    """Refuse to replay with another kernel than the recorded one."""
    copy = os.path.join(d, K_COPY)
    if sha256(copy) != meta["kernel_sha256"]:
        raise RRError("%s was changed after the recording; record again" % rel(copy))
    if recorded_kernel:
        return
    now = sha256(kernel) if os.path.exists(kernel) else "(missing)"
    if now != meta["kernel_sha256"]:
        name = os.path.basename(d)
        raise RRError(
            "refusing to replay %s: it was recorded with another kernel.\n"
            "  recorded: sha256 %s  (%s, %s)\n"
            "  now:      sha256 %s  (%s)\n"
            "A replay must run the very binary that was recorded, and gdb must read its\n"
            "symbols. Record again:   make record DEMO=\"%s\" REC=%s\n"
            "or replay the recorded copy anyway (gdb then shows today's source lines,\n"
            "which may not match):   make replay REC=%s RECORDED_KERNEL=1"
            % (rel(d), meta["kernel_sha256"][:16], rel(copy), meta["recorded_at"],
               now[:16], rel(kernel), meta["demo"], name, name))
    version = qemu_version()
    if version != meta["qemu_version"]:
        print("webscale: warning: recorded with %s, replaying with %s"
              % (meta["qemu_version"], version), file=sys.stderr)


def start_replay(d, meta, gdb_port=None):
    """QEMU replaying the recording in D; paused for gdb if GDB_PORT."""
    shutil.copyfile(os.path.join(d, SNAP), os.path.join(d, REPLAY_SNAP))
    console = os.path.join(d, REPLAY_CONSOLE)
    if os.path.exists(console):
        os.unlink(console)
    args = replay_args(meta)
    if gdb_port:
        args += ["-S", "-gdb", "tcp:127.0.0.1:%d" % gdb_port]
    log = open(os.path.join(d, "replay-qemu.log"), "w")
    return subprocess.Popen(args, cwd=d, stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def replay_check(d, meta, timeout=None, echo=True):
    """Replay without gdb; returns (ok, message)."""
    t0 = time.monotonic()
    proc = start_replay(d, meta)
    timeout = timeout or max(60, 20 * meta["record_wall_s"])
    try:
        rc = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        launch.stop(proc)
        return False, ("the replay of %s did not end within %d s (it hangs: QEMU waits for "
                       "an event the log does not hold)" % (rel(d), timeout))
    wall = time.monotonic() - t0
    with open(os.path.join(d, CONSOLE), "rb") as f:
        want = f.read()
    with open(os.path.join(d, REPLAY_CONSOLE), "rb") as f:
        got = f.read()
    status = machine.guest_status(rc)
    if got != want:
        diff = difflib.unified_diff(want.decode("latin-1").splitlines(),
                                    got.decode("latin-1").splitlines(),
                                    "recorded " + CONSOLE, "replayed " + REPLAY_CONSOLE,
                                    lineterm="", n=2)
        return False, ("the replay's console differs from the recording:\n" +
                       "\n".join(list(diff)[:80]))
    if status != meta["exit_status"] and not meta["stopped_by"]:
        return False, ("the replay ended with status %s, the recording with %s"
                       % (status, meta["exit_status"]))
    return True, ("replay of %s: console identical (%d bytes); replay %.2f s wall, "
                  "recording %.2f s" % (rel(d), len(got), wall, meta["record_wall_s"]))


def gdbinit(d, port):
    """The gdb script: tools/gdb/gdbinit.tmpl (the helpers, the kernel, the
    gdbstub, stop at kmain) for the recorded kernel, plus ws_reverse.py and
    a stop before the guest powers off: QEMU exits there, and with it
    everything gdb could still go back to."""
    with open(launch.TEMPLATE) as f:
        text = f.read()
    text = (text.replace("@WS_PY@", launch.WS_PY).replace("@KERNEL@", os.path.join(d, K_COPY))
            .replace("@PORT@", str(port)))
    text += ("\n# ---- replay (tools/rr.py) ----\nsource %s\n"
             "break system_poweroff\n" % WS_REVERSE_PY)
    path = os.path.join(d, "gdbinit-%d" % port)
    with open(path, "w") as f:
        f.write(text)
    return path


def replay_gdb(d, meta):
    for _ in range(5):
        port = free_port()
        proc = start_replay(d, meta, port)
        if launch.wait_listening(proc, port):
            break
        launch.stop(proc)
    else:
        with open(os.path.join(d, "replay-qemu.log")) as f:
            raise RRError("QEMU did not start its gdbstub:\n" + f.read())
    script = gdbinit(d, port)
    print("webscale: replaying %s ('%s', recorded %s) paused under gdb, gdbstub "
          "127.0.0.1:%d." % (rel(d), meta["demo"], meta["recorded_at"], port))
    print("webscale: its console:   tail -f %s" % rel(os.path.join(d, REPLAY_CONSOLE)))
    print("webscale: forward: continue, stepi, ws switches N. Backward: reverse-stepi, "
          "reverse-continue,\n          ws rswitch, ws rswitches N. 'ws help' lists all; "
          "quitting gdb ends QEMU.")
    sys.stdout.flush()
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        rc = subprocess.call(launch.gdb_command(script), preexec_fn=lambda: signal.signal(
            signal.SIGINT, signal.SIG_DFL))
    finally:
        signal.signal(signal.SIGINT, old)
        launch.stop(proc)
        os.unlink(script)
    return rc


# ---------------------------------------------------------------- costs

def plain_args(meta):
    """The recorded command line without rr: the same machine and shift."""
    args = replay_args(meta)
    i = args.index("-icount")
    args[i + 1] = args[i + 1].split(",")[0]
    i = args.index("-drive")          # the snapshot image: rr's alone
    del args[i:i + 2]
    return [a.replace("file:" + REPLAY_CONSOLE, "file:plain-console.txt") for a in args]


def costs(short=1, long=6, out_root=None):
    """What record and replay cost per guest second: 'threads 2 SHORT' and
    'threads 2 LONG' each run plain (icount, no rr), recorded and replayed;
    the differences divided by LONG - SHORT guest seconds leave out boot
    and QEMU's start."""
    out_root = out_root or os.path.join(BUILD, "rr-costs")
    rows = {}
    for secs in (short, long):
        d = record("threads 2 %d" % secs, out_dir=os.path.join(out_root, str(secs)), echo=False)
        d, meta = find_recording(rec_dir=d)
        t0 = time.monotonic()
        subprocess.run(plain_args(meta), cwd=d, check=False, stdout=subprocess.DEVNULL)
        plain = time.monotonic() - t0
        ok, msg = replay_check(d, meta, echo=False)
        if not ok:
            raise RRError(msg)
        replay = float(re.search(r"replay ([0-9.]+) s", msg).group(1))
        rows[secs] = (plain, meta["record_wall_s"], replay, meta["log_bytes"])
        print("threads 2 %d: plain %.2f s, record %.2f s, replay %.2f s wall; log %d bytes"
              % ((secs,) + rows[secs]))
    span = long - short
    dp, dr, dy, dl = (b - a for a, b in zip(rows[short], rows[long]))
    print("per guest second (icount shift=%d, PIT %s): plain %.3f s, record %.3f s (%.1fx), "
          "replay %.3f s (%.1fx) wall; log %.1f KB"
          % (DEFAULT_SHIFT, "1000 Hz", dp / span, dr / span, dr / dp, dy / span, dy / dp,
             dl / span / 1000))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record", help="record a demo")
    r.add_argument("--demo", required=True, help="shell command line, e.g. 'threads 2 3'")
    r.add_argument("--shift", type=int, default=DEFAULT_SHIFT, help="icount shift")
    r.add_argument("--net", action="store_true",
                   help="attach the NE2000 (user network, restrict=on, filter-replay)")
    r.add_argument("--timeout", type=int, default=RECORD_TIMEOUT,
                   help="wall seconds before SIGTERM ends the recording")
    c = sub.add_parser("costs", help="record/replay slowdown and log size per guest second")
    c.add_argument("--short", type=int, default=1)
    c.add_argument("--long", type=int, default=6)
    for name in ("replay", "check"):
        p = sub.add_parser(name)
        p.add_argument("--recorded-kernel", action="store_true",
                       help="replay the recorded kernel copy even if build/kernel.elf differs")
    for p in (r, sub.choices["replay"], sub.choices["check"]):
        p.add_argument("--name", help="build/rec/NAME")
        p.add_argument("--dir", help="the recording's directory, anywhere")
        p.add_argument("--kernel", default=KERNEL, help="the kernel (default build/kernel.elf)")
    a = ap.parse_args()
    try:
        if a.cmd == "costs":
            costs(a.short, a.long)
            return 0
        if a.cmd == "record":
            record(a.demo, a.name or None, a.dir, a.shift, a.kernel, a.timeout, net=a.net)
            return 0
        d, meta = find_recording(a.name or None, a.dir)
        check_kernel(d, meta, a.kernel, a.recorded_kernel)
        if a.cmd == "check":
            ok, msg = replay_check(d, meta)
            print("webscale: " + msg)
            return 0 if ok else 1
        return replay_gdb(d, meta)
    except RRError as e:
        print("webscale: " + str(e), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
