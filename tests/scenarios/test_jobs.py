"""Background jobs (user/jobs.c): `CMD &`, `jobs`, `kill %N`, `fg %N`.
A job's lines are marked "[N] " and fit 80 columns; Ctrl-C stops only the
foreground; `kill` gives the heap back; `top` sees the job's thread and,
with `httpd loop &` and requests from the host, the loop at work; a job
that ends is reported at the next prompt; bad job numbers and a job that
would read the console get clear errors."""
import concurrent.futures as cf
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from columns import check_fits  # noqa: E402
from demo_line import demo_lines  # noqa: E402
from guest import Guest, check  # noqa: E402
import test_tcp as T  # noqa: E402

# A job prints while the prompt is shown, and the shell then draws the
# prompt again: "webscale> " alone does not end a command's output here.
# Each step waits for the text that ends it.


def run(g, line, until, timeout=30):
    """Type line, wait for the regex until; return the output up to it."""
    start = g.pos
    g.sendline(line)
    g.expect(until, timeout)
    with g.cv:
        return g.buf[start:g.pos].decode("latin-1")


def heap(g):
    out = run(g, "mem", r"heap: \d+ bytes, \d+ used.*\n")
    return int(re.search(r"heap: \d+ bytes, (\d+) used", out).group(1))


def boot_net():
    port = T.free_tcp_port()
    g = Guest(extra=T.user_net(port))
    g.expect_prompt(60)
    return g, port


def test_spin_job_listed_seen_by_top_and_killed():
    with Guest() as g:
        g.expect_prompt(60)
        run(g, "spin 50", r"@demo spin .*\n")        # grows what stays grown (loop timers)
        g.expect_prompt(10)
        base = heap(g)
        run(g, "spin 3000 &", r"\[1\] spin 3000: job 1 runs in the background")
        g.expect(r"\[1\] A thread spins for 3000 ms", 10)
        out = run(g, "jobs", r"\[1\] running .*spin 3000\r?\n")
        check(re.search(r"\[1\] running +\d+ %1 spin +\w+ +[\d.]+ +spin 3000", out), out, g)
        out = run(g, "top 1", r"Ctrl-C stops\.\r?\n")
        check(re.search(r"\d+ %1 spin ", out) and re.search(r"\d+ spinner ", out),
              "top shows no job thread:\n" + out, g)
        out = run(g, "kill %1", r"heap: \d+ bytes used before it started, \d+ now")
        m = re.search(r"\[1\] stopped by kill after ([\d.]+) ms: spin 3000", out)
        check(m and float(m.group(1)) < 3000, out, g)
        m = re.search(r"heap: (\d+) bytes used before it started, (\d+) now", out)
        check(int(m.group(1)) == base == int(m.group(2)), "heap %d, then %s" % (base, m.groups()), g)
        check(heap(g) == base, "mem disagrees", g)
        out = run(g, "jobs", r"no jobs .*\n")
        # Everything a job printed carries its mark and fits 80 columns.
        job_part = g.output[g.output.find("spin 3000 &"):]
        marked = [ln for ln in job_part.replace("\r", "").splitlines()
                  if "A thread spins" in ln or "this shell thread" in ln]
        check(marked and all(ln.split("\x1b[J")[-1].startswith("[1] ") for ln in marked),
              "unmarked job output: %r" % marked, g)
        check_fits(check, "spin &", g.output, g)


def under_heads(out, head_start, name, left, right=()):
    """The row that holds name of the table whose head line begins
    head_start: each head of left begins its column there (a blank before
    it, none under it), each of right ends its column (right-aligned)."""
    lines = out.replace("\r", "").splitlines()
    head = next(line for line in lines if line.startswith(head_start))
    row = next(line for line in lines if name in line and line is not head) + " "
    ends = [head.index(h) + len(h) for h in right]
    ok = all(row[head.index(h) - 1] == " " != row[head.index(h)] for h in left) and \
        all(row[e - 1] != " " == row[e] for e in ends)
    return ok, head + "\n" + row


