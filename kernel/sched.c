/* The scheduler: one run queue, round robin, O(1) pick and wake.
 *
 * Every switch goes through switch_away(), schedule()'s body, whether the
 * thread yielded, blocked, ended or was preempted (the hot paths have it
 * inline, with their reason known). Preemption never happens inside an
 * interrupt handler's work: IRQ 0's path (sched_tick_irq) does the tick's
 * work, sends the EOI, and only then switches, as the last thing before
 * returning to the interrupted thread; the other lines' IRQ tail does the
 * same through sched_preempt() when a handler set need_resched. */
#include <webscale/errno.h>
#include <webscale/kprintf.h>
#include <webscale/system.h>
#include <webscale/time.h>
#include "kernel/clock.h"
#include "kernel/clock_read.h"
#include "kernel/irq.h"
#include "kernel/loop.h"
#include "kernel/process.h"
#include "kernel/sched.h"
#include "kernel/trace.h"
#include "kernel/trap.h"
#include "kernel/x86.h"

struct thread *current;
/* 0, RESCHED (asked by a wake-up), or RESCHED_AT_TICK: sched_tick asked,
 * or saw an earlier request, so the IRQ tail's switch takes the tick's own
 * timestamp instead of reading the PIT. One word: a switch clears both. */
volatile int need_resched;
volatile int sched_busy;

/* For the GDB helpers (tools/gdb/): who switched to whom, and why. */
struct thread *sched_prev;
volatile enum switch_reason sched_last_reason;
uint64_t sched_switch_count;

/* The run queue (sched.h says how runq_next and runq share it). */
struct thread *runq_next;
struct list runq = LIST_INIT(runq);
uint32_t runq_len;
static struct list sleepers = LIST_INIT(sleepers);   /* WAIT_TIMED, by wake_tick */
/* Nothing the tick serves is due before this tick: no sleeper (the first
 * one's wake_tick) and, while the event loop sleeps, not its first timer
 * (loop_core.wake_tick, given by sched_due_by). It may be earlier, when
 * the thing it was set for went away otherwise (a sleeper woken on its
 * queue, the loop woken by a post): tick_came_due then finds nothing due
 * and looks again. sched_tick compares the tick with this one number
 * instead of walking to the list's first thread and asking the loop on
 * every tick. */
static uint64_t tick_due = UINT64_MAX;

static uint32_t slice_ms = SCHED_SLICE_MS_DEFAULT;
static uint32_t slice_ticks = 1;
/* Ticks the running thread has had in this turn: sched_tick counts them,
 * a switch starts the next turn at 0 (one store, no reload to read). */
static uint32_t slice_ran;
/* Preemption on: all ones; off: 0. A mask, so that the slice's end
 * tests `runq_len & preemptive` (others ready, and preemption on) in
 * one test instead of two, on every tick that preempts. */
static uint32_t preemptive = ~0u;

uint64_t sched_switch_raw;         /* the clock at the last switch */
uint8_t sched_stats_on = 1;
static uint64_t stats_off_raw;     /* time with stats off, before the last turn-on */
static struct sched_stats stats;
static int16_t tick_owner[SCHED_HISTORY];

/* The states schedule() may find the outgoing thread in, by reason: still
 * running (yield, preempt: schedule puts it back on the run queue), on a
 * wait (block), or dead. */
static const uint8_t prev_states[SWITCH_REASONS] __attribute__((unused)) = {
    [SWITCH_YIELD] = 1u << THREAD_RUNNING,
    [SWITCH_PREEMPT] = 1u << THREAD_RUNNING,
    [SWITCH_BLOCK] = 1u << THREAD_BLOCKED | 1u << THREAD_SLEEPING,
    [SWITCH_EXIT] = 1u << THREAD_DEAD,
};

/* runq_next has just left the run queue (runq_len counts it no more):
 * the list's first thread, if any, moves up into its place (sched.h). */
static inline void runq_promote(void)
{
    if (runq_len) {
        struct list_node *n = runq.head.next;    /* not empty: runq_len says so */
        list_remove(n);
        runq_next = container_of(n, struct thread, link);
    } else {
        runq_next = NULL;
    }
}

