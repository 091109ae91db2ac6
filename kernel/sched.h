/* Scheduler internals: struct thread and what the rest of the kernel
 * (traps, sync, drivers, tests) needs from the scheduler. Public calls are
 * in <webscale/thread.h> and <webscale/sched.h>. */
#ifndef KERNEL_SCHED_H
#define KERNEL_SCHED_H

#include <stdint.h>
#include <webscale/list.h>
#include <webscale/sched.h>
#include <webscale/sync.h>
#include <webscale/thread.h>
#include <webscale/assert.h>
#include "kernel/context.h"
#include "kernel/x86.h"

#define THREAD_MAGIC 0x7EADC0DEu     /* in every live struct thread */
#define STACK_SENTINEL 0x5AFE57ACu   /* the lowest word of every stack */
#define STACK_FILL 0xCD              /* unused stack bytes, for the high-water mark */
/* In struct thread's flags, beside the public enum thread_flags:
 * thread_interrupt was called, interruptible waits say -E_INTR. */
#define THREAD_INTR_PENDING 0x80

enum thread_state {
    THREAD_RUNNING,
    THREAD_READY,       /* on the run queue */
    THREAD_BLOCKED,     /* on some wait queue */
    THREAD_SLEEPING,    /* waits for no queue: a deadline, an interrupt, or both */
    THREAD_DEAD,        /* ended; waiting to be joined */
    THREAD_NEW,         /* created, never run: sched_start puts it on the run queue */
};

/* How a blocked or sleeping thread may be woken, besides a wake-up on its
 * queue: at its deadline, or by thread_interrupt. */
enum wait_flags {
    WAIT_TIMED = 1,     /* on the sleep list until tick wake_tick */
    WAIT_INTR = 2,      /* thread_interrupt ends the wait with -E_INTR */
};

struct thread {
    /* First, so that a queue's node is its thread's address: the wake-up
     * of a semaphore's waiter makes the node it took off the queue
     * runq_next as it is (sem_up: 4 instructions fewer a round trip; the
     * preempted switch pays 1, for &prev->ctx). */
    struct list_node link;      /* on the run queue or a wait queue */
    struct context *ctx;        /* saved stack pointer while not running */
    uint32_t magic;
    uint8_t state;              /* enum thread_state */
    uint8_t flags;              /* enum thread_flags */
    uint8_t wait_flags;         /* while blocked or sleeping: enum wait_flags; else 0 */
    int8_t wait_result;         /* what ended the last wait in block(): 0, -E_TIMEDOUT, -E_INTR */
    int id;
    char name[THREAD_NAME_MAX];
    uint8_t *stack;             /* lowest address; holds the sentinel */
    uint32_t stack_size;
    const char *wait_on;        /* what a blocked thread waits for */
    uint64_t cpu_raw;           /* CPU time in PIT input clocks: sched_cpu_ns() converts */
    uint64_t off_cpu_raw;       /* the clock when it last blocked: sched_off_cpu_raw */
    uint64_t wake_tick;         /* with WAIT_TIMED: the PIT tick that wakes it */
    struct list_node timer_link; /* with WAIT_TIMED: on the sleep list, by wake_tick */
    uint32_t voluntary, involuntary;
    int exit_code;
    struct list_node all;       /* every thread, for ps */
    struct process *proc;       /* the process it runs for, NULL: a kernel thread */
    int job;                    /* the shell's job number, 0 for none (thread_set_job) */
};

extern struct thread *current;
/* The idle thread (thread 0) runs on the boot stack, and its struct is a
 * static object: a test for it compares with a constant address, one
 * instruction on the switch and wake paths, not a load and a compare. */
extern struct thread idle_thread_struct;
#define idle_thread (&idle_thread_struct)
/* The last switch: who gave up the CPU, and why (the GDB helpers read
 * them too). */
extern struct thread *sched_prev;
extern volatile enum switch_reason sched_last_reason;
extern volatile int need_resched;
enum { RESCHED = 1, RESCHED_AT_TICK = 2 };   /* need_resched's values (sched.c) */

void sched_init(void);
/* Become the idle thread: give the CPU to any ready thread, else halt
 * until the next interrupt. Never returns. */
void sched_idle(void) __attribute__((noreturn));
/* The PIT's IRQ handler, every tick (clock.c registers it): counts the
 * tick for the clock, then does the scheduler's and the loop's part. */
void sched_tick(void *arg);
/* IRQ 0's own path (vectors.S, irq_tick) calls this instead: the same
 * work, then the EOI and the switch the tick asks for, in one function. */
void sched_tick_irq(void);
/* The IRQ tail calls this when need_resched is set. */
void sched_preempt(void);
/* Give up the CPU. Interrupts off. For a yield or a preemption current
 * is still RUNNING, and schedule() puts it behind the other ready threads
 * (or lets it run on if there are none); to block or exit, current->state
 * already says so. The reason in a register (regparm): then the hot
 * switches that inline schedule's body and call it only on a rare path
 * (a dead thread's exit, sched_preempt's odd request) push no argument,
 * and GCC's epilogue there pops without first resetting esp. */