def test_long_thread_names_keep_the_columns():
    """A job's thread is "%N CMD": "%1 cpu-vs-io" has 12 characters, one
    more than NAME's column; cut to "%1 cpu-vs-~" in jobs, ps and top, the
    columns after it stay under their heads."""
    with Guest(icount=True) as g:
        g.expect_prompt(60)
        run(g, "cpu-vs-io &", r"\[1\] cpu-vs-io: job 1 runs in the background")
        out = run(g, "jobs", r"\[1\] running .*cpu-vs-io\r?\n")
        ok, rows = under_heads(out, "JOB STATE", "[1] running", ("STATE    RAN", "RAN ms", "COMMAND"))
        check(ok and "%1 cpu-vs-~ " in rows, rows, g)
        out = run(g, "ps", r"no processes \(ring 3\)")
        ok, rows = under_heads(out, "  ID NAME", "%1 cpu-vs-", ("STATE",), ("CPU ms",))
        check(ok and "%1 cpu-vs-~ " in rows, rows, g)
        out = run(g, "top 1", r"Ctrl-C stops\.\r?\n")
        ok, rows = under_heads(out, "  ID NAME", "%1 cpu-vs-", ("STATE",), ("CPU",))
        check(ok and "%1 cpu-vs-~ " in rows, rows, g)
        check_fits(check, "jobs, ps and top", g.output, g)


def test_ended_job_reported_at_next_prompt():
    with Guest() as g:
        g.expect_prompt(60)
        run(g, "spin 100 &", r"job 1 runs in the background")
        g.expect(r"\[1\] @demo spin .*\n", 20)
        # Nothing is reported while the prompt waits; at the next one:
        out = run(g, "", r"\[1\] done after [\d.]+ ms, status 0: spin 100\r?\n")
        r = demo_lines(g.output.replace("webscale> \r\x1b[J", ""), "spin")
        check(r and r[0]["spin_ms"] == 100, "the job's @demo line: %r" % r, g)
        out = run(g, "jobs", r"no jobs .*\n")
        # A job number is free again once reported.
        run(g, "spin 50 &", r"\[1\] spin 50: job 1 runs")
        g.expect(r"\[1\] @demo spin .*\n", 20)
        # kill of a job that already ended: reported as done, not as killed.
        out = run(g, "kill %1", r"\[1\] (done|stopped)[^\n]*\n")
        check("[1] done after" in out and "status 0: spin 50" in out, out, g)


def test_kernel_message_goes_above_the_prompt():
    """The loop's stall detector (thread loopwatch, no job's) reports
    `stall &`'s blocking callback while the prompt shows a half-typed
    line: its lines go above the prompt, which is drawn again with the
    line (they were printed after "webscale> upt", the prompt never came
    back, and what was typed next stood on a line of its own)."""
    with Guest() as g:
        g.expect_prompt(60)
        run(g, "stall 300 &", r"\[1\] service that blocks for 300 ms\.\r\n")
        g.expect_prompt(10)
        # clear's output ends mid-line (no newline after its escapes): the
        # prompt after it starts a line all the same, so the message still
        # goes above it (it went after the typed line).
        g.sendline("clear")
        g.expect_prompt(10)
        g.send("upt")
        g.expect(r"upt", 10)
        g.expect(r"the loop was stalled all that time\r\n", 30)
        g.expect(r"webscale> upt", 10)         # drawn again, the line with it
        out = g.output
        for msg in ("loop: callback 'china' has blocked the loop",
                    "loop: callback 'china' returned after"):
            check(re.search(r"\r\x1b\[J" + re.escape(msg), out),
                  "%r not printed above the prompt:\n%r" % (msg, out[-1500:]), g)
        check("upt" + "loop:" not in out, "a message after the typed line:\n%r" % out[-1500:], g)
        run(g, "ime", r"up \d+\.\d{3} s")                # the line typed on runs whole


