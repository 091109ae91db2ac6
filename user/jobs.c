/* Background jobs: the table of jobs, their threads, their marked output,
 * and the commands jobs, kill %N and fg %N. The contract is in jobs.h.
 *
 * Why a job is asked to stop and never torn down: a thread stopped from
 * outside at an arbitrary instruction may hold a mutex, half of a list
 * update, a socket or heap blocks only it knows about; all of that would
 * be lost for good. So `kill` asks (the stop flag and thread_interrupt,
 * which ends the job's interruptible wait) and waits up to KILL_WAIT_MS
 * for the job to clean up and return, like Ctrl-C does for the
 * foreground command. */
#include <webscale/console.h>
#include <webscale/errno.h>
#include <webscale/kprintf.h>
#include <webscale/string.h>
#include <webscale/sync.h>
#include <webscale/system.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "user/commands.h"
#include "user/demo.h"
#include "user/jobs.h"
#include "user/shell.h"

#define JOB_STACK 16384          /* bytes: as the shell's own thread (kernel/main.c) */
#define KILL_WAIT_MS 2000        /* how long kill waits for a job to return */
#define KILL_POLL_MS 10
#define JOB_LINE_WAIT_MS 50      /* a job's line waits this long for a command's to end */
/* A marked line: 4 columns of mark, the text, and the last column free.
 * An @demo line is for programs (user/demo.h) and is not wrapped, up to
 * JOB_LINE_MAX bytes. */
#define JOB_TEXT_COLUMNS (DEMO_COLUMNS - JOB_MARK_COLUMNS - 1)
#define JOB_LINE_MAX 512
#define DEMO_LINE_START "@demo "
#define JOBS_THREADS_MAX 64      /* threads looked at by `jobs`, as ps */
#define KEY_ESC 0x1B

struct job {
    int used;                    /* the slot holds a job not yet reported */
    thread_t *thread;
    job_fn run;
    char text[SHELL_LINE_MAX];   /* the command line, without the & */
    char args[SHELL_LINE_MAX];   /* argv's strings, copied */
    char *argv[SHELL_MAX_ARGS + 1];
    int argc;
    volatile int stop;           /* kill asked it to stop */
    volatile int foreground;     /* fg brought it forward: Ctrl-C stops it */
    volatile int returned;       /* run returned (else a CPU exception ended it) */
    int status;                  /* what run returned */
    uint64_t start_ns, end_ns;
    size_t heap_before;          /* bytes of heap in use before its thread existed */
    /* Output not yet printed: the line being written, escapes dropped. */
    char out[JOB_LINE_MAX];
    int out_len;
    int out_esc;                 /* 0, 1 after ESC, 2 inside ESC [ ... */
};

static struct job jobs[JOBS_MAX];
static struct mutex output_lock;
static struct thread_info threads_seen[JOBS_THREADS_MAX];

static struct job *job_slot(int n) { return n >= 1 && n <= JOBS_MAX ? &jobs[n - 1] : NULL; }
static int job_number(const struct job *j) { return (int)(j - jobs) + 1; }

/* ---- output: every line of a job, marked "[N] " ---- */

void jobs_output_lock(void) { mutex_lock(&output_lock); }
void jobs_output_unlock(void) { mutex_unlock(&output_lock); }

/* Output lock held. The first n bytes of the pending text as one line;
 * the prompt, if the shell shows one, is cleared first and drawn again
 * after: the line appears above what is being typed. */
static void emit(struct job *j, int n)
{
    char mark[8];
    int at_prompt = shell_at_prompt();
    if (at_prompt)
        shell_erase_input();
    int m = ksnprintf(mark, sizeof mark, "[%d] ", job_number(j));
    console_write_unmarked(mark, m);
    console_write_unmarked(j->out, n);
    console_write_unmarked("\r\n", 2);
    if (at_prompt)
        shell_redraw_input();
}

static void emit_line(struct job *j)
{
    emit(j, j->out_len);
    j->out_len = 0;
}

/* The pending text is a full line: print it up to its last space (the
 * word that did not fit goes on), or whole if it has none late enough. */
static void wrap_line(struct job *j)
{
    int sp = j->out_len - 1;
    while (sp > j->out_len / 2 && j->out[sp] != ' ')
        sp--;
    if (j->out[sp] != ' ') {
        emit_line(j);
        return;
    }
    emit(j, sp);
    j->out_len -= sp + 1;
    memmove(j->out, j->out + sp + 1, j->out_len);
}

static int starts_demo_line(const struct job *j)
{
    int n = strlen(DEMO_LINE_START);
    return j->out_len >= n && memcmp(j->out, DEMO_LINE_START, n) == 0;
}

/* One byte of a job's output. Cursor and screen escapes (top's clear
 * screen) are dropped: a job owns no part of the screen but its lines. */
