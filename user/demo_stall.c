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

/* A phase's lateness, summed up once its beats are in. */
struct phase_stats {
    int beats;
    uint32_t p50_ns, p99_ns, max_ns;
};

static void sum_up(struct phase *p, struct phase_stats *st)
{
    sort_u32(p->lat, (size_t)p->n);
    st->beats = p->n;
    st->p50_ns = demo_percentile(p->lat, p->n, 500);
    st->p99_ns = demo_percentile(p->lat, p->n, 990);
    st->max_ns = p->n ? p->lat[p->n - 1] : 0;
}

static void print_phase(const char *what, const struct phase_stats *st)
{
    char a[24], b[24], c[24];
    kprintf("  %-29s %5d %11s %11s %11s\n", what, st->beats, demo_ms(a, sizeof a, st->p50_ns),
            demo_ms(b, sizeof b, st->p99_ns), demo_ms(c, sizeof c, st->max_ns));
}

static void print_phase_line(const char *way, const char *when, const struct phase_stats *st)
{
    demo_line_begin("stall");
    demo_line_str("way", way);
    demo_line_str("phase", when);
    demo_line_u64("beats", (uint64_t)st->beats);
    demo_line_u64("p50_ns", st->p50_ns);
    demo_line_u64("p99_ns", st->p99_ns);
    demo_line_u64("max_ns", st->max_ns);
    demo_line_end();
}

