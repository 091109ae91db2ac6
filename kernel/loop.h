/* Event loop internals: what the PIT needs from kernel/loop/, and the
 * state its inline loop_tick reads (written only by kernel/loop/: run.c,
 * stats.c, timer.c). The public API is <webscale/loop.h>. */
#ifndef KERNEL_LOOP_H
#define KERNEL_LOOP_H

#include <stdint.h>
#include <webscale/sync.h>

struct thread;

/* Where the loop is. An iteration goes WAIT (perhaps through IDLE_HOOK
 * and back), then TIMERS, POSTS, CALLS, WATCHERS, and back to WAIT; the
 * loop leaves from WAIT to OUTSIDE. Each phase's file ASSERTs that it
 * runs in its own phase; run.c ASSERTs the moves in and out. */
enum loop_phase {
    LOOP_OUTSIDE,         /* nobody runs the loop */
    LOOP_WAIT,            /* looking for something ready, or asleep until it is */
    LOOP_IDLE_HOOK,       /* nothing was ready: the idle hook runs once */
    LOOP_TIMERS,          /* the timers due when the iteration began */
    LOOP_POSTS,           /* the posts queued when it began */
    LOOP_CALLS,           /* calls from threads and finished work */
    LOOP_WATCHERS,        /* the watchers whose source is ready */
};

/* Who runs the loop, where it is, and how it sleeps. */
struct loop_core {
    struct thread *owner;           /* the thread inside loop_run/run_once, or NULL */
    volatile enum loop_phase phase;
    volatile int asleep;            /* on wake_q */
    uint64_t wake_tick;             /* while asleep: the first timer's tick (timer.c) */
    struct waitq wake_q;
};
extern struct loop_core loop_core;

/* The callback running now (for the stall detector in the PIT's IRQ) and
 * the loop's clock. */
struct loop_running {
    const char *volatile name;      /* NULL between callbacks */
    uint32_t seq;                   /* callbacks begun since boot (the call to the
                                     * callback orders its update for the PIT) */
    uint64_t now;                   /* the loop's clock: this iteration's reading, or
                                     * the end of the last callback timed. The one
                                     * running began at or after it (at most a tick) */
};
extern struct loop_running loop_cb;

void loop_stall_tick(void);     /* stall.c: a tick came while a callback ran */
void loop_tick_wake(void);      /* run.c: the first timer is due, the loop asleep */

/* From the PIT's IRQ handler, every tick: notices a callback that has
 * run too long. Inline in the handler: between callbacks a tick costs one
 * compare and no call; the clock is read only when it says so. The loop's
 * first timer is one of the deadlines the scheduler's tick compares in
 * one (sched_due_by, kernel/sched.h): at it, the tick calls
 * loop_tick_wake if the loop still sleeps. */
static inline void loop_tick(void)
{
    if (__builtin_expect(loop_cb.name != NULL, 0))
        loop_stall_tick();
}

#endif