def test_a_jobs_line_goes_above_a_line_of_two_rows():
    """A line typed at the prompt that wraps onto a second row: a job's
    line printed meanwhile erases both rows first (up one row, then the
    rest of the screen), and the prompt and the whole line come back.
    ESC [ K erased only the cursor's row: the first row of the typed
    line stayed on the screen above the job's line, as a stray line."""
    with Guest() as g:
        g.expect_prompt(60)
        run(g, "threads 2 4 &", r"\[1\] .*\r\n", 30)
        typed = "w" * 105                        # 10 + 105 columns: the cursor on row 1
        g.send(typed)
        g.expect("w" * 10, 10)
        start = g.pos
        g.expect(r"\x1b\[1A\r\x1b\[J\[1\] ", 30)   # up to the prompt's row, then erased
        g.expect(re.escape("webscale> " + typed[:70]), 10)  # drawn again
        out = run(g, "", r"unknown command.*\n", 10)
        check(re.search(r"\r\nw{105}: unknown command", out),
              "the line typed on did not run whole:\n%r" % out, g)
        check(g.output.count("\x1b[K", start) == 0, "a one-row erase above a two-row line", g)
        run(g, "kill %1", r"heap: \d+ bytes used before it started")


def test_threads_timeline_says_what_other_threads_are():
    """A job's spinner holds ticks of `threads`' timeline: they show as
    '?', and the legend says what '?' is (it did not)."""
    with Guest() as g:
        g.expect_prompt(60)
        run(g, "spin 3000 &", r"\[1\] A thread spins for 3000 ms")
        out = run(g, "threads 2 1", r"@demo threads threads=2 .*\n", 60)
        timeline = re.findall(r"^  ([A-Bs.?]{70})\r?$", out, re.M)
        check(timeline and "?" in timeline[-1], "the spinner holds no tick:\n" + out, g)
        check("  ? = another thread: not a counter, not this shell" in out, out, g)
        check_fits(check, "threads beside a job", out, g)
        out = run(g, "kill %1", r"heap: \d+ bytes used before it started")


def test_cooperative_jobs_leave_the_prompt_alive():
    """Under `sched coop` nothing takes the CPU from a job, and Ctrl-C is
    not a job's: `threads 2 &` and `spawn spin &` kept the CPU for good,
    the prompt never answered again. A job's counter now gives the CPU up
    while a key waits, so `kill %1` can be typed; a ring-3 job is refused
    under coop, and coop while one runs."""
    with Guest() as g:
        g.expect_prompt(60)
        run(g, "sched coop", r"cooperative: a thread keeps the CPU.*\n")
        run(g, "threads 2 &", r"\[1\] .*stops\.\r\n", 30)
        text = re.sub(r"\r\n(webscale> \r\x1b\[J)?\[1\] ", " ", g.output)
        check("'kill %1' stops." in text and "until Ctrl-C" not in text,
              "the job's stop key is not named:\n" + text[-600:], g)
        time.sleep(0.5)                         # countA holds the CPU
        run(g, "uptime", r"up \d+\.\d{3} s", 20)      # the prompt answers
        out = run(g, "kill %1", r"heap: \d+ bytes used before it started", 20)
        check("[1] stopped by kill after" in out, out, g)
        out = run(g, "spawn spin &", r"\[1\] (spawn: not as a job under 'sched coop'|spin: pid)", 20)
        check("not as a job under 'sched coop'" in out, out, g)
        run(g, "sched preempt", r"preemptive: the PIT.*\n")
        out = run(g, "spawn spin &", r"\[\d\] spin: pid \d+ counts in ring 3", 20)
        n = re.findall(r"\[(\d)\] spin: pid", out)[-1]
        out = run(g, "sched coop", r"(sched coop: job %\d runs a ring-3 process|cooperative:).*\n")
        check("runs a ring-3 process" in out, out, g)
        check("preemptive" in run(g, "sched", r"stats: .*\n"), "coop was set", g)
        run(g, "kill %" + n, r"heap: \d+ bytes used before it started", 20)
        check_fits(check, "the refusals", g.output, g)


def test_a_jobs_prose_names_kill_not_ctrl_c():
    """Ctrl-C stops only the foreground: a job's scale says 'kill %N'
    stops it (it said Ctrl-C, as ping did)."""
    with Guest() as g:
        g.expect_prompt(60)
        run(g, "scale 1 window 50 &", r"\[1\] @demo scale-work .*\n", 60)
        text = re.sub(r"\r\n(webscale> \r\x1b\[J)?\[\d\] ", " ", g.output)
        check("one core. 'kill %1' stops." in text and "Ctrl-C" not in text,
              "scale's job names Ctrl-C:\n" + text[-2000:], g)


