/* The kernel half of `make bench`: the costs SPEC.md sets goals for,
 * measured with rdtsc. tools/bench.py boots this with -cpu pentium (for
 * the TSC) and -icount shift=0, where one TSC tick is one guest
 * instruction: every figure is an exact instruction count. Each line
 * "bench NAME VALUE UNIT" is read by tools/bench.py. */
#include <webscale/sched.h>
#include <webscale/sync.h>
#include <webscale/system.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "kernel/ktest.h"
#include "kernel/trap.h"
#include "kernel/x86.h"

#define SAMPLES 512

static uint32_t samples[SAMPLES];
static int nsamples;

static void add_sample(uint64_t v)
{
    if (nsamples < SAMPLES)
        samples[nsamples++] = (uint32_t)v;
}

/* The median: robust against the odd sample that a timer interrupt hit. */
static uint32_t median(void)
{
    for (int i = 1; i < nsamples; i++)      /* insertion sort: 512 at most */
        for (int j = i; j > 0 && samples[j - 1] > samples[j]; j--) {
            uint32_t t = samples[j];
            samples[j] = samples[j - 1];
            samples[j - 1] = t;
        }
    return nsamples ? samples[nsamples / 2] : 0;
}

static void report(const char *name, uint32_t v, const char *unit)
{
    kprintf("bench %s %u %s\n", name, v, unit);
}

static void need_tsc(void)
{
    if (!cpu_has_tsc())
        ktest_fail(__FILE__, __LINE__, "bench needs a TSC: boot with -cpu pentium");
}

/* ---- cooperative yield: rdtsc before thread_yield() in A, after it returns in B ---- */

#define ROUNDS 400
static volatile uint64_t t_yield;

static void yield_a(void *arg)
{
    for (int i = 0; i < ROUNDS; i++) {
        t_yield = rdtsc();
        thread_yield();
    }
}

static void yield_b(void *arg)
{
    for (int i = 0; i < ROUNDS; i++) {
        thread_yield();
        uint64_t now = rdtsc();
        if (i > 0)
            add_sample(now - t_yield);
    }
}

static void bench_yield(void)
{
    need_tsc();
    nsamples = 0;
    thread_t *a = thread_create("yieldA", yield_a, NULL);
    thread_t *b = thread_create("yieldB", yield_b, NULL);
    thread_join(a);
    thread_join(b);
    report("yield_switch", median(), "instructions");
}

/* ---- preemption: the last rdtsc of the preempted thread to the first of the next ---- */

static volatile uint64_t last_stamp;
static volatile int last_owner;
static volatile int spin_stop;

static void stamp_spinner(void *arg)
{
    int me = (int)(intptr_t)arg;
    while (!spin_stop) {
        uint64_t now = rdtsc();
        if (last_owner != me) {
            if (last_owner)
                add_sample(now - last_stamp);
            last_owner = me;
        }
        last_stamp = now;
    }
}

static void bench_preempt(void)
{
    need_tsc();
    nsamples = 0;
    last_owner = 0;
    spin_stop = 0;
    sched_set_slice_ms(1);
    thread_t *a = thread_create("stampA", stamp_spinner, (void *)1);
    thread_t *b = thread_create("stampB", stamp_spinner, (void *)2);
    thread_sleep_ms(300);
    spin_stop = 1;
    thread_join(a);
    thread_join(b);
    sched_set_slice_ms(SCHED_SLICE_MS_DEFAULT);
    report("preempt_switch", median(), "instructions");
}

/* ---- an IRQ with an empty handler, raised by `int` ---- */

static void empty_handler(void *arg) { }

static void bench_irq_round_trip(void)
{
    need_tsc();
    nsamples = 0;
    irq_register(5, empty_handler, NULL, "bench");
    for (int i = 0; i < SAMPLES; i++) {
        uint64_t t0 = rdtsc();
        __asm__ volatile("int $0x25");
        add_sample(rdtsc() - t0);
    }
    report("irq_round_trip", median(), "instructions");
}

/* ---- two threads hand a token back and forth through semaphores ---- */

static struct semaphore ping, pong;
#define TOKENS 2000

static void ponger(void *arg)
{
    for (int i = 0; i < TOKENS; i++) {
        sem_down(&ping);
        sem_up(&pong);
    }
}

static void bench_semaphore_round_trip(void)
{
    need_tsc();
    sem_init(&ping, 0, "ping");
    sem_init(&pong, 0, "pong");
    thread_t *t = thread_create("ponger", ponger, NULL);
    thread_sleep_ms(1);
    uint64_t t0 = rdtsc();
    for (int i = 0; i < TOKENS; i++) {
        sem_up(&ping);
        sem_down(&pong);
    }
    uint64_t per = (rdtsc() - t0) / TOKENS;
    thread_join(t);
    report("semaphore_round_trip", (uint32_t)per, "instructions");
}

/* ---- yield cost with 2 and with 1000 runnable threads ---- */

#define TOTAL_YIELDS 100000   /* the same work for 2 threads and for 1000 */
static int yields_each;

static void yielder(void *arg)
{
    for (int i = 0; i < yields_each; i++)
        thread_yield();
}

static uint32_t yield_cost_with(int n)
{
    static thread_t *t[1000];
    sched_set_slice_ms(SCHED_SLICE_MS_MAX);   /* no preemption in the way */
    yields_each = TOTAL_YIELDS / n;
    for (int i = 0; i < n; i++)
        t[i] = thread_create("yielder", yielder, NULL);
    uint64_t t0 = rdtsc();
    thread_sleep_ns(1);     /* let them all run; we are woken at the next tick */
    for (int i = 0; i < n; i++)
        thread_join(t[i]);
    uint64_t total = rdtsc() - t0;
    sched_set_slice_ms(SCHED_SLICE_MS_DEFAULT);
    return (uint32_t)(total / ((uint64_t)n * yields_each));
}

static void bench_yield_scaling(void)
{
    need_tsc();
    uint32_t two = yield_cost_with(2), thousand = yield_cost_with(1000);
    report("yield_loop_2_threads", two, "instructions");
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

static const struct ktest_case bench_cases[] = {
    { "yield", bench_yield },
    { "preempt", bench_preempt },
    { "irq_round_trip", bench_irq_round_trip },
    { "semaphore_round_trip", bench_semaphore_round_trip },
    { "yield_scaling", bench_yield_scaling },
    { "thread_memory", bench_thread_memory },
};
KTEST_SCENARIO_SUITE(bench, bench_cases);
