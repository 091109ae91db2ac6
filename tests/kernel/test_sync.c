/* Mutex, semaphore, condition variable, message queue: correctness under
 * preemption and FIFO wake-up order. */
#include <webscale/errno.h>
#include <webscale/sched.h>
#include <webscale/string.h>
#include <webscale/sync.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "kernel/ktest.h"
#include "kernel/sched.h"
#include "kernel/trace.h"
#include "kernel/x86.h"
#include "tests/kernel/util.h"

#define WORKERS 4
/* Each worker must run longer than a 1 ms slice (several of them), or it
 * may finish inside its first slice and never meet a held lock: with
 * 3000 rounds a worker took about 0.75 ms under icount. */
#define ROUNDS 12000

static volatile uint32_t shared;
static struct mutex counter_lock;
static int use_lock;

/* A read-modify-write stretched out so that preemption lands inside it. */
static void add_slowly(void *arg)
{
    for (int i = 0; i < ROUNDS; i++) {
        if (use_lock)
            mutex_lock(&counter_lock);
        uint32_t v = shared;
        for (volatile int d = 0; d < 50; d++)
            ;
        shared = v + 1;
        if (use_lock)
            mutex_unlock(&counter_lock);
    }
}

static uint32_t run_adders(int lock)
{
    thread_t *t[WORKERS];
    shared = 0;
    use_lock = lock;
    sched_set_slice_ms(1);     /* many preemptions */
    for (int i = 0; i < WORKERS; i++)
        t[i] = thread_create("adder", add_slowly, NULL);
    for (int i = 0; i < WORKERS; i++)
        thread_join(t[i]);
    sched_set_slice_ms(SCHED_SLICE_MS_DEFAULT);
    return shared;
}

/* Without the lock, preemption inside the critical section loses updates
 * (this proves the test can fail); with it, the count is exact. */
static void test_mutex_keeps_counter_exact(void)
{
    mutex_init(&counter_lock, "counter");
    uint32_t unlocked = run_adders(0);
    KT_ASSERT(unlocked < WORKERS * ROUNDS);
    KT_ASSERT_EQ(run_adders(1), WORKERS * ROUNDS);
    KT_ASSERT_EQ(counter_lock.stats.ops, WORKERS * ROUNDS);
    KT_ASSERT(counter_lock.stats.contended > 0);
    KT_ASSERT(sync_wait_ns(&counter_lock.stats) > 0);
    KT_ASSERT(counter_lock.owner == NULL);
}

/* Waiters are queued one by one, in a known order, then released. */
static char order[8];
static volatile int order_pos;

struct waiter {
    char name;
    void (*wait)(void);
};

static void record_after(void *arg)
{
    struct waiter *w = arg;
    w->wait();
    order[order_pos++] = w->name;
}

static void spawn_waiters(struct waiter *w, int n, thread_t **t)
{
    memset(order, 0, sizeof order);
    order_pos = 0;
    for (int i = 0; i < n; i++) {
        t[i] = thread_create("waiter", record_after, &w[i]);
        thread_sleep_ms(2);    /* let it block before the next one comes */
    }
}

static struct semaphore sem;
static void sem_wait_fn(void) { sem_down(&sem); }

static void test_semaphore_fifo(void)
{
    struct waiter w[3] = { { 'A', sem_wait_fn }, { 'B', sem_wait_fn }, { 'C', sem_wait_fn } };
    thread_t *t[3];
    sem_init(&sem, 0, "test sem");
    KT_ASSERT_EQ(sem_trydown(&sem), -E_WOULDBLOCK);
    spawn_waiters(w, 3, t);
    KT_ASSERT_EQ(order_pos, 0);
    for (int i = 0; i < 3; i++) {
        sem_up(&sem);
        thread_sleep_ms(1);
    }
    for (int i = 0; i < 3; i++)
        thread_join(t[i]);
    KT_ASSERT(strcmp(order, "ABC") == 0);
    KT_ASSERT_EQ(sem.count, 0);
    sem_up(&sem);
    KT_ASSERT_EQ(sem_trydown(&sem), 0);
    KT_ASSERT_EQ(sem.stats.contended, 3);
}

/* The wait time a semaphore counts comes from the switch's own timestamps
 * (out at the block, back in after the wake): it matches what the waiter
 * reads on the clock around its sem_down, to a few microseconds. */
static volatile uint64_t down_before, down_after;
static void timed_down(void *arg)
{
    down_before = clock_ns();
    sem_down(&sem);
    down_after = clock_ns();
}

