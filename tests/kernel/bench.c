/* The kernel half of `make bench`: the costs that the README's "Numbers"
 * sets goals for, measured with rdtsc by the same code as the shell's
 * `latency` (kernel/measure.c), plus what only a benchmark needs (1000 threads,
 * memory). tools/bench.py boots this with -cpu pentium (for the TSC) and
 * -icount shift=0, where one TSC tick is one guest instruction: every
 * figure is an exact instruction count. Each line "bench NAME VALUE UNIT"
 * is read by tools/bench.py. */
#include <webscale/measure.h>
#include <webscale/sched.h>
#include <webscale/system.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "kernel/ktest.h"
#include "kernel/x86.h"
#include "user/stats.h"

static void report(const char *name, uint32_t v, const char *unit)
{
    kprintf("bench %s %u %s\n", name, v, unit);
}

static void need_tsc(void)
{
    if (!cpu_has_tsc())
        ktest_fail(__FILE__, __LINE__, "bench needs a TSC: boot with -cpu pentium");
}

/* measure_* return thousandths of a cycle per event: whole instructions here. */
static void report_measured(const char *name, uint64_t milli)
{
    KT_ASSERT(milli > 0);
    report(name, (uint32_t)((milli + 500) / 1000), "instructions");
}

/* The same measurements as `latency` (kernel/measure.c). */
static void bench_yield(void)
{
    need_tsc();
    report_measured("yield_switch", measure_yield_switch(400));
}

static void bench_preempt(void)
{
    need_tsc();
    report_measured("preempt_switch", measure_preempt_switch(300));
    /* latency's row: from the first instruction of IRQ 0's entry */
    report_measured("preempt_switch_from_irq", measure_preempt_switch_from_irq(300));
}

static void bench_irq_round_trip(void)
{
    need_tsc();
    report_measured("irq_round_trip", measure_irq_round_trip(512));
}

static void bench_semaphore_round_trip(void)
{
    need_tsc();
    report_measured("semaphore_round_trip", measure_semaphore_round_trip(2000));
}

/* An event posted to the loop and run, per event in a batch: the post
 * and the dispatch (latency's "event-loop dispatch"). */
static void bench_loop_event(void)
{
    need_tsc();
    report_measured("loop_event", measure_loop_dispatch(256));
}

/* The same three switches with the scheduler's bookkeeping off (`sched
 * stats off`): what CPU time, counts and the trace cost on each. */
static void bench_without_stats(void)
{
    need_tsc();
    sched_set_stats(0);
    report_measured("yield_switch_nostats", measure_yield_switch(400));
    report_measured("preempt_switch_nostats", measure_preempt_switch(300));
    report_measured("preempt_switch_from_irq_nostats", measure_preempt_switch_from_irq(300));
    report_measured("semaphore_round_trip_nostats", measure_semaphore_round_trip(2000));
    sched_set_stats(1);
}

/* From ring 3: a null system call, and a switch between two processes. */
static void bench_ring3(void)
{
    need_tsc();
    report_measured("null_syscall", measure_syscall_round_trip(20000));
    report_measured("process_switch", measure_process_switch(20000));
    report_measured("thread_switch", measure_thread_switch(20000));
    report_measured("page_fault", measure_page_fault(PAGE_FAULT_REPS_MAX));
}

/* ---- yield cost with 2 and with 1000 runnable threads ---- */

#define TOTAL_YIELDS 100000   /* the same work for 2 threads and for 1000 */
static int yields_each, yielders;
static uint64_t window_start, window_end;

/* The window measured is the run queue's steady state: from the last
 * yielder's first instruction (all have started) to the first one's
 * return from its last yield (none has ended). A thread's start, exit and
 * join (about 560 instructions) stay out of it, which would otherwise add
 * 5.6 instructions to each of 1,000 threads' 100 yields and 0.02 to each
 * of 3 threads' 33,333. */
static void yielder(void *arg)
{
    int i = (int)(uintptr_t)arg;
    if (i == yielders - 1)
        window_start = rdtsc();
    for (int k = 0; k < yields_each; k++)
        thread_yield();
    if (i == 0)
        window_end = rdtsc();
}

static uint32_t yield_cost_with(int n)
{
    static thread_t *t[1000];
    sched_set_slice_ms(SCHED_SLICE_MS_MAX);   /* no preemption in the way */
    yields_each = TOTAL_YIELDS / n;
    yielders = n;
    for (int i = 0; i < n; i++)
        t[i] = thread_create("yielder", yielder, (void *)(uintptr_t)i);
    thread_sleep_ns(1);     /* let them all run; we are woken at the next tick */
    for (int i = 0; i < n; i++)
        thread_join(t[i]);
    sched_set_slice_ms(SCHED_SLICE_MS_DEFAULT);
    /* Round robin: between the two stamps the last thread yields
     * yields_each times and every other one yields_each - 1 times. */
    uint64_t switches = (uint64_t)n * (yields_each - 1) + 1;
    return (uint32_t)((window_end - window_start) / switches);
}

