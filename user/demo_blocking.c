/* blocking and cpu-vs-io: the talk's "blocking vs non-blocking" and
 * "CPU-bound: threads; IO-bound: async", measured on one core.
 *
 * A request here is a wait for a slow server (a timer stands in for the
 * network) followed by a little CPU work. Done three ways: one thread
 * making blocking calls one after the other, one thread per request
 * making the same blocking call, and loop callbacks on timers. */
#include <webscale/console.h>
#include <webscale/kprintf.h>
#include <webscale/loop.h>
#include <webscale/sched.h>
#include <webscale/sync.h>
#include <webscale/system.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "user/commands.h"
#include "user/demo.h"
#include "user/demo_cost.h"
#include "user/shell.h"

#define REQUESTS_MAX 200
#define WORK_ITERATIONS 20000      /* the CPU part of one request */

struct run {
    uint64_t t0, total_ns, blocked_ns, work_ns;
    uint64_t switches;
    uint64_t idle_ns;
    size_t mem_bytes;
};

struct request {
    uint32_t wait_ms;
    uint64_t waited_ns, work_ns;
    thread_t *t;
    struct loop_timer timer;
};

static struct request reqs[REQUESTS_MAX];
static struct semaphore all_done;
static volatile uint32_t remaining;

static void begin(struct run *r)
{
    struct sched_stats s;
    sched_get_stats(&s);
    r->switches = s.switches;
    r->idle_ns = s.idle_ns;
    r->t0 = clock_ns();
}

static void end(struct run *r, uint32_t n)
{
    struct sched_stats s;
    r->total_ns = clock_ns() - r->t0;
    sched_get_stats(&s);
    r->switches = s.switches - r->switches;
    r->idle_ns = s.idle_ns - r->idle_ns;
    r->blocked_ns = r->work_ns = 0;
    for (uint32_t i = 0; i < n; i++) {
        r->blocked_ns += reqs[i].waited_ns;
        r->work_ns += reqs[i].work_ns;
    }
}

static void do_work(struct request *q)
{
    uint64_t t0 = clock_ns();
    demo_work(WORK_ITERATIONS);
    q->work_ns = clock_ns() - t0;
}

static void blocking_request(struct request *q)
{
    uint64_t t0 = clock_ns();
    thread_sleep_ms(q->wait_ms);            /* the blocking call */
    q->waited_ns = clock_ns() - t0;
    do_work(q);
}

static void request_thread(void *arg)
{
    blocking_request(arg);
}

static void request_replied(void *arg)
{
    struct request *q = arg;
    q->waited_ns = 0;                       /* nobody waited: the loop did other things */
    do_work(q);
    if (--remaining == 0)
        sem_up(&all_done);
}

enum { IN_A_ROW, THREAD_EACH, LOOP_CALLBACKS, WAYS };
static const char *const way_names[WAYS] = {
    "1 thread, in a row", "thread per request", "loop callbacks",
};
static const char *const way_keys[WAYS] = { "in_a_row", "thread_each", "loop" };

/* 1: blocking calls, one after the other. Returns 1 after Ctrl-C. */
static int run_in_a_row(struct run *r, uint32_t n, uint32_t ms)
{
    for (uint32_t i = 0; i < n; i++) {
        reqs[i].wait_ms = ms;
        reqs[i].waited_ns = reqs[i].work_ns = 0;
    }
    begin(r);
    r->mem_bytes = 0;
    for (uint32_t i = 0; i < n && !shell_stop_requested(); i++)
        blocking_request(&reqs[i]);
    end(r, n);
    return shell_stop_requested();
}

/* 2: one thread per request, each making the blocking call. */
static void run_thread_each(struct run *r, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        reqs[i].waited_ns = reqs[i].work_ns = 0;
    size_t before = demo_heap_used();
    begin(r);
    uint32_t made = 0;
    for (; made < n; made++) {
        reqs[made].t = thread_create("request", request_thread, &reqs[made]);
        if (!reqs[made].t)
            break;
    }
    r->mem_bytes = demo_heap_used() - before;
    for (uint32_t i = 0; i < made; i++)
        thread_join(reqs[i].t);
    end(r, made);
}

