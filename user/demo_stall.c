/* stall and spin: the talk's "your functions should never block".
 *
 * stall: clients with a heartbeat every 10 ms are served by the loop; then
 * one callback blocks for MS ("that totally free service in China"). Every
 * heartbeat waits behind it, and the loop's stall detector names it. The
 * same clients as threads keep beating: the PIT preempts the blocker.
 *
 * spin: one thread spins without yielding. Preemptive, everybody else
 * keeps going; cooperative (`sched coop`), everybody freezes until it is
 * done. The spinner always stops by itself, so the shell comes back. */
#include <webscale/console.h>
#include <webscale/kprintf.h>
#include <webscale/loop.h>
#include <webscale/sched.h>
#include <webscale/sort.h>
#include <webscale/string.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "user/commands.h"
#include "user/demo.h"
#include "user/shell.h"

#define CLIENTS 8
#define BEAT_MS 10
#define CALM_MS 200
#define SAMPLES 2048

struct phase {
    uint32_t lat[SAMPLES];     /* heartbeat lateness, ns */
    int n;
};

static struct phase phases[2];
static struct phase *volatile recording;
static volatile uint32_t beats_missed;

static void record(uint32_t late_ns)
{
    struct phase *p = recording;
    if (p && p->n < SAMPLES)
        p->lat[p->n++] = late_ns;
}

static void print_phase(const char *what, struct phase *p)
{
    char a[24], b[24], c[24];
    sort_u32(p->lat, (size_t)p->n);
    kprintf("  %-30s %5d %14s %14s %14s\n", what, p->n,
            demo_ms(a, sizeof a, demo_percentile(p->lat, p->n, 500)),
            demo_ms(b, sizeof b, demo_percentile(p->lat, p->n, 990)),
            demo_ms(c, sizeof c, p->n ? p->lat[p->n - 1] : 0));
}

static void print_header(void)
{
    kprintf("  %-30s %5s %14s %14s %14s\n", "heartbeat lateness", "beats", "p50", "p99", "max");
}

/* ---- the loop's clients ---- */

static struct loop_timer beats[CLIENTS];

static void heartbeat(void *arg)
{
    struct loop_timer *t = arg;
    record((uint32_t)(clock_ns() - t->last_due_ns));
}

static void china(void *arg)
{
    demo_spin_ns(*(uint64_t *)arg);      /* a blocking call in a callback */
}

static void stop_beats(void *arg)
{
    for (int i = 0; i < CLIENTS; i++)
        loop_timer_stop(&beats[i]);
}

static void sleep_ms_plain(uint32_t ms)
{
    shell_sleep_interruptible(ms);
}

static void run_loop_clients(uint64_t block_ns)
{
    static uint64_t block;
    block = block_ns;
    uint32_t missed0 = 0;
    for (int i = 0; i < CLIENTS; i++) {
        loop_timer_init(&beats[i], heartbeat, &beats[i]);
        /* Staggered, so they do not all fall on the same tick. */
        loop_timer_start(&beats[i], (uint64_t)BEAT_MS * NS_PER_MS + i * NS_PER_MS,
                         (uint64_t)BEAT_MS * NS_PER_MS);
    }
    recording = &phases[0];
    sleep_ms_plain(CALM_MS);
    for (int i = 0; i < CLIENTS; i++)
        missed0 += beats[i].missed;
    recording = &phases[1];
    loop_post(china, &block);
    sleep_ms_plain((uint32_t)(block_ns / NS_PER_MS) + 2 * BEAT_MS);
    recording = NULL;
    loop_call_and_wait(stop_beats, NULL);
    beats_missed = 0;
    for (int i = 0; i < CLIENTS; i++)
        beats_missed += beats[i].missed;
    beats_missed -= missed0;
}

/* ---- the same clients as threads ---- */

static volatile int threads_stop;

static void beat_thread(void *arg)
{
    uint64_t next = clock_ns() + (uint32_t)(uintptr_t)arg * NS_PER_MS;
    while (!threads_stop) {
        next += BEAT_MS * NS_PER_MS;
        uint64_t now = clock_ns();
        if (next > now)
            thread_sleep_ns(next - now);
        now = clock_ns();
        record((uint32_t)(now - next));
        while (next + BEAT_MS * NS_PER_MS <= now)   /* skip beats, like the loop does */
            next += BEAT_MS * NS_PER_MS;
    }
}

static void china_thread(void *arg)
{
    demo_spin_ns(*(uint64_t *)arg);
}

