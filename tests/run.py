#!/usr/bin/env python3
"""Run every webscale test and end with the line "N passed, N failed".

  host/*        pure kernel modules compiled for the host with ASan+UBSan
  kernel/S.C    in-kernel suite S, case C: booted with test=S (or test=S.C
                when only some cases are selected) under -icount shift=0
                (deterministic time), KTAP parsed line by line
  T.F           tests/scenarios/test_T.py, function test_F: console, GDB,
                panics, serial paste

Usage: tests/run.py [--list] [SUBSTRING...]
  only the tests whose name contains one of the substrings; a substring
  that names no test is an error. The cases of a scenario suite
  (KTEST_SCENARIO_SUITE: its tests/scenarios script drives it) run only
  when named in full, e.g. kernel/harness.fails; kernel/bench.yield boots
  as tools/bench.py (make bench) boots that suite. --list prints the names.
Environment: TEST_JOBS (default 2) tests at once; SUITE_TIMEOUT (default
300) wall seconds for one boot of an in-kernel suite.

A test that cannot run here (the TAP tests without root or /dev/net/tun)
or is not due yet prints one line, SKIP and why: neither a pass nor a
failure; the last line then adds ", N skipped".

A failure prints where: a kernel case its "# FAIL file:line" diagnostics,
a hung suite the case it was in and the guest's last 40 lines, a scenario
the file and line of the failed check, its line of code and message, and
the last 40 lines of the guest it was about.
"""
import concurrent.futures as cf
import glob
import importlib.util
import os
import re
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "lib"))
from guest import TAIL_LINES, Guest, Skip, TestFailure, forget_guests, guests_booted  # noqa: E402

SUITE_TIMEOUT = float(os.environ.get("SUITE_TIMEOUT", "300"))
# QEMU arguments a suite needs beyond the default machine, the same ones
# its own driver gives it, so that a case named here runs as it does there:
# bench reads the TSC, which the default 486 lacks (tools/bench.py).
SUITE_QEMU = {"bench": ["-cpu", "pentium"]}
SPEC_MAX = 63           # bytes of test=...: kmain's copy of it holds 63
MESSAGE_LINES = 24      # a longer failure message keeps its first and last lines


class Result:
    """ok: True (pass), False (fail) or None (skipped; detail says why)."""

    def __init__(self, name, ok, secs, detail="", guest_ns=None):
        self.name, self.ok, self.secs, self.detail = name, ok, secs, detail
        self.guest_ns = guest_ns


class Test:
    """A name, how to run it, and whether a substring may select it (the
    cases of scenario suites need their full name)."""

    def __init__(self, name, run, exact_only=False):
        self.name, self.run, self.exact_only = name, run, exact_only

    def selected_by(self, word):
        if self.exact_only:
            return word in (self.name, self.name[len("kernel/"):], self.name.split(".")[0])
        return word in self.name


# ---- host unit tests ----

def host_tests():
    for exe in sorted(glob.glob(os.path.join(ROOT, "build", "host", "test_*"))):
        yield Test("host/" + os.path.basename(exe), lambda exe=exe: run_host(exe))


def run_host(exe):
    t0 = time.monotonic()
    p = subprocess.run([exe], capture_output=True, text=True, timeout=120)
    ok = p.returncode == 0
    return [Result("host/" + os.path.basename(exe), ok, time.monotonic() - t0,
                   "" if ok else p.stdout[-3000:] + p.stderr[-3000:])]


# ---- in-kernel suites ----

CASE_TABLE = re.compile(r"struct ktest_case (\w+)\[\]\s*=\s*\{(.*?)\};", re.S)
SUITE_DECL = re.compile(r"^(KTEST_SUITE|KTEST_SCENARIO_SUITE)\((\w+),\s*(\w+)\)", re.M)


def kernel_cases():
    """(suite, [case...], scenario?) from the case tables in tests/kernel/*.c.
    The kernel's own report is compared with these names after each boot,
    so a table this reads wrongly fails loudly."""
    for f in sorted(glob.glob(os.path.join(HERE, "kernel", "*.c"))):
        text = open(f).read()
        tables = {name: re.findall(r'\{\s*"(\w+)"\s*,', body)
                  for name, body in CASE_TABLE.findall(text)}
        for macro, suite, table in SUITE_DECL.findall(text):
            yield suite, tables.get(table, []), macro == "KTEST_SCENARIO_SUITE"


def kernel_tests():
    for suite, cases, scenario in kernel_cases():
        for c in cases:
            yield Test("kernel/%s.%s" % (suite, c), None, exact_only=scenario)