/* 3: the loop: a timer per request, a callback when the reply comes. */
static void run_loop_callbacks(struct run *r, uint32_t n, uint32_t ms)
{
    for (uint32_t i = 0; i < n; i++) {
        reqs[i].waited_ns = reqs[i].work_ns = 0;
        loop_timer_init(&reqs[i].timer, request_replied, &reqs[i]);
    }
    sem_init(&all_done, 0, "blocking demo");
    remaining = n;
    begin(r);
    r->mem_bytes = n * sizeof(struct loop_timer);
    for (uint32_t i = 0; i < n; i++)
        loop_timer_start_ms(&reqs[i].timer, ms, 0);
    sem_down(&all_done);
    end(r, n);
}

/* A row of the table: 77 columns, 79 when a total reaches 10000 ms. */
static void print_run(int way, const struct run *r)
{
    char a[24], b[24], c[24];
    uint64_t idle_pct = r->total_ns ? r->idle_ns * 100 / r->total_ns : 0;
    char mem[24];
    ksnprintf(mem, sizeof mem, "%u B", (unsigned)r->mem_bytes);
    kprintf("  %-18s %11s %8llu %8s %11s %8s %3llu %%\n", way_names[way],
            demo_ms(a, sizeof a, r->total_ns), (unsigned long long)r->switches, mem,
            demo_ms(b, sizeof b, r->blocked_ns), demo_ms(c, sizeof c, r->work_ns),
            (unsigned long long)idle_pct);
}

static void print_run_line(int way, const struct run *r, uint32_t n, uint32_t ms)
{
    demo_line_begin("blocking");
    demo_line_str("way", way_keys[way]);
    demo_line_u64("requests", n);
    demo_line_u64("wait_ms", ms);
    demo_line_u64("total_ns", r->total_ns);
    demo_line_u64("switches", r->switches);
    demo_line_u64("mem_bytes", r->mem_bytes);
    demo_line_u64("blocked_ns", r->blocked_ns);
    demo_line_u64("work_ns", r->work_ns);
    demo_line_u64("idle_ns", r->idle_ns);
    demo_line_end();
}

int cmd_blocking(int argc, char **argv)
{
    static struct run runs[WAYS];
    uint32_t n = 10, ms = 100;
    if (argc > 3)
        return shell_usage(shell_find("blocking"));
    if (argc >= 2 && shell_parse_uint("blocking", "N", argv[1], 1, REQUESTS_MAX, &n) < 0)
        return 1;
    if (argc >= 3 && shell_parse_uint("blocking", "MS", argv[2], 1, 2000, &ms) < 0)
        return 1;
    demo_say("%u requests; each waits %u ms for a slow server (a timer stands in for the "
             "network), then does %u iterations of CPU work. Blocked: the time threads spent "
             "blocked, added up.\n", n, ms, WORK_ITERATIONS);
    int ways = WAYS;
    int was = stats_on_for_run("blocking");   /* the switches and idle columns */
    if (run_in_a_row(&runs[IN_A_ROW], n, ms)) {
        ways = 1;                        /* Ctrl-C: print what was measured */
    } else {
        run_thread_each(&runs[THREAD_EACH], n);
        run_loop_callbacks(&runs[LOOP_CALLBACKS], n, ms);
    }
    stats_restore(was);

    kprintf("  %-18s %11s %8s %8s %11s %8s %5s\n", "way", "total", "switches", "memory",
            "blocked", "CPU work", "idle");
    for (int w = 0; w < ways; w++)
        print_run(w, &runs[w]);
    if (ways < WAYS)
        return 1;
    demo_say("In a row, the thread waits for each reply before sending the next: %u x %u ms.\n"
             "Threads overlap the waits, each blocked on its own stack (%u bytes each).\n"
             "The loop overlaps them too, with no thread blocked per request: a timer "
             "is %u bytes.\nThe CPU work is the same every way; only the waiting moved.\n",
             n, ms, THREAD_STACK_DEFAULT, (unsigned)sizeof(struct loop_timer));
    for (int w = 0; w < ways; w++)
        print_run_line(w, &runs[w], n, ms);
    return 0;
}

