/* loop: the event loop's state (pending timers, watchers, queued events,
 * lag, utilisation, the slowest callbacks), its stall limit, and
 * `loop echo`: the console read and written through the loop, without a
 * single blocking call. */
#include <webscale/console.h>
#include <webscale/errno.h>
#include <webscale/kprintf.h>
#include <webscale/loop.h>
#include <webscale/string.h>
#include <webscale/sync.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "user/commands.h"
#include "user/demo.h"
#include "user/shell.h"

#define SLOWEST 6
#define ECHO_SECONDS_MAX 3600

static int show_state(void)
{
    struct loop_stats s;
    struct loop_cb_stats slow[SLOWEST];
    char a[24], b[24], c[24];
    loop_get_stats(&s);
    uint64_t span = clock_ns() - s.since_ns;
    kprintf("event loop (thread 'loop'), counting for %s\n", demo_ms(a, sizeof a, span));
    /* Short lines, grouped by meaning: what waits, what ran, how late. */
    kprintf("  pending: %u timers, %u watchers, %u posted events\n", s.timers_pending,
            s.watchers, s.posts_queued);
    kprintf("  queued: %u calls from threads, %u jobs for the %d workers\n", s.calls_queued,
            s.work_pending, LOOP_WORKERS);
    uint32_t overall = (unsigned)(span ? s.busy_ns * 1000 / span : 0);
    kprintf("  ran %llu callbacks; %u.%u %% busy overall\n", (unsigned long long)s.callbacks,
            overall / 10, overall % 10);
    kprintf("  in the last second: %u events/s, %u.%u %% busy\n", s.events_per_s,
            s.busy_permille / 10, s.busy_permille % 10);
    kprintf("  blocked %llu times waiting for something to happen\n",
            (unsigned long long)s.waits);
    kprintf("  posts: %u accepted, %u refused (ring of %d full)\n", s.posts, s.posts_lost,
            LOOP_POST_RING);
    kprintf("  timer lag (how late timers fired): last %s, max %s\n",
            demo_ms(a, sizeof a, s.lag_last_ns), demo_ms(b, sizeof b, s.lag_max_ns));
    kprintf("  timer lag on average %s over %llu firings; %u periods skipped\n",
            demo_ms(c, sizeof c, s.timer_fires ? s.lag_total_ns / s.timer_fires : 0),
            (unsigned long long)s.timer_fires, s.missed_periods);
    kprintf("  stall limit %u ms; %u callbacks reported for blocking the loop\n",
            loop_stall_ms(), s.stalls);
    if (s.stalls)
        kprintf("    last: '%s', caught after %s, ran %s\n", s.stall_name,
                demo_ms(a, sizeof a, s.stall_ns),
                s.stall_total_ns ? demo_ms(b, sizeof b, s.stall_total_ns) : "still running");
    int n = loop_slowest(slow, SLOWEST);
    if (n) {
        kprintf("  slowest callbacks          calls        longest         average\n");
        for (int i = 0; i < n; i++)
            kprintf("    %-22s %7u  %16s  %14s\n", slow[i].name, slow[i].calls,
                    demo_us(a, sizeof a, slow[i].max_ns),
                    demo_us(b, sizeof b, slow[i].total_ns / (slow[i].calls ? slow[i].calls : 1)));
        demo_say("  (a callback is timed when a PIT tick lands in it: longest and busy are "
                 "exact for long ones, the average of short ones a sample)\n");
    }
    return 0;
}

/* ---- loop echo ---- */

static struct {
    struct loop_watcher in, out;
    char pending[256];
    uint32_t len, off;
    uint32_t bytes_in, bytes_out, reads, writes_short;
    volatile int ended;          /* the loop saw Ctrl-C */
    struct event changed;        /* ended was set */
} echo;

static void echo_read(void *arg);

static void echo_flush(void *arg)
{
    while (echo.off < echo.len) {
        int n = console_write_nonblock(echo.pending + echo.off, echo.len - echo.off);
        if (n < 0)
            return;            /* full: the writable watcher calls again */
        if ((uint32_t)n < echo.len - echo.off)
            echo.writes_short++;
        echo.off += (uint32_t)n;
        echo.bytes_out += (uint32_t)n;
    }
    echo.len = echo.off = 0;
    loop_watch_stop(&echo.out);
    if (!echo.in.active)
        loop_watch_start(&echo.in, &console_readable, echo_read, NULL);
}