/* The run queue's first thread, taken off it, or NULL. The likely case
 * first, in a decrement and a test: t was the only one ready (the
 * semaphore's waiter its waker readied, as the round trip has it). */
static inline struct thread *runq_pop(void)
{
    struct thread *t = runq_next;
    if (__builtin_expect(--runq_len == 0, 1)) {
        ASSERT(t);                 /* runq_len was 1: runq_next holds it */
        runq_next = NULL;
        return t;
    }
    if (!t) {
        ASSERT(runq_len == UINT32_MAX);   /* it was 0, as an empty runq_next says */
        runq_len = 0;                     /* the count back to 0 */
        return NULL;
    }
    runq_promote();
    return t;
}

static void update_slice_ticks(void)
{
    uint32_t t = (uint32_t)(((uint64_t)slice_ms * clock_hz() + 999) / 1000);
    slice_ticks = t ? t : 1;
}

void sched_init(void)
{
    thread_init_idle();
    update_slice_ticks();
}

/* A stack that overflowed has trampled its sentinel. The thread cannot be
 * trusted to run again: report and end it here, before it is switched out
 * for good. The sentinel is put back once reported, so that the switch
 * away from the dead thread does not report it again. */
static __attribute__((noinline, cold)) void stack_overflowed(struct thread *t)
{
    if (t->magic != THREAD_MAGIC)
        panic("scheduler: thread %p has a bad magic word %#x", (void *)t, t->magic);
    if (t == idle_thread)
        panic("scheduler: the idle thread's stack overflowed");
    kprintf("\n*** stack overflow in thread '%s' (id %d): sentinel at %p is %#x, "
            "stack is %u bytes at %p\n",
            t->name, t->id, (void *)t->stack, *(uint32_t *)t->stack, t->stack_size,
            (void *)t->stack);
    kprintf("*** thread '%s' killed\n", t->name);
    *(uint32_t *)t->stack = STACK_SENTINEL;
    if (t->state != THREAD_DEAD)
        thread_die(t, THREAD_KILLED);
}

/* The sentinel is what a thread's own deep calls trample: tested on every
 * switch. The magic word is the kernel's own invariant (nothing a thread
 * does reaches another's struct thread, which is not on its stack): an
 * ASSERT, kept by the kernel of make run and make test. */
static inline int stack_ok(const struct thread *t)
{
    ASSERT(t->magic == THREAD_MAGIC);
    return __builtin_expect(*(uint32_t *)t->stack == STACK_SENTINEL, 1);
}

/* What `sched stats on` keeps, for each switch: prev's CPU time and
 * switch counts, the reason's count, the trace record, the switch
 * counter. CPU time is from the last switch to now, in PIT input clocks
 * (ps and top convert). A switch at a tick is stamped with the tick
 * itself: prev ran whole ticks up to it, and the moment of IRQ latency
 * after it goes to next. No reading goes behind the last one, so the CPU
 * times of all threads add up to the clock. */