/* ---- cpu-vs-io ---- */

struct cpu_job {
    uint32_t iterations;
    thread_t *t;
};

static void cpu_thread(void *arg)
{
    struct cpu_job *j = arg;
    demo_work(j->iterations);
}

static void cpu_job_work(void *arg) { cpu_thread(arg); }
static void cpu_job_done(void *arg)
{
    if (--remaining == 0)
        sem_up(&all_done);
}

static void io_replied(void *arg)
{
    if (--remaining == 0)
        sem_up(&all_done);
}

/* What cpu-vs-io measured: the same work split over threads, the pool,
 * and four waits done one after another and in the loop. */
static const uint32_t splits[] = { 1, 2, 4 };
#define SPLITS (sizeof splits / sizeof splits[0])

struct cpu_vs_io {
    uint32_t ms, work;                  /* work: demo_work iterations of about ms */
    uint64_t split_ns[SPLITS], split_switches[SPLITS];
    uint64_t again_ns;                  /* 1 thread once more: did QEMU's speed drift? */
    uint64_t pool_ns, io_sequential_ns, io_loop_ns;
};

/* The work split over k threads, timed. */
static uint64_t run_split(uint32_t k, uint32_t work, uint64_t *switches)
{
    static struct cpu_job jobs[4];
    struct sched_stats s0, s1;
    sched_get_stats(&s0);
    uint64_t t0 = clock_ns();
    for (uint32_t i = 0; i < k; i++) {
        jobs[i].iterations = work / k;
        jobs[i].t = thread_create("cpu", cpu_thread, &jobs[i]);
    }
    for (uint32_t i = 0; i < k; i++)
        if (jobs[i].t)
            thread_join(jobs[i].t);
    uint64_t took = clock_ns() - t0;
    sched_get_stats(&s1);
    *switches = s1.switches - s0.switches;
    return took;
}

/* Returns 1 after Ctrl-C. */
static int measure_cpu_vs_io(struct cpu_vs_io *m)
{
    static struct cpu_job jobs[4];
    static struct loop_timer timers[4];
    uint64_t unused;
    /* A warm-up run first: QEMU (and a host CPU ramping up its clock) can
     * run the first few hundred ms of a new workload noticeably slower,
     * which would make 2 threads look "faster" than 1. */
    demo_work(demo_calibrate(m->ms / 2));
    m->work = demo_calibrate(m->ms);
    for (unsigned s = 0; s < SPLITS; s++) {
        m->split_ns[s] = run_split(splits[s], m->work, &m->split_switches[s]);
        if (shell_stop_requested())
            return 1;
    }
    /* The same single thread again: if QEMU's speed drifted during the
     * runs, the comparison is not to be trusted. */
    m->again_ns = run_split(1, m->work, &unused);

    /* The same work through the loop's worker pool. */
    sem_init(&all_done, 0, "cpu-vs-io");
    remaining = 4;
    uint64_t t0 = clock_ns();
    for (int i = 0; i < 4; i++) {
        jobs[i].iterations = m->work / 4;
        loop_submit_work(cpu_job_work, &jobs[i], cpu_job_done);
    }
    sem_down(&all_done);
    m->pool_ns = clock_ns() - t0;

    t0 = clock_ns();
    for (uint32_t i = 1; i <= 4 && !shell_stop_requested(); i++)
        thread_sleep_ms(m->ms * i / 4);
    m->io_sequential_ns = clock_ns() - t0;
    remaining = 4;
    t0 = clock_ns();
    for (uint32_t i = 1; i <= 4; i++) {
        loop_timer_init(&timers[i - 1], io_replied, NULL);
        loop_timer_start_ms(&timers[i - 1], m->ms * i / 4, 0);
    }
    sem_down(&all_done);
    m->io_loop_ns = clock_ns() - t0;
    return shell_stop_requested();
}

/* Every timing of the work against the first: the splits (on one core
 * the same work), the control run and the pool. The control run alone
 * missed a split that QEMU happened to run faster. */
