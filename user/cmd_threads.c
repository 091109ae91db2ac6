/* threads N [SECONDS]: the talk's "threads vs cores", live.
 *
 * N threads each count as fast as they can and never yield. On one core
 * only one of them runs at any moment; the PIT takes the CPU away at the
 * end of every time slice. Every second this prints how much each thread
 * counted, its share of the CPU, how often it was preempted, and a
 * timeline of who held the CPU at each of the last ticks. The share and
 * the preemptions come from the scheduler's bookkeeping: a second that
 * `sched stats off` left out, in part or whole, prints "-" for them, as
 * ps and top do, not a share of 0.0 % (the count and the timeline are
 * the demo's own and always measured). */
#include <webscale/console.h>
#include <webscale/kprintf.h>
#include <webscale/sched.h>
#include <webscale/string.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "user/commands.h"
#include "user/demo.h"
#include "user/jobs.h"
#include "user/shell.h"

#define THREADS_MAX 26          /* one letter each in the timeline */
#define TIMELINE_TICKS 70        /* 7 slices of 10 ms; with its indent, 72 columns */
#define SECONDS_MAX 3600

struct counter {
    volatile uint32_t count;
    volatile int stop;
    volatile int ended;         /* stopped by itself (cooperative mode) */
    thread_t *t;
    int id;
    uint64_t last_cpu_ns, last_count;
    uint32_t last_invol;
};

/* Cooperative: when the counters end by themselves; 0 = only at Ctrl-C. */
static uint64_t coop_deadline;

DEMO_HOT static void count_forever(void *arg)
{
    struct counter *c = arg;
    while (!c->stop) {
        c->count++;
        /* Cooperative, nobody takes the CPU from a counter, so the shell
         * never runs again to set stop: the counter itself must notice
         * Ctrl-C and the end of the run, or the machine is lost for good. */
        if (!(c->count & 0xFFFF) && !sched_preemptive()) {
            if (shell_stop_requested() || (coop_deadline && clock_ns() >= coop_deadline))
                break;
            /* A job's counter (`threads 2 &`) is stopped by `kill %N`, not
             * by Ctrl-C, and the prompt that reads it needs the CPU: when
             * a key waits, the counter gives it up. */
            if (thread_job(thread_current()) && !job_in_foreground(thread_job(thread_current())) &&
                console_input_ready())
                thread_yield();
        }
    }
    c->ended = 1;
}

static struct thread_info *find(struct thread_info *info, int n, int id)
{
    for (int i = 0; i < n; i++)
        if (info[i].id == id)
            return &info[i];
    return NULL;
}

static char letter_for(struct counter *c, int n, int id, int shell_id)
{
    for (int i = 0; i < n; i++)
        if (c[i].id == id)
            return (char)('A' + i);
    if (id == 0)
        return '.';
    return id == shell_id ? 's' : '?';
}

static void print_timeline(struct counter *c, int n, int shell_id)
{
    static int16_t hist[SCHED_HISTORY];
    char line[TIMELINE_TICKS + 1];
    sched_tick_history(hist);
    for (int i = 0; i < TIMELINE_TICKS; i++)
        line[i] = letter_for(c, n, hist[SCHED_HISTORY - TIMELINE_TICKS + i], shell_id);
    line[TIMELINE_TICKS] = 0;
    kprintf("  last %d ticks (1 char = 1 tick = %u us; . = idle, s = %s):\n  %s\n",
            TIMELINE_TICKS, clock_tick_ns() / 1000, shell_self(), line);
    /* Other threads (a job's, the loop) hold ticks too: say what ? is. */
    if (strchr(line, '?'))
        kprintf("  ? = another thread: not a counter, not %s\n", shell_self());
}