static inline __attribute__((always_inline)) void account_switch(struct thread *prev, struct thread *next,
                                                                enum switch_reason why, int at_tick)
{
    /* The 64-bit values here in their 32-bit halves: GCC keeps a 64-bit
     * value in a register pair and, short of registers on the switch
     * path, on the stack; halves it keeps in registers, and drops each
     * where its last use is. */
    typedef uint32_t __attribute__((may_alias)) word_t;    /* a uint64_t's halves */
    word_t *stamp = (word_t *)&sched_switch_raw;              /* little-endian: [0] is low */
    uint32_t now_lo, now_hi;
    if (at_tick) {
        now_lo = (uint32_t)clock_tick_raw;
        now_hi = (uint32_t)(clock_tick_raw >> 32);
    } else {
        uint64_t now = clock_read_raw();
        now_lo = (uint32_t)now;
        now_hi = (uint32_t)(now >> 32);
    }
    /* The turn in 32 bits, from the low words: exact while a turn is
     * under 2^31 input clocks (30 minutes). A longer turn is a thread
     * alone on the CPU, and sched_tick charges it at every slice end
     * (charge_turn), so what is left here is never more than a slice. */
    uint32_t ran = now_lo - stamp[0];
    /* The switch's stamp. A reading behind the last one (see
     * clock_read_raw) keeps the last one, and prev ran 0. Read back from
     * memory below rather than kept: each word is then one load where
     * it is used. */
    if (__builtin_expect((int32_t)ran >= 0, 1)) {
        stamp[0] = now_lo;
        stamp[1] = now_hi;
    } else {
        ran = 0;
    }
    if (why == SWITCH_BLOCK)
        prev->off_cpu_raw = sched_switch_raw;   /* its wait begins: sched_off_cpu_raw */
    /* The one counter of switches and trace records. 64 bits, counted in
     * its low word (i386 has no 64-bit increment): the high one moves
     * only when the low one wraps. */
    word_t *count = (word_t *)&sched_switch_count;            /* little-endian: [0] is low */
    trace_switch(count[0], sched_switch_raw, next->id, why);
    if (__builtin_expect(++count[0] == 0, 0))
        count[1]++;
    /* prev's CPU time: 64 bits added in the low word, the high one moved
     * on a carry (as the switch counter above): one instruction less than
     * GCC's add and adc, which needs a zeroed register for ran's high
     * word. */
    word_t *cpu = (word_t *)&prev->cpu_raw;
    if (__builtin_add_overflow(cpu[0], ran, &cpu[0]))
        cpu[1]++;
    /* The idle thread's switches away count as voluntary too: they are
     * yields (sched_idle, sched_preempt), as the trace records them. */
    if (why == SWITCH_PREEMPT)
        prev->involuntary++;
    else if (why != SWITCH_EXIT)
        prev->voluntary++;
    /* A yield is not counted by reason: it is the switch that is none of
     * the others, so sched_get_stats derives it from the switch counter
     * (which counts every switch, as by_reason does, only with stats on).
     * The yield, the hottest switch, saves a 64-bit add. */
    if (why != SWITCH_YIELD)
        stats.by_reason[why]++;
}

/* A yield or preemption with no thread or more than one ready, or from
 * the idle thread: the next thread (NULL if none), prev behind the
 * others. Inline in switch_away; a function only to be read apart from
 * the two-thread case. */
static inline __attribute__((always_inline)) struct thread *requeue_and_pick(struct thread *prev)
{
    struct thread *next = runq_pop();
    if (!next)
        return NULL;
    if (prev == idle_thread)
        prev->state = THREAD_READY;    /* runnable, though never queued */
    else
        runq_push(prev);
    return next;
}

/* schedule()'s body, inline on the hot paths where the reason is known
 * (thread_yield, waitq_sleep): one function's registers, and the branches
 * for the other reasons folded away. A caller that knows the running
 * thread is not the idle one passes not_idle = 1, and the test for it
 * folds away too. */
static inline __attribute__((always_inline)) void switch_away(enum switch_reason why, int at_tick,
                                                              int not_idle)
{
    struct thread *prev = current;

    /* With interrupts on, a tick could preempt us half-way through the
     * run queue. Every caller turned them off. */
    ASSERT_IRQS_OFF();
    ASSERT((unsigned)why < SWITCH_REASONS);
    ASSERT((prev_states[why] >> prev->state) & 1);
    if (!stack_ok(prev)) {
        stack_overflowed(prev);          /* reported; prev is dead now */
        if (why != SWITCH_EXIT) {
            schedule(SWITCH_EXIT);       /* never returns: nobody runs a dead thread */
            __builtin_unreachable();
        }
    }
    sched_busy = 1;
    /* Only the tick asks a thread other than idle to go, and the IRQ's
     * tail switches at once: such a thread that yields or blocks has no
     * request pending, and no store is needed to clear one. */
    if ((why == SWITCH_YIELD || why == SWITCH_BLOCK) && not_idle)
        ASSERT(need_resched == 0);
    else
        need_resched = 0;
    slice_ran = 0;

    struct thread *next;
    if (why <= SWITCH_PREEMPT) {
        /* A yield or a preemption: prev goes behind the others, and goes
         * on running if there are none. The idle thread is never queued. */
        next = runq_next;
        ASSERT(!not_idle || prev != idle_thread);
        if (__builtin_expect(runq_len == 1 && (not_idle || prev != idle_thread), 1)) {
            /* The common case of two ready threads: next is the only one
             * queued, so prev simply takes its slot; runq_len stays. */
            ASSERT(next);                  /* runq_len == 1: runq_next holds it */
            runq_next = prev;
            prev->state = THREAD_READY;
        } else {
            next = requeue_and_pick(prev);
            if (!next) {
                sched_busy = 0;
                return;
            }
        }
    } else {
        next = runq_pop();
        if (!next)
            next = idle_thread;
    }
    ASSERT(next == idle_thread || next->state == THREAD_READY);

    if (__builtin_expect(sched_stats_on, 1))
        account_switch(prev, next, why, at_tick);
    next->state = THREAD_RUNNING;
    current = next;
    sched_prev = prev;
    sched_last_reason = why;
    process_switch_in(next); /* a process's thread: its kernel stack in the TSS, its CR3 */
    if (why == SWITCH_EXIT) {
        /* prev never runs again and cannot free the stack it is on: the
         * switch frees it from next's stack (switch.S), so the switches
         * of live threads test for no dead one. */
        switch_from_dead(prev, next->ctx);
        __builtin_unreachable();
    }
    switch_to(&prev->ctx, next->ctx);
    /* We are prev again, resumed by somebody else's schedule(). */
    sched_finish_switch();
}

