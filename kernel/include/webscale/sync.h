/* Blocking synchronisation for threads: wait queues, event counts, mutexes,
 * counting semaphores, condition variables and bounded message queues.
 *
 * Waiters sleep (they do not spin) and are woken in FIFO order. On one core
 * every operation is made atomic by turning interrupts off for its few
 * instructions, so they are safe against preemption and against interrupt
 * handlers, which may use only the calls marked IRQ-safe below: sem_up,
 * sem_trydown, cond_signal, cond_broadcast, mq_trysend, mq_tryrecv,
 * event_signal. Not the
 * mutex: it has an owner, and a handler would make the interrupted thread
 * own it. Each object counts how often it was contended. */
#ifndef WEBSCALE_SYNC_H
#define WEBSCALE_SYNC_H

#include <stdint.h>
#include <webscale/list.h>
#include <webscale/thread.h>

struct waitq {
    struct list waiters;
    const char *name;        /* shown in ps as what a thread waits on */
};

#define WAITQ_INIT(q, n) { LIST_INIT((q).waiters), (n) }

void waitq_init(struct waitq *q, const char *name);

/* An event count: "something happened" for waiters that test their own
 * condition. The waiter reads the count, tests the condition, and if it is
 * not met sleeps until the count differs from what it read; the side that
 * changes the condition signals. A signal between the read and the sleep
 * is never lost: the count already differs, so the wait returns at once.
 * Every waiter wakes on every signal and tests again (like a condition
 * variable's broadcast, with no mutex: the count is the memory). */
struct event {
    volatile uint32_t count;
    struct waitq q;
};

#define EVENT_INIT(e, n) { 0, WAITQ_INIT((e).q, n) }

void event_init(struct event *e, const char *name);
static inline uint32_t event_count(const struct event *e) { return e->count; }
/* Count one more event and wake every waiter. IRQ-safe. */
void event_signal(struct event *e);
/* Sleep until the count is not seen; not interruptible, no deadline. */
void event_wait(struct event *e, uint32_t seen);
/* The same until deadline_ns (clock_ns time, TIME_NEVER for none), and
 * interruptible (thread_interrupt, so Ctrl-C on the shell): 0 once the
 * count differs, -E_TIMEDOUT at the deadline, -E_INTR. */
int event_wait_until(struct event *e, uint32_t seen, uint64_t deadline_ns);

struct sync_stats {
    uint32_t ops;            /* acquisitions / downs / waits / sends */
    uint32_t contended;      /* how many of those had to sleep */
    uint64_t wait_raw;       /* time spent asleep in total, PIT input clocks (838 ns) */
};

/* The time spent asleep in total, in ns. */
uint64_t sync_wait_ns(const struct sync_stats *st);

struct mutex {
    thread_t *owner;
    struct waitq q;
    struct sync_stats stats;
};

void mutex_init(struct mutex *m, const char *name);
/* The mutex's and the semaphore's hot calls take their object in a
 * register (regparm(1)): one instruction fewer at each end of every call,
 * on the paths make bench times. They are in kernel/switch.S, around
 * bodies in kernel/sync.c. */
#define SYNC_FAST __attribute__((regparm(1)))
void mutex_lock(struct mutex *m) SYNC_FAST;
int mutex_trylock(struct mutex *m);   /* 0 or -E_WOULDBLOCK; threads only */
void mutex_unlock(struct mutex *m) SYNC_FAST;   /* hands the lock to the first waiter */
int mutex_held(const struct mutex *m);

struct semaphore {
    int32_t count;
    struct waitq q;
    struct sync_stats stats;
};

void sem_init(struct semaphore *s, int32_t count, const char *name);
void sem_down(struct semaphore *s) SYNC_FAST;
int sem_trydown(struct semaphore *s); /* 0 or -E_WOULDBLOCK; IRQ-safe */
void sem_up(struct semaphore *s) SYNC_FAST;     /* IRQ-safe */

struct condvar {
    struct waitq q;
    struct mutex *mutex;     /* the one its waiters wait with (set by cond_wait) */
    struct sync_stats stats;
};

void cond_init(struct condvar *c, const char *name);
/* Atomically release m and sleep; m is held again on return. */
void cond_wait(struct condvar *c, struct mutex *m);
/* Wake the longest waiter; IRQ-safe. While its mutex is held (by the
 * signaller, usually), the waiter is not woken only to block on the mutex:
 * it moves to the end of the mutex's queue, and mutex_unlock hands it the
 * mutex. */
void cond_signal(struct condvar *c);
void cond_broadcast(struct condvar *c); /* the same for every waiter; IRQ-safe */

/* A bounded FIFO of fixed-size messages in a buffer the caller provides
 * (capacity * msg_size bytes). */
struct msgqueue {
    uint8_t *buf;
    uint32_t msg_size, capacity;
    uint32_t head, count;
    struct waitq not_empty, not_full;
    struct sync_stats stats;
};

int mq_init(struct msgqueue *q, void *buf, uint32_t msg_size, uint32_t capacity,
            const char *name);
void mq_send(struct msgqueue *q, const void *msg);   /* sleeps while full */
void mq_recv(struct msgqueue *q, void *msg);         /* sleeps while empty */
int mq_trysend(struct msgqueue *q, const void *msg); /* 0 or -E_WOULDBLOCK; IRQ-safe */
int mq_tryrecv(struct msgqueue *q, void *msg);       /* 0 or -E_WOULDBLOCK; IRQ-safe */

#endif