static void test_semaphore_wait_time(void)
{
    sem_init(&sem, 0, "timed sem");
    thread_t *t = thread_create("timed", timed_down, NULL);
    KT_ASSERT(t);
    thread_sleep_ms(20);
    sem_up(&sem);
    thread_join(t);
    uint64_t seen = down_after - down_before, counted = sync_wait_ns(&sem.stats);
    KT_ASSERT_EQ(sem.stats.contended, 1);
    KT_ASSERT(seen > 15 * NS_PER_MS);
    KT_ASSERT_RANGE(counted, seen - 20 * NS_PER_US, seen);
}

/* With `sched stats off` a wait counts nothing, nor does the part of one
 * before they were turned off; turned on during a wait, it counts from
 * then. sched_off_cpu_raw tests no flag for it: while off, every thread's
 * stamp stands at the clock sched_switch_raw stands at. */
static void test_semaphore_wait_time_stats_off(void)
{
    sem_init(&sem, 0, "stats-off sem");
    int was_on = sched_stats();

    /* Started, blocked and woken with them off. */
    sched_set_stats(0);
    thread_t *t = thread_create("timed", timed_down, NULL);
    KT_ASSERT(t);
    thread_sleep_ms(5);
    sem_up(&sem);
    thread_join(t);
    KT_ASSERT_EQ(sem.stats.contended, 1);
    KT_ASSERT_EQ(sem.stats.wait_raw, 0);

    /* Blocked with them on, turned off during the wait. */
    sched_set_stats(1);
    t = thread_create("timed", timed_down, NULL);
    KT_ASSERT(t);
    thread_sleep_ms(5);
    sched_set_stats(0);
    thread_sleep_ms(5);
    sem_up(&sem);
    thread_join(t);
    KT_ASSERT_EQ(sem.stats.contended, 2);
    KT_ASSERT_EQ(sem.stats.wait_raw, 0);

    /* Blocked with them off, turned on during the wait: from then. */
    t = thread_create("timed", timed_down, NULL);
    KT_ASSERT(t);
    thread_sleep_ms(5);
    uint64_t on_at = clock_ns();
    sched_set_stats(1);
    thread_sleep_ms(10);
    sem_up(&sem);
    thread_join(t);
    uint64_t since_on = down_after - on_at, counted = sync_wait_ns(&sem.stats);
    sched_set_stats(was_on);
    KT_ASSERT_EQ(sem.stats.contended, 3);
    KT_ASSERT(since_on > 8 * NS_PER_MS);
    KT_ASSERT_RANGE(counted, since_on - 20 * NS_PER_US, since_on);
}

static struct mutex cv_lock;
static struct condvar cv;
static volatile int cv_go;

static void cv_wait_fn(void)
{
    mutex_lock(&cv_lock);
    while (!cv_go)
        cond_wait(&cv, &cv_lock);
    cv_go--;
    mutex_unlock(&cv_lock);
}

static void test_condvar_fifo(void)
{
    struct waiter w[3] = { { 'X', cv_wait_fn }, { 'Y', cv_wait_fn }, { 'Z', cv_wait_fn } };
    thread_t *t[3];
    mutex_init(&cv_lock, "cv lock");
    cond_init(&cv, "test cv");
    cv_go = 0;
    spawn_waiters(w, 3, t);
    for (int i = 0; i < 3; i++) {
        mutex_lock(&cv_lock);
        cv_go++;
        cond_signal(&cv);
        mutex_unlock(&cv_lock);
        thread_sleep_ms(1);
    }
    for (int i = 0; i < 3; i++)
        thread_join(t[i]);
    KT_ASSERT(strcmp(order, "XYZ") == 0);

    /* broadcast wakes every waiter */
    cv_go = 0;
    spawn_waiters(w, 3, t);
    mutex_lock(&cv_lock);
    cv_go = 3;
    cond_broadcast(&cv);
    mutex_unlock(&cv_lock);
    for (int i = 0; i < 3; i++)
        thread_join(t[i]);
    KT_ASSERT_EQ(order_pos, 3);
}

static struct mutex handoff;

/* Records its name while it holds the mutex, so that the order is the
 * order of ownership even when the PIT preempts between unlock and record. */
static void record_inside(void *arg)
{
    struct waiter *w = arg;
    mutex_lock(&handoff);
    order[order_pos++] = w->name;
    mutex_unlock(&handoff);
}
static void mutex_wait_fn(void)
{
    mutex_lock(&handoff);
    mutex_unlock(&handoff);
}