static void bench_yield_scaling(void)
{
    need_tsc();
    /* Two threads never queue more than one: the run queue's first slot
     * (runq_next) holds it and its list stays empty. From three on, each
     * yield goes through the list: 3 vs 1000 is growth with N alone. */
    uint32_t two = yield_cost_with(2), three = yield_cost_with(3);
    uint32_t thousand = yield_cost_with(1000);
    report("yield_loop_2_threads", two, "instructions");
    report("yield_loop_3_threads", three, "instructions");
    report("yield_loop_1000_threads", thousand, "instructions");
}

/* ---- memory per thread, beyond its stack ---- */

static volatile int hold;
static void holder(void *arg)
{
    while (hold)
        thread_sleep_ms(1);
}

static void bench_thread_memory(void)
{
    static thread_t *t[100];
    struct mem_stats a, b;
    hold = 1;
    mem_get_stats(&a);
    for (int i = 0; i < 100; i++)
        t[i] = thread_create("holder", holder, NULL);
    mem_get_stats(&b);
    hold = 0;
    for (int i = 0; i < 100; i++)
        thread_join(t[i]);
    report("thread_memory_beyond_stack", (uint32_t)((b.used - a.used) / 100 - THREAD_STACK_DEFAULT),
           "bytes");
}

/* ---- what the dashboard's poll costs the kernel ---- */

/* One /stats.json body built by user/stats.c, as httpd answers it (the
 * snapshots, the JSON, the last 200 ms of trace): the fastest of a few.
 * Its size in *len. */
#define STATS_JSON_RUNS 3
static uint32_t stats_json_cost(char *p, size_t *len)
{
    uint64_t best = ~0ull;
    for (int i = 0; i < STATS_JSON_RUNS; i++) {
        struct outbuf b;
        outbuf_init(&b, p, STATS_JSON_MAX);
        uint64_t t0 = rdtsc();
        int e = stats_json(&b);
        uint64_t t = rdtsc() - t0;
        KT_ASSERT(e == 0 && !b.full);
        if (t < best) {
            best = t;
            *len = b.len;
        }
    }
    return (uint32_t)best;
}

/* Twice: with the trace's window empty (the CPU idle for longer than it:
 * the fixed part), and right after two threads yielded to each other
 * enough to fill it (STATS_TRACE_MAX switches between two threads, as a
 * busy server's poll sees). */
#define STATS_BUSY_YIELDS 400    /* per thread: 800 switches, more than the window keeps */
static void bench_stats_json(void)
{
    need_tsc();
    char *p = kmalloc(STATS_JSON_MAX);
    KT_ASSERT(p);
    size_t len;
    thread_sleep_ms(STATS_TRACE_WINDOW_MS + 50);
    report("stats_json_quiet", stats_json_cost(p, &len), "instructions");
    report("stats_json_quiet_bytes", (uint32_t)len, "bytes");
    yields_each = STATS_BUSY_YIELDS;
    thread_t *a = thread_create("yielder", yielder, NULL);
    thread_t *b = thread_create("yielder", yielder, NULL);
    KT_ASSERT(a && b);
    thread_join(a);
    thread_join(b);
    report("stats_json_busy", stats_json_cost(p, &len), "instructions");
    report("stats_json_busy_bytes", (uint32_t)len, "bytes");
    kfree(p);
}

/* Whether the figures include the ASSERTs' checks: tools/bench.py says so
 * in its header (make bench builds with NO_ASSERT=1 unless BENCH_ASSERT=1). */
static void bench_build(void)
{
#ifdef WS_NO_ASSERT
    report("asserts_compiled_in", 0, "flag");
#else
    report("asserts_compiled_in", 1, "flag");
#endif
}

static const struct ktest_case bench_cases[] = {
    { "build", bench_build },
    { "yield", bench_yield },
    { "preempt", bench_preempt },
    { "irq_round_trip", bench_irq_round_trip },
    { "semaphore_round_trip", bench_semaphore_round_trip },
    { "without_stats", bench_without_stats },
    { "loop_event", bench_loop_event },
    { "yield_scaling", bench_yield_scaling },
    { "ring3", bench_ring3 },
    { "thread_memory", bench_thread_memory },
    { "stats_json", bench_stats_json },
};
KTEST_SCENARIO_SUITE(bench, bench_cases);