def kernel_boots(selected):
    """Group the selected kernel cases into boots: one per suite, test=S if
    every case of S is selected, else test=S.C1,S.C2 in pieces that fit the
    kernel's command line."""
    all_cases = {s: cs for s, cs, _ in kernel_cases()}
    by_suite = {}
    for t in selected:
        suite, case = t.name[len("kernel/"):].split(".", 1)
        by_suite.setdefault(suite, []).append(case)
    for suite, cases in by_suite.items():
        if cases == all_cases[suite]:
            yield Test("kernel/" + suite, lambda s=suite, c=cases: run_boot(s, s, c))
            continue
        chunk = []
        for c in cases + [None]:
            spec = ",".join("%s.%s" % (suite, x) for x in chunk + [c] if x)
            if c is None or len(spec) > SPEC_MAX:
                words = ",".join("%s.%s" % (suite, x) for x in chunk)
                yield Test("kernel/" + suite, lambda w=words, s=suite, c=chunk: run_boot(w, s, c))
                chunk = []
            if c is not None:
                chunk.append(c)


# "# case S.C" before a case runs; "ok N S.C # T ns" or "not ok ..." after.
# Whole lines only: the output arrives in pieces, and "$" would match the
# end of a piece in the middle of a name.
KTAP = re.compile(rb"^(?:# case (\S+)|(not )?ok (\d+) (\S+)([^\r\n]*))\r?\n", re.M)
CASE_NS = re.compile(rb"^ # (\d+) ns")


def guest_tail(g):
    return "\n".join(["guest console, last %d lines:" % TAIL_LINES] + g.tail_lines())


def run_boot(spec, suite, expected):
    """One boot with test=spec. Each case is a result, timed by the arrival
    of its "# case" and "ok" lines (wall) and by the kernel (guest ns); a
    broken run is one more result."""
    t0 = time.monotonic()
    deadline = t0 + SUITE_TIMEOUT
    results, running = [], None       # running: (case, start offset, start time)
    g = Guest(append="test=" + spec, icount=True, extra=SUITE_QEMU.get(suite, ()))
    problem = ""
    try:
        while True:
            try:
                m = g.expect(KTAP, max(deadline - time.monotonic(), 0.01))
            except TestFailure:
                break
            now = time.monotonic()
            if m.group(1):
                running = (m.group(1).decode(), m.start(), now)
                continue
            name = m.group(4).decode()
            start, since = (running[1], running[2]) if running and running[0] == name else (m.start(), now)
            ok = not m.group(2)
            detail = "" if ok else g.output[start:m.end()]
            t = CASE_NS.match(m.group(5))
            ns = int(t.group(1)) if t else None
            results.append(Result("kernel/" + name, ok, now - since, detail, ns))
            running = None
        if not g.eof:
            tail = guest_tail(g)          # before the kill, which QEMU reports
            g.kill()
            done = [r.name[len("kernel/"):] for r in results] + ([running[0]] if running else [])
            left = [c for c in expected if "%s.%s" % (suite, c) not in done]
            where = ("in case %s, which had run for %.1f s" % (running[0], time.monotonic() - running[2])
                     if running else "before any case started")
            problem = ("timeout: SUITE_TIMEOUT=%g s passed %s (raise SUITE_TIMEOUT on a slow machine)"
                       % (SUITE_TIMEOUT, where))
            if left:
                problem += "\nnot run: " + ", ".join(left)
            name = "kernel/" + (running[0] if running else suite + " (run)")
            results.append(Result(name, False, time.monotonic() - (running[2] if running else t0),
                                  problem + "\n" + tail))
            return results
        status = g.wait_exit(10)
    except TestFailure as e:
        status, problem = None, str(e)
    finally:
        g.kill()
    out = g.output
    plan = re.search(r"^1\.\.(\d+)", out, re.M)
    got = [r.name[len("kernel/"):] for r in results]
    want = ["%s.%s" % (suite, c) for c in expected]
    if not problem:
        if "PANIC" in out:
            problem = "kernel panic"
        elif not plan:
            problem = "no KTAP plan line"
        elif int(plan.group(1)) != len(results):
            problem = "plan says %s cases, %d reported" % (plan.group(1), len(results))
        elif got != want:
            problem = ("the kernel ran %s; tests/run.py read %s from the case tables in "
                       "tests/kernel/*.c" % (", ".join(got) or "nothing", ", ".join(want)))
        elif status is None:
            problem = "QEMU exited without the test exit code (reboot or crash?)"
        elif status not in (0, 1):
            problem = "unexpected exit status %s" % status
        elif (status == 0) != all(r.ok for r in results):
            problem = "exit status %s disagrees with the results" % status
    if problem:
        results.append(Result("kernel/%s (run)" % suite, False, time.monotonic() - t0,
                              problem + "\n" + guest_tail(g)))
    return results