static void job_output_byte(struct job *j, uint8_t c)
{
    if (j->out_esc == 1) {
        j->out_esc = c == '[' ? 2 : 0;
        return;
    }
    if (j->out_esc == 2) {
        if (c >= 0x40 && c <= 0x7E)
            j->out_esc = 0;
        return;
    }
    if (c == KEY_ESC) {
        j->out_esc = 1;
        return;
    }
    if (c == '\n') {
        emit_line(j);
        return;
    }
    if (c == '\t')
        c = ' ';
    if (c < 0x20 || c > 0x7E)
        return;                  /* '\r' among them: emit_line ends the line */
    if (j->out_len == JOB_LINE_MAX ||
        (j->out_len == JOB_TEXT_COLUMNS && !starts_demo_line(j)))
        wrap_line(j);            /* the mark and the text fit 80 columns */
    j->out[j->out_len++] = (char)c;
}

/* The kernel messages of threads that are no job's (the foreground
 * command's output, the loop's stall detector), under the output lock
 * too: while the prompt is up, above it, unmarked, and the prompt drawn
 * again after the message's last line; while a command runs, as they
 * are. A message in pieces (kprintf writes up to 128 bytes at a time,
 * ps a row in two) keeps its line open until its newline: a job's line
 * waits for it (wait_for_line_end), or it landed in the middle of the
 * row. Output lock held. */
static int kernel_mid_line;      /* the last kernel message left its line open */
static int kernel_above_prompt;  /* and that line went above the prompt */

static void kernel_write(const char *s, size_t n)
{
    if (!kernel_mid_line) {
        kernel_above_prompt = shell_at_prompt();
        if (kernel_above_prompt)
            shell_erase_input();
    }
    console_write_unmarked(s, n);
    kernel_mid_line = s[n - 1] != '\n';
    if (!kernel_mid_line && kernel_above_prompt)
        shell_redraw_input();    /* nothing if the prompt went meanwhile */
}

void jobs_prompt_shown(void)
{
    kernel_mid_line = 0;         /* the prompt starts a line of its own */
    kernel_above_prompt = 0;
}

/* Output lock held, given up while it waits: a command's line still
 * open gets JOB_LINE_WAIT_MS to end before a job's line goes out (a line
 * left open longer, the command's own question, is not waited for). */
static void wait_for_line_end(void)
{
    for (int ms = 0; ms < JOB_LINE_WAIT_MS && kernel_mid_line && !kernel_above_prompt; ms++) {
        jobs_output_unlock();
        thread_sleep_ms(1);
        jobs_output_lock();
    }
}

static int job_write(int job, const void *buf, size_t n)
{
    struct job *j = job_slot(job);
    if (n == 0 || (!j && job))
        return 1;
    const uint8_t *p = buf;
    jobs_output_lock();
    if (!j) {
        kernel_write(buf, n);
    } else {
        wait_for_line_end();
        for (size_t i = 0; i < n; i++)
            job_output_byte(j, p[i]);
    }
    jobs_output_unlock();
    return 1;
}

void jobs_init(void)
{
    mutex_init(&output_lock, "console lines");
    console_set_job_writer(job_write);
}

/* ---- starting, stopping, ending ---- */

static void job_main(void *arg)
{
    struct job *j = arg;
    thread_set_job(thread_current(), job_number(j));
    j->status = j->run(j->argc, j->argv);
    j->returned = 1;
    j->end_ns = clock_ns();
    jobs_output_lock();
    if (j->out_len) {
        wait_for_line_end();
        emit_line(j);            /* a last line without its newline */
    }
    jobs_output_unlock();
}

static int copy_args(struct job *j, int argc, char **argv)
{
    size_t used = 0;
    for (int i = 0; i < argc; i++) {
        size_t len = strlen(argv[i]) + 1;
        if (used + len > sizeof j->args || i == SHELL_MAX_ARGS)
            return -E_INVAL;
        memcpy(j->args + used, argv[i], len);
        j->argv[i] = j->args + used;
        used += len;
    }
    j->argv[argc] = NULL;
    j->argc = argc;
    return 0;
}

int job_start(const char *text, job_fn run, int argc, char **argv)
{
    struct job *j = NULL;
    for (int i = 0; i < JOBS_MAX && !j; i++)
        if (!jobs[i].used)
            j = &jobs[i];
    if (!j)
        return -E_BUSY;
    memset(j, 0, sizeof *j);
    if (copy_args(j, argc, argv) < 0)
        return -E_INVAL;
    strlcpy(j->text, text, sizeof j->text);
    j->run = run;
    j->heap_before = demo_heap_used();
    j->start_ns = clock_ns();
    char name[THREAD_NAME_MAX];
    ksnprintf(name, sizeof name, "%%%d %s", job_number(j), argv[0]);
    j->used = 1;
    j->thread = thread_create_ex(name, job_main, j, JOB_STACK, 0);
    if (!j->thread) {
        j->used = 0;
        return -E_NOMEM;
    }
    return job_number(j);
}

int job_running(job_fn run)
{
    for (int i = 0; i < JOBS_MAX; i++)
        if (jobs[i].used && jobs[i].run == run && !jobs[i].returned)
            return i + 1;
    return 0;
}

int job_stop_requested(int job)
{
    struct job *j = job_slot(job);
    return j && (j->stop || (j->foreground && console_interrupted()));
}