def test_a_jobs_lines_do_not_cut_a_commands_lines():
    """A job that prints fast (trace dump) while ps runs in the foreground:
    a row of ps is two kprintf calls, and a job's line used to land
    between them, in the middle of the row. Every job line starts a line."""
    with Guest() as g:
        g.expect_prompt(60)
        run(g, "threads 3 2", r"@demo threads threads=3 .*\n", 30)
        g.sendline("trace dump 60000 &")
        for _ in range(30):
            g.sendline("ps")
            time.sleep(0.01)
        g.expect(r"\[1\] trace dump END", 60)
        run(g, "uptime", r"up \d+\.\d{3} s")
        out = g.output
        cut = [out[max(0, m.start() - 60):m.end() + 20] for m in re.finditer(r"\[1\] ", out)
               if not re.search(r"(\n|\x1b\[J)$", out[:m.start()])]
        check(not cut, "%d job lines inside other lines, e.g. %r" % (len(cut), cut[:2]), g)
        rows = [m.start() for m in
                re.finditer(r"^\s+0 idle\s+ready\s+[\d.]+\s+\d+\s+\d+ \d+/\d+\r$", out, re.M)]
        check(len(rows) >= 25, "ps rows broken", g)
        # The two really ran side by side: a ps row between the job's
        # first and last lines (else the test had nothing to cut).
        job = [m.start() for m in re.finditer(r"\[1\] ", out)]
        check(any(job[0] < r < job[-1] for r in rows),
              "trace dump and ps did not overlap: nothing was tested", g)


def test_bad_job_numbers_and_forbidden_jobs():
    with Guest() as g:
        g.expect_prompt(60)
        cases = [
            ("kill %1", r"kill: no job %1 \(see 'jobs'\)"),
            ("kill %9", r"kill: the job number must be a whole number from 1 to 8, not '9'"),
            ("kill %x", r"kill: the job number must be a whole number from 1 to 8, not 'x'"),
            ("kill 1", r"kill: no process 1"),
            ("kill", r"usage: kill %N \| PID"),
            ("fg %2", r"fg: no job %2"),
            ("fg", r"fg: no jobs \(start one with 'CMD &'\)"),
            ("jobs &", r"jobs: runs only in the foreground, not as a job"),
            ("kill %1 &", r"kill: runs only in the foreground"),
            ("&", r"&: a command comes before it"),
            ("nosuch &", r"nosuch: unknown command"),
            ("jobs", r"no jobs"),
        ]
        for line, want in cases:
            out = g.command(line)
            check(re.search(want, out), "%r: %r" % (line, out), g)
        # The console is the prompt's: a job may not read it.
        run(g, "loop echo &", r"\[1\] loop echo: reads the console, and a background job may")
        run(g, "", r"\[1\] done after [\d.]+ ms, status 1: loop echo")
        # One run of a command at a time: demos keep their state in statics.
        run(g, "spin 2000 &", r"job 1 runs")
        out = run(g, "spin 100", r"spin: already running as job %1.*\n")
        out = run(g, "spin 100 &", r"spin: already running as job %1.*\n")
        run(g, "kill %1", r"stopped by kill")


def test_ctrl_c_stops_only_the_foreground_then_fg():
    g, port = boot_net()
    with g:
        run(g, "httpd loop &", r"\[1\] httpd: event-loop style, listening on TCP port 80; "
                               r"'kill %1' stops")
        check(T.get(port)[0] == 200, "the background server answers", g)
        # Ctrl-C at the prompt, and during a foreground command: the job lives.
        g.send("\x03")
        g.expect(r"\^C", 10)
        run(g, "top", r"Ctrl-C stops\.\r?\n", 20)
        g.send("\x03")
        g.expect(r"\(stopped by Ctrl-C", 20)
        out = run(g, "jobs", r"\[1\] .*\n")
        check(re.search(r"\[1\] running .*httpd loop", out), out, g)
        check(T.get(port)[0] == 200, "still answers after two Ctrl-Cs", g)
        # fg: now Ctrl-C stops the job, and the shell says so.
        run(g, "fg %1", r"httpd loop\r?\n")
        g.send("\x03")
        out = run(g, "", r"\[1\] stopped by kill|\[1\] done .*\n|\[1\] .*httpd loop\r?\n", 30)
        g.expect(r"\(stopped by Ctrl-C", 10)
        check(re.search(r"\[1\] httpd: stopped after \d+ ms: [1-9]\d* requests served",
                        g.output), g.tail(), g)
        out = run(g, "jobs", r"no jobs.*\n")


