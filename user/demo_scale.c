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
#include "user/shell.h"

#define SCALE_N_MAX 10000       /* 10,000 threads do not fit in 32 MiB: shows the error */
#define SCALE_ROWS_MAX 8        /* Ns on one command line */
#define WAIT_MS 10              /* the network's part of a request */
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
#define WORK_REPS 64            /* requests' work timed together, then divided */

static const uint32_t default_ns[] = { 1, 10, 100, 1000 };

enum way { THREADS, LOOP, WAYS };
static const char *const way_names[WAYS] = { "threads", "loop" };

struct row {
    int ok;                     /* 0: not run (no memory, or Ctrl-C) */
    int no_memory;              /* the clients did not fit in the heap */
    uint32_t n;
    uint64_t window_ns, requests, switches, idle_ns;
    size_t heap_bytes;          /* in use during the run, minus before it */
    uint32_t p50_ns, p99_ns;
};

/* What one `scale` run measured once, before its rows. */
static struct {
    uint32_t work_iterations;   /* demo_work iterations of one request */
    uint64_t work_ns;           /* what they take, measured alone */
    uint64_t switch_ps;         /* one cooperative switch, in ps */
    uint64_t window_ns;
} cfg;

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
        demo_work(cfg.work_iterations);
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
            kprintf("scale: no memory for client thread %u of %u (%u bytes of heap free, "
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
    demo_work(cfg.work_iterations);
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
            kprintf("scale: no memory to arm loop timer %u of %u: the loop row for %u "
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
            interrupted = shell_sleep_until(t0 + cfg.window_ns);
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

/* ---- printing ---- */

/* "12.34 %" of part in whole. */
static const char *percent(char *buf, int size, uint64_t part, uint64_t whole)
{
    uint64_t h = whole ? part * 10000 / whole : 0;
    ksnprintf(buf, size, "%llu.%02llu %%", (unsigned long long)(h / 100),
              (unsigned long long)(h % 100));
    return buf;
}

/* "2.00" from a ratio, two decimals. */
static const char *ratio(char *buf, int size, uint64_t num, uint64_t den)
{
    uint64_t h = den ? num * 100 / den : 0;
    ksnprintf(buf, size, "%llu.%02llu", (unsigned long long)(h / 100),
              (unsigned long long)(h % 100));
    return buf;
}

static const char *plural(uint32_t n)
{
    return n == 1 ? "" : "s";
}

static uint64_t busy_ns(const struct row *r)
{
    return r->idle_ns < r->window_ns ? r->window_ns - r->idle_ns : 0;
}

static uint64_t work_ns(const struct row *r)
{
    uint64_t w = r->requests * cfg.work_ns;
    return w < busy_ns(r) ? w : busy_ns(r);
}

static uint64_t switching_ns(const struct row *r)
{
    return r->switches * cfg.switch_ps / 1000;
}

static void print_header(void)
{
    kprintf("  %7s %-7s %10s %12s %12s %8s %7s %11s %10s %9s %9s %8s\n", "clients", "way",
            "requests/s", "latency p50", "latency p99", "switches", "per req",
            "heap", "per client", "switching", "overhead", "idle");
}

static void print_row(enum way way, const struct row *r)
{
    char p50[24], p99[24], per[16], heap[24], pc[24], sw[16], ov[16], idle[16];
    ksnprintf(heap, sizeof heap, "%u B", (unsigned)r->heap_bytes);
    ksnprintf(pc, sizeof pc, "%u B", (unsigned)(r->heap_bytes / r->n));
    kprintf("  %7u %-7s %8llu/s %12s %12s %8llu %7s %11s %10s %9s %9s %8s\n", r->n,
            way_names[way], (unsigned long long)(r->requests * NS_PER_S / r->window_ns),
            demo_ms(p50, sizeof p50, r->p50_ns), demo_ms(p99, sizeof p99, r->p99_ns),
            (unsigned long long)r->switches, ratio(per, sizeof per, r->switches, r->requests),
            heap, pc, percent(sw, sizeof sw, switching_ns(r), r->window_ns),
            percent(ov, sizeof ov, busy_ns(r) - work_ns(r), r->window_ns),
            percent(idle, sizeof idle, r->idle_ns, r->window_ns));
}

/* The rows of one way at the fewest and the most clients that ran. */
static int ends(struct row *rows, int nrows, const struct row **lo, const struct row **hi)
{
    *lo = *hi = NULL;
    for (int i = 0; i < nrows; i++) {
        if (!rows[i].ok)
            continue;
        if (!*lo || rows[i].n < (*lo)->n)
            *lo = &rows[i];
        if (!*hi || rows[i].n >= (*hi)->n)
            *hi = &rows[i];
    }
    return *lo != NULL;
}

/* "who made X switches per request with lo clients and Y with hi: why." */
static void print_switch_trend(const char *who, const struct row *lo, const struct row *hi,
                               const char *why)
{
    char a[16], b[16];
    kprintf("%s made %s switches per request with %u client%s and %s with %u: %s.\n", who,
            ratio(a, sizeof a, lo->switches, lo->requests), lo->n, plural(lo->n),
            ratio(b, sizeof b, hi->switches, hi->requests), hi->n, why);
}

static void print_conclusion(struct row rows[WAYS][SCALE_ROWS_MAX], int nrows)
{
    const struct row *t1, *tn, *l1, *ln;
    char a[24], b[24], c[24], d[24], e[24];
    int have_t = ends(rows[THREADS], nrows, &t1, &tn);
    int have_l = ends(rows[LOOP], nrows, &l1, &ln);

    kprintf("switching = switches x %llu.%03llu ns (a cooperative switch, thread_yield A->B, "
            "measured now); overhead = CPU busy (window minus idle) minus requests x %s "
            "(one request's work, measured alone): everything that is not the work.\n",
            (unsigned long long)(cfg.switch_ps / 1000), (unsigned long long)(cfg.switch_ps % 1000),
            demo_us(a, sizeof a, cfg.work_ns));
    if (have_t && t1 != tn)
        print_switch_trend("Switches follow wake-ups, not threads: threads", t1, tn,
                           "one as a request's thread blocks, one more out of idle when no "
                           "other thread was ready; sleeping threads cost none");
    if (have_l && l1 != ln)
        print_switch_trend("The loop", l1, ln, "one wake-up of its thread runs every timer "
                           "due by then, and a busy loop never sleeps");
    if (have_t && have_l)
        kprintf("What grows with N is memory: %u bytes per client as a thread (its %u-byte "
                "stack and its struct) against %u bytes as a loop timer, %llu times less.\n",
                (unsigned)(tn->heap_bytes / tn->n), THREAD_STACK_DEFAULT,
                (unsigned)(ln->heap_bytes / ln->n),
                (unsigned long long)(ln->heap_bytes ? (uint64_t)tn->heap_bytes * ln->n /
                                     ((uint64_t)ln->heap_bytes * tn->n) : 0));
    const struct row *hi = have_t ? tn : have_l ? ln : NULL, *lo = have_t ? t1 : l1;
    for (int i = 0; i < nrows; i++) {
        const struct row *t = &rows[THREADS][i], *l = &rows[LOOP][i];
        if (t->no_memory && l->ok)
            kprintf("%u threads did not fit in the heap (%u-byte stacks); the loop served "
                    "the same %u clients in %u bytes.\n", t->n, THREAD_STACK_DEFAULT, l->n,
                    (unsigned)l->heap_bytes);
    }
    if (hi && hi != lo) {
        if (hi->idle_ns * 100 < hi->window_ns * 5)
            kprintf("And latency, once N x %llu requests/s x %s of work outruns the CPU: with "
                    "%u clients idle was %s and p99 %s, against %s with %u.\n",
                    (unsigned long long)(lo->requests * NS_PER_S / lo->window_ns / lo->n),
                    demo_us(a, sizeof a, cfg.work_ns), hi->n,
                    percent(b, sizeof b, hi->idle_ns, hi->window_ns),
                    demo_ms(c, sizeof c, hi->p99_ns), demo_ms(d, sizeof d, lo->p99_ns), lo->n);
        else
            kprintf("The CPU never ran out here (idle %s with %u clients), so latency stayed "
                    "near the %u ms wait: p99 %s.\n",
                    percent(a, sizeof a, hi->idle_ns, hi->window_ns), hi->n, WAIT_MS,
                    demo_ms(b, sizeof b, hi->p99_ns));
    }
    if (have_t && have_l && tn->n == ln->n && tn->requests && ln->requests)
        kprintf("Per request, everything besides the work cost %s with threads and %s in the "
                "loop (%u clients): the loop saves the switches, and pays for its timer heap "
                "and the timing of every callback instead.\n",
                demo_us(a, sizeof a, (busy_ns(tn) - work_ns(tn)) / tn->requests),
                demo_us(b, sizeof b, (busy_ns(ln) - work_ns(ln)) / ln->requests), tn->n);
    if (have_t) {
        uint64_t sw = switching_ns(tn), win = tn->window_ns;
        kprintf("The talk's \"1000 threads ... no work will ever get done\", with %u threads: "
                "switching took %s of the CPU, everything besides the work %s, the work %s.\n",
                tn->n, percent(a, sizeof a, sw, win),
                percent(b, sizeof b, busy_ns(tn) - work_ns(tn), win),
                percent(c, sizeof c, work_ns(tn), win));
        /* Switching eats half the CPU when a request's switches cost as
         * much as its work. */
        uint64_t per_req_ps = tn->requests ? tn->switches * cfg.switch_ps / tn->requests : 0;
        if (sw * 2 > win)
            kprintf("It holds here: each request's work (%s) is no more than its switches "
                    "cost.\n", demo_us(d, sizeof d, cfg.work_ns));
        else
            kprintf("It does not hold on this machine: a request's switches cost %s, its work "
                    "%s; switching would take half the CPU only if each request worked no "
                    "longer than its switches.\n", demo_us(d, sizeof d, per_req_ps / 1000),
                    demo_us(e, sizeof e, cfg.work_ns));
    }
}

/* ---- the command ---- */

static void measure_once(uint32_t window_ms)
{
    struct measure_clock mc;
    measure_clock(&mc);
    /* milli-units / (units per us) = ns; times 1000 for ps. */
    cfg.switch_ps = measure_yield_switch(SWITCH_REPS) * 1000 / mc.units_per_us;
    /* A warm-up first: QEMU runs new code slower at first (cpu-vs-io). */
    demo_work(demo_calibrate(1));
    cfg.work_iterations = (uint32_t)((uint64_t)demo_calibrate(1) * WORK_US / 1000);
    uint64_t t0 = clock_ns();
    for (int i = 0; i < WORK_REPS; i++)
        demo_work(cfg.work_iterations);
    cfg.work_ns = (clock_ns() - t0) / WORK_REPS;
    cfg.window_ns = (uint64_t)window_ms * NS_PER_MS;
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
    measure_once(window_ms);
    char a[24];
    kprintf("N clients each send requests in a loop: a request waits %u ms for the "
            "\"network\", then takes %s of CPU work (%u iterations).\n"
            "Served by a thread per client (blocking in thread_sleep_ms) and by the event loop "
            "(a timer per client).\nEach row: a warm-up (every client through %d requests, at "
            "least %u ms), then %u ms measured; slice %u ms, one core. Ctrl-C stops.\n", WAIT_MS, demo_us(a, sizeof a, cfg.work_ns),
            cfg.work_iterations, WARMUP_ROUNDS, WARMUP_MS, window_ms, sched_slice_ms());
    print_header();
    for (int i = 0; i < nrows; i++) {
        for (int w = 0; w < WAYS; w++) {
            if (run_row((enum way)w, ns[i], &rows[w][i]))
                return 1;
            if (rows[w][i].ok)
                print_row((enum way)w, &rows[w][i]);
        }
    }
    print_conclusion(rows, nrows);
    return 0;
}
