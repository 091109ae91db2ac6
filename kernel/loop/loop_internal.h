/* The event loop's parts and what they share; private to kernel/loop/.
 * The public API is <webscale/loop.h>; boot and the PIT use kernel/loop.h.
 *
 *   run.c     the run loop: wait until something is ready, then the phases
 *             below in this order (iterate, run, run_once, stop, start)
 *   timer.c   timers, on a min-heap (kernel/lib/minheap.h)
 *   post.c    the post ring: events from anywhere, IRQ handlers included
 *   work.c    calls from threads: call-and-wait, and the worker pool
 *   source.c  event sources and the watchers on them
 *   stats.c   running one callback, timed; the statistics
 *   stall.c   the stall detector and its report thread
 *
 * Each part owns its state; what another part must read is here, with
 * the name of the only file that writes it. Consistency on one core:
 * whatever an interrupt handler or another thread can touch is changed
 * with interrupts off, for a few instructions. */
#ifndef KERNEL_LOOP_LOOP_INTERNAL_H
#define KERNEL_LOOP_LOOP_INTERNAL_H

#include <stdint.h>
#include <webscale/assert.h>
#include <webscale/loop.h>
#include "kernel/loop.h"
#include "kernel/clock_read.h"
#include "kernel/lib/ring.h"
#include "kernel/sched.h"
#include "kernel/trap.h"

/* enum loop_phase, struct loop_core (run.c) and struct loop_running
 * (stats.c): in kernel/loop.h, where the PIT's handler reads them. */


/* Any context: something is ready; wake the loop if it sleeps. Once
 * woken it counts as awake, so that the posts that follow before it runs
 * make no wake-up call. Interrupts off. */
static inline void loop_wake(void)
{
    if (loop_core.asleep) {
        loop_core.asleep = 0;
        waitq_wake_one(&loop_core.wake_q);
    }
}

/* ---- stats.c ---- */

/* The counters of struct loop_stats; each part counts its own events
 * (with interrupts off where an IRQ handler counts too). */
extern struct loop_stats loop_st;

/* The slot the last callback was counted in (stats.c), so that a run of
 * one callback, a drain of its posts say, counts with one compare. */
struct loop_last_slot {
    const char *name;
    uint32_t *calls;
};
extern struct loop_last_slot loop_last;
uint32_t *loop_calls_of(const char *name);      /* finds or makes name's slot; sets loop_last */
void loop_time_cb(const char *name);            /* a tick came while name ran: time it */

/* Run fn(arg) as a callback, inline in every phase's loop: where the
 * stall detector can see it, and counted. A callback is timed (a clock
 * read, loop_time_cb) only when a PIT tick came while it ran; one that
 * began and ended within a tick costs its counters. So the loop reads the
 * clock once per iteration (loop_cb.now, run.c) and once more per
 * callback that a tick interrupted: a long one (the stall detector sees
 * it at its ticks) always is. From the loop's owner, in a phase, never
 * nested. */
static inline void loop_run_cb(const char *name, loop_fn fn, void *arg)
{
    ASSERT(!loop_cb.name);          /* no callback inside a callback */
    ASSERT(irq_nesting == 0);       /* nor inside an IRQ handler */
    uint32_t tick = (uint32_t)clock_tick_raw;    /* changes at every tick */
    ring_barrier();
    loop_cb.seq++;
    loop_cb.name = name;
    fn(arg);
    loop_cb.name = NULL;
    uint32_t *calls = name == loop_last.name ? loop_last.calls : loop_calls_of(name);
    (*calls)++;
    loop_st.callbacks++;
    if (__builtin_expect((uint32_t)clock_tick_raw != tick, 0))
        loop_time_cb(name);
}

/* ---- stall.c ---- */

/* loop_cb.seq of the callback reported last, so it is reported once. */
extern volatile uint32_t loop_stall_seq;
int loop_stall_init(void);                  /* from loop_start, once: 0 or -E_NOMEM */
void loop_stall_ended(const char *name, uint64_t end);   /* the reported one returned */

/* ---- the phases' parts: how much is queued (any context), whether
 * anything is ready (interrupts off), and running a phase (the loop's
 * owner, in that phase; each returns how many callbacks ran) ---- */

uint32_t loop_timers_pending(void);
int loop_timer_due(void);                   /* interrupts off: the first timer is due */
void loop_note_first_deadline(void);        /* interrupts off: sets loop_core.wake_tick */
int loop_run_timers(uint64_t now);

uint32_t loop_posts_queued(void);
int loop_run_posts(void);

uint32_t loop_calls_queued(void);
uint32_t loop_work_pending(void);
int loop_run_calls(void);

uint32_t loop_watchers_active(void);
int loop_sources_ready(void);
int loop_run_watchers(void);

#endif