void __attribute__((regparm(1))) schedule(enum switch_reason why) { switch_away(why, 0, 0); }

void sched_finish_switch(void)
{
    sched_busy = 0;
}

void sched_idle(void)
{
    for (;;) {
        cli();
        /* Threads made ready from thread context (the first thread, here)
         * go now; those woken by interrupts were switched to already by
         * the IRQ tail. */
        if (runq_len)
            schedule(SWITCH_YIELD);
        /* sti takes effect after the next instruction: an interrupt that
         * arrives in between ends the hlt rather than being missed. */
        sti_hlt();
    }
}

void sched_dequeue(struct thread *t)
{
    ASSERT_IRQS_OFF();
    if (t->state == THREAD_READY) {
        ASSERT(list_node_linked(&t->link) || t == runq_next);
        runq_len--;
        if (t == runq_next)
            runq_promote();
        else
            list_remove(&t->link);
    } else {
        list_remove(&t->link);             /* a wait queue */
    }
    if (t->wait_flags & WAIT_TIMED)
        list_remove(&t->timer_link);
    t->wait_flags = 0;
}

/* End t's wait with result and make it runnable. */
static void end_wait(struct thread *t, int result)
{
    ASSERT_IRQS_OFF();
    ASSERT(t->magic == THREAD_MAGIC);
    ASSERT(t->state == THREAD_BLOCKED || t->state == THREAD_SLEEPING);
    ASSERT(t->state == THREAD_SLEEPING || list_node_linked(&t->link));
    sched_dequeue(t);
    ready_after_wait(t, result);
}

void sched_wake(struct thread *t) { end_wait(t, 0); }

void sched_wake_result(struct thread *t, int result) { end_wait(t, result); }

void sched_start(struct thread *t)
{
    ASSERT_IRQS_OFF();
    ASSERT(t->state == THREAD_NEW);
    t->off_cpu_raw = sched_switch_raw;   /* with stats off, its waits count 0 */
    runq_push(t);
    if (current == idle_thread)
        need_resched = 1;
}

/* Block the running thread: on q if given (BLOCKED), else SLEEPING; until
 * tick wake_tick with WAIT_TIMED; until thread_interrupt with WAIT_INTR.
 * Returns what ended the wait. */