static void run_thread_clients(uint64_t block_ns)
{
    static uint64_t block;
    thread_t *t[CLIENTS];
    block = block_ns;
    threads_stop = 0;
    for (int i = 0; i < CLIENTS; i++)
        t[i] = thread_create("client", beat_thread, (void *)(uintptr_t)i);
    recording = &phases[0];
    sleep_ms_plain(CALM_MS);
    recording = &phases[1];
    thread_t *c = thread_create("china", china_thread, &block);
    sleep_ms_plain((uint32_t)(block_ns / NS_PER_MS) + 2 * BEAT_MS);
    recording = NULL;
    threads_stop = 1;
    if (c)
        thread_join(c);
    for (int i = 0; i < CLIENTS; i++)
        if (t[i])
            thread_join(t[i]);
}

int cmd_stall(int argc, char **argv)
{
    uint32_t ms = 500;
    if (argc > 2)
        return shell_usage(shell_find("stall"));
    if (argc == 2 && shell_parse_uint("stall", "MS", argv[1], 10, 5000, &ms) < 0)
        return 1;
    uint64_t block = (uint64_t)ms * NS_PER_MS;
    kprintf("%d clients, a heartbeat every %d ms each. After %d ms one request calls "
            "a service that blocks for %u ms.\n", CLIENTS, BEAT_MS, CALM_MS, ms);

    kprintf("In the event loop (the blocking call runs in callback 'china'):\n");
    memset(phases, 0, sizeof phases);
    run_loop_clients(block);
    print_header();
    print_phase("loop, before", &phases[0]);
    print_phase("loop, while 'china' blocks", &phases[1]);
    kprintf("  heartbeats that never happened (skipped periods): %u\n", beats_missed);
    struct loop_stats s;
    loop_get_stats(&s);
    if (s.stall_name)
        kprintf("  the loop's stall detector named '%s' after %u ms\n", s.stall_name,
                (unsigned)(s.stall_ns / NS_PER_MS));
    if (console_interrupted())
        return 1;

    kprintf("With one thread per client (the blocking call runs in thread 'china'):\n");
    memset(phases, 0, sizeof phases);
    run_thread_clients(block);
    print_header();
    print_phase("threads, before", &phases[0]);
    print_phase("threads, while 'china' blocks", &phases[1]);
    kprintf("One blocking callback stalls every client of the loop; with threads the PIT "
            "takes the CPU back every %u ms slice%s.\n", sched_slice_ms(),
            sched_preemptive() ? "" : " (not now: the scheduler is cooperative!)");
    return 0;
}

/* ---- spin ---- */

static volatile uint32_t loop_beats;
static uint64_t loop_worst;

static void spin_beat(void *arg)
{
    struct loop_timer *t = arg;
    uint64_t late = clock_ns() - t->last_due_ns;
    if (late > loop_worst)
        loop_worst = late;
    loop_beats++;
}

static void spinner(void *arg)
{
    demo_spin_ns(*(uint64_t *)arg);
}

int cmd_spin(int argc, char **argv)
{
    static uint64_t spin_ns;
    static struct loop_timer t;
    uint32_t ms = 300;
    char a[24], b[24];
    if (argc > 2)
        return shell_usage(shell_find("spin"));
    if (argc == 2 && shell_parse_uint("spin", "MS", argv[1], 10, 3000, &ms) < 0)
        return 1;
    spin_ns = (uint64_t)ms * NS_PER_MS;
    int preempt = sched_preemptive();
    kprintf("A thread spins for %u ms without yielding; the scheduler is %s.\n", ms,
            preempt ? "preemptive" : "cooperative: expect everything to freeze");
    loop_beats = 0;
    loop_worst = 0;
    loop_timer_init(&t, spin_beat, &t);
    loop_timer_start_ms(&t, BEAT_MS, BEAT_MS);
    uint64_t start = clock_ns(), worst = 0, next = start;
    uint32_t shell_beats = 0;
    thread_t *s = thread_create("spinner", spinner, &spin_ns);
    while (clock_ns() < start + spin_ns + 50 * NS_PER_MS) {
        next += BEAT_MS * NS_PER_MS;
        uint64_t now = clock_ns();
        if (next > now)
            thread_sleep_ns(next - now);
        now = clock_ns();
        if (now - next > worst)
            worst = now - next;
        shell_beats++;
        while (next + BEAT_MS * NS_PER_MS <= now)
            next += BEAT_MS * NS_PER_MS;
    }
    if (s)
        thread_join(s);
    loop_timer_stop(&t);
    kprintf("  this shell thread: %u heartbeats, worst %s late\n", shell_beats,
            demo_ms(a, sizeof a, worst));
    kprintf("  the event loop:    %u heartbeats, worst %s late\n", loop_beats,
            demo_ms(b, sizeof b, loop_worst));
    if (preempt)
        kprintf("Preemptive: the PIT took the CPU from the spinner every %u ms slice; "
                "nobody waited longer than that.\n", sched_slice_ms());
    else
        kprintf("Cooperative: the spinner never gave the CPU back, so everybody froze for "
                "its whole %u ms. 'sched preempt' brings the PIT back.\n", ms);
    return 0;
}
