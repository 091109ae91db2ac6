/* Event count, mutex, semaphore, condition variable and message queue,
 * built on wait queues (sched.c).
 *
 * On one core, turning interrupts off makes a short sequence atomic: no
 * timer can preempt it and no handler can run in the middle. Each
 * operation does that for a few instructions, never while it sleeps:
 * the wait (waitq_sleep_counted) switches to another thread, which runs
 * with its own interrupt state. The mutex's and the semaphore's four
 * calls are in kernel/switch.S: each saves EFLAGS with pushfl, turns
 * interrupts off, calls its body here (sem_up_irqs_off, ...), and puts
 * EFLAGS back with popfl, so no C frame holds them (the semaphore round
 * trip is benchmarked).
 *
 * Wake-ups are FIFO, and the mutex and semaphore hand the resource
 * directly to the first waiter, so a thread that just released cannot
 * take it back before the waiter runs (no barging, no starvation). With
 * nothing else ready, the waiter becomes the run queue's next thread
 * (runq_next, sched.c), and the waker's next switch goes to it at once,
 * without the run queue's list. */
#include <webscale/errno.h>
#include <webscale/string.h>
#include <webscale/system.h>
#include "kernel/clock.h"
#include "kernel/sched.h"
#include "kernel/trap.h"
#include "kernel/x86.h"

uint64_t sync_wait_ns(const struct sync_stats *st)
{
    uint32_t f = irq_save();
    uint64_t raw = st->wait_raw;
    irq_restore(f);
    return clock_raw_to_ns(raw);
}

/* ---- event count ---- */

void event_init(struct event *e, const char *name)
{
    e->count = 0;
    waitq_init(&e->q, name);
}

void event_signal(struct event *e)
{
    uint32_t f = irq_save();
    e->count++;
    waitq_wake_all(&e->q);
    irq_restore(f);
}

void event_wait(struct event *e, uint32_t seen)
{
    uint32_t f = irq_save();
    while (e->count == seen)
        waitq_sleep(&e->q);
    irq_restore(f);
}

int event_wait_until(struct event *e, uint32_t seen, uint64_t deadline_ns)
{
    int r = 0;
    uint32_t f = irq_save();
    while (r == 0 && e->count == seen)
        r = waitq_wait(&e->q, deadline_ns, 1);
    irq_restore(f);
    return e->count != seen ? 0 : r;
}

/* ---- mutex ---- */

void mutex_init(struct mutex *m, const char *name)
{
    m->owner = NULL;
    waitq_init(&m->q, name);
    memset(&m->stats, 0, sizeof m->stats);
}

void SYNC_FAST mutex_lock_irqs_off(struct mutex *m)
{
    m->stats.ops++;
    if (m->owner == current)
        panic("mutex '%s': locked twice by thread '%s'", m->q.name, current->name);
    if (m->owner) {
        /* mutex_unlock makes us the owner. */
        waitq_sleep_counted(&m->q, &m->stats);
        return;
    }
    m->owner = current;
}

int mutex_trylock(struct mutex *m)
{
    int r = -E_WOULDBLOCK;
    if (irq_nesting)
        panic("mutex '%s': mutex_trylock in an IRQ handler would make thread '%s' the owner",
              m->q.name, current->name);
    uint32_t f = irq_save();
    if (!m->owner) {
        m->owner = current;
        m->stats.ops++;
        r = 0;
    }
    irq_restore(f);
    return r;
}

void SYNC_FAST mutex_unlock_irqs_off(struct mutex *m)
{
    if (m->owner != current)
        panic("mutex '%s': unlocked by '%s' but owned by '%s'", m->q.name,
              current->name, m->owner ? m->owner->name : "nobody");
    m->owner = waitq_first(&m->q);
    waitq_wake_untimed(&m->q);
}

int mutex_held(const struct mutex *m) { return m->owner == current; }

/* ---- counting semaphore ---- */

void sem_init(struct semaphore *s, int32_t count, const char *name)
{
    s->count = count;
    waitq_init(&s->q, name);
    memset(&s->stats, 0, sizeof s->stats);
}

void SYNC_FAST sem_down_irqs_off(struct semaphore *s)
{
    s->stats.ops++;
    if (s->count <= 0) {
        waitq_sleep_counted(&s->q, &s->stats);   /* sem_up hands us its unit */
        return;
    }
    s->count--;
}