static int block(struct waitq *q, const char *what, uint64_t wake_tick, unsigned flags)
{
    ASSERT_IRQS_OFF();
    struct thread *t = current;
    ASSERT(t != idle_thread && t->state == THREAD_RUNNING);
    ASSERT(!list_node_linked(&t->link) && !list_node_linked(&t->timer_link));
    if ((flags & WAIT_INTR) && (t->flags & THREAD_INTR_PENDING))
        return -E_INTR;
    if (flags & WAIT_TIMED) {
        t->wake_tick = wake_tick;
        /* Keep the list sorted; equal deadlines wake in the order they slept. */
        struct list_node *pos = sleepers.head.prev;
        while (pos != &sleepers.head &&
               container_of(pos, struct thread, timer_link)->wake_tick > wake_tick)
            pos = pos->prev;
        list_insert_before(pos->next, &t->timer_link);
        sched_due_by(wake_tick);
    }
    t->wait_flags = (uint8_t)flags;
    t->wait_on = what;
    if (q) {
        t->state = THREAD_BLOCKED;
        list_push_back(&q->waiters, &t->link);
    } else {
        t->state = THREAD_SLEEPING;
    }
    schedule(SWITCH_BLOCK);
    return t->wait_result;
}

void sched_due_by(uint64_t tick)
{
    ASSERT_IRQS_OFF();
    if (tick < tick_due)
        tick_due = tick;
}

/* tick reached tick_due: end the waits whose deadline is tick or earlier,
 * in deadline order; wake the event loop if its first timer is due; and
 * find the next tick due. */
static __attribute__((noinline)) void tick_came_due(uint64_t tick)
{
    struct list_node *n;
    while ((n = list_first(&sleepers)) != NULL) {
        struct thread *t = container_of(n, struct thread, timer_link);
        if (t->wake_tick > tick)
            break;
        /* A sleep that reaches its deadline did what it was asked; a wait
         * on a queue did not get what it waited for. */
        end_wait(t, t->state == THREAD_BLOCKED ? -E_TIMEDOUT : 0);
    }
    uint64_t due = n ? container_of(n, struct thread, timer_link)->wake_tick : UINT64_MAX;
    if (loop_core.asleep) {
        if (tick >= loop_core.wake_tick)
            loop_tick_wake();           /* its next sleep gives its next timer */
        else if (loop_core.wake_tick < due)
            due = loop_core.wake_tick;
    }
    tick_due = due;
}

/* The idle thread, with nothing ready, is charged every this many ticks
 * (65 s at 1000 Hz): far below the 2^31 input clocks a turn may last. */
#define CHARGE_IDLE_TICKS 65536u

/* A long turn, charged so far: the running thread's CPU time up to this
 * tick, and the turn goes on from it. So account_switch's 32-bit turn
 * never wraps; the sum of all CPU times is unchanged. */
static __attribute__((noinline)) void charge_turn(void)
{
    uint64_t now = clock_tick_raw;
    if (sched_stats_on && (int64_t)(now - sched_switch_raw) > 0) {
        current->cpu_raw += now - sched_switch_raw;
        sched_switch_raw = now;
    }
}

/* The work of a PIT tick: the clock's count, then the scheduler's part
 * (the tick's owner, whatever is due: sleepers and the event loop's first
 * timer, the slice), then the stall detector's (loop_tick). Returns 1
 * when it ended the slice of a thread other than the idle one, with
 * others ready and preemption on: the switch its caller makes (the
 * request is the return value, not need_resched). */
static inline __attribute__((always_inline)) int tick_work(void)
{
    int slice_over = 0;
    ASSERT_IRQS_OFF();
    uint64_t tick = clock_count_tick();
    struct thread *t = current;
    tick_owner[(uint32_t)tick % SCHED_HISTORY] = (int16_t)t->id;
    /* A switch this tick asks for is served right after it (the IRQ
     * tail): RESCHED_AT_TICK, prev ran up to the tick. */
    if (__builtin_expect(tick >= tick_due, 0)) {
        tick_came_due(tick);
        if (need_resched)
            need_resched = RESCHED_AT_TICK;
    }

    if (t == idle_thread) {
        if (runq_len)
            need_resched = RESCHED_AT_TICK;
        else if (__builtin_expect(((uint32_t)clock_tick_count & (CHARGE_IDLE_TICKS - 1)) == 0, 0))
            charge_turn();   /* the count read, not tick: GCC then saves one register pair less */
    } else if (++slice_ran >= slice_ticks) {
        if (runq_len & preemptive) {
            slice_over = 1;                    /* the switch starts the next turn */
        } else {
            slice_ran = 0;                     /* alone: another slice */
            charge_turn();
        }
    }
    loop_tick();
    return slice_over;
}

