"""Ring 3 at the console: `spawn` runs programs in their own address spaces,
Ctrl-C kills a ring-3 spinner and the shell answers at once, the event-loop
echo wakes on console input through wait_events, faults kill only their
process with the usual report, a kernel stack overflow is caught by its
guard page (the double fault's own stack reports it), and every line of it
fits 80 columns."""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from guest import Guest, check  # noqa: E402
from columns import check_fits  # noqa: E402
from demo_line import demo_lines  # noqa: E402


def boot():
    g = Guest(icount=True)
    g.expect_prompt(60)
    return g


def test_spawn_runs_a_program_with_its_arguments_and_exit_code():
    with boot() as g:
        out = g.command("spawn hello one two")
        check(re.search(r"hello from ring 3: pid \d+, 2 arguments 'one' 'two'", out),
              "hello did not run", g)
        check(re.search(r"process \d+ 'hello' exited with code 0", out), "no exit code", g)
        check("'one' 'two'\r\n" in out, "a bare LF: a raw terminal climbs down stairs", g)
        out = g.command("spawn exit 42")
        check("exited with code 42" in out, "exit 42's code", g)
        out = g.command("spawn nosuch")
        check("spawn: no program 'nosuch'" in out and "programs (user/ring3/): " in out,
              "an unknown program is refused with the list", g)
        out = g.command("ps")
        check("no processes (ring 3)" in out, "a process left behind:\n" + out, g)
        check_fits(check, "spawn and ps", g.output, g)
        # As a job, echo's console read is refused (-E_PERM) and says why.
        g.sendline("spawn echo &")
        g.expect(r"\[1\] spawn: process \d+ 'echo' exited with code 1", 30)
        check(re.search(r"\[1\] echo: read: not allowed\r", g.output), "E_PERM unnamed", g)


def test_spawns_run_time_covers_the_childs_whole_life():
    """spawn's "after N us" counts from before process_start: the child's
    life begins there (its image loaded, its stack mapped and zeroed), and
    it can even end before process_start returns (a clock started after
    it read 0 us). Under -icount shift=0 (1 instruction = 1 ns) exit's own
    run is 13 us and its start 16 more: at least 20 means the start is in."""
    with boot() as g:
        for _ in range(2):
            out = g.command("spawn exit 0")
            us = int(re.search(r"exited with code 0 after (\d+) us", out).group(1))
            check(us >= 20, "the start left out of the run time:\n" + out, g)


def test_bad_numbers_are_refused_with_the_shells_words():
    """Each program's number is parsed as the shell parses its own: junk or
    out of range is an error naming the argument and its range and a
    non-zero exit, never a wrapped value (atoi: 99999999999 ran as exit
    code 1215752191, 'x' as 0)."""
    refused = [
        ("exit 99999999999", "exit: CODE must be a whole number from -1000000 to 1000000, "
         "not '99999999999'", 1),
        ("exit 1000001", "not '1000001'", 1),
        ("syscalls x", "syscalls: N must be a whole number from 1 to 10000000, not 'x'", 1),
        ("evecho -1", "evecho: SECONDS must be a whole number from 0 to 3600, not '-1'", 1),
        ("spin 5x", "spin: MS must be a whole number from 0 to 3600000, not '5x'", 1),
        ("bench", "usage: bench tsc|ns null|switch|tswitch|fault N", -1),
        ("bench ns null 0", "bench: N must be a whole number from 1 to 1000000, not '0'", -1),
        # a word, not a number, refused the same (it once ran as no word at all)
        ("threads bogus", "usage: threads [fault|exit]", 2),
        ("fault bogus", "fault: MODE is efault, badptr,", 2),
    ]
    with boot() as g:
        for cmd, says, code in refused:
            out = g.command("spawn " + cmd)
            check(says in out and "exited with code %d " % code in out, out, g)
        out = g.command("spawn exit -1000000")
        check("exited with code -1000000 " in out, out, g)
        check_fits(check, "the errors", g.output, g)


def ctrl_c_a_spinner(g):
    """spawn spin, Ctrl-C: the guest microseconds from the Ctrl-C to the
    shell's report. The console's interrupt kills the foreground process,
    which ends on that interrupt's return to ring 3 (or the PIT's, at most
    1 ms later); the shell, woken too, only reports it."""
    g.sendline("spawn spin")
    g.expect(r"spin: pid (\d+) counts in ring 3 until killed")
    g.send("\x03")
    g.expect(r"process \d+ 'spin' was killed after", 10)
    us = int(g.expect(r"stopped by Ctrl-C, (\d+) us", 10).group(1))
    g.expect_prompt(10)
    return us


def test_ctrl_c_kills_a_ring3_spinner_and_the_shell_answers():
    with boot() as g:
        us = ctrl_c_a_spinner(g)
        check(us < 3000, "the spinner took %d us to die" % us, g)
        rows = demo_lines(g.output, "spawn")
        check(rows and int(rows[-1]["code"]) == -128, "not killed: %r" % rows, g)
        out = g.command("uptime", 10)
        check("context switches" in out, "the shell does not answer", g)
        # Cooperative: nothing preempts the spinner and the shell cannot
        # run; the Ctrl-C still kills it from the interrupt.
        g.command("sched coop")
        us = ctrl_c_a_spinner(g)
        check(us < 3000, "under sched coop the spinner took %d us" % us, g)
        g.command("sched preempt")
        out = g.command("kill 99")
        check("kill: no process 99" in out, "kill of a missing process", g)