void schedule(enum switch_reason why) __attribute__((regparm(1)));
/* thread_yield for a caller that has interrupts off already: the system
 * call's SYS_YIELD path (vector128 in kernel/vectors.S), entered through
 * an interrupt gate. No EFLAGS saved or restored: the caller's iret does
 * that. */
void thread_yield_irqs_off(void);
/* The bodies of sem_up, sem_down, mutex_lock and mutex_unlock (sync.c),
 * which switch.S calls with interrupts off, as thread_yield calls its own. */
void sem_up_irqs_off(struct semaphore *s) SYNC_FAST;
void sem_down_irqs_off(struct semaphore *s) SYNC_FAST;
void mutex_lock_irqs_off(struct mutex *m) SYNC_FAST;
void mutex_unlock_irqs_off(struct mutex *m) SYNC_FAST;
_Static_assert(SWITCH_YIELD < SWITCH_BLOCK && SWITCH_PREEMPT < SWITCH_BLOCK &&
               SWITCH_PREEMPT < SWITCH_EXIT, "schedule(): yield and preempt first");
/* Make a blocked or sleeping thread runnable; its wait returns 0.
 * Interrupts off. */
void sched_wake(struct thread *t);
/* The same, and its wait returns result (-E_INTR, say). */
void sched_wake_result(struct thread *t, int result);
/* Put a THREAD_NEW thread on the run queue. Interrupts off. */
void sched_start(struct thread *t);
/* Take t off whatever the scheduler keeps it on (run queue, a wait queue,
 * the sleep list), whatever its state. Interrupts off. */
void sched_dequeue(struct thread *t);
/* The one way a thread dies, by its own exit or killed: off every queue,
 * exit code set, joiners woken. Interrupts off; t is current, or the
 * thread schedule() is switching away from. */
void thread_die(struct thread *t, int code);
/* True when the caller may sleep: a thread, not an IRQ handler, and the
 * scheduler is running. */
int sched_can_sleep(void);
/* Something the PIT's tick serves is due at tick (a sleeper's deadline,
 * the event loop's first timer): sched_tick looks at that tick, not
 * before. A tick that finds nothing due costs nothing. Interrupts off. */
void sched_due_by(uint64_t tick);
/* Nonzero while the scheduler itself runs (an exception there panics). */
extern volatile int sched_busy;
/* The clock (PIT input clocks) at the last switch: when the running thread
 * got the CPU, or the tick its long turn was last charged at (sched.c,
 * charge_turn). Its CPU time so far is cpu_raw plus the clock since. */
extern uint64_t sched_switch_raw;
/* `sched stats on|off` (<webscale/sched.h>): the one test on the switch
 * path. A byte: GCC compares a byte in memory with 0 directly, where it
 * loads an int into a register first (one instruction less a switch). */
extern uint8_t sched_stats_on;

/* How long the running thread was off the CPU since it last blocked, in
 * PIT input clocks: from the two timestamps its switches took, no clock
 * read. Right after a wait, that is the time it waited (and then sat on
 * the run queue).
 * With stats off it is 0, with no test of sched_stats_on: turning them
 * off stamps every thread with the clock sched_switch_raw then stands
 * at, and a thread started while they are off is stamped so too
 * (sched_start). A wait that began before they were last turned on
 * counts from then (thread_stamp_off_cpu). */
static inline uint64_t sched_off_cpu_raw(void)
{
    return sched_switch_raw - current->off_cpu_raw;
}

/* t's CPU time in ns, the running thread's current turn included. */
uint64_t sched_cpu_ns(const struct thread *t);

/* Put current to sleep on q (interrupts off); returns after a wake. */
void waitq_sleep(struct waitq *q);
/* The wait of a mutex, semaphore, condition variable or message queue
 * (interrupts off): waitq_sleep(q), counted in st (one contended
 * operation, and the time asleep from the switches' stamps,
 * sched_off_cpu_raw). The bodies of sem_down and mutex_lock end in it,
 * so their wait is a jump here (a sibling call: arguments in registers,
 * regparm) and one function frame down to the switch, not two; a
 * backtrace of their waiter shows it called from sem_down or mutex_lock
 * (switch.S), and those from their caller. */
void waitq_sleep_counted(struct waitq *q, struct sync_stats *st)
    __attribute__((regparm(2)));
/* The same, until deadline_ns (clock_ns time; TIME_NEVER for none), and if
 * interruptible until thread_interrupt. Interrupts off. Returns 0 (woken
 * on q), -E_TIMEDOUT or -E_INTR (at once if an interrupt is pending). */
int waitq_wait(struct waitq *q, uint64_t deadline_ns, int interruptible);
/* The run queue, FIFO. Its first thread is always in runq_next, outside
 * the list (NULL only when nobody is ready), and the rest are on runq, in
 * order behind it; runq_len counts both. So with one thread ready (a
 * semaphore's waiter handed its unit, a yield's partner) the list stays
 * empty, runq_len == 1 says so in one compare, and a yield simply swaps
 * the yielder into runq_next. Only sched.c and the inline wake below
 * touch them. */