/* Read what is there, capitalised into the pending buffer. While output
 * is pending, reading pauses: that is back-pressure, not blocking. */
static void echo_read(void *arg)
{
    char buf[64];
    int n = console_read_nonblock(buf, sizeof buf);
    if (n == -E_INTR) {                  /* Ctrl-C */
        loop_watch_stop(&echo.in);
        echo.ended = 1;
        event_signal(&echo.changed);
        return;
    }
    if (n <= 0)
        return;
    echo.reads++;
    echo.bytes_in += (uint32_t)n;
    for (int i = 0; i < n && echo.len + 2 <= sizeof echo.pending; i++) {
        char ch = buf[i];
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        if (ch == '\r') {
            echo.pending[echo.len++] = '\r';
            ch = '\n';
        }
        echo.pending[echo.len++] = ch;
    }
    loop_watch_stop(&echo.in);
    loop_watch_start(&echo.out, &console_writable, echo_flush, NULL);
}

static void echo_begin(void *arg)
{
    echo.len = echo.off = 0;
    loop_watch_start(&echo.in, &console_readable, echo_read, NULL);
}

static void echo_end(void *arg)
{
    loop_watch_stop(&echo.in);
    loop_watch_stop(&echo.out);
}

static int run_echo(uint32_t seconds)
{
    memset(&echo, 0, sizeof echo);
    event_init(&echo.changed, "loop echo");
    demo_say("loop echo: the loop reads the console when it is readable and writes back in "
             "capitals when it is writable; no call blocks. Ctrl-C%s ends it.\n",
             seconds ? " or the time limit" : "");
    if (loop_call_and_wait(echo_begin, NULL) < 0) {
        kprintf("loop echo: the loop is not running\n");
        return 1;
    }
    /* This shell thread only waits, in one wait that the loop's Ctrl-C,
     * the time limit or our own Ctrl-C ends; the loop does the work. */
    uint64_t end = seconds ? clock_ns() + (uint64_t)seconds * NS_PER_S : TIME_NEVER;
    for (;;) {
        uint32_t seen = event_count(&echo.changed);
        if (echo.ended || event_wait_until(&echo.changed, seen, end) < 0)
            break;
    }
    loop_call_and_wait(echo_end, NULL);
    kprintf("\nloop echo: %u bytes in (%u reads), %u bytes out (%u short writes)\n",
            echo.bytes_in, echo.reads, echo.bytes_out, echo.writes_short);
    demo_line_begin("loop-echo");
    demo_line_u64("bytes_in", echo.bytes_in);
    demo_line_u64("reads", echo.reads);
    demo_line_u64("bytes_out", echo.bytes_out);
    demo_line_u64("short_writes", echo.writes_short);
    demo_line_end();
    return 0;
}

int cmd_loop(int argc, char **argv)
{
    const struct shell_cmd *self = shell_find("loop");
    uint32_t v = 0;
    if (argc == 1)
        return show_state();
    if (strcmp(argv[1], "limit") == 0 && argc == 3) {
        if (shell_parse_uint("loop limit", "MS", argv[2], 1, 60000, &v) < 0)
            return 1;
        loop_set_stall_ms(v);
        kprintf("a callback running longer than %u ms is now reported by name\n", v);
        return 0;
    }
    if (strcmp(argv[1], "echo") == 0 && argc <= 3) {
        if (thread_job(thread_current())) {
            demo_say("loop echo: reads the console, and a background job may not (the prompt "
                     "reads it): run it without &\n");
            return 1;
        }
        if (argc == 3 &&
            shell_parse_uint("loop echo", "SECONDS", argv[2], 1, ECHO_SECONDS_MAX, &v) < 0)
            return 1;
        return run_echo(v);
    }
    if (strcmp(argv[1], "reset") == 0 && argc == 2) {
        loop_reset_stats();
        kprintf("loop counters reset\n");
        return 0;
    }
    return shell_usage(self);
}