/* The switch an IRQ asked for (need_resched set), at its tail. A thread
 * other than the idle one is only ever asked to go by the tick, at the
 * end of a slice with preemption on (a wake-up asks only the idle thread,
 * sched.h: ready_after_wait), so RESCHED_AT_TICK needs no test of
 * preemptive here. Any other request is taken the long way, as
 * schedule() takes it. */
static inline __attribute__((always_inline)) void preempt_now(void)
{
    ASSERT_IRQS_OFF();
    /* Interrupts come only with them on, and a switch runs with them off
     * from its start (switch_away) to its end in the next thread
     * (sched_finish_switch): an IRQ never finds the scheduler busy. */
    ASSERT(!sched_busy);
    int why = need_resched;
    if (current == idle_thread) {
        switch_away(SWITCH_YIELD, why == RESCHED_AT_TICK, 0);   /* woken at a tick: its stamp */
    } else if (__builtin_expect(why == RESCHED_AT_TICK, 1)) {
        ASSERT(preemptive);
        switch_away(SWITCH_PREEMPT, 1, 1);
    } else if (preemptive) {
        schedule(SWITCH_PREEMPT);
    } else {
        need_resched = 0;
    }
}

/* preempt_now's likely case, which the tick knows without asking again:
 * the slice of a thread other than idle is over, others are ready and
 * preemption is on. Its own name, for GDB: `break preempt_at_slice_end`
 * stops where sched_tick_irq switches (the README's walk). */
static inline __attribute__((always_inline)) void preempt_at_slice_end(void)
{
    ASSERT(!sched_busy && need_resched == 0);   /* nobody else asks a thread to go */
    switch_away(SWITCH_PREEMPT, 1, 1);
}

/* The PIT's handler as clock_init registers it: the tick's work, for an
 * IRQ path that sends the EOI and makes the switch itself (irq_first_chip
 * would). IRQ 0 has a path of its own, which calls sched_tick_irq. */
void sched_tick(void *arg)
{
    (void)arg;
    if (tick_work())
        need_resched = RESCHED_AT_TICK;   /* for that path's sched_preempt */
}

/* IRQ 0, from its own path in vectors.S (irq_tick), on top of the
 * trapframe: the whole of it in one function, with one prologue, where
 * the fast path of the other lines calls the handler, sends the EOI and
 * calls sched_preempt. The same steps in the same order: the tick's work
 * inside the IRQ (irq_nesting), the EOI, then the switch the tick asked
 * for. The preempted thread's switch_context returns here, and ws.py
 * finds the trapframe right above this function's return address. */
void sched_tick_irq(void)
{
    /* One instruction each, as the other paths' stubs count (irq_nesting
     * is volatile: GCC would load, add and store). */
    __asm__ volatile("incl %0" : "+m"(irq_nesting));
    int slice_over = tick_work();
    __asm__ volatile("decl %0" : "+m"(irq_nesting));
    outb(irq_eoi_port, irq_eoi_cmd);   /* IRQ 0 is the first chip's */
    /* Laid out for the switch, the path latency and make bench time; a
     * tick that ends no slice takes the branch (the same count). */
    if (__builtin_expect(slice_over, 1))
        preempt_at_slice_end();
    else if (need_resched)
        preempt_now();
}

void sched_preempt(void) { preempt_now(); }

int sched_can_sleep(void)
{
    return irq_nesting == 0 && !sched_busy && current != idle_thread;
}

/* thread_yield itself is in switch.S: it saves EFLAGS, turns interrupts
 * off, calls this and puts EFLAGS back. */
void thread_yield_irqs_off(void)
{
    ASSERT(!(read_eflags() & EFLAGS_DF));   /* vector128 cleared it; C callers by the ABI */
    /* No test of runq_len first: the pick finds whether anyone is ready
     * (with nobody, switch_away returns, and the yielder's slice starts
     * again, which matters to nobody while it is alone). */
    switch_away(SWITCH_YIELD, 0, 1);   /* the idle thread yields by schedule() */
}