extern struct thread *runq_next;
extern struct list runq;
extern uint32_t runq_len;

/* Every way onto the run queue: a thread that ran (yield, preempt), that
 * waited (wake), or that is new. The idle thread is never queued.
 * Interrupts off: each caller turned them off or asserts it. */
static inline void runq_push(struct thread *t)
{
    ASSERT(t != idle_thread);
    ASSERT(!list_node_linked(&t->link) && t != runq_next);   /* not queued already */
    t->state = THREAD_READY;
    runq_len++;
    if (__builtin_expect(!runq_next, 1))   /* an empty queue: t is its first (a handoff) */
        runq_next = t;
    else
        list_push_back(&runq, &t->link);
}

/* The end of every wake, once t is off its queue and the sleep list: it
 * is ready. If the CPU idles, the IRQ tail or the idle loop switches to
 * it. Interrupts off. */
static inline void ready_after_untimed_wait(struct thread *t)
{
    t->wait_on = NULL;
    runq_push(t);
    if (current == idle_thread)
        need_resched = RESCHED;
}

/* The same for a wait that may end in more than one way (block, in
 * sched.c): it returns result. An untimed wait has but one end, and
 * nobody reads its wait_result. */
static inline void ready_after_wait(struct thread *t, int result)
{
    t->wait_result = (int8_t)result;
    ready_after_untimed_wait(t);
}

/* The first waiter, without waking it (interrupts off). */
static inline struct thread *waitq_first(struct waitq *q)
{
    ASSERT_IRQS_OFF();
    /* list_empty, not list_first: container_of(NULL) would need a second
     * test for NULL. */
    if (list_empty(&q->waiters))
        return NULL;
    return container_of(q->waiters.head.next, struct thread, link);
}

/* Wake the first waiter (interrupts off); returns how many, 0 or 1.
 * Inline: every mutex, semaphore and message queue release calls it, and
 * the semaphore round trip is benchmarked. may_be_timed 0 is for a queue
 * whose waiters never have a deadline (those of the sync objects, which
 * wait in waitq_sleep_counted): no sleep list to take the waiter off, its
 * wait_flags are 0 already, and its wait returns nothing. */
static inline __attribute__((always_inline)) int waitq_wake_first(struct waitq *q, int may_be_timed)
{
    ASSERT_IRQS_OFF();
    if (list_empty(&q->waiters))
        return 0;
    struct thread *t = container_of(list_take_first(&q->waiters), struct thread, link);
    ASSERT(t->magic == THREAD_MAGIC && t->state == THREAD_BLOCKED);
    if (may_be_timed) {
        if (t->wait_flags & WAIT_TIMED)
            list_remove(&t->timer_link);
        t->wait_flags = 0;
        ready_after_wait(t, 0);
    } else {
        ASSERT(t->wait_flags == 0);
        ready_after_untimed_wait(t);
    }
    return 1;
}

static inline int waitq_wake_one(struct waitq *q) { return waitq_wake_first(q, 1); }
/* The same for the queues of mutexes, semaphores, condition variables and
 * message queues: their waiters never wait with a deadline or for an
 * interrupt (waitq_sleep_counted), so three instructions fewer. */
static inline int waitq_wake_untimed(struct waitq *q) { return waitq_wake_first(q, 0); }
/* Wake all waiters (interrupts off); returns how many. */
int waitq_wake_all(struct waitq *q);
/* Move the first waiter of from to the end of to, still blocked, now
 * waiting on what (interrupts off). Returns 1, or 0 if from was empty. */
int waitq_requeue_one(struct waitq *from, struct waitq *to, const char *what);

/* End the running thread with THREAD_KILLED, after its report was printed. */
void thread_kill_current(void) __attribute__((noreturn));
/* The thread whose stack's guard page (the unmapped page below it) holds
 * addr, or NULL. Interrupts off. */
struct thread *thread_by_guard(uint32_t addr);
/* Lowest and highest address of a thread's stack, for backtraces. */
void thread_stack_bounds(const struct thread *t, uint32_t *lo, uint32_t *hi);
uint32_t thread_stack_used(const struct thread *t);
void thread_init_idle(void);
/* Set every thread's off_cpu_raw to raw: `sched stats on` starts their
 * wait times afresh, `sched stats off` stops them (sched_off_cpu_raw).
 * Interrupts off. */
void thread_stamp_off_cpu(uint64_t raw);
/* Free what a dead thread no longer needs (its stack; all of it if
 * detached). Called right after switching away from it. */
void thread_reap(struct thread *t);
/* The first thing a thread does when it gets the CPU back. */
void sched_finish_switch(void);
/* The switch away from a thread that ended (switch.S): onto next's stack
 * (load, its saved context), thread_reap(dead) there, then resume next as
 * switch_context would. */
void switch_from_dead(struct thread *dead, struct context *load)
    __attribute__((regparm(2), noreturn));

/* A new thread's stack, made to look like one that paused inside
 * switch_context: see thread.c. */
struct context *thread_initial_context(uint8_t *stack_top, thread_fn fn, void *arg);

#endif
