"""Record and replay (tools/rr.py, make record / replay / replay-check).

Each test records its own short run, "threads 2 1" (then halt), into
build/test-rr/, under QEMU's rr mode, and replays it: without gdb, the
console must come out byte-identical; under gdb -batch with the same script
`make replay` uses, execution must go backwards across a context switch;
and a recording must refuse to replay with another kernel.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from guest import TestFailure, check  # noqa: E402
import rr  # noqa: E402

DEMO = "threads 2 1"
GDB_TIMEOUT = 120
TEST_ROOT = os.path.join(ROOT, "build", "test-rr")


def make_recording(tag):
    d = os.path.join(TEST_ROOT, "%s-%d" % (tag, os.getpid()))
    rr.record(DEMO, out_dir=d, echo=False)
    d, meta = rr.find_recording(rec_dir=d)
    with open(os.path.join(d, rr.CONSOLE), encoding="latin-1") as f:
        console = f.read()
    check("2 threads ran for" in console and "halting" in console,
          "the recorded demo did not run to its end:\n" + console[-2000:])
    check(meta["exit_status"] == 0, "the recording did not end with halt: %r" % meta)
    return d, meta


def test_replay_console_is_identical():
    d, meta = make_recording("console")
    try:
        rr.check_kernel(d, meta, os.path.join(d, rr.K_COPY))
        ok, msg = rr.replay_check(d, meta, timeout=120)
        check(ok, msg)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_network_demo_replays_identically():
    # The NE2000 on QEMU's user network, its frames recorded by
    # filter-replay: a ping to slirp's gateway replays to the same bytes,
    # round-trip times included.
    d = os.path.join(TEST_ROOT, "net-%d" % os.getpid())
    try:
        rr.record("ping 10.0.2.2 2", out_dir=d, echo=False, net=True)
        d, meta = rr.find_recording(rec_dir=d)
        with open(os.path.join(d, rr.CONSOLE), encoding="latin-1") as f:
            console = f.read()
        check("2 sent, 2 received" in console, "the recorded ping failed:\n" + console[-2000:])
        ok, msg = rr.replay_check(d, meta, timeout=120)
        check(ok, msg)
    finally:
        shutil.rmtree(d, ignore_errors=True)


# Runs in gdb after `make replay`'s own script (stopped at kmain). Prints
# CHECK lines; the test compares them.
REVERSE = r'''
python
def ev(e):
    return int(gdb.parse_and_eval(e))

def bounds(t):
    t = gdb.Value(t).cast(gdb.lookup_type("struct thread").pointer())
    lo = int(t["stack"])
    return lo, lo + int(t["stack_size"])

def out(key, value):
    print("CHECK %s=%s" % (key, value))

entry = ev("(unsigned int)&switch_context")
bp = gdb.Breakpoint("*%#x" % entry)
seen = {}
for _ in range(3):
    gdb.execute("continue", to_string=True)
    seen[ev("sched_switch_count")] = (ev("(unsigned int)sched_prev"), ev("(unsigned int)current"))
out("third_at_entry", ev("$pc") == entry)
out("third_count", ev("sched_switch_count"))
prev, nxt = ev("(unsigned int)sched_prev"), ev("(unsigned int)current")
old, new = bounds(prev), bounds(nxt)
load = ev("(unsigned int)current->ctx")
for _ in range(20):
    gdb.execute("stepi", to_string=True)
    if new[0] <= ev("(unsigned int)$esp") < new[1]:
        break
esp = ev("(unsigned int)$esp")
out("forward_on_new_stack", new[0] <= esp < new[1] and esp == load)
gdb.execute("reverse-stepi", to_string=True)
esp = ev("(unsigned int)$esp")
out("back_on_old_stack", old[0] <= esp < old[1])
out("back_esp_is_saved_ctx", esp == ev("(unsigned int)((struct thread *)%d)->ctx" % prev))
out("back_at_swap", "mov    %edx,%esp" in gdb.execute("x/i $pc", to_string=True))
gdb.execute("reverse-continue", to_string=True)
out("rc1_at_entry", ev("$pc") == entry)
out("rc1_count", ev("sched_switch_count"))
gdb.execute("reverse-continue", to_string=True)
count = ev("sched_switch_count")
out("rc2_at_entry", ev("$pc") == entry)
out("rc2_count", count)
out("rc2_same_threads", seen.get(count) == (ev("(unsigned int)sched_prev"),
                                             ev("(unsigned int)current")))
bp.delete()
end
ws rswitch
python out("rswitch_count", ev("sched_switch_count"))
ws switches 2
python out("forward_again_count", ev("sched_switch_count"))
set exec-direction reverse
ws switches 1
set exec-direction forward
python out("reverse_switches_count", ev("sched_switch_count"))
'''

WANT = {"third_at_entry": "True", "third_count": "3", "forward_on_new_stack": "True",
        "back_on_old_stack": "True", "back_esp_is_saved_ctx": "True", "back_at_swap": "True",
        "rc1_at_entry": "True", "rc1_count": "3", "rc2_at_entry": "True", "rc2_count": "2",
        "rc2_same_threads": "True", "rswitch_count": "1", "forward_again_count": "3",
        "reverse_switches_count": "2"}


def test_reverse_through_a_switch():
    """Continue to the third switch, stepi across the stack swap,
    reverse-stepi back (esp on the old thread's stack again), then
    reverse-continue to the start of this switch and to the one before
    (sched_switch_count one less), ws rswitch to the first, forward again
    with ws switches, and ws switches backwards with exec-direction reverse."""
    d, meta = make_recording("gdb")
    proc = None
    try:
        for _ in range(5):
            port = rr.free_port()
            proc = rr.start_replay(d, meta, port)
            if rr.launch.wait_listening(proc, port):
                break
            rr.launch.stop(proc)
        else:
            raise TestFailure("QEMU's gdbstub did not start for the replay")
        init = rr.gdbinit(d, port)
        with tempfile.NamedTemporaryFile("w", suffix=".gdb", delete=False) as f:
            f.write(REVERSE)
        try:
            p = subprocess.run([os.environ.get("GDB", "gdb"), "-q", "-batch", "-nx",
                                "-x", init, "-x", f.name],
                               capture_output=True, text=True, timeout=GDB_TIMEOUT)
        except subprocess.TimeoutExpired as e:
            raise TestFailure("gdb did not finish in %d s:\n%s" % (
                GDB_TIMEOUT, (e.stdout or b"")[-3000:]))
        finally:
            os.unlink(f.name)
        text = p.stdout + p.stderr
        got = dict(re.findall(r"^CHECK (\w+)=(\S+)$", text, re.M))
        wrong = {k: got.get(k) for k, v in WANT.items() if got.get(k) != v}
        check(not wrong, "wrong or missing (want %s): %s\ngdb said:\n%s" % (
            {k: WANT[k] for k in wrong}, wrong, text[-4000:]))
        check(re.search(r"^switch #1: .* -> ", text, re.M),
              "ws rswitch printed no 'switch #1: A -> B' line:\n" + text[-3000:])
    finally:
        if proc is not None:
            rr.launch.stop(proc)
        shutil.rmtree(d, ignore_errors=True)


def test_other_kernel_is_refused():
    """The same recording: refused with a kernel that differs in one
    string, replayed with its own (both through the command line)."""
    d, meta = make_recording("kernel")
    try:
        with open(os.path.join(d, rr.K_COPY), "rb") as f:
            elf = f.read()
        check(b"web scale?" in elf, "the kernel has no banner to change")
        other = os.path.join(d, "other-kernel.elf")
        with open(other, "wb") as f:
            f.write(elf.replace(b"web scale?", b"WEB SCALE?", 1))
        tool = [sys.executable, os.path.join(ROOT, "tools", "rr.py"), "check", "--dir", d]
        p = subprocess.run(tool + ["--kernel", other], capture_output=True, text=True,
                           timeout=120)
        err = p.stdout + p.stderr
        check(p.returncode == 2, "replay with another kernel: exit %d, not 2:\n%s"
              % (p.returncode, err))
        for want in ("refusing to replay", "recorded with another kernel",
                     meta["kernel_sha256"][:16], rr.sha256(other)[:16], "make record"):
            check(want in err, "the refusal does not say %r:\n%s" % (want, err))
        check(not os.path.exists(os.path.join(d, rr.REPLAY_CONSOLE)),
              "QEMU ran although the kernel was refused")
        p = subprocess.run(tool + ["--kernel", os.path.join(d, rr.K_COPY)],
                           capture_output=True, text=True, timeout=120)
        check(p.returncode == 0 and "console identical" in p.stdout,
              "replay with the recorded kernel failed (exit %d):\n%s%s"
              % (p.returncode, p.stdout, p.stderr))
    finally:
        shutil.rmtree(d, ignore_errors=True)