# ---- console scenarios ----

def scenario_tests():
    for path in sorted(glob.glob(os.path.join(HERE, "scenarios", "test_*.py"))):
        modname = os.path.basename(path)[5:-3]
        spec = importlib.util.spec_from_file_location("scenario_" + modname, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for fname in sorted(dir(mod)):
            if fname.startswith("test_") and callable(getattr(mod, fname)):
                name = "%s.%s" % (modname, fname[5:])
                yield Test(name, lambda f=getattr(mod, fname), n=name: [run_scenario(n, f)])


def shorten(text, most=MESSAGE_LINES):
    lines = text.rstrip().splitlines()
    if len(lines) <= most:
        return lines
    half = most // 2
    return lines[:half] + ["... (%d lines left out)" % (len(lines) - most)] + lines[-half:]


def failure_report(exc):
    """What a failed scenario prints: the check's file and line, its line of
    code and message (what it expected), then the guest's last lines."""
    if isinstance(exc, TestFailure):
        lines = ["%s: %s" % (exc.where, exc.source)] + shorten(str(exc))
        g = exc.guest
    else:
        lines = shorten("".join(traceback.format_exception(exc)), 40)
        g = None
    booted = guests_booted()
    g = g or (booted[-1] if booted else None)
    if g is not None:
        lines.append(guest_tail(g))
    return "\n".join(lines)


def run_scenario(name, fn):
    t0 = time.monotonic()
    forget_guests()
    try:
        fn()
        return Result(name, True, time.monotonic() - t0)
    except Skip as e:
        return Result(name, None, time.monotonic() - t0, str(e))
    except Exception as e:
        return Result(name, False, time.monotonic() - t0, failure_report(e))


# ---- selection and the report ----

def select(words):
    """The tests to run, or exit 2 naming the words that select nothing."""
    tests = list(host_tests()) + list(kernel_tests()) + list(scenario_tests())
    if not words:
        chosen = [t for t in tests if not t.exact_only]
    else:
        unknown = [w for w in words if not any(t.selected_by(w) for t in tests)]
        if unknown:
            for w in unknown:
                print("tests/run.py: no test matches '%s' (tests/run.py --list names them all)" % w)
            sys.exit(2)
        chosen = [t for t in tests if any(t.selected_by(w) for w in words)]
    host = [t for t in chosen if t.name.startswith("host/")]
    kernel = [t for t in chosen if t.name.startswith("kernel/")]
    return host + list(kernel_boots(kernel)) + [t for t in chosen if t.run and t not in host]


def time_column(r):
    text = "%6.1f s" % r.secs
    if r.guest_ns is not None:
        ns = r.guest_ns
        text += ("  (guest %.3f s)" % (ns / 1e9) if ns >= 1e9 else
                 "  (guest %.3f ms)" % (ns / 1e6) if ns >= 1e6 else "  (guest %.1f us)" % (ns / 1e3))
    return text


def main():
    args = sys.argv[1:]
    if args[:1] == ["--list"]:
        for t in list(host_tests()) + list(kernel_tests()) + list(scenario_tests()):
            print(t.name + ("   (scenario suite: by full name only)" if t.exact_only else ""))
        return
    todo = select(args)
    jobs = int(os.environ.get("TEST_JOBS", "2"))
    passed = failed = skipped = 0
    t0 = time.monotonic()
    with cf.ThreadPoolExecutor(max_workers=jobs) as ex:
        futures = {ex.submit(t.run): t.name for t in todo}
        for fut in cf.as_completed(futures):
            try:
                results = fut.result()
            except Exception:
                results = [Result(futures[fut], False, 0, traceback.format_exc())]
            for r in results:
                if r.ok is None:
                    print("SKIP  %-48s %s  %s" % (r.name, time_column(r), r.detail), flush=True)
                    skipped += 1
                    continue
                print("%s  %-48s %s" % ("PASS" if r.ok else "FAIL", r.name, time_column(r)),
                      flush=True)
                if r.ok:
                    passed += 1
                else:
                    failed += 1
                    for line in r.detail.rstrip().splitlines()[-80:]:
                        print("      | " + line)
    print("# %d tests in %.0f s" % (passed + failed + skipped, time.monotonic() - t0))
    print("%d passed, %d failed" % (passed, failed) + (", %d skipped" % skipped if skipped else ""))
    sys.exit(1 if failed or passed == 0 else 0)


if __name__ == "__main__":
    main()