int sem_trydown(struct semaphore *s)
{
    int r = -E_WOULDBLOCK;
    uint32_t f = irq_save();
    if (s->count > 0) {
        s->count--;
        s->stats.ops++;
        r = 0;
    }
    irq_restore(f);
    return r;
}

void SYNC_FAST sem_up_irqs_off(struct semaphore *s)
{
    if (!waitq_wake_untimed(&s->q))
        s->count++;
}

/* ---- condition variable ---- */

void cond_init(struct condvar *c, const char *name)
{
    waitq_init(&c->q, name);
    c->mutex = NULL;
    memset(&c->stats, 0, sizeof c->stats);
}

void cond_wait(struct condvar *c, struct mutex *m)
{
    uint32_t f = irq_save();
    c->stats.ops++;
    /* Interrupts stay off from the unlock until we are on c's queue, so a
     * signal between the two cannot be lost. */
    mutex_unlock(m);
    c->mutex = m;
    waitq_sleep_counted(&c->q, &c->stats);
    /* Signalled while m was held, we were moved to m's queue, and
     * mutex_unlock has made us the owner already (cond_signal). */
    if (m->owner != current)
        mutex_lock(m);
    irq_restore(f);
}

/* Hand the longest waiter on, to the mutex's queue if it is held, or
 * wake it. Returns 0 if there was none. Interrupts off. */
static int cond_pass_one(struct condvar *c)
{
    struct mutex *m = c->mutex;
    if (m && m->owner && waitq_requeue_one(&c->q, &m->q, m->q.name)) {
        /* It acquires m by waiting for it: count that as mutex_lock would. */
        m->stats.ops++;
        m->stats.contended++;
        return 1;
    }
    return waitq_wake_untimed(&c->q);
}

void cond_signal(struct condvar *c)
{
    uint32_t f = irq_save();
    cond_pass_one(c);
    irq_restore(f);
}

void cond_broadcast(struct condvar *c)
{
    uint32_t f = irq_save();
    while (cond_pass_one(c))
        ;
    irq_restore(f);
}

/* ---- bounded message queue ---- */

int mq_init(struct msgqueue *q, void *buf, uint32_t msg_size, uint32_t capacity,
            const char *name)
{
    if (!buf || msg_size == 0 || capacity == 0)
        return -E_INVAL;
    q->buf = buf;
    q->msg_size = msg_size;
    q->capacity = capacity;
    q->head = q->count = 0;
    waitq_init(&q->not_empty, name);
    waitq_init(&q->not_full, name);
    memset(&q->stats, 0, sizeof q->stats);
    return 0;
}

static void mq_put(struct msgqueue *q, const void *msg)
{
    uint32_t slot = (q->head + q->count) % q->capacity;
    memcpy(q->buf + slot * q->msg_size, msg, q->msg_size);
    q->count++;
    q->stats.ops++;
    waitq_wake_untimed(&q->not_empty);
}

static void mq_take(struct msgqueue *q, void *msg)
{
    memcpy(msg, q->buf + q->head * q->msg_size, q->msg_size);
    q->head = (q->head + 1) % q->capacity;
    q->count--;
    waitq_wake_untimed(&q->not_full);
}

void mq_send(struct msgqueue *q, const void *msg)
{
    uint32_t f = irq_save();
    while (q->count == q->capacity)
        waitq_sleep_counted(&q->not_full, &q->stats);
    mq_put(q, msg);
    irq_restore(f);
}

void mq_recv(struct msgqueue *q, void *msg)
{
    uint32_t f = irq_save();
    while (q->count == 0)
        waitq_sleep_counted(&q->not_empty, &q->stats);
    mq_take(q, msg);
    irq_restore(f);
}

int mq_trysend(struct msgqueue *q, const void *msg)
{
    int r = -E_WOULDBLOCK;
    uint32_t f = irq_save();
    if (q->count < q->capacity) {
        mq_put(q, msg);
        r = 0;
    }
    irq_restore(f);
    return r;
}

int mq_tryrecv(struct msgqueue *q, void *msg)
{
    int r = -E_WOULDBLOCK;
    uint32_t f = irq_save();
    if (q->count > 0) {
        mq_take(q, msg);
        r = 0;
    }
    irq_restore(f);
    return r;
}