/* The mutex is handed to the longest waiter: no barging. */
static void test_mutex_fifo_handoff(void)
{
    struct waiter w[3] = { { '1', mutex_wait_fn }, { '2', mutex_wait_fn }, { '3', mutex_wait_fn } };
    thread_t *t[3];
    mutex_init(&handoff, "handoff");
    mutex_lock(&handoff);
    spawn_waiters(w, 3, t);
    mutex_unlock(&handoff);
    /* We released it; the first waiter owns it now, so we cannot retake it. */
    KT_ASSERT_EQ(mutex_trylock(&handoff), -E_WOULDBLOCK);
    for (int i = 0; i < 3; i++)
        thread_join(t[i]);
    KT_ASSERT(strcmp(order, "123") == 0);
    KT_ASSERT_EQ(mutex_trylock(&handoff), 0);
    mutex_unlock(&handoff);
}

/* ---- handoff and FIFO order while the PIT preempts everyone ---- */

static volatile int spin_stop;
static void spin_until_stop(void *arg)
{
    while (!spin_stop)
        ;
}

/* Like spawn_waiters, but each waiter is seen blocked before the next one
 * starts: with spinners taking 1 ms slices, a fixed sleep would not do. */
static void spawn_blocked_fn(struct waiter *w, int n, thread_t **t, thread_fn fn)
{
    memset(order, 0, sizeof order);
    order_pos = 0;
    for (int i = 0; i < n; i++) {
        t[i] = thread_create("waiter", fn, &w[i]);
        KT_ASSERT(t[i]);
        struct thread_info info;
        for (int ms = 0; kt_thread_info(thread_id(t[i]), &info) == 0 &&
                         strcmp(info.state, "blocked") != 0; ms++) {
            KT_ASSERT(ms < 200);
            thread_sleep_ms(1);
        }
    }
}

static void spawn_blocked(struct waiter *w, int n, thread_t **t)
{
    spawn_blocked_fn(w, n, t, record_after);
}

static void test_handoff_under_preemption(void)
{
    thread_t *spin[2], *t[5];
    spin_stop = 0;
    sched_set_slice_ms(1);
    for (int i = 0; i < 2; i++)
        spin[i] = thread_create("spinner", spin_until_stop, NULL);

    /* Each sem_up hands its unit to the longest waiter: the upper cannot
     * take it back (no barging), and they finish in the order they came. */
    struct waiter ws[5] = { { 'A', sem_wait_fn }, { 'B', sem_wait_fn }, { 'C', sem_wait_fn },
                            { 'D', sem_wait_fn }, { 'E', sem_wait_fn } };
    sem_init(&sem, 0, "handoff sem");
    spawn_blocked(ws, 5, t);
    for (int i = 0; i < 5; i++) {
        sem_up(&sem);
        KT_ASSERT_EQ(sem_trydown(&sem), -E_WOULDBLOCK);
    }
    for (int i = 0; i < 5; i++)
        thread_join(t[i]);
    KT_ASSERT(strcmp(order, "ABCDE") == 0);
    KT_ASSERT_EQ(sem.count, 0);
    KT_ASSERT_EQ(sem.stats.contended, 5);

    /* Signalled under the lock, each waiter moves to the mutex's queue and
     * is handed the mutex at the unlock, in signal order: the signaller
     * cannot retake it before the waiter ran. */
    struct waiter wc[3] = { { 'X', cv_wait_fn }, { 'Y', cv_wait_fn }, { 'Z', cv_wait_fn } };
    mutex_init(&cv_lock, "cv lock");
    cond_init(&cv, "handoff cv");
    cv_go = 0;
    spawn_blocked(wc, 3, t);
    uint32_t contended = cv_lock.stats.contended;
    for (int i = 0; i < 3; i++) {
        mutex_lock(&cv_lock);
        cv_go++;
        cond_signal(&cv);
        mutex_unlock(&cv_lock);
        KT_ASSERT_EQ(mutex_trylock(&cv_lock), -E_WOULDBLOCK);
    }
    for (int i = 0; i < 3; i++)
        thread_join(t[i]);
    KT_ASSERT(strcmp(order, "XYZ") == 0);
    KT_ASSERT(cv_lock.stats.contended - contended >= 3);   /* the three moved, at least */
    KT_ASSERT_EQ(cv.stats.contended, 3);

    /* The mutex: each unlock makes the longest waiter the owner; they hold
     * it in the order they came, whoever the PIT preempts meanwhile. */
    struct waiter wm[3] = { { 'P', NULL }, { 'Q', NULL }, { 'R', NULL } };
    mutex_init(&handoff, "handoff under preemption");
    mutex_lock(&handoff);
    spawn_blocked_fn(wm, 3, t, record_inside);
    mutex_unlock(&handoff);
    KT_ASSERT_EQ(mutex_trylock(&handoff), -E_WOULDBLOCK);
    for (int i = 0; i < 3; i++)
        thread_join(t[i]);
    KT_ASSERT(strcmp(order, "PQR") == 0);
    KT_ASSERT_EQ(handoff.stats.contended, 3);

    spin_stop = 1;
    for (int i = 0; i < 2; i++)
        thread_join(spin[i]);
    sched_set_slice_ms(SCHED_SLICE_MS_DEFAULT);
}

