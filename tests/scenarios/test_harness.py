"""tests/run.py itself: one case run by its name (a bench case too, on
bench's machine), a name that selects
nothing refused (by run.py and by the kernel), and what a failure prints:
a failed kernel case its check's file:line and values, a hung suite the
case it hung in and the guest's last 40 lines, a failed scenario check
its file:line, its line of code, what it expected, and the guest's last
lines. The cases that go wrong on purpose are the kernel's scenario suite
`harness` (tests/kernel/scenario_harness.c) and functions defined here,
which run.py never collects (they do not start with test_)."""
import importlib.util
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUN_PY = os.path.join(ROOT, "tests", "run.py")
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from guest import TAIL_LINES, Guest, check  # noqa: E402


def run_py(*words, env=None):
    p = subprocess.run([sys.executable, RUN_PY] + list(words), capture_output=True, text=True,
                       timeout=180, env=dict(os.environ, **(env or {})))
    return p.returncode, p.stdout + p.stderr


def results(out):
    return re.findall(r"^(PASS|FAIL)  (\S+)", out, re.M)


def report_of(out, name):
    """The '      | ' lines under a test's FAIL line."""
    m = re.search(r"^FAIL  %s .*\n((?:      \| .*\n)*)" % re.escape(name), out, re.M)
    check(m, "no FAIL line for %s:\n%s" % (name, out))
    return [line[8:] for line in m.group(1).splitlines()]


def line_of(marker):
    """The line of this file that holds marker (in a comment)."""
    with open(os.path.abspath(__file__)) as f:
        for n, line in enumerate(f, 1):
            if marker in line and "line_of(" not in line:
                return n
    raise AssertionError(marker)


def test_one_case_by_its_name():
    rc, out = run_py("kernel/loop.post_burst_overflow_counted")
    check(rc == 0, "exit status %d:\n%s" % (rc, out))
    check(results(out) == [("PASS", "kernel/loop.post_burst_overflow_counted")], out)
    # Its time from its own KTAP line: the kernel's count, in guest ms.
    check(re.search(r"kernel/loop\.post_burst_overflow_counted +\d+\.\d s  \(guest \d+\.\d{3} ms\)", out),
          out)
    check(out.rstrip().splitlines()[-1] == "1 passed, 0 failed", out)


def test_a_bench_case_by_its_name_boots_as_make_bench_does():
    # The bench suite reads the TSC: run.py gives it tools/bench.py's
    # -cpu pentium, where it used to boot the 486 and fail every case.
    rc, out = run_py("kernel/bench.yield")
    check(rc == 0 and results(out) == [("PASS", "kernel/bench.yield")], out)
    check("needs a TSC" not in out, out)


def test_a_skip_is_neither_a_pass_nor_a_failure():
    # TAP=0 turns the TAP tests off (tests/lib/tapnet.py): each is one SKIP
    # line with the reason, counted apart; the exit status follows the rest.
    rc, out = run_py("tap.curl_both_styles", "kernel/loop.post_burst_overflow_counted",
                     env={"TAP": "0"})
    check(rc == 0, "exit status %d:\n%s" % (rc, out))
    check(re.search(r"^SKIP  tap\.curl_both_styles +\d+\.\d s  TAP=0: the TAP tests are turned off$",
                    out, re.M), out)
    check(results(out) == [("PASS", "kernel/loop.post_burst_overflow_counted")], out)
    check(out.rstrip().splitlines()[-1] == "1 passed, 0 failed, 1 skipped", out)
    # Nothing but skips is not a pass.
    rc, out = run_py("tap.curl_both_styles", env={"TAP": "0"})
    check(rc == 1 and out.rstrip().splitlines()[-1] == "0 passed, 0 failed, 1 skipped",
          "exit status %d:\n%s" % (rc, out))