int job_in_foreground(int job)
{
    struct job *j = job_slot(job);
    return j && j->foreground;
}

static void fmt_ran(char *buf, int size, const struct job *j)
{
    uint64_t end = j->returned ? j->end_ns : clock_ns();
    shell_fmt_milli(buf, size, (end - j->start_ns) / NS_PER_US);
}

/* Join an ended job, say how it ended, free its slot. */
static void reap(struct job *j)
{
    int code = thread_join(j->thread);
    char ran[32];
    fmt_ran(ran, sizeof ran, j);
    int n = job_number(j);
    if (!j->returned)
        kprintf("[%d] killed (exit code %d, see the report above) after %s ms: %s\n", n, code,
                ran, j->text);
    else if (j->stop)
        kprintf("[%d] stopped by kill after %s ms: %s\n", n, ran, j->text);
    else
        kprintf("[%d] done after %s ms, status %d: %s\n", n, ran, j->status, j->text);
    kprintf("    heap: %u bytes used before it started, %u now\n", (unsigned)j->heap_before,
            (unsigned)demo_heap_used());
    j->used = 0;
}

void jobs_report_ended(void)
{
    for (int i = 0; i < JOBS_MAX; i++)
        if (jobs[i].used && thread_ended(jobs[i].thread))
            reap(&jobs[i]);
}

/* ---- the commands ---- */

/* "%N" (or the newest job when optional and absent): the job, or NULL
 * after printing why not. */
static struct job *job_arg(const char *cmd, int argc, char **argv, int optional)
{
    if (argc == 1 && optional) {
        for (int i = JOBS_MAX - 1; i >= 0; i--)
            if (jobs[i].used)
                return &jobs[i];
        kprintf("%s: no jobs (start one with 'CMD &')\n", cmd);
        return NULL;
    }
    if (argc != 2) {
        shell_usage(shell_find(cmd));
        return NULL;
    }
    const char *s = argv[1];
    if (s[0] != '%') {
        kprintf("%s: '%s' is not a job: write %%N, N from 'jobs'\n", cmd, s);
        return NULL;
    }
    uint32_t n;
    if (shell_parse_uint(cmd, "the job number", s + 1, 1, JOBS_MAX, &n) < 0)
        return NULL;
    struct job *j = job_slot((int)n);
    if (!j->used) {
        kprintf("%s: no job %%%u (see 'jobs')\n", cmd, n);
        return NULL;
    }
    return j;
}

static const char *thread_state_of(const thread_t *t, int nthreads)
{
    for (int i = 0; i < nthreads; i++)
        if (threads_seen[i].id == thread_id(t))
            return threads_seen[i].state;
    return "?";
}

int cmd_jobs(int argc, char **argv)
{
    jobs_report_ended();
    int total = thread_snapshot(threads_seen, JOBS_THREADS_MAX);
    int nthreads = total < JOBS_THREADS_MAX ? total : JOBS_THREADS_MAX;
    int listed = 0;
    for (int i = 0; i < JOBS_MAX; i++) {
        struct job *j = &jobs[i];
        if (!j->used)
            continue;
        if (!listed++)
            kprintf("JOB STATE    THREAD: ID NAME        STATE    RAN ms     COMMAND\n");
        char ran[32], name[NAME_COLUMN + 1];
        fmt_ran(ran, sizeof ran, j);
        const char *state = j->returned ? "ended" : j->stop ? "stopping" : "running";
        kprintf("[%d] %-8s %10d %-11s %-8s %-10s %.22s\n", i + 1, state, thread_id(j->thread),
                fit_name(name, thread_name(j->thread)), thread_state_of(j->thread, nthreads), ran,
                j->text);
    }
    if (!listed)
        kprintf("no jobs (start one with 'CMD &', e.g. 'httpd loop &')\n");
    return 0;
}

int cmd_kill_job(int argc, char **argv)
{
    struct job *j = job_arg("kill", argc, argv, 0);
    if (!j)
        return 1;
    if (thread_ended(j->thread)) {
        reap(j);                 /* it ended by itself, not yet reported */
        return 0;
    }
    j->stop = 1;
    thread_interrupt(j->thread);
    for (int waited = 0; waited < KILL_WAIT_MS && !thread_ended(j->thread);
         waited += KILL_POLL_MS)
        thread_sleep_ms(KILL_POLL_MS);
    if (!thread_ended(j->thread)) {
        kprintf("kill: job %%%d (%s) has not stopped after %u ms; it stops when it next "
                "checks, and is reported then\n", job_number(j), j->text, KILL_WAIT_MS);
        return 1;
    }
    reap(j);
    return 0;
}

int cmd_fg(int argc, char **argv)
{
    struct job *j = job_arg("fg", argc, argv, 1);
    if (!j)
        return 1;
    kprintf("%s\n", j->text);
    /* The job is now what Ctrl-C interrupts; the shell waits for it, and
     * shell_execute reports a Ctrl-C as for any command. */
    j->foreground = 1;
    thread_set_foreground(j->thread);
    reap(j);                     /* waits for it to end */
    return 0;
}