int cmd_threads(int argc, char **argv)
{
    static struct counter c[THREADS_MAX];
    static struct thread_info info[THREADS_MAX + 16];
    uint32_t n, seconds = 0;

    if (argc < 2 || argc > 3)
        return shell_usage(shell_find("threads"));
    if (shell_parse_uint("threads", "N", argv[1], 1, THREADS_MAX, &n) < 0)
        return 1;
    if (argc == 3 && shell_parse_uint("threads", "SECONDS", argv[2], 1, SECONDS_MAX, &seconds) < 0)
        return 1;

    uint32_t created = 0;
    coop_deadline = seconds ? clock_ns() + seconds * NS_PER_S : 0;
    for (uint32_t i = 0; i < n; i++) {
        char name[THREAD_NAME_MAX];
        memset(&c[i], 0, sizeof c[i]);
        ksnprintf(name, sizeof name, "count%c", 'A' + i);
        c[i].t = thread_create(name, count_forever, &c[i]);
        if (!c[i].t) {
            kprintf("threads: no memory for thread %u of %u\n", i + 1, n);
            break;
        }
        c[i].id = thread_id(c[i].t);
        created++;
    }
    int shell_id = thread_id(thread_current());
    char how[160], stops[32] = "";
    int job = thread_job(thread_current());
    if (sched_preemptive())
        ksnprintf(how, sizeof how, "preemptive");
    else
        ksnprintf(how, sizeof how, "cooperative (they never give the CPU back: each counts "
                  "until %s or the time is up, then ends%s)", shell_stop_key(),
                  job && !job_in_foreground(job) ? "; a job's gives it to the prompt while a "
                                                   "key waits" : "");
    if (!seconds)
        ksnprintf(stops, sizeof stops, " %s stops.", shell_stop_key());
    demo_say("%u counting threads on one core; %s, slice %u ms, PIT %u Hz.%s\n", created, how,
             sched_slice_ms(), clock_hz(), stops);

    uint64_t start = clock_ns(), last = start;
    /* Stats off at any moment of a second changes sched_stats_off_ns(). */
    uint64_t off_ns = sched_stats_off_ns();
    int all_measured = 1;
    for (uint32_t sec = 1; created && (!seconds || sec <= seconds); sec++) {
        if (shell_sleep_until(start + sec * NS_PER_S))
            break;
        uint64_t now = clock_ns();
        int ni = thread_snapshot(info, THREADS_MAX + 16);
        if (ni > THREADS_MAX + 16)
            ni = THREADS_MAX + 16;
        uint64_t off_now = sched_stats_off_ns();
        int measured = sched_stats() && off_now == off_ns;
        off_ns = off_now;
        all_measured &= measured;
        /* Elapsed, not sec: cooperative counters keep the shell out longer. */
        kprintf("[%u s] thread    counted     CPU share   preempted   (this second)\n",
                (uint32_t)((now - start) / NS_PER_S));
        for (uint32_t i = 0; i < created; i++) {
            struct thread_info *t = find(info, ni, c[i].id);
            uint32_t count = c[i].count;
            uint64_t cpu = t ? t->cpu_ns : 0;
            uint32_t invol = t ? t->involuntary : 0;
            uint64_t share = (cpu - c[i].last_cpu_ns) * 1000 / (now - last);
            char pct[16] = "-", preempted[12] = "-";
            if (measured) {
                ksnprintf(pct, sizeof pct, "%llu.%llu %%", (unsigned long long)share / 10,
                          (unsigned long long)share % 10);
                ksnprintf(preempted, sizeof preempted, "%u", invol - c[i].last_invol);
            }
            kprintf("      %c %-7s %10u   %7s   %6s\n", 'A' + i, t ? t->name : "?",
                    count - (uint32_t)c[i].last_count, pct, preempted);
            char letter[2] = { (char)('A' + i), 0 };
            demo_line_begin("threads");
            demo_line_u64("second", sec);
            demo_line_str("thread", letter);
            demo_line_u64("id", (uint64_t)c[i].id);
            demo_line_u64("counted", count - (uint32_t)c[i].last_count);
            if (measured)
                demo_line_u64("cpu_ns", cpu - c[i].last_cpu_ns);
            else
                demo_line_str("cpu_ns", "-");
            demo_line_u64("span_ns", now - last);
            if (measured)
                demo_line_u64("preempted", invol - c[i].last_invol);
            else
                demo_line_str("preempted", "-");
            demo_line_end();
            c[i].last_cpu_ns = cpu;
            c[i].last_count = count;
            c[i].last_invol = invol;
        }
        if (!measured && sched_stats())
            demo_say("CPU share, preempted: not measured: 'sched stats' was off during this "
                     "second.\n");
        else if (!measured)
            print_stats_note("CPU share, preempted");
        print_timeline(c, created, shell_id);
        last = now;
        uint32_t ended = 0;
        for (uint32_t i = 0; i < created; i++)
            ended += c[i].ended;
        if (ended == created)           /* cooperative: they ended by themselves */
            break;
    }

    /*
     * The summary's two figures must cover the same span: a Ctrl-C ends
     * the last second early, after its table was printed, so the
     * preemptions are read again here, at the moment the run time ends,
     * not taken from the last table (which left the part second out:
     * "ran for 1962 ms and were preempted 102 times", one second's worth).
     */
    uint64_t total_switches = 0;
    int ni = thread_snapshot_counts(info, THREADS_MAX + 16);
    if (ni > THREADS_MAX + 16)
        ni = THREADS_MAX + 16;
    uint64_t ms = (clock_ns() - start) / NS_PER_MS;
    for (uint32_t i = 0; i < created; i++) {
        struct thread_info *t = find(info, ni, c[i].id);
        total_switches += t ? t->involuntary : c[i].last_invol;
        c[i].stop = 1;
    }
    for (uint32_t i = 0; i < created; i++)
        thread_join(c[i].t);
    char turns[80];
    if (created == 1)           /* nobody to take turns with */
        ksnprintf(turns, sizeof turns, "with one thread it had the core to itself.");
    else if (sched_preemptive())
        ksnprintf(turns, sizeof turns, "they took turns, each getting about 1/%u of it.", created);
    else
        ksnprintf(turns, sizeof turns,
                  "cooperative, the first kept it until it ended; the others waited their turn.");
    char preempted[64];
    all_measured &= sched_stats() && sched_stats_off_ns() == off_ns;   /* a Ctrl-C's part second */
    if (all_measured)
        ksnprintf(preempted, sizeof preempted, "were preempted %llu times in all",
                  (unsigned long long)total_switches);
    else
        ksnprintf(preempted, sizeof preempted,
                  "their preemptions were not measured ('sched stats' was off)");
    demo_say("%u %s ran for %llu ms and %s. One core runs one thread at a time: %s\n",
             created, created == 1 ? "thread" : "threads", (unsigned long long)ms, preempted,
             turns);
    demo_line_begin("threads");
    demo_line_u64("threads", created);
    demo_line_str("sched", sched_preemptive() ? "preemptive" : "cooperative");
    demo_line_u64("ran_ms", ms);
    if (all_measured)
        demo_line_u64("preempted", total_switches);
    else
        demo_line_str("preempted", "-");
    demo_line_end();
    return 0;
}
