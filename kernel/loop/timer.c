/* The loop's timers: a min-heap (kernel/lib/minheap.h) of struct
 * loop_timer by deadline, ties in start order; O(log n) start, stop and
 * expiry. The heap's array grows by doubling and never shrinks.
 *
 * The PIT handler never looks at the heap: before the loop sleeps, and
 * whenever a start puts a new timer first, the first deadline becomes a
 * tick number (loop_core.wake_tick), one of the deadlines the PIT's
 * handler compares in one (sched_due_by, kernel/sched.h). */
#include <webscale/errno.h>
#include <webscale/string.h>
#include <webscale/system.h>
#include <webscale/time.h>
#include "kernel/clock.h"
#include "kernel/lib/minheap.h"
#include "kernel/loop/loop_internal.h"
#include "kernel/sched.h"
#include "kernel/x86.h"

#define HEAP_MIN 64             /* timer slots allocated at first */

static struct minheap timers;

static struct loop_timer *timer_of(struct minheap_node *x)
{
    return container_of(x, struct loop_timer, node);
}

/* Interrupts off. t is in the heap (a timer never initialised has a
 * stray pos, so compare the slot too). */
static int armed(const struct loop_timer *t)
{
    ASSERT_IRQS_OFF();
    uint32_t pos = t->node.pos;
    return pos && pos <= timers.n && timers.slot[pos - 1] == &t->node;
}

void loop_note_first_deadline(void)
{
    ASSERT_IRQS_OFF();
    struct minheap_node *first = minheap_min(&timers);
    loop_core.wake_tick = first ? clock_tick_at_or_after(first->key) : UINT64_MAX;
    sched_due_by(loop_core.wake_tick);  /* in case the loop sleeps (or is about to) */
}

/* Make room for one more timer. Returns with interrupts off (flag in *f)
 * and room guaranteed, or -E_NOMEM with interrupts as they were. */
static int heap_reserve(uint32_t *f)
{
    for (;;) {
        *f = irq_save();
        if (timers.n < timers.cap)
            return 0;
        uint32_t cap = timers.cap;
        irq_restore(*f);
        uint32_t want = cap ? cap * 2 : HEAP_MIN;
        struct minheap_node **p = kmalloc(want * sizeof *p);
        if (!p)
            return -E_NOMEM;
        struct minheap_node **old = p;
        *f = irq_save();
        if (timers.cap == cap)     /* nobody grew it meanwhile */
            old = minheap_move(&timers, p, want);
        irq_restore(*f);
        kfree(old);
    }
}

void loop_timer_init_named(struct loop_timer *t, const char *name, loop_fn cb, void *arg)
{
    uint32_t f = irq_save();
    ASSERT(!armed(t));            /* the heap would keep pointing at it */
    irq_restore(f);
    memset(t, 0, sizeof *t);
    t->cb = cb;
    t->arg = arg;
    t->name = name ? name : "timer";
}

int loop_timer_start(struct loop_timer *t, uint64_t delay_ns, uint64_t period_ns)
{
    uint32_t f;
    if (heap_reserve(&f) < 0)
        return -E_NOMEM;
    if (minheap_linked(&t->node))
        minheap_remove(&timers, &t->node);
    t->period_ns = period_ns;
    minheap_insert(&timers, &t->node, clock_ns() + delay_ns);   /* room reserved */
    if (minheap_min(&timers) == &t->node)
        loop_note_first_deadline();
    irq_restore(f);
    /* No wake-up needed: the next PIT tick compares the first deadline. */
    return 0;
}

int loop_timer_start_ms(struct loop_timer *t, uint32_t delay_ms, uint32_t period_ms)
{
    return loop_timer_start(t, (uint64_t)delay_ms * NS_PER_MS, (uint64_t)period_ms * NS_PER_MS);
}

int loop_timer_stop(struct loop_timer *t)
{
    uint32_t f = irq_save();
    int was = minheap_remove(&timers, &t->node) == 0;
    irq_restore(f);
    return was;
}

int loop_timer_again(struct loop_timer *t)
{
    if (!t->period_ns)
        return -E_INVAL;
    return loop_timer_start(t, t->period_ns, t->period_ns);
}

int loop_timer_active(const struct loop_timer *t) { return minheap_linked(&t->node); }

uint32_t loop_timers_pending(void) { return timers.n; }

int loop_timer_due(void)
{
    struct minheap_node *first = minheap_min(&timers);
    return first && (int64_t)(clock_ns() - first->key) >= 0;
}

/* Interrupts off. The first timer if it is due at now, else NULL; a due
 * periodic timer moves to its next slot on the grid after now. */
static struct loop_timer *timer_take_due(uint64_t now)
{
    ASSERT_IRQS_OFF();
    struct minheap_node *first = minheap_min(&timers);
    if (!first || (int64_t)(now - first->key) < 0)
        return NULL;
    struct loop_timer *t = timer_of(first);
    t->last_due_ns = first->key;
    if (!t->period_ns) {
        minheap_remove(&timers, first);
        return t;
    }
    uint64_t next = first->key + t->period_ns;
    if ((int64_t)(now - next) >= 0) {
        uint64_t skip = (now - next) / t->period_ns + 1;
        next += skip * t->period_ns;
        t->missed += (uint32_t)skip;
        loop_st.missed_periods += (uint32_t)skip;
    }
    minheap_update(&timers, first, next);
    return t;
}

int loop_run_timers(uint64_t now)
{
    ASSERT(loop_core.phase == LOOP_TIMERS);
    int n = 0;
    for (;;) {
        uint32_t f = irq_save();
        struct loop_timer *t = timer_take_due(now);
        irq_restore(f);
        if (!t)
            return n;
        uint32_t lag = (uint32_t)(loop_cb.now - t->last_due_ns);
        loop_st.timer_fires++;
        loop_st.lag_total_ns += lag;
        loop_st.lag_last_ns = lag;
        if (lag > loop_st.lag_max_ns)
            loop_st.lag_max_ns = lag;
        t->fired++;
        loop_run_cb(t->name, t->cb, t->arg);
        n++;
    }
}