def test_httpd_loop_background_watched_by_top():
    """The classroom demo: `httpd loop &`, then `top` while the host fetches."""
    g, port = boot_net()
    with g:
        # A first run grows what stays grown (the loop's timer heap, its
        # callback names); the baseline is taken after it and TIME-WAIT.
        run(g, "httpd loop &", r"'kill %1' stops")
        check(T.get(port)[0] == 200, "warm-up", g)
        run(g, "kill %1", r"\[1\] stopped by kill.*\n")
        time.sleep(0.8)
        base = heap(g)
        run(g, "httpd loop &", r"'kill %1' stops")
        check(T.get(port)[0] == 200, "first request", g)
        deadline = time.monotonic() + 30
        done, top_done = [], []

        def client():                  # while top runs; bounded: 3000 requests or 30 s
            n = 0
            while not top_done and n < 3000 and time.monotonic() < deadline:
                if T.get(port)[0] == 200:
                    n += 1
            done.append(n)
        with cf.ThreadPoolExecutor(2) as ex:
            futs = [ex.submit(client) for _ in range(2)]
            out = run(g, "top 2", r"(?s)top - up.*top - up.*Ctrl-C stops\.\r?\n", 40)
            top_done.append(1)
            for f in futs:
                f.result()
        frame = out[out.rfind("top - up"):]
        loop = re.search(r"^\s*\d+ loop +\w+ .*? ([\d.]+) % +(\d+) \d+\r?$", frame, re.M)
        check(loop and int(loop.group(2)) > 0, "the loop did not switch:\n" + frame, g)
        check(re.search(r"\d+ %1 httpd ", frame), "no job thread in top:\n" + frame, g)
        out = run(g, "kill %1", r"\[1\] stopped by kill.*\n")
        n = sum(done) + 1
        m = re.findall(r"\[1\] httpd: stopped after \d+ ms: (\d+) requests served", g.output)[-1:]
        check(m and int(m[0]) == n, "served %s, sent %d" % (m, n), g)
        time.sleep(0.8)                # TIME-WAIT (500 ms) ends
        check(heap(g) == base, "heap: %d before, %d after the killed server" % (base, heap(g)), g)
        # Which switches it counts: all threads', idle's wake-ups too.
        check(re.search(r"context switches: \d+, of all threads while it ran", g.output), g.tail(), g)
        check_fits(check, "httpd loop & and top", g.output, g)


def test_spawn_as_a_job():
    """`spawn spin &`: a ring-3 process as a job. Its lines are marked, ps
    lists the process, Ctrl-C at the prompt leaves it running (it is not
    the console's foreground), `kill %1` ends it, and its pages and the
    heap come back."""
    with Guest() as g:
        g.expect_prompt(60)
        run(g, "spawn exit 0", r"@demo spawn .*\n")     # the first spawn's lasting growth
        g.expect_prompt(10)
        base = heap(g)
        run(g, "spawn spin &", r"\[1\] spin: pid \d+ counts in ring 3 until killed")
        out = run(g, "ps", r"PID PROGRAM.*\n(.*\n)*?.*spin.*\n")
        check(re.search(r"^ *\d+ spin ", out, re.M), "ps lists no spin process:\n" + out, g)
        g.send("\x03")
        g.expect_prompt(10)
        out = run(g, "jobs", r"\[1\] running .*spawn spin\r?\n")
        check("spawn spin" in out, out, g)
        out = run(g, "kill %1", r"heap: \d+ bytes used before it started, \d+ now")
        check(re.search(r"\[1\] stopped by kill after [\d.]+ ms: spawn spin", out), out, g)
        check(re.search(r"\[1\] spawn: process \d+ 'spin' was killed", g.output), g.tail(), g)
        g.expect_prompt(10)
        out = run(g, "ps", r"(no processes \(ring 3\)|PID PROGRAM)")
        check("no processes" in out, "a process is left after kill %1:\n" + out, g)
        check(heap(g) == base, "heap %d before, %d after" % (base, heap(g)), g)
