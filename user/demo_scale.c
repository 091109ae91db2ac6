/* scale [N...] [window MS]: the talk's "a program with 1000 threads will
 * spend so much time context switching that no work will ever get done",
 * measured on this one core.
 *
 * N simulated clients (no network) each send requests in a loop: a request
 * waits WAIT_MS for the "network", then the server does WORK_US of CPU
 * work. Served two ways: a thread per client, blocking in thread_sleep_ms
 * and then working, and the event loop, a timer per client whose callback
 * does the same work. Each row is measured over a fixed window after a
 * warm-up: requests/s, latency, context switches, heap, and where the CPU
 * went (the work, switching, everything else, idle).
 *
 * What it is meant to show, honestly: with one core and a fixed slice the
 * number of switches follows the number of wake-ups (requests), not the
 * number of threads; what grows with N is memory (a stack per thread) and,
 * once the clients ask for more CPU than there is, latency. */
#include <webscale/console.h>
#include <webscale/kprintf.h>
#include <webscale/loop.h>
#include <webscale/measure.h>
#include <webscale/sched.h>
#include <webscale/sort.h>
#include <webscale/string.h>
#include <webscale/sync.h>
#include <webscale/system.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "user/commands.h"
#include "user/demo.h"
#include "user/demo_scale.h"
#include "user/shell.h"

#define SCALE_N_MAX 10000       /* 10,000 threads do not fit in 32 MiB: shows the error */
#define WORK_US 50              /* the server's CPU part of a request */
#define WINDOW_MS_DEFAULT 1000
#define WINDOW_MS_MIN 50
#define WINDOW_MS_MAX 10000
/* The window measures the steady state: it opens once the clients have
 * completed WARMUP_ROUNDS requests each on average (when the CPU is short,
 * a round takes N x the work, not WAIT_MS), and at least WARMUP_MS after
 * the last one started (they start staggered over one wait). */
#define WARMUP_MS (2 * WAIT_MS)
#define WARMUP_ROUNDS 2
#define WARMUP_MS_MAX 10000
/* Latencies kept for the percentiles: a uniform sample (reservoir) when
 * the window holds more requests than this. */
#define SAMPLES 16384
#define SWITCH_REPS 256         /* as `latency` measures a switch */
#define WORK_REPS 64            /* requests' work timed, then divided */
#define WORK_BATCHES 4          /* in batches of 16 (about 0.55 ms): the least one counts */

static const uint32_t default_ns[] = { 1, 10, 100, 1000 };

struct scale_cfg scale_cfg;

/* ---- latency samples, shared by every client ---- */

static uint32_t samples[SAMPLES];
static uint32_t recorded;       /* requests completed in the window */
static volatile uint32_t completed; /* requests completed since the clients started */
static volatile int recording;
static volatile int stopping;
/* Threads are preempted anywhere and i386 has no fetch-and-add (xadd is a
 * 486 instruction): the counter and the reservoir need a lock. Uncontended
 * it costs ~80 ns, the same for both ways. */
static struct mutex sample_lock;

static void record(uint64_t sent_ns)
{
    uint32_t latency = (uint32_t)(clock_ns() - sent_ns);
    mutex_lock(&sample_lock);
    completed++;
    if (!recording) {
        mutex_unlock(&sample_lock);
        return;
    }
    uint32_t i = recorded++;
    if (i >= SAMPLES) {
        /* Reservoir sampling (Vitter's algorithm R): keep request i with
         * probability SAMPLES / (i + 1). The "random" index is a hash of i,
         * so no shared generator state is needed. */
        uint32_t h = i * 2654435761u;   /* Knuth's multiplicative hash */
        h ^= h >> 15;
        i = h % (i + 1);
    }
    if (i < SAMPLES)
        samples[i] = latency;
    mutex_unlock(&sample_lock);
}

/* When client i of n sends its first request: spread over one wait, as
 * real clients do not arrive in step. */
static uint64_t stagger_ns(uint32_t i, uint32_t n)
{
    return (uint64_t)WAIT_MS * NS_PER_MS * i / n;
}

/* ---- way 1: a thread per client ---- */

static void client_thread(void *arg)
{
    uint32_t first_ns = (uint32_t)(uintptr_t)arg;
    if (first_ns)
        thread_sleep_ns(first_ns);
    while (!stopping) {
        uint64_t sent = clock_ns();
        thread_sleep_ms(WAIT_MS);               /* the network: this thread blocks */
        demo_work(scale_cfg.work_iterations);
        record(sent);
    }
}