def test_event_loop_echo_wakes_on_console_input():
    with boot() as g:
        # No time limit (0): it runs until the line "exit". A limit in
        # guest time would race the typing: the idle guest's clock leaps
        # ahead (icount, sleep=off) while a loaded host delivers it.
        g.sendline("spawn evecho 0")
        g.expect(r"one wait_events\(\) for console and timer")
        g.send("abc\r")
        g.expect(r"ABC", 10)
        g.send("exit\r")
        m = g.expect(r"evecho: (\d+) wake-ups, (\d+) timer ticks, 0 timeouts", 30)
        check(int(m.group(1)) > int(m.group(2)), "the console woke it too: %r" % m.group(0), g)
        g.expect_prompt(10)
        # With a limit and no input, it ends by itself after its ticks.
        out = g.command("spawn evecho 1", 30)
        check(re.search(r"evecho: 10 wake-ups, 10 timer ticks, 0 timeouts", out), out, g)
        g.sendline("spawn echo")
        g.expect(r"echo: type")
        g.send("hi there\r")
        g.expect(r"hi there", 10)
        g.send("exit\r")
        g.expect(r"'echo' exited with code 0", 10)


def test_faults_in_ring3_are_reported_and_kill_only_the_process():
    with boot() as g:
        for mode, what in (("badptr", r"#PF page fault"), ("kernel", r"#PF page fault"),
                           ("div", r"#DE divide error"), ("gp", r"#GP general protection"),
                           ("ud", r"#UD invalid opcode"), ("stack", r"#PF page fault")):
            out = g.command("spawn fault " + mode)
            check(re.search(r"\*\*\* CPU exception \d+ \(%s\) in ring 3: process \d+ 'fault'"
                            % what, out), "no report for %s:\n%s" % (mode, out), g)
            check(re.search(r"process \d+ 'fault' was killed", out), "%s not killed" % mode, g)
        check("cr2 40300000 (the address that faulted: not mapped)" in g.output,
              "badptr's address", g)
        check("cr2 00100000 (the address that faulted: not user memory)" in g.output,
              "the kernel address", g)
        check("stack overflow into the guard page below the user stack" in g.output,
              "the user stack's guard page", g)
        check(g.output.count("fault: write(") >= 4 and "= -14" in g.output, "no -E_FAULT", g)
        out = g.command("spawn fault nosys")
        check("system call 999 = -38 (no such system call)" in out, "no -E_NOSYS", g)
        check_fits(check, "fault reports", g.output, g)


def test_system_calls_with_null_data_segments_while_the_pit_ticks():
    """A program may load a null selector into DS and ES before `int 0x80`;
    the kernel's entry must load its own before any interrupt can run on
    them (the IRQ fast path from ring 0 loads none). Under icount the PIT's
    ticks land all over 3,000,000 such calls' entries; the kernel survives
    and every call answers."""
    with boot() as g:
        out = g.command("spawn fault nullseg", 120)
        check(re.search(r"fault: 3000000 system calls with null DS and ES, 0 wrong answers", out),
              "the calls did not all answer:\n" + out, g)
        check(re.search(r"'fault' exited with code 0", out), "no clean exit:\n" + out, g)
        out = g.command("uptime")
        check("uptime" in out, "the shell does not answer after it", g)


def test_system_calls_with_the_direction_flag_set():
    """Compiled C assumes the direction flag clear; a program may set it
    (std) before `int 0x80`. The entry clears it (syscall() ASSERTs so):
    100,001 calls made with it set, a write among them, all answer and
    the text arrives whole."""
    with boot() as g:
        out = g.command("spawn fault df", 120)
        check("fault: written with the direction flag set" in out, "the write's text:\n" + out, g)
        check(re.search(r"fault: 100001 system calls with the direction flag set, 0 wrong answers",
                        out), "the calls did not all answer:\n" + out, g)
        check(re.search(r"'fault' exited with code 0", out), "no clean exit:\n" + out, g)


def test_kernel_stack_overflow_is_reported_as_the_guard_page():
    with Guest(append="test=fault.kernel_stack_overflow_hits_guard_page", icount=True) as g:
        check(g.wait_exit(120) == 0, "the case failed", g)
        out = g.output
        check(re.search(r"\*\*\* CPU exception 14 \(#PF page fault\) in thread 'runaway' \(id \d+\)",
                        out), "no page fault report naming the thread", g)
        check(re.search(r"cr2 3c[0-9a-f]{6}: stack overflow into the guard page of thread "
                        r"'runaway'", out), "no guard page line with cr2", g)
        check(re.search(r"its sentinel \(the lowest word\) is (intact|trampled)", out),
              "no sentinel line", g)
        check("thread 'runaway' killed; the others go on" in out, "not killed", g)
        check_fits(check, "the double fault's report", out, g)