static void print_header(void)
{
    kprintf("  %-29s %5s %11s %11s %11s\n", "heartbeat lateness", "beats", "p50", "p99", "max");
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

/* What stall measured: lateness before and while 'china' blocks, in the
 * loop and with threads; what the loop skipped and its detector said. */
struct stall {
    uint32_t ms;
    struct phase_stats loop[2], threads[2];     /* [0] before, [1] while it blocks */
    uint32_t beats_missed;
    const char *stall_name;                     /* NULL: the detector said nothing */
    uint64_t stall_ns;
};

/* Returns 1 after Ctrl-C (the threads' half is not run then). */
static int measure_stall(struct stall *m)
{
    uint64_t block = (uint64_t)m->ms * NS_PER_MS;
    memset(phases, 0, sizeof phases);
    run_loop_clients(block);
    sum_up(&phases[0], &m->loop[0]);
    sum_up(&phases[1], &m->loop[1]);
    m->beats_missed = beats_missed;
    struct loop_stats s;
    loop_get_stats(&s);
    m->stall_name = s.stall_name;
    m->stall_ns = s.stall_ns;
    if (shell_stop_requested())
        return 1;
    memset(phases, 0, sizeof phases);
    run_thread_clients(block);
    sum_up(&phases[0], &m->threads[0]);
    sum_up(&phases[1], &m->threads[1]);
    return 0;
}

static void print_stall(const struct stall *m, int threads_too)
{
    kprintf("In the event loop (the blocking call runs in callback 'china'):\n");
    print_header();
    print_phase("loop, before", &m->loop[0]);
    print_phase("loop, while 'china' blocks", &m->loop[1]);
    kprintf("  heartbeats that never happened (skipped periods): %u\n", m->beats_missed);
    if (m->stall_name)
        kprintf("  the loop's stall detector named '%s' after %u ms\n", m->stall_name,
                (unsigned)(m->stall_ns / NS_PER_MS));
    if (!threads_too)
        return;
    kprintf("With one thread per client (the blocking call runs in thread 'china'):\n");
    print_header();
    print_phase("threads, before", &m->threads[0]);
    print_phase("threads, while 'china' blocks", &m->threads[1]);
    demo_say("One blocking callback stalls every client of the loop; with threads the PIT "
             "takes the CPU back every %u ms slice%s.\n", sched_slice_ms(),
             sched_preemptive() ? "" : " (not now: the scheduler is cooperative!)");
    print_phase_line("loop", "before", &m->loop[0]);
    print_phase_line("loop", "blocked", &m->loop[1]);
    print_phase_line("threads", "before", &m->threads[0]);
    print_phase_line("threads", "blocked", &m->threads[1]);
    demo_line_begin("stall");
    demo_line_u64("block_ms", m->ms);
    demo_line_u64("beats_missed", m->beats_missed);
    demo_line_str("stall_name", m->stall_name ? m->stall_name : "-");
    demo_line_u64("stall_ms", m->stall_ns / NS_PER_MS);
    demo_line_end();
}

int cmd_stall(int argc, char **argv)
{
    static struct stall m;
    m.ms = 500;
    if (shell_optional_uint(argc, argv, "MS", 10, 5000, &m.ms))
        return 1;
    demo_say("%d clients, a heartbeat every %d ms each. After %d ms one request calls "
             "a service that blocks for %u ms.\n", CLIENTS, BEAT_MS, CALM_MS, m.ms);
    int interrupted = measure_stall(&m);
    print_stall(&m, !interrupted);
    return interrupted;
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

/* Spins in 1 ms pieces, so that a background `spin` asked to stop (kill %N)
 * stops within a piece; the foreground one is not stopped by Ctrl-C,
 * which under 'sched coop' never gets a CPU to ask with. */
#define SPIN_PIECE_NS NS_PER_MS
static int killed(void) { return thread_job(thread_current()) && shell_stop_requested(); }

static void spinner(void *arg)
{
    uint64_t end = clock_ns() + *(uint64_t *)arg;
    for (uint64_t now = clock_ns(); now < end; now = clock_ns()) {
        if (killed())
            return;
        demo_spin_ns(end - now < SPIN_PIECE_NS ? end - now : SPIN_PIECE_NS);
    }
}

/* What spin measured: heartbeats of this shell thread and of the loop
 * while a thread spun without yielding. */
struct spin {
    uint32_t ms;
    int preemptive;
    uint32_t shell_beats, loop_beats;
    uint64_t shell_worst_ns, loop_worst_ns;
};

static void measure_spin(struct spin *m)
{
    static uint64_t spin_ns;
    static struct loop_timer t;
    spin_ns = (uint64_t)m->ms * NS_PER_MS;
    loop_beats = 0;
    loop_worst = 0;
    loop_timer_init(&t, spin_beat, &t);
    loop_timer_start_ms(&t, BEAT_MS, BEAT_MS);
    uint64_t start = clock_ns(), worst = 0, next = start;
    uint32_t shell_beats = 0;
    thread_t *s = thread_create("spinner", spinner, &spin_ns);
    while (clock_ns() < start + spin_ns + 50 * NS_PER_MS && !killed()) {
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
    m->shell_beats = shell_beats;
    m->shell_worst_ns = worst;
    m->loop_beats = loop_beats;
    m->loop_worst_ns = loop_worst;
}

static void print_spin(const struct spin *m)
{
    char a[24], b[24], w[24];
    kprintf("  %s %u heartbeats, worst %s late\n",
            thread_job(thread_current()) ? "this job's thread:" : "this shell thread:",
            m->shell_beats, demo_ms(a, sizeof a, m->shell_worst_ns));
    kprintf("  the event loop:    %u heartbeats, worst %s late\n", m->loop_beats,
            demo_ms(b, sizeof b, m->loop_worst_ns));
    /* Preempted, a heartbeat due while the spinner runs waits for the end of
     * its slice, and for the tick that notices the deadline: at most one
     * slice and one tick, unless something else held the CPU as well. */
    uint64_t worst = m->shell_worst_ns > m->loop_worst_ns ? m->shell_worst_ns : m->loop_worst_ns;
    uint64_t bound = (uint64_t)sched_slice_ms() * NS_PER_MS + clock_tick_ns();
    demo_ms(w, sizeof w, worst);
    if (m->preemptive && worst <= bound)
        demo_say("Preemptive: the PIT took the CPU from the spinner every %u ms slice, so no "
                 "heartbeat waited longer than one slice and one %u us tick: the worst was %s "
                 "late.\n", sched_slice_ms(), clock_tick_ns() / 1000, w);
    else if (m->preemptive)
        demo_say("Preemptive: the PIT took the CPU from the spinner every %u ms slice, yet a "
                 "heartbeat was %s late, more than one slice and one %u us tick: other threads "
                 "took turns too (a background job?), or the host delivered the tick late (without "
                 "-icount QEMU's PIT follows the host's clock).\n",
                 sched_slice_ms(), w, clock_tick_ns() / 1000);
    else
        demo_say("Cooperative: the spinner never gave the CPU back, so everybody froze for "
                 "its whole %u ms. 'sched preempt' brings the PIT back.\n", m->ms);
    demo_line_begin("spin");
    demo_line_u64("spin_ms", m->ms);
    demo_line_str("sched", m->preemptive ? "preemptive" : "cooperative");
    demo_line_u64("shell_beats", m->shell_beats);
    demo_line_u64("shell_worst_ns", m->shell_worst_ns);
    demo_line_u64("loop_beats", m->loop_beats);
    demo_line_u64("loop_worst_ns", m->loop_worst_ns);
    demo_line_end();
}

int cmd_spin(int argc, char **argv)
{
    static struct spin m;
    m.ms = 300;
    if (shell_optional_uint(argc, argv, "MS", 10, 3000, &m.ms))
        return 1;
    m.preemptive = sched_preemptive();
    demo_say("A thread spins for %u ms without yielding; the scheduler is %s.\n", m.ms,
             m.preemptive ? "preemptive" : "cooperative: expect everything to freeze");
    measure_spin(&m);
    print_spin(&m);
    return 0;
}
