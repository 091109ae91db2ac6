/* The run loop (see <webscale/loop.h>): the talk's
 *
 *     while True:
 *         tasks = os.wake_me_if_something_happens()   # blocking call
 *         for task in tasks: task.do_callback()
 *
 * made literal. "wake me" is a wait queue: the loop thread sleeps on it
 * when no timer is due, no event is queued and no watched source is ready,
 * and whoever makes something ready wakes it: the PIT tick (sched_tick) for
 * timers, a source's notify (an ISR) for its watchers, loop_post for
 * events, the worker threads for finished work. With the loop asleep and
 * no other thread runnable, the idle thread halts the CPU.
 *
 * One iteration runs, in this order: the timers due when it began (each
 * at most once), the posts queued when it began, the calls from threads
 * and workers, the ready watchers. Work queued by a callback waits for the
 * next iteration, so no source can starve the others. Each phase is its
 * own file (loop_internal.h); this one moves between them and ASSERTs
 * that every move is one the loop may make. */
#include <webscale/errno.h>
#include <webscale/time.h>
#include "kernel/loop.h"
#include "kernel/loop/loop_internal.h"
#include "kernel/x86.h"

struct loop_core loop_core = {
    .wake_q = WAITQ_INIT(loop_core.wake_q, "loop: nothing to do"),
    .wake_tick = UINT64_MAX,
};

static struct {
    thread_t *thread;               /* the "loop" thread, if started */
    volatile int stop_req;
    loop_fn idle_hook;
    void *idle_arg;
} run;

/* The phases of one iteration follow each other in straight-line code
 * (iterate); each phase's file ASSERTs that it runs in its own. The moves
 * in and out of the loop, and to the idle hook and back, are checked here. */
static void move(enum loop_phase from, enum loop_phase to)
{
    ASSERT(loop_core.phase == from);
    loop_core.phase = to;
}

/* Interrupts off. */
static int anything_ready(void)
{
    ASSERT_IRQS_OFF();
    if (run.stop_req || loop_posts_queued() || loop_calls_queued())
        return 1;
    return loop_timer_due() || loop_sources_ready();
}

/* Until something is ready: the idle hook once, then sleep. */
static void wait_for_work(void)
{
    int hooked = 0;
    for (;;) {
        uint32_t f = irq_save();
        if (anything_ready()) {
            irq_restore(f);
            return;
        }
        if (run.idle_hook && !hooked) {
            irq_restore(f);
            hooked = 1;
            move(LOOP_WAIT, LOOP_IDLE_HOOK);
            loop_cb.now = clock_ns();
            loop_run_cb("idle hook", run.idle_hook, run.idle_arg);
            move(LOOP_IDLE_HOOK, LOOP_WAIT);
            continue;
        }
        loop_note_first_deadline();
        loop_core.asleep = 1;
        loop_st.waits++;
        waitq_sleep(&loop_core.wake_q);
        loop_core.asleep = 0;
        irq_restore(f);
    }
}

static int iterate(void)
{
    ASSERT(loop_core.owner == current && loop_core.phase == LOOP_WAIT);
    wait_for_work();
    uint64_t now = loop_cb.now = clock_ns();
    loop_core.phase = LOOP_TIMERS;
    int n = loop_run_timers(now);
    loop_core.phase = LOOP_POSTS;
    n += loop_run_posts();
    loop_core.phase = LOOP_CALLS;
    n += loop_run_calls();
    loop_core.phase = LOOP_WATCHERS;
    n += loop_run_watchers();
    loop_core.phase = LOOP_WAIT;
    return n;
}

/* Become the loop's owner. A callback that runs the loop would run
 * callbacks inside a callback: that is a bug, not a busy loop. */
static int claim(void)
{
    int r = 0;
    uint32_t f = irq_save();
    ASSERT(loop_core.owner != current);
    if (loop_core.owner) {
        r = -E_BUSY;
    } else {
        loop_core.owner = current;
        move(LOOP_OUTSIDE, LOOP_WAIT);
    }
    irq_restore(f);
    return r;
}

static void release(void)
{
    uint32_t f = irq_save();
    ASSERT(loop_core.owner == current);
    move(LOOP_WAIT, LOOP_OUTSIDE);
    loop_core.owner = NULL;
    run.stop_req = 0;
    irq_restore(f);
}

int loop_run(void)
{
    if (claim() < 0)
        return -E_BUSY;
    while (!run.stop_req)
        iterate();
    release();
    return 0;
}

int loop_run_once(void)
{
    if (claim() < 0)
        return -E_BUSY;
    int n = iterate();
    release();
    return n;
}

void loop_stop(void)
{
    uint32_t f = irq_save();
    if (loop_core.owner || run.thread) {
        run.stop_req = 1;
        loop_wake();
    }
    irq_restore(f);
}

int loop_in_callback(void) { return loop_cb.name != NULL && loop_core.owner == current; }

void loop_set_idle_hook(loop_fn fn, void *arg)
{
    uint32_t f = irq_save();
    run.idle_hook = fn;
    run.idle_arg = arg;
    irq_restore(f);
}

/* The PIT's handler (sched_tick, kernel/sched.c) found the first timer
 * due while the loop sleeps. */
void loop_tick_wake(void)
{
    waitq_wake_one(&loop_core.wake_q);
}

static void loop_thread(void *arg)
{
    loop_run();
}

int loop_start(void)
{
    static int once;
    if (!once) {
        once = 1;
        loop_reset_stats();
        if (loop_stall_init() < 0)
            return -E_NOMEM;
    }
    if (run.thread || loop_core.owner)
        return 0;
    run.thread = thread_create("loop", loop_thread, NULL);
    return run.thread ? 0 : -E_NOMEM;
}

void loop_shutdown(void)
{
    thread_t *t = run.thread;
    if (!t)
        return;
    loop_stop();
    thread_join(t);
    run.thread = NULL;
}
