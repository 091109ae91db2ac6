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
#include "kernel/context.h"

#define THREAD_MAGIC 0x7EADC0DEu     /* in every live struct thread */
#define STACK_SENTINEL 0x5AFE57ACu   /* the lowest word of every stack */
#define STACK_FILL 0xCD              /* unused stack bytes, for the high-water mark */

enum thread_state {
    THREAD_RUNNING,
    THREAD_READY,       /* on the run queue */
    THREAD_BLOCKED,     /* on some wait queue */
    THREAD_SLEEPING,    /* on the sleep list until tick wake_tick */
    THREAD_DEAD,        /* ended; waiting to be joined */
};

struct thread {
    struct context *ctx;        /* saved stack pointer while not running */
    uint32_t magic;
    struct list_node link;      /* run queue, a wait queue, or the sleep list */
    uint8_t state;              /* enum thread_state */
    uint8_t flags;              /* enum thread_flags */
    uint16_t pad;
    int id;
    char name[THREAD_NAME_MAX];
    uint8_t *stack;             /* lowest address; holds the sentinel */
    uint32_t stack_size;
    const char *wait_on;        /* what a blocked thread waits for */
    uint64_t cpu_ns;
    uint64_t wake_tick;         /* while sleeping: the PIT tick that wakes it */
    uint32_t voluntary, involuntary;
    int exit_code;
    struct waitq joiners;
    struct list_node all;       /* every thread, for ps */
};

extern struct thread *current;
extern struct thread *idle_thread;
extern volatile int need_resched;

void sched_init(void);
/* Become the idle thread: give the CPU to any ready thread, else halt
 * until the next interrupt. Never returns. */
void sched_idle(void) __attribute__((noreturn));
/* The PIT calls this every tick, from its IRQ handler. */
void sched_tick(uint64_t tick);
/* The IRQ tail calls this when need_resched is set. */
void sched_preempt(void);
/* Give up the CPU. Interrupts off; current->state already says why and,
 * if READY, current is already on the run queue. */
void schedule(enum switch_reason why);
/* Make a blocked or sleeping thread runnable. Interrupts off. */
void sched_wake(struct thread *t);
/* True when the caller may sleep: a thread, not an IRQ handler, and the
 * scheduler is running. */
int sched_can_sleep(void);
/* Nonzero while the scheduler itself runs (an exception there panics). */
extern volatile int sched_busy;
/* How long the running thread has held the CPU in its current turn. */
uint64_t sched_running_ns(void);

/* Put current to sleep on q (interrupts off); returns after a wake. */
void waitq_sleep(struct waitq *q);
/* Wake the first waiter / all waiters (interrupts off). Return how many. */
int waitq_wake_one(struct waitq *q);
int waitq_wake_all(struct waitq *q);
/* The first waiter, without waking it (interrupts off). */
struct thread *waitq_first(struct waitq *q);

/* End the running thread with THREAD_KILLED, after its report was printed. */
void thread_kill_current(void) __attribute__((noreturn));
/* Lowest and highest address of a thread's stack, for backtraces. */
void thread_stack_bounds(const struct thread *t, uint32_t *lo, uint32_t *hi);
uint32_t thread_stack_used(const struct thread *t);
void thread_init_idle(void);
/* Free what a dead thread no longer needs (its stack; all of it if
 * detached). Called right after switching away from it. */
void thread_reap(struct thread *t);
/* The first thing a thread does when it gets the CPU back. */
void sched_finish_switch(void);

/* A new thread's stack, made to look like one that paused inside
 * switch_context: see thread.c. */
struct context *thread_initial_context(uint8_t *stack_top, thread_fn fn, void *arg);

#endif
