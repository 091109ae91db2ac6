/* Bridges between threads and the loop: loop_call_and_wait (a thread has
 * the loop run a function and sleeps until it has), and the worker pool
 * (libuv's uv_queue_work: CPU-bound work on a worker thread, then its done
 * callback in the loop). Both arrive in the loop as a struct loop_call on
 * one FIFO, run in the CALLS phase. */
#include <webscale/errno.h>
#include <webscale/kprintf.h>
#include <webscale/system.h>
#include "kernel/loop/loop_internal.h"
#include "kernel/x86.h"

/* Something a thread hands to the loop: finished work, or a call. */
struct loop_call {
    struct list_node link;
    loop_fn fn;
    void *arg;
    const char *name;
    loop_fn work;               /* for the worker pool: runs first, on a worker */
    volatile int done;          /* call_and_wait: the loop has run fn */
    struct waitq *waiter;       /* call_and_wait: who sleeps until done */
};

static struct {
    struct list calls;          /* for the loop, FIFO */
    uint32_t ncalls;
    struct list work;           /* for the workers, FIFO */
    uint32_t nwork;
    struct semaphore work_sem;
    int workers_started;
} work = {
    .calls = LIST_INIT(work.calls),
    .work = LIST_INIT(work.work),
};

static void push_call(struct loop_call *c)
{
    uint32_t f = irq_save();
    list_push_back(&work.calls, &c->link);
    work.ncalls++;
    loop_wake();
    irq_restore(f);
}

uint32_t loop_calls_queued(void) { return work.ncalls; }
uint32_t loop_work_pending(void) { return work.nwork; }

int loop_run_calls(void)
{
    ASSERT(loop_core.phase == LOOP_CALLS);
    uint32_t f = irq_save();
    uint32_t n = work.ncalls;
    irq_restore(f);
    for (uint32_t i = 0; i < n; i++) {
        f = irq_save();
        struct list_node *node = list_pop_front(&work.calls);
        work.ncalls--;
        irq_restore(f);
        struct loop_call *c = container_of(node, struct loop_call, link);
        loop_run_cb(c->name, c->fn, c->arg);
        if (c->waiter) {
            f = irq_save();
            c->done = 1;
            waitq_wake_all(c->waiter);
            irq_restore(f);
        } else {
            kfree(c);      /* a worker's item: its done callback has run */
        }
    }
    return (int)n;
}

int loop_call_and_wait_named(const char *name, loop_fn fn, void *arg)
{
    if (!sched_can_sleep())
        return -E_INVAL;
    if (loop_core.owner == current) {
        fn(arg);
        return 0;
    }
    if (!loop_core.owner)
        return -E_NOENT;
    struct waitq q;
    waitq_init(&q, "loop: call");
    struct loop_call c = { .fn = fn, .arg = arg, .name = name, .waiter = &q };
    push_call(&c);
    uint32_t f = irq_save();
    while (!c.done)
        waitq_sleep(&q);
    irq_restore(f);
    return 0;
}

/* ---- the worker pool ---- */

static void worker_main(void *arg)
{
    for (;;) {
        sem_down(&work.work_sem);
        uint32_t f = irq_save();
        struct list_node *node = list_pop_front(&work.work);
        work.nwork--;
        irq_restore(f);
        struct loop_call *c = container_of(node, struct loop_call, link);
        c->work(c->arg);
        push_call(c);
    }
}

static int start_workers(void)
{
    uint32_t f = irq_save();
    int started = work.workers_started;
    work.workers_started = 1;
    irq_restore(f);
    if (started)
        return 0;
    sem_init(&work.work_sem, 0, "loop: no work");
    for (int i = 0; i < LOOP_WORKERS; i++) {
        char name[THREAD_NAME_MAX];
        ksnprintf(name, sizeof name, "worker%d", i + 1);
        if (!thread_create_ex(name, worker_main, NULL, THREAD_STACK_DEFAULT, THREAD_DETACHED)) {
            work.workers_started = i > 0;
            return -E_NOMEM;
        }
    }
    return 0;
}

int loop_submit_work_named(const char *name, loop_fn fn, void *arg, loop_fn done)
{
    if (!fn || !done)
        return -E_INVAL;
    if (start_workers() < 0)
        return -E_NOMEM;
    struct loop_call *c = kzalloc(sizeof *c);
    if (!c)
        return -E_NOMEM;
    c->work = fn;
    c->fn = done;
    c->arg = arg;
    c->name = name;
    uint32_t f = irq_save();
    list_push_back(&work.work, &c->link);
    work.nwork++;
    irq_restore(f);
    sem_up(&work.work_sem);
    return 0;
}
