#!/usr/bin/env python3
"""Run every webscale test and end with the line "N passed, N failed".

  host/*        pure kernel modules compiled for the host with ASan+UBSan
  kernel/S.C    in-kernel suite S, case C: booted with test=S under
                -icount shift=0 (deterministic time), KTAP parsed
  T.F           tests/scenarios/test_T.py, function test_F: console, GDB,
                panics, serial paste

Usage: tests/run.py [SUBSTRING...]   only tests whose name contains one.
Environment: TEST_JOBS (default 2) tests at once.
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
from guest import Guest, TestFailure  # noqa: E402

SUITE_TIMEOUT = 300   # wall seconds for one in-kernel suite


class Result:
    def __init__(self, name, ok, secs, detail=""):
        self.name, self.ok, self.secs, self.detail = name, ok, secs, detail


def host_tests():
    for exe in sorted(glob.glob(os.path.join(ROOT, "build", "host", "test_*"))):
        yield "host/" + os.path.basename(exe), lambda exe=exe: run_host(exe)


def run_host(exe):
    t0 = time.monotonic()
    p = subprocess.run([exe], capture_output=True, text=True, timeout=120)
    ok = p.returncode == 0
    return [Result("host/" + os.path.basename(exe), ok, time.monotonic() - t0,
                   "" if ok else p.stdout[-3000:] + p.stderr[-3000:])]


def kernel_suites():
    names = []
    for f in sorted(glob.glob(os.path.join(HERE, "kernel", "*.c"))):
        names += re.findall(r"^KTEST_SUITE\((\w+),", open(f).read(), re.M)
    for s in names:
        yield "kernel/" + s, lambda s=s: run_suite(s)


KTAP_LINE = re.compile(r"^(not )?ok (\d+) (\S+)(.*)$", re.M)


def run_suite(suite):
    """One boot per suite. Every case is a result; a broken run is one more."""
    t0 = time.monotonic()
    results = []
    g = Guest(append="test=" + suite, icount=True)
    problem = ""
    try:
        status = g.wait_exit(SUITE_TIMEOUT)
    except TestFailure as e:
        status, problem = None, "timeout: " + str(e).splitlines()[0]
    out = g.output
    plan = re.search(r"^1\.\.(\d+)", out, re.M)
    cases = KTAP_LINE.findall(out)
    secs = time.monotonic() - t0
    for i, (neg, num, name, rest) in enumerate(cases):
        ok = not neg
        detail = ""
        if not ok:
            # The diagnostics printed since the previous result line.
            start = out.find("ok %s %s" % (num, name))
            prev = out.rfind("\nok ", 0, start)
            prev2 = out.rfind("\nnot ok ", 0, start)
            detail = out[max(prev, prev2, 0):start + len(name) + len(rest) + 10]
        results.append(Result("kernel/" + name, ok, secs / max(len(cases), 1), detail))
    if not problem:
        if "PANIC" in out:
            problem = "kernel panic"
        elif not plan:
            problem = "no KTAP plan line"
        elif int(plan.group(1)) != len(cases):
            problem = "plan says %s cases, %d reported" % (plan.group(1), len(cases))
        elif status is None:
            problem = "QEMU exited without the test exit code (reboot or crash?)"
        elif status not in (0, 1):
            problem = "unexpected exit status %s" % status
        elif (status == 0) != all(r.ok for r in results):
            problem = "exit status %s disagrees with the results" % status
    if problem:
        results.append(Result("kernel/%s (run)" % suite, False, secs,
                              problem + "\n" + out[-4000:]))
    return results


def scenario_tests():
    for path in sorted(glob.glob(os.path.join(HERE, "scenarios", "test_*.py"))):
        modname = os.path.basename(path)[5:-3]
        spec = importlib.util.spec_from_file_location("scenario_" + modname, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for fname in sorted(dir(mod)):
            if fname.startswith("test_") and callable(getattr(mod, fname)):
                name = "%s.%s" % (modname, fname[5:])
                yield name, lambda f=getattr(mod, fname), n=name: run_scenario(n, f)


def run_scenario(name, fn):
    t0 = time.monotonic()
    try:
        fn()
        return [Result(name, True, time.monotonic() - t0)]
    except TestFailure as e:
        return [Result(name, False, time.monotonic() - t0, str(e))]
    except Exception:
        return [Result(name, False, time.monotonic() - t0, traceback.format_exc())]


def main():
    filters = sys.argv[1:]
    jobs = int(os.environ.get("TEST_JOBS", "2"))
    todo = [t for t in list(host_tests()) + list(kernel_suites()) + list(scenario_tests())
            if not filters or any(f in t[0] for f in filters)]
    passed = failed = 0
    t0 = time.monotonic()
    with cf.ThreadPoolExecutor(max_workers=jobs) as ex:
        futures = {ex.submit(fn): name for name, fn in todo}
        for fut in cf.as_completed(futures):
            try:
                results = fut.result()
            except Exception:
                results = [Result(futures[fut], False, 0, traceback.format_exc())]
            for r in results:
                print("%s  %-48s %6.1f s" % ("PASS" if r.ok else "FAIL", r.name, r.secs),
                      flush=True)
                if r.ok:
                    passed += 1
                else:
                    failed += 1
                    for line in r.detail.rstrip().splitlines()[-60:]:
                        print("      | " + line)
    print("# %d tests in %.0f s" % (passed + failed, time.monotonic() - t0))
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed or passed == 0 else 0)


if __name__ == "__main__":
    main()