void thread_sleep_ns(uint64_t ns)
{
    if (!sched_can_sleep())
        panic("thread_sleep: called where sleeping is impossible (IRQ or idle)");
    if (ns == 0) {
        thread_yield();
        return;
    }
    uint64_t wake = clock_tick_at_or_after(clock_ns() + ns);
    uint32_t f = irq_save();
    block(NULL, "sleep", wake, WAIT_TIMED);
    irq_restore(f);
}

void thread_sleep_ms(uint32_t ms)
{
    thread_sleep_ns((uint64_t)ms * NS_PER_MS);
}

/* ---- interruptible waits ---- */

/* A deadline as the PIT tick that ends the wait, and the flags for it. */
static unsigned deadline_flags(uint64_t deadline_ns, uint64_t *tick)
{
    if (deadline_ns == TIME_NEVER)
        return WAIT_INTR;
    *tick = clock_tick_at_or_after(deadline_ns);
    return WAIT_INTR | WAIT_TIMED;
}

int thread_sleep_until(uint64_t deadline_ns)
{
    if (!sched_can_sleep())
        panic("thread_sleep_until: called where sleeping is impossible (IRQ or idle)");
    uint64_t tick = 0;
    unsigned flags = deadline_flags(deadline_ns, &tick);
    uint32_t f = irq_save();
    int r = current->flags & THREAD_INTR_PENDING ? -E_INTR : 0;
    if (!r && clock_ns() < deadline_ns)
        r = block(NULL, "sleep (Ctrl-C)", tick, flags);
    irq_restore(f);
    return r;
}

/* ---- wait queues ---- */

void waitq_init(struct waitq *q, const char *name)
{
    list_init(&q->waiters);
    q->name = name;
}

/* block(q, q->name, 0, 0) without the deadline's and the interrupt's
 * tests: the wait of every mutex, semaphore and condition variable.
 * Inline in its two users (waitq_sleep, waitq_sleep_counted), so that a
 * sync object's wait is one function frame down to the switch. */
static inline __attribute__((always_inline)) void block_on(struct waitq *q)
{
    struct thread *t = current;
    /* Not an IRQ handler, not the idle thread: a contract, checked like
     * the others by an ASSERT (a panic naming the line in make run and
     * make test), and so not paid for in NO_ASSERT's figures: 6
     * instructions on every wait. */
    ASSERT(irq_nesting == 0 && t != idle_thread);
    ASSERT_IRQS_OFF();
    ASSERT(t->state == THREAD_RUNNING && !list_node_linked(&t->link));
    /* Untimed and uninterruptible: wait_flags 0, which every wake leaves
     * (waitq_wake_one, sched_dequeue), so no store. */
    ASSERT(t->wait_flags == 0);
    t->wait_on = q->name;
    t->state = THREAD_BLOCKED;
    list_push_back(&q->waiters, &t->link);
    switch_away(SWITCH_BLOCK, 0, 1);
}

void waitq_sleep(struct waitq *q) { block_on(q); }

void __attribute__((regparm(2))) waitq_sleep_counted(struct waitq *q, struct sync_stats *st)
{
    st->contended++;
    block_on(q);
    st->wait_raw += sched_off_cpu_raw();
}

int waitq_wait(struct waitq *q, uint64_t deadline_ns, int interruptible)
{
    if (!sched_can_sleep())
        panic("waitq_wait(%s): called where sleeping is impossible", q->name);
    uint64_t tick = 0;
    unsigned flags = deadline_flags(deadline_ns, &tick);
    if (!interruptible)
        flags &= ~(unsigned)WAIT_INTR;
    if (deadline_ns != TIME_NEVER && clock_ns() >= deadline_ns)
        return -E_TIMEDOUT;
    return block(q, q->name, tick, flags);
}

int waitq_requeue_one(struct waitq *from, struct waitq *to, const char *what)
{
    struct thread *t = waitq_first(from);
    if (!t)
        return 0;
    ASSERT(t->state == THREAD_BLOCKED);
    list_remove(&t->link);
    list_push_back(&to->waiters, &t->link);
    t->wait_on = what;
    return 1;
}

int waitq_wake_all(struct waitq *q)
{
    int n = 0;
    while (waitq_wake_one(q))
        n++;
    return n;
}

