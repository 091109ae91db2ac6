/* The shell: a prompt on the serial console, the line editor
 * (user/lineedit.c: the keys), history, running commands in the
 * foreground or as jobs (user/jobs.c). Ctrl-C abandons the line being
 * typed and stops the foreground command; a line longer than
 * SHELL_LINE_MAX-1 is refused as a whole when Enter comes, never cut. */
#include <webscale/console.h>
#include <webscale/errno.h>
#include <webscale/kprintf.h>
#include <webscale/string.h>
#include <webscale/system.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "user/commands.h"
#include "user/jobs.h"
#include "user/lineedit.h"
#include "user/shell.h"

#define PROMPT "webscale> "

_Static_assert(LE_LINE_MAX == SHELL_LINE_MAX, "the editor's line is the shell's");
static struct le_history history;

static void out_unlocked(void *ctx, const char *s, int n) { console_write_unmarked(s, n); }

/* The line being typed at the prompt, while read_line runs: a job's
 * output line is printed above it and then it is drawn again. */
static struct lineedit *typing;

int shell_at_prompt(void) { return typing != NULL; }

/* Output lock held: write unlocked. */
void shell_erase_input(void)
{
    if (typing)
        le_erase(typing, out_unlocked, NULL);
}

void shell_redraw_input(void)
{
    if (typing)
        le_redraw(typing, out_unlocked, NULL);
}

static int read_line_edit(struct lineedit *e);

/* Read one line; returns 0, or -E_INTR after Ctrl-C. */
static int read_line(struct lineedit *e)
{
    jobs_output_lock();
    jobs_prompt_shown();         /* a command's output that ended mid-line (clear) ends here */
    le_start(e, PROMPT, &history, out_unlocked, NULL);
    typing = e;
    jobs_output_unlock();
    return read_line_edit(e);     /* it ends with typing NULL */
}

/* One key, under the output lock (the editor writes with out_unlocked):
 * the editor's line and what the screen shows of it change together, so
 * a job's line printed above the prompt never redraws a line half-edited
 * (the line changed, its echo not yet out: the echo then landed after
 * the redrawn line, doubled). */
static enum le_result key_locked(struct lineedit *e, uint8_t c)
{
    jobs_output_lock();
    enum le_result r = le_key(e, c);
    if (r == LE_DONE)
        typing = NULL;           /* the line is the command's now, not redrawn */
    jobs_output_unlock();
    return r;
}

/* One byte a read: what follows an Enter stays in the console for
 * whoever reads next, and that may be the command the line starts (a
 * paste of "spawn echo", then the lines for echo: the shell used to read
 * 64 bytes at a time and keep the ones after the Enter, so echo got the
 * rest of them and the next prompt the first). A Ctrl-C ends the read
 * (the console discards the typeahead before it). */
static int read_line_edit(struct lineedit *e)
{
    static int last_was_cr;
    for (;;) {
        uint8_t c;
        int n = console_read(&c, 1);
        if (n == -E_INTR) {
            console_clear_interrupt();
            jobs_output_lock();
            out_unlocked(NULL, "^C\r\n", 4);
            typing = NULL;       /* the "^C" line is not redrawn */
            jobs_output_unlock();
            return -E_INTR;
        }
        if (n <= 0)
            continue;
        /* CR LF is one Enter, not two. */
        if (c == '\n' && last_was_cr) {
            last_was_cr = 0;
            continue;
        }
        last_was_cr = c == '\r';
        if (key_locked(e, c) == LE_DONE)
            return 0;
    }
}

/* "(dropped 2 control bytes, 1 escape sequence)": keys the editor does
 * not know, so that a mistyped key is seen, not silently lost. */
static void report_dropped(const struct lineedit *e)
{
    if (!e->dropped_bytes && !e->dropped_seqs)
        return;
    kprintf("(dropped ");
    if (e->dropped_bytes)
        kprintf("%d control byte%s%s", e->dropped_bytes, e->dropped_bytes == 1 ? "" : "s",
                e->dropped_seqs ? ", " : "");
    if (e->dropped_seqs)
        kprintf("%d escape sequence%s", e->dropped_seqs, e->dropped_seqs == 1 ? "" : "s");
    kprintf(")\n");
}

