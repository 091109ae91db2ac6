/* The paths `make bench` sets goals for, each run a few times between
 * marks, for tools/pathtrace.py: it boots this suite single-stepped under
 * QEMU (-singlestep -d exec under -icount), so that every instruction the
 * guest runs is logged, and counts the instructions between two calls of
 * path_mark() by function. That is where a path's instructions go, and
 * each run apart, so a figure that depends on the PIT's phase shows both
 * of its values. The suite prints "path NAME" before each path's runs;
 * path_group() starts them. Nothing here is timed by the guest itself. */
#include <webscale/loop.h>
#include <webscale/measure.h>
#include <webscale/sched.h>
#include <webscale/sync.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "kernel/irq.h"
#include "kernel/ktest.h"
#include "kernel/measure.h"
#include "kernel/x86.h"

#define PATH_RUNS 24            /* of each path: enough for every PIT phase */
#define PREEMPT_MS 10           /* two spinners at a 1 ms slice: ~10 switches */

/* The marks the tracer looks for, by symbol. Global and noinline, so each
 * is a call and a ret that tools/pathtrace.py takes off. */
void path_mark(void);
void path_group(void);
void path_spinner_turn(void);
__attribute__((noinline)) void path_mark(void) { __asm__ volatile(""); }
__attribute__((noinline)) void path_group(void) { __asm__ volatile(""); }

static void begin(const char *name)
{
    kprintf("path %s\n", name);
    path_group();
}

/* ---- yield ---- */

static void yielder(void *arg)
{
    for (int i = 0; i < PATH_RUNS; i++) {
        path_mark();
        thread_yield();
    }
}

static void yield_pair(const char *name)
{
    begin(name);
    thread_t *a = thread_create("yieldA", yielder, NULL);
    thread_t *b = thread_create("yieldB", yielder, NULL);
    KT_ASSERT(a && b);
    thread_join(a);
    thread_join(b);
}

static void path_yield(void) { yield_pair("yield"); }

/* The same with `sched stats off`. */
static void path_yield_nostats(void)
{
    sched_set_stats(0);
    yield_pair("yield_nostats");
    sched_set_stats(1);
}

/* ---- semaphore round trip ---- */

static struct semaphore ping, pong;

static void ponger(void *arg)
{
    for (int i = 0; i < PATH_RUNS; i++) {
        sem_down(&ping);
        sem_up(&pong);
    }
}

static void token_pair(const char *name)
{
    sem_init(&ping, 0, "ping");
    sem_init(&pong, 0, "pong");
    thread_t *t = thread_create("ponger", ponger, NULL);
    KT_ASSERT(t);
    thread_yield();                  /* the ponger waits on ping */
    begin(name);
    for (int i = 0; i < PATH_RUNS; i++) {
        path_mark();
        sem_up(&ping);
        sem_down(&pong);
    }
    path_mark();
    thread_join(t);
}

static void path_semaphore(void) { token_pair("semaphore"); }

static void path_semaphore_nostats(void)
{
    sched_set_stats(0);
    token_pair("semaphore_nostats");
    sched_set_stats(1);
}

/* ---- an empty IRQ ---- */

static void path_irq(void)
{
    KT_ASSERT(measure_irq_round_trip(8) > 0);     /* registers the empty handler */
    begin("irq");
    for (int i = 0; i < PATH_RUNS; i++) {
        path_mark();
        __asm__ volatile("int %0" : : "i"(IRQ_VECTOR_BASE + MEASURE_IRQ) : "memory");
    }
    path_mark();
}

/* ---- a PIT-preempted switch: the tracer counts what lies between two
 * runs of path_spinner_turn that contain a switch_context ---- */

static volatile int spinning;

__attribute__((noinline)) void path_spinner_turn(void) { spin_instructions(10); }

static void spinner(void *arg)
{
    while (spinning)
        path_spinner_turn();
}

static void path_preempt(void)
{
    uint32_t slice = sched_slice_ms();
    sched_set_slice_ms(1);
    spinning = 1;
    begin("preempt");
    thread_t *a = thread_create("spinA", spinner, NULL);
    thread_t *b = thread_create("spinB", spinner, NULL);
    KT_ASSERT(a && b);
    thread_sleep_ms(PREEMPT_MS);
    spinning = 0;
    thread_join(a);
    thread_join(b);
    sched_set_slice_ms(slice);
}

/* ---- the loop: an event's round trip, and the drain of many ---- */

static struct semaphore done;
static volatile int probes_left;

static int probe_marks = 1;     /* not while loop_post's runs are traced */

static void probe(void *arg)
{
    if (probe_marks)
        path_mark();
    if (--probes_left == 0)
        sem_up(&done);
}

static void path_loop_round_trip(void)
{
    sem_init(&done, 0, "path loop");
    KT_ASSERT(loop_start() == 0);
    thread_sleep_ms(2);              /* the loop thread runs and sleeps */
    begin("loop_round_trip");
    for (int i = 0; i < PATH_RUNS; i++) {
        probes_left = 1;
        KT_ASSERT(loop_post(probe, NULL) == 0);
        sem_down(&done);
    }
}

/* Posts with interrupts off (marked: loop_post), then the loop drains
 * them (marked in the probe: one callback's return to the next's entry). */
static void post_marked(int marked)
{
    uint32_t f = irq_save();
    probes_left = PATH_RUNS;
    for (int i = 0; i < PATH_RUNS; i++) {
        if (marked)
            path_mark();
        KT_ASSERT(loop_post(probe, NULL) == 0);
    }
    if (marked)
        path_mark();
    irq_restore(f);
}

static void path_loop_post(void)
{
    KT_ASSERT(loop_start() == 0);
    thread_sleep_ms(2);
    begin("loop_post");
    probe_marks = 0;
    post_marked(1);
    sem_down(&done);
    probe_marks = 1;
}

static void path_loop_drain(void)
{
    KT_ASSERT(loop_start() == 0);
    thread_sleep_ms(2);
    begin("loop_drain");
    post_marked(0);
    sem_down(&done);
    path_mark();
}

static const struct ktest_case path_cases[] = {
    { "yield", path_yield },
    { "yield_nostats", path_yield_nostats },
    { "semaphore", path_semaphore },
    { "semaphore_nostats", path_semaphore_nostats },
    { "irq", path_irq },
    { "preempt", path_preempt },
    { "loop_round_trip", path_loop_round_trip },
    { "loop_post", path_loop_post },
    { "loop_drain", path_loop_drain },
};
KTEST_SCENARIO_SUITE(paths, path_cases);