/* ---- knobs and counters ---- */

int sched_set_slice_ms(uint32_t ms)
{
    if (ms == 0 || ms > SCHED_SLICE_MS_MAX)
        return -E_INVAL;
    uint32_t f = irq_save();
    slice_ms = ms;
    update_slice_ticks();
    irq_restore(f);
    return 0;
}

uint32_t sched_slice_ms(void) { return slice_ms; }

void sched_set_preemptive(int on) { preemptive = on ? ~0u : 0; }
int sched_preemptive(void) { return preemptive != 0; }

void sched_get_stats(struct sched_stats *s)
{
    uint32_t f = irq_save();
    *s = stats;
    s->switches = sched_switch_count;
    /* account_switch counts no yields (see there): they are the rest. */
    s->by_reason[SWITCH_YIELD] = s->switches - s->by_reason[SWITCH_PREEMPT]
                                 - s->by_reason[SWITCH_BLOCK] - s->by_reason[SWITCH_EXIT];
    s->idle_ns = sched_cpu_ns(idle_thread);
    s->runnable = runq_len;
    irq_restore(f);
}

void sched_set_stats(int on)
{
    on = on != 0;
    uint32_t f = irq_save();
    if (on != sched_stats_on) {
        uint64_t now = clock_raw();
        if (on) {
            /* The running thread's turn counts from now; the trace
             * starts again here, its switches while off unrecorded. */
            stats_off_raw += now - sched_switch_raw;
            trace_restart(sched_switch_count, current->id);
        } else if ((int64_t)(now - sched_switch_raw) > 0) {
            current->cpu_raw += now - sched_switch_raw;   /* its turn up to now */
        }
        /* On, wait times count from now; off, every thread's stamp and
         * sched_switch_raw stand at now, so sched_off_cpu_raw says 0. */
        thread_stamp_off_cpu(now);
        sched_switch_raw = now;
        sched_stats_on = on;
    }
    irq_restore(f);
}

int sched_stats(void) { return sched_stats_on; }

uint64_t sched_stats_off_ns(void)
{
    uint32_t f = irq_save();
    uint64_t raw = stats_off_raw;
    if (!sched_stats_on)
        raw += clock_raw() - sched_switch_raw;
    irq_restore(f);
    return clock_raw_to_ns(raw);
}

/* CPU time of the running thread includes the part of its current turn
 * (with stats on: while off, sched_switch_raw is when they went off). */
/* The running thread's turn so far is charged, not just added to the
 * figure: its CPU time up to now, and the turn goes on from now (as
 * charge_turn does). clock_raw() never reads behind itself, but the
 * switch's own inline reading can (clock_read_raw): had this only been
 * added, the switch that ends the turn could charge less than was shown,
 * and a thread's CPU time would go backwards between two readings (top's
 * first frame once showed the shell at 1843163615.8 %, an unsigned
 * difference gone below zero). Charged, a switch reading behind it keeps
 * this stamp and charges 0. */
uint64_t sched_cpu_ns(const struct thread *t)
{
    uint32_t f = irq_save();
    if (t == current && sched_stats_on) {
        uint64_t now = clock_raw();
        if ((int64_t)(now - sched_switch_raw) > 0) {
            current->cpu_raw += now - sched_switch_raw;
            sched_switch_raw = now;
        }
    }
    uint64_t raw = t->cpu_raw;
    irq_restore(f);
    return clock_raw_to_ns(raw);
}

const char *sched_reason_name(enum switch_reason r)
{
    static const char *const names[SWITCH_REASONS] = {
        [SWITCH_YIELD] = "yield",
        [SWITCH_PREEMPT] = "preempt",
        [SWITCH_BLOCK] = "block",
        [SWITCH_EXIT] = "exit",
    };
    return (unsigned)r < SWITCH_REASONS ? names[r] : "?";
}

uint64_t sched_tick_history(int16_t out[SCHED_HISTORY])
{
    uint32_t f = irq_save();
    uint64_t now = clock_ticks();
    for (int i = 0; i < SCHED_HISTORY; i++)
        out[i] = tick_owner[(now + 1 + i) % SCHED_HISTORY];
    irq_restore(f);
    return now;
}