/* heap_before: heap in use before the run, to say what a thread took. */
static int start_threads(thread_t **t, uint32_t n, size_t heap_before)
{
    for (uint32_t i = 0; i < n; i++) {
        t[i] = thread_create("client", client_thread, (void *)(uintptr_t)stagger_ns(i, n));
        if (!t[i]) {
            struct mem_stats m;
            mem_get_stats(&m);
            demo_say("scale: no memory for client thread %u of %u (%u bytes of heap free, "
                     "%u bytes a thread so far): the threads row for %u clients is skipped\n",
                     i + 1, n, (unsigned)(m.total - m.used),
                     (unsigned)(i ? (m.used - heap_before) / i : 0), n);
            return -1;
        }
    }
    return 0;
}

static void stop_threads(thread_t **t, uint32_t n)
{
    stopping = 1;
    /* Each ends after its current wait and work: at most a few ms, or the
     * backlog of requests when the CPU is saturated. */
    for (uint32_t i = 0; i < n && t[i]; i++)
        thread_join(t[i]);
}

/* ---- way 2: the event loop, a timer per client ---- */

struct loop_client {
    struct loop_timer timer;
    uint64_t sent_ns;
};

struct loop_clients {
    struct loop_client *c;
    uint32_t n, armed;
};

static void client_replied(void *arg)
{
    struct loop_client *c = arg;
    demo_work(scale_cfg.work_iterations);
    record(c->sent_ns);
    if (stopping)
        return;
    c->sent_ns = clock_ns();
    /* The timer has just left the loop's heap, so there is room to put it
     * back: this cannot fail for want of memory. */
    loop_timer_start_ms(&c->timer, WAIT_MS, 0);
}

/* In the loop: stop every timer, so that none fires after this returns
 * and the clients can be freed. */
static void stop_loop_clients(void *arg)
{
    struct loop_clients *lc = arg;
    stopping = 1;
    for (uint32_t i = 0; i < lc->armed; i++)
        loop_timer_stop(&lc->c[i].timer);
}

static int start_loop_clients(struct loop_clients *lc)
{
    uint64_t now = clock_ns();
    for (uint32_t i = 0; i < lc->n; i++) {
        struct loop_client *c = &lc->c[i];
        uint64_t first = stagger_ns(i, lc->n);
        loop_timer_init(&c->timer, client_replied, c);
        c->sent_ns = now + first;
        if (loop_timer_start(&c->timer, first + (uint64_t)WAIT_MS * NS_PER_MS, 0) < 0) {
            demo_say("scale: no memory to arm loop timer %u of %u: the loop row for %u "
                     "clients is skipped\n", i + 1, lc->n, lc->n);
            return -1;
        }
        lc->armed++;
    }
    return 0;
}

/* ---- one row ---- */

/* Run n clients one way; fills r. Returns 1 after Ctrl-C, else 0 (r->ok
 * says whether it could run). */
static int run_row(enum way way, uint32_t n, struct row *r)
{
    struct sched_stats s0, s1;
    int interrupted = 0;
    r->ok = 0;
    r->n = n;
    stopping = 0;
    recording = 0;
    size_t before = demo_heap_used();

    /* The clients' own state is on the heap too, so that it is counted. */
    thread_t **threads = NULL;
    struct loop_clients lc = { NULL, n, 0 };
    int failed;
    if (way == THREADS) {
        threads = kzalloc(n * sizeof *threads);
        failed = !threads || start_threads(threads, n, before) < 0;
    } else {
        lc.c = kzalloc(n * sizeof *lc.c);
        failed = !lc.c || start_loop_clients(&lc) < 0;
    }
    if (way == THREADS ? !threads : !lc.c)
        kprintf("scale: no memory for the state of %u clients\n", n);
    r->no_memory = failed;

    if (!failed) {
        /* Rounds count from here: while the shell was creating threads,
         * the first ones ran alone. */
        mutex_lock(&sample_lock);
        completed = 0;
        mutex_unlock(&sample_lock);
        uint64_t start = clock_ns();
        interrupted = shell_sleep_until(start + WARMUP_MS * NS_PER_MS);
        while (!interrupted && completed < WARMUP_ROUNDS * n &&
               clock_ns() < start + WARMUP_MS_MAX * NS_PER_MS)
            interrupted = shell_sleep_interruptible(WAIT_MS);
        r->heap_bytes = demo_heap_used() - before;
        sched_get_stats(&s0);
        uint64_t t0 = clock_ns();
        recorded = 0;
        recording = 1;
        if (!interrupted)
            interrupted = shell_sleep_until(t0 + scale_cfg.window_ns);
        recording = 0;
        r->window_ns = clock_ns() - t0;
        sched_get_stats(&s1);
        mutex_lock(&sample_lock);
        r->requests = recorded;
        mutex_unlock(&sample_lock);
        r->switches = s1.switches - s0.switches;
        r->idle_ns = s1.idle_ns - s0.idle_ns;
        r->ok = !interrupted;
    }

    if (way == THREADS) {
        if (threads)
            stop_threads(threads, n);
        kfree(threads);
    } else if (lc.c) {
        loop_call_and_wait(stop_loop_clients, &lc);
        kfree(lc.c);
    }
    if (r->ok) {
        int k = r->requests < SAMPLES ? (int)r->requests : SAMPLES;
        sort_u32(samples, (size_t)k);
        r->p50_ns = demo_percentile(samples, k, 500);
        r->p99_ns = demo_percentile(samples, k, 990);
    }
    return interrupted;
}