def test_a_name_that_selects_nothing_is_an_error():
    rc, out = run_py("kernel/loop.no_such_case")
    check(rc != 0, "exit status 0:\n" + out)
    check("no test matches 'kernel/loop.no_such_case'" in out and "passed" not in out, out)
    # The kernel refuses it too, rather than run nothing and pass.
    with Guest(append="test=loop.no_such_case,sched.clock", icount=True) as g:
        status = g.wait_exit(60)
        check("# no test matches 'loop.no_such_case'" in g.output, "the kernel did not name it")
        check(re.search(r"^1\.\.0\r?$", g.output, re.M) and "# case" not in g.output,
              "the kernel ran cases of a spec with an unknown word")
        check(status == 1, "exit status %r, want 1 (failure)" % status)


def test_failed_and_hung_kernel_cases_are_named():
    rc, out = run_py("kernel/harness.passes", "kernel/harness.fails", "kernel/harness.hangs",
                     env={"SUITE_TIMEOUT": "5"})
    check(rc == 1, "exit status %d, want 1:\n%s" % (rc, out))
    check(sorted(results(out)) == [("FAIL", "kernel/harness.fails"), ("FAIL", "kernel/harness.hangs"),
                                   ("PASS", "kernel/harness.passes")], out)
    check(out.rstrip().splitlines()[-1] == "1 passed, 2 failed", out)
    fails = report_of(out, "kernel/harness.fails")
    check(fails[0] == "# case harness.fails", "the failure's report does not start at its case")
    check(any(re.search(r"# FAIL tests/kernel/scenario_harness\.c:\d+: answer == 42: 41 != 42", x)
              for x in fails), "no file:line and values in:\n" + "\n".join(fails))
    hangs = report_of(out, "kernel/harness.hangs")
    check(re.match(r"timeout: SUITE_TIMEOUT=5 s passed in case harness\.hangs, which had run for "
                   r"\d+\.\d s", hangs[0]), "the timeout does not name the case:\n" + "\n".join(hangs))
    tail = hangs[hangs.index("guest console, last %d lines:" % TAIL_LINES) + 1:]
    check(len(tail) == TAIL_LINES and tail[-1] == "harness: waiting, line 50 of 50",
          "not the guest's last %d lines:\n%s" % (TAIL_LINES, "\n".join(tail)))


def load_run_py():
    spec = importlib.util.spec_from_file_location("run_under_test", RUN_PY)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def broken_expect():
    with Guest() as g:
        g.expect_prompt(30)
        g.sendline("uptime")
        g.expect(r"a line that never comes", 2)          # marker: the failing expect


def broken_check():
    with Guest() as g:
        g.expect_prompt(30)
        threads = 3
        check(threads == 4, "threads = %d, want 4" % threads)   # marker: the failing check


def test_failed_scenario_prints_check_expectation_and_guest():
    run = load_run_py()
    r = run.run_scenario("harness.broken_expect", broken_expect)
    check(not r.ok, "a failed expect passed")
    lines = r.detail.splitlines()
    check(lines[0] == "tests/scenarios/test_harness.py:%d: %s" % (
        line_of("marker: the failing expect"),
        'g.expect(r"a line that never comes", 2)          # marker: the failing expect'),
        "not the file:line and code of the expect:\n" + r.detail)
    check(lines[1] == "expected output matching 'a line that never comes': not within 2 s",
          "not what it expected:\n" + r.detail)
    tail = lines[lines.index("guest console, last %d lines:" % TAIL_LINES) + 1:]
    check(0 < len(tail) <= TAIL_LINES and any(re.search(r"^up \d", x) for x in tail),
          "the guest's last lines lack uptime's answer:\n" + r.detail)

    r = run.run_scenario("harness.broken_check", broken_check)
    lines = r.detail.splitlines()
    check(not r.ok and lines[0].startswith("tests/scenarios/test_harness.py:%d: check(threads == 4,"
                                           % line_of("marker: the failing check")),
          "not the file:line and code of the check:\n" + r.detail)
    check(lines[1] == "threads = 3, want 4", "not the check's message:\n" + r.detail)
    # check() was not given the guest: the report shows the last one booted.
    check("guest console, last %d lines:" % TAIL_LINES in lines and "webscale> " in r.detail,
          "no guest console in:\n" + r.detail)