/* ---- direct handoff: the waiter handed the unit runs at the waker's
 * next switch, one switch, no other thread in between ---- */

static struct semaphore hand_go, hand_back;
static uint64_t hand_count;
static struct thread *hand_waker;
static volatile int hand_switches = -1, hand_from_waker;

static void handed(void *arg)
{
    sem_down(&hand_go);
    /* The switch that brought us here is the waker's sem_down. */
    hand_switches = (int)(sched_switch_count - hand_count);
    hand_from_waker = sched_prev == hand_waker && sched_last_reason == SWITCH_BLOCK;
    sem_up(&hand_back);
}

static void test_handoff_is_one_switch(void)
{
    sem_init(&hand_go, 0, "hand go");
    sem_init(&hand_back, 0, "hand back");
    thread_t *t = thread_create("handed", handed, NULL);
    KT_ASSERT(t);
    struct thread_info info;
    for (int ms = 0; kt_thread_info(thread_id(t), &info) == 0 &&
                     strcmp(info.state, "blocked") != 0; ms++) {
        KT_ASSERT(ms < 200);
        thread_sleep_ms(1);
    }
    hand_waker = current;
    uint32_t f = irq_save();         /* no tick in between: the count is exact */
    hand_count = sched_switch_count;
    sem_up(&hand_go);
    KT_ASSERT_EQ(sched_switch_count, hand_count);   /* handed the unit, not run yet */
    KT_ASSERT_EQ(hand_go.count, 0);
    sem_down(&hand_back);
    irq_restore(f);
    thread_join(t);
    KT_ASSERT_EQ(hand_switches, 1);
    KT_ASSERT(hand_from_waker);
}

#define MQ_CAP 4
#define MQ_MSGS 2000
static struct msgqueue mq;
static uint32_t mq_buf[MQ_CAP];

static void producer(void *arg)
{
    for (uint32_t i = 1; i <= MQ_MSGS; i++)
        mq_send(&mq, &i);
}

static void test_message_queue(void)
{
    KT_ASSERT_EQ(mq_init(&mq, mq_buf, 0, MQ_CAP, "bad"), -E_INVAL);
    KT_ASSERT_EQ(mq_init(&mq, mq_buf, sizeof(uint32_t), MQ_CAP, "test mq"), 0);
    uint32_t v = 7;
    KT_ASSERT_EQ(mq_tryrecv(&mq, &v), -E_WOULDBLOCK);
    for (uint32_t i = 0; i < MQ_CAP; i++)
        KT_ASSERT_EQ(mq_trysend(&mq, &i), 0);
    KT_ASSERT_EQ(mq_trysend(&mq, &v), -E_WOULDBLOCK);
    for (uint32_t i = 0; i < MQ_CAP; i++) {
        KT_ASSERT_EQ(mq_tryrecv(&mq, &v), 0);
        KT_ASSERT_EQ(v, i);
    }

    /* A producer faster than the consumer blocks on the full queue; every
     * message arrives once, in order. */
    thread_t *p = thread_create("producer", producer, NULL);
    uint64_t sum = 0;
    for (uint32_t i = 1; i <= MQ_MSGS; i++) {
        mq_recv(&mq, &v);
        KT_ASSERT_EQ(v, i);
        sum += v;
        if (i % 500 == 0)
            thread_sleep_ms(1);
    }
    thread_join(p);
    KT_ASSERT_EQ(sum, (uint64_t)MQ_MSGS * (MQ_MSGS + 1) / 2);
    KT_ASSERT(mq.stats.contended > 0);
}

static const struct ktest_case sync_cases[] = {
    { "mutex_keeps_counter_exact", test_mutex_keeps_counter_exact },
    { "semaphore_fifo", test_semaphore_fifo },
    { "semaphore_wait_time", test_semaphore_wait_time },
    { "semaphore_wait_time_stats_off", test_semaphore_wait_time_stats_off },
    { "condvar_fifo", test_condvar_fifo },
    { "mutex_fifo_handoff", test_mutex_fifo_handoff },
    { "handoff_under_preemption", test_handoff_under_preemption },
    { "handoff_is_one_switch", test_handoff_is_one_switch },
    { "message_queue", test_message_queue },
};
KTEST_SUITE(sync, sync_cases);