static int split_args(char *line, char **argv)
{
    int argc = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ')
            *p++ = 0;
        if (!*p)
            break;
        if (argc == SHELL_MAX_ARGS)
            return -1;
        argv[argc++] = p;
        while (*p && *p != ' ')
            p++;
    }
    argv[argc] = NULL;
    return argc;
}

/* "CMD ... &": take the & off; returns 1 if it was there. */
static int take_ampersand(char *line)
{
    int n = strlen(line);
    while (n > 0 && line[n - 1] == ' ')
        n--;
    if (n == 0 || line[n - 1] != '&')
        return 0;
    line[n - 1] = 0;
    return 1;
}

/* Run c in the foreground, in this thread: while it runs it is what Ctrl-C
 * interrupts (thread_sleep_until, event_wait_until end with -E_INTR). */
static int run_foreground(const struct shell_cmd *c, int argc, char **argv)
{
    thread_set_foreground(thread_current());
    console_clear_interrupt();
    int r = c->run(argc, argv);
    thread_set_foreground(NULL);
    thread_clear_interrupt();
    if (console_interrupted()) {
        console_clear_interrupt();   /* the console dropped the typeahead before it */
        uint64_t ns = clock_ns() - thread_foreground_interrupted_ns();
        kprintf("(stopped by Ctrl-C, %llu us (%llu ns) after it)\n",
                (unsigned long long)(ns / NS_PER_US), (unsigned long long)ns);
    }
    return r;
}

static int run_background(const struct shell_cmd *c, int argc, char **argv)
{
    if (c->flags & SHELL_NO_JOB) {
        kprintf("%s: runs only in the foreground, not as a job (drop the &)\n", c->name);
        return 1;
    }
    char text[SHELL_LINE_MAX];
    int len = 0;                 /* the words fit: they came from one line */
    for (int i = 0; i < argc; i++)
        len += ksnprintf(text + len, sizeof text - len, "%s%s", i ? " " : "", argv[i]);
    int n = job_start(text, c->run, argc, argv);
    if (n == -E_BUSY) {
        kprintf("%s: all %d job numbers are taken ('jobs' lists them, 'kill %%N' ends one)\n",
                c->name, JOBS_MAX);
        return 1;
    }
    if (n < 0) {
        kprintf("%s: cannot start a job: %s\n", c->name, ws_strerror(n));
        return 1;
    }
    kprintf("[%d] %s: job %d runs in the background; 'kill %%%d' stops it, 'fg %%%d' waits\n",
            n, text, n, n, n);
    return 0;
}

int shell_execute(char *line)
{
    char *argv[SHELL_MAX_ARGS + 1];
    int background = take_ampersand(line);
    int argc = split_args(line, argv);
    if (argc < 0) {
        kprintf("error: more than %d words on one line\n", SHELL_MAX_ARGS);
        return 1;
    }
    if (argc == 0) {
        if (background)
            kprintf("&: a command comes before it, e.g. 'httpd loop &'\n");
        return background;
    }
    for (int i = 0; i < shell_ncommands; i++) {
        const struct shell_cmd *c = &shell_commands[i];
        if (strcmp(argv[0], c->name) == 0) {
            if (argc > 1 && !c->args[0]) {        /* "halt now": refuse, do not ignore */
                kprintf("%s: takes no arguments, not '%s'\n", c->name, argv[1]);
                return 1;
            }
            int job = job_running(c->run);
            if (job) {
                /* Demos keep their state in statics: one run at a time. */
                kprintf("%s: already running as job %%%d ('fg %%%d' or 'kill %%%d' first)\n",
                        c->name, job, job, job);
                return 1;
            }
            return background ? run_background(c, argc, argv) : run_foreground(c, argc, argv);
        }
    }
    kprintf("%s: unknown command (type 'help' for the list)\n", argv[0]);
    return 1;
}