/* ---- the command ---- */

/* One request's work, timed alone: the least of WORK_BATCHES timings of
 * WORK_REPS / WORK_BATCHES requests' work, divided. A batch is about
 * half a tick, so at least one of the back-to-back batches has no tick
 * and no other thread in it. Timed in one piece, 64 requests once took in
 * 1 ms of another thread's (a client's thread still ending after the
 * rows): 34.4 then 50.0 us a request under icount, "drift" where there
 * was none. */
static uint64_t time_work(void)
{
    uint64_t best = UINT64_MAX;
    for (int b = 0; b < WORK_BATCHES; b++) {
        uint64_t t0 = clock_ns();
        for (int i = 0; i < WORK_REPS / WORK_BATCHES; i++)
            demo_work(scale_cfg.work_iterations);
        uint64_t t = clock_ns() - t0;
        if (t < best)
            best = t;
    }
    return best / (WORK_REPS / WORK_BATCHES);
}

static void measure_once(uint32_t window_ms)
{
    struct measure_clock mc;
    measure_clock(&mc);
    /* milli-units / (units per us) = ns; times 1000 for ps. */
    scale_cfg.switch_ps = measure_yield_switch(SWITCH_REPS) * 1000 / mc.units_per_us;
    /* A warm-up first: QEMU runs new code slower at first (cpu-vs-io). */
    demo_work(demo_calibrate(1));
    scale_cfg.work_iterations = (uint32_t)((uint64_t)demo_calibrate(1) * WORK_US / 1000);
    scale_cfg.work_ns = time_work();
    scale_cfg.window_ns = (uint64_t)window_ms * NS_PER_MS;
}

int cmd_scale(int argc, char **argv)
{
    static struct row rows[WAYS][SCALE_ROWS_MAX];
    uint32_t ns[SCALE_ROWS_MAX], window_ms = WINDOW_MS_DEFAULT;
    int nrows = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "window") == 0) {
            if (i + 1 >= argc)
                return shell_usage(shell_find("scale"));
            if (shell_parse_uint("scale", "MS", argv[++i], WINDOW_MS_MIN, WINDOW_MS_MAX,
                                 &window_ms) < 0)
                return 1;
            continue;
        }
        if (nrows == SCALE_ROWS_MAX) {
            kprintf("scale: at most %d values of N\n", SCALE_ROWS_MAX);
            return 1;
        }
        if (shell_parse_uint("scale", "N", argv[i], 1, SCALE_N_MAX, &ns[nrows]) < 0)
            return 1;
        nrows++;
    }
    if (nrows == 0) {
        for (unsigned i = 0; i < sizeof default_ns / sizeof default_ns[0]; i++)
            ns[nrows++] = default_ns[i];
    }

    mutex_init(&sample_lock, "scale samples");
    /* Switches and idle time are the scheduler's counts; the switch is
     * timed as the rows switch, with the bookkeeping. */
    int was = stats_on_for_run("scale");
    measure_once(window_ms);
    char a[24];
    demo_say("N clients each send requests in a loop: a request waits %u ms for the "
             "\"network\", then takes %s of CPU work (%u iterations). Served by a thread per "
             "client (blocking in thread_sleep_ms) and by the event loop (a timer per client).\n",
             WAIT_MS, demo_us(a, sizeof a, scale_cfg.work_ns), scale_cfg.work_iterations);
    demo_say("Each row: a warm-up (every client through %d requests, at least %u ms), then "
             "%u ms measured; slice %u ms, one core. %s stops.\n",
             WARMUP_ROUNDS, WARMUP_MS, window_ms, sched_slice_ms(), shell_stop_key());
    scale_print_header();
    for (int i = 0; i < nrows; i++) {
        for (int w = 0; w < WAYS; w++) {
            if (run_row((enum way)w, ns[i], &rows[w][i])) {
                stats_restore(was);
                return 1;
            }
            if (rows[w][i].ok)
                scale_print_row((enum way)w, &rows[w][i]);
        }
    }
    /* The work once more: without -icount the host's load may have
     * changed QEMU's speed since the work was timed, and with it every
     * share of the CPU computed from that figure (cpu-vs-io checks the
     * same way). */
    scale_cfg.work_after_ns = time_work();
    stats_restore(was);
    scale_print_conclusion(rows, nrows);
    return 0;
}