static int drifted(const struct cpu_vs_io *m)
{
    uint64_t others[SPLITS + 1];
    int n = 0;
    for (unsigned s = 1; s < SPLITS; s++)
        others[n++] = m->split_ns[s];
    others[n++] = m->again_ns;
    others[n++] = m->pool_ns;
    return demo_drifted_any(m->split_ns[0], others, n);
}

static void print_cpu_vs_io(const struct cpu_vs_io *m)
{
    char a[24], b[24];
    uint32_t ms = m->ms;
    demo_say("CPU-bound: %u iterations of work (about %u ms on this core), split over "
             "1, 2 and 4 threads:\n", m->work, ms);
    for (unsigned s = 0; s < SPLITS; s++) {
        uint32_t k = splits[s];
        uint64_t took = m->split_ns[s];
        uint32_t speed = (uint32_t)(took ? m->split_ns[0] * 1000 / took : 0);
        char label[24];
        ksnprintf(label, sizeof label, "%u thread%s", k, k > 1 ? "s" : "");
        kprintf("  %-16s %12s   speed-up %u.%02ux   %llu switches\n", label,
                demo_ms(a, sizeof a, took), speed / 1000, speed % 1000 / 10,
                (unsigned long long)m->split_switches[s]);
    }
    char label[24];
    ksnprintf(label, sizeof label, "loop + %d workers", LOOP_WORKERS);
    kprintf("  %-16s %12s\n", label, demo_ms(a, sizeof a, m->pool_ns));
    int used = kprintf("  %-16s %12s", "1 thread again", demo_ms(a, sizeof a, m->again_ns));
    if (drifted(m)) {
        char why[200];
        ksnprintf(why, sizeof why, "QEMU's speed changed by more than %d %% during these runs "
                  "(host load or clock), so these times are the host's, not the threads': "
                  "run it again, or boot with -icount for exact figures", DEMO_DRIFT_PERCENT);
        demo_wrap(used + 3, used, why);
    } else {
        char same[80];
        ksnprintf(same, sizeof same, "(all within %d %% of the first: QEMU ran at a steady "
                  "speed)", DEMO_DRIFT_PERCENT);
        demo_wrap(used + 3, used, same);
    }
    demo_say("One core runs one thread at a time: the talk's \"two threads are twice as "
             "fast\" needs two cores.\n");
    kprintf("IO-bound: 4 waits of %u, %u, %u and %u ms:\n", ms / 4, ms / 2, 3 * ms / 4, ms);
    kprintf("  blocking, one after another %14s   (the sum)\n",
            demo_ms(a, sizeof a, m->io_sequential_ns));
    kprintf("  in the event loop           %14s   (about the longest, %s)\n",
            demo_ms(a, sizeof a, m->io_loop_ns), demo_ms(b, sizeof b, (uint64_t)ms * NS_PER_MS));
    demo_say("Waiting overlaps; computing does not. CPU-bound: more threads do not help on one "
             "core. IO-bound: async overlaps the waits.\n");

    demo_line_begin("cpu-vs-io");
    demo_line_u64("work_iterations", m->work);
    for (unsigned s = 0; s < SPLITS; s++) {
        char key[24];
        ksnprintf(key, sizeof key, "threads%u_ns", splits[s]);
        demo_line_u64(key, m->split_ns[s]);
    }
    demo_line_u64("again_ns", m->again_ns);
    demo_line_str("drift", drifted(m) ? "yes" : "no");
    demo_line_u64("pool_ns", m->pool_ns);
    demo_line_u64("io_sequential_ns", m->io_sequential_ns);
    demo_line_u64("io_loop_ns", m->io_loop_ns);
    demo_line_end();
}

int cmd_cpu_vs_io(int argc, char **argv)
{
    static struct cpu_vs_io m;
    m.ms = 200;
    if (shell_optional_uint(argc, argv, "MS", 10, 5000, &m.ms))
        return 1;
    int was = stats_on_for_run("cpu-vs-io");  /* the switches of each split */
    int stopped = measure_cpu_vs_io(&m);
    stats_restore(was);
    if (stopped)
        return 1;
    print_cpu_vs_io(&m);
    return 0;
}