int shell_parse_uint(const char *cmd, const char *what, const char *s, uint32_t lo,
                     uint32_t hi, uint32_t *out_v)
{
    uint64_t v = 0;
    const char *p = s;
    if (!*p)
        goto bad;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            goto bad;
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > hi)
            goto bad;
    }
    if (v < lo)
        goto bad;
    *out_v = (uint32_t)v;
    return 0;
bad:
    kprintf("%s: %s must be a whole number from %u to %u, not '%s'\n", cmd, what, lo, hi, s);
    return -1;
}

int shell_usage(const struct shell_cmd *c)
{
    kprintf("usage: %s %s\n", c->name, c->args);
    return 1;
}

int shell_optional_uint(int argc, char **argv, const char *what, uint32_t lo, uint32_t hi,
                        uint32_t *v)
{
    if (argc > 2)
        return shell_usage(shell_find(argv[0]));
    if (argc == 2 && shell_parse_uint(argv[0], what, argv[1], lo, hi, v) < 0)
        return 1;
    return 0;
}

int shell_stop_requested(void)
{
    int job = thread_job(thread_current());
    if (job)
        return job_stop_requested(job);
    return console_interrupted();
}

const char *shell_self(void)
{
    return thread_job(thread_current()) ? "this job" : "this shell";
}

const char *shell_stop_key(void)
{
    static char key[16];
    int job = thread_job(thread_current());
    if (!job || job_in_foreground(job))
        return "Ctrl-C";
    ksnprintf(key, sizeof key, "'kill %%%d'", job);
    return key;
}

int shell_sleep_until(uint64_t deadline_ns)
{
    /* One sleep: Ctrl-C interrupts this thread (the foreground) and ends it;
     * kill %N a job's. shell_stop_requested() first, also for a Ctrl-C held
     * behind typeahead nobody reads (console_interrupted lets the console
     * take input again, see console.h). */
    if (shell_stop_requested())
        return 1;
    return thread_sleep_until(deadline_ns) == -E_INTR;
}

int shell_sleep_interruptible(uint32_t ms)
{
    return shell_sleep_until(clock_ns() + (uint64_t)ms * NS_PER_MS);
}

void shell_fmt_milli(char *buf, int size, uint64_t v)
{
    ksnprintf(buf, size, "%llu.%03llu", (unsigned long long)(v / 1000),
              (unsigned long long)(v % 1000));
}

uint64_t shell_start_cycles;

void shell_main(void *arg)
{
    static struct lineedit e;
    static char autorun[SHELL_LINE_MAX];

    shell_start_cycles = cpu_cycles();
    jobs_init();
    /* The quit hint is here, not only in the Makefile's echo: SeaBIOS and
     * GRUB clear the terminal before the kernel prints anything. */
    kprintf("\nwebscale: is it web scale? Let's measure. Type 'help'.\n"
            "webscale: quit QEMU with Ctrl-A X, or type 'halt'.\n");
    /* run=CMD1; CMD2: each command as if typed, one after the other;
     * "run=threads 2 1; halt" makes a run that ends by itself. */
    if (kernel_cmdline_get("run", autorun, sizeof autorun) > 0) {
        char *cmd = autorun;
        while (cmd) {
            char *semi = strchr(cmd, ';');
            if (semi)
                *semi = 0;
            while (*cmd == ' ')
                cmd++;
            kprintf("%s%s\n", PROMPT, cmd);
            le_history_add(&history, cmd);
            shell_execute(cmd);
            cmd = semi ? semi + 1 : NULL;
        }
    }
    for (;;) {
        jobs_report_ended();
        if (read_line(&e) < 0)
            continue;
        if (e.too_long) {
            kprintf("error: line too long (at most %d characters); ignored\n",
                    SHELL_LINE_MAX - 1);
            continue;
        }
        report_dropped(&e);
        le_history_add(&history, e.line);
        shell_execute(e.line);
    }
}
