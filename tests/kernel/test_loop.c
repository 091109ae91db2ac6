/* The event loop's queues: timer order, accuracy and drift, cancel and
 * restart, 10,000 timers, posts from an IRQ handler (none lost, or the
 * overflow counted exactly), the stall detector naming the guilty
 * callback, the worker pool and call_and_wait. The run loop itself, its
 * phases and the event sources are in test_loop_run.c.
 *
 * Booted with test=loop under -icount shift=0: 1 ns = 1 instruction, so
 * the bounds below are exact and the runs repeatable. */
#include <webscale/errno.h>
#include <webscale/loop.h>
#include <webscale/string.h>
#include <webscale/system.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "drivers/pic.h"
#include "kernel/ktest.h"
#include "kernel/loop/loop_internal.h"
#include "kernel/trap.h"
#include "kernel/x86.h"
#include "tests/kernel/util.h"

/* A timer fires at the first PIT tick at or after its deadline, and the
 * loop thread needs a little time to get there and dispatch. */
#define TICK_SLACK_NS (clock_tick_ns() + 200 * NS_PER_US)

/* ---- timer order and accuracy ---- */

struct fired {
    struct loop_timer t;
    int index;
};

static volatile uint32_t nfired;
static int fire_order[16];
static uint64_t fire_lag[16];

static void record_fire(void *arg)
{
    struct fired *f = arg;
    fire_lag[nfired] = clock_ns() - f->t.last_due_ns;
    fire_order[nfired++] = f->index;
}

static void test_timer_order_and_accuracy(void)
{
    static const uint32_t delay_ms[] = { 50, 10, 30, 20, 40, 10, 5, 25 };
    static const int expect[] = { 6, 1, 5, 3, 7, 2, 4, 0 };   /* ties: start order */
    static struct fired f[8];
    nfired = 0;
    for (int i = 0; i < 8; i++) {
        f[i].index = i;
        loop_timer_init(&f[i].t, record_fire, &f[i]);
        KT_ASSERT_EQ(loop_timer_start_ms(&f[i].t, delay_ms[i], 0), 0);
    }
    kt_wait_count(&nfired, 8, 200);
    for (int i = 0; i < 8; i++) {
        KT_ASSERT_EQ(fire_order[i], expect[i]);
        KT_ASSERT_RANGE(fire_lag[i], 0, TICK_SLACK_NS);
        KT_ASSERT(!loop_timer_active(&f[i].t));
    }
    kprintf("# 8 one-shot timers fired in deadline order; worst lag %llu ns "
            "(one PIT tick = %u ns)\n",
            (unsigned long long)fire_lag[7], clock_tick_ns());
}

/* ---- cancel and restart ---- */

static volatile uint32_t cancel_fires, restart_fires, self_fires;
static uint64_t restart_fired_at;

static void must_not_fire(void *arg) { cancel_fires++; }

static void restarted(void *arg)
{
    restart_fires++;
    restart_fired_at = clock_ns();
}

static void stops_itself(void *arg)
{
    if (++self_fires == 3)
        KT_ASSERT_EQ(loop_timer_stop(arg), 1);
}

static void test_timer_cancel_and_restart(void)
{
    static struct loop_timer a, b, c;
    cancel_fires = restart_fires = self_fires = 0;
    loop_timer_init(&a, must_not_fire, NULL);
    loop_timer_init(&b, restarted, NULL);
    loop_timer_init(&c, stops_itself, &c);
    c.arg = &c;
    KT_ASSERT_EQ(loop_timer_start_ms(&a, 10, 0), 0);
    KT_ASSERT_EQ(loop_timer_start_ms(&b, 10, 0), 0);
    KT_ASSERT_EQ(loop_timer_start_ms(&c, 5, 5), 0);
    KT_ASSERT_EQ(loop_timer_again(&a), -E_INVAL);       /* one-shot: no period */
    thread_sleep_ms(5);
    KT_ASSERT_EQ(loop_timer_stop(&a), 1);
    KT_ASSERT_EQ(loop_timer_stop(&a), 0);
    uint64_t restart_at = clock_ns();
    KT_ASSERT_EQ(loop_timer_start_ms(&b, 20, 0), 0);     /* restart while armed */
    thread_sleep_ms(60);
    KT_ASSERT_EQ(cancel_fires, 0);
    KT_ASSERT_EQ(restart_fires, 1);
    KT_ASSERT_RANGE(restart_fired_at - restart_at, 20 * NS_PER_MS,
                    20 * NS_PER_MS + TICK_SLACK_NS);
    KT_ASSERT_EQ(self_fires, 3);
    KT_ASSERT(!loop_timer_active(&c));
}

/* ---- periodic drift ---- */

#define DRIFT_PERIODS 100
static volatile uint32_t periodic_fires;
static uint64_t periodic_start, periodic_worst, periodic_last;

static void periodic_beat(void *arg)
{
    struct loop_timer *t = arg;
    uint64_t ideal = periodic_start + (uint64_t)(periodic_fires + 1) * t->period_ns;
    uint64_t late = clock_ns() - ideal;
    if (late > periodic_worst)
        periodic_worst = late;
    periodic_last = late;
    if (++periodic_fires == DRIFT_PERIODS)
        loop_timer_stop(t);
}

/* A periodic timer stays on its grid: lateness does not add up. */
static void test_periodic_drift_bounded(void)
{
    static struct loop_timer t;
    periodic_fires = 0;
    periodic_worst = 0;
    loop_timer_init(&t, periodic_beat, &t);
    KT_ASSERT_EQ(loop_timer_start(&t, 7 * NS_PER_MS, 7 * NS_PER_MS), 0);
    periodic_start = loop_timer_due_ns(&t) - 7 * NS_PER_MS;
    kt_wait_count(&periodic_fires, DRIFT_PERIODS, 2000);
    KT_ASSERT_RANGE(periodic_worst, 0, TICK_SLACK_NS);
    KT_ASSERT_RANGE(periodic_last, 0, TICK_SLACK_NS);
    KT_ASSERT_EQ(t.missed, 0);
    kprintf("# %d periods of 7 ms: worst lateness %llu ns, last %llu ns: no drift\n",
            DRIFT_PERIODS, (unsigned long long)periodic_worst,
            (unsigned long long)periodic_last);
}

/* ---- 10,000 timers ---- */

#define MANY 10000
static volatile uint32_t many_fired;
static volatile int many_out_of_order, many_early;
static uint64_t many_prev_due;

static void many_cb(void *arg)
{
    struct loop_timer *t = arg;
    if (t->last_due_ns < many_prev_due)
        many_out_of_order++;
    if (clock_ns() < t->last_due_ns)
        many_early++;
    many_prev_due = t->last_due_ns;
    many_fired++;
}

static void test_ten_thousand_timers(void)
{
    struct loop_timer *t = kmalloc(MANY * sizeof *t);
    KT_ASSERT(t != NULL);
    many_fired = 0;
    many_out_of_order = many_early = 0;
    many_prev_due = 0;
    uint32_t seed = 12345, stopped = 0;
    uint64_t t0 = clock_ns();
    for (int i = 0; i < MANY; i++) {
        seed = seed * 1103515245u + 12345u;
        loop_timer_init(&t[i], many_cb, &t[i]);
        KT_ASSERT_EQ(loop_timer_start(&t[i], NS_PER_MS * (20 + (seed >> 16) % 200), 0), 0);
    }
    uint64_t start_ns = clock_ns() - t0;
    t0 = clock_ns();
    for (int i = 0; i < MANY; i += 3) {
        KT_ASSERT_EQ(loop_timer_stop(&t[i]), 1);
        stopped++;
    }
    uint64_t stop_ns = clock_ns() - t0;
    kt_wait_count(&many_fired, MANY - stopped, 2000);
    thread_sleep_ms(20);
    KT_ASSERT_EQ(many_fired, MANY - stopped);
    KT_ASSERT_EQ(many_out_of_order, 0);
    KT_ASSERT_EQ(many_early, 0);
    struct loop_stats s;
    loop_get_stats(&s);
    KT_ASSERT_EQ(s.timers_pending, 0);
    kfree(t);
    kprintf("# %d timers: start %llu ns each, stop %llu ns each (instructions under "
            "icount); %u fired in deadline order, %u stopped\n",
            MANY, (unsigned long long)(start_ns / MANY),
            (unsigned long long)(stop_ns / stopped), many_fired, stopped);
}

/* ---- posts from an IRQ handler ---- */

#define TEST_IRQ 5
#define BURST 10000
static volatile uint32_t posted_ok, post_runs, burst_size;

static void post_counted(void *arg) { post_runs++; }

static void post_from_irq(void *arg)
{
    for (uint32_t i = 0; i < burst_size; i++)
        if (loop_post(post_counted, NULL) == 0)
            posted_ok++;
}

/* 10,000 interrupts, each posting one event; the test yields now and then
 * so the loop drains the ring: every event arrives. */
static void test_post_from_irq_none_lost(void)
{
    struct loop_stats before, after;
    posted_ok = post_runs = 0;
    burst_size = 1;
    loop_get_stats(&before);
    irq_register(TEST_IRQ, post_from_irq, NULL, "loop-test");
    for (int i = 0; i < BURST; i++) {
        __asm__ volatile("int %0" : : "i"(PIC_IRQ_BASE + TEST_IRQ));
        if (i % (LOOP_POST_RING / 2) == 0)
            thread_yield();
    }
    pic_mask(TEST_IRQ);
    kt_wait_count(&post_runs, BURST, 1000);
    loop_get_stats(&after);
    KT_ASSERT_EQ(posted_ok, BURST);
    KT_ASSERT_EQ(post_runs, BURST);
    KT_ASSERT_EQ(after.posts_lost - before.posts_lost, 0);
    KT_ASSERT_EQ(after.posts - before.posts, BURST);
}

/* One interrupt posting 10,000 events at once: the ring takes what fits,
 * the rest are refused and counted, exactly; nothing is lost silently. */
static void test_post_burst_overflow_counted(void)
{
    struct loop_stats before, after;
    thread_sleep_ms(5);                 /* the ring is empty */
    posted_ok = post_runs = 0;
    burst_size = BURST;
    loop_get_stats(&before);
    KT_ASSERT_EQ(before.posts_queued, 0);
    irq_register(TEST_IRQ, post_from_irq, NULL, "loop-test");
    __asm__ volatile("int %0" : : "i"(PIC_IRQ_BASE + TEST_IRQ));
    pic_mask(TEST_IRQ);
    kt_wait_count(&post_runs, LOOP_POST_RING, 1000);
    thread_sleep_ms(5);
    loop_get_stats(&after);
    KT_ASSERT_EQ(posted_ok, LOOP_POST_RING);
    KT_ASSERT_EQ(post_runs, LOOP_POST_RING);
    KT_ASSERT_EQ(after.posts_lost - before.posts_lost, BURST - LOOP_POST_RING);
    kprintf("# burst of %d posts in one IRQ: %u queued and run, %u refused and counted\n",
            BURST, post_runs, after.posts_lost - before.posts_lost);
}

/* The cost of one posted event, from the ring to the callback and back,
 * with the loop's own timing of it: 1,000 posts drained in one go. */
static void empty_cb(void *arg) { post_runs++; }
static void nothing(void *arg) {}

static void test_post_dispatch_cost(void)
{
    const uint32_t n = 1000;
    thread_sleep_ms(2);                 /* start at the beginning of a slice */
    post_runs = 0;
    for (uint32_t i = 0; i < n; i++)
        KT_ASSERT_EQ(loop_post(empty_cb, NULL), 0);
    uint64_t t0 = clock_ns();
    KT_ASSERT_EQ(loop_call_and_wait(nothing, NULL), 0);
    uint64_t per = (clock_ns() - t0) / n;
    KT_ASSERT_EQ(post_runs, n);
    KT_ASSERT_RANGE(per, 1, 2000);
    kprintf("# %u posted events drained in %llu instructions each (dispatch plus the "
            "loop's clock reads and accounting; no TSC, so the PIT is read)\n",
            n, (unsigned long long)per);
}

/* ---- the stall detector ---- */

static volatile int blocker_saw_report;

static void blocker(void *arg)
{
    struct loop_stats s;
    uint32_t stalls = *(uint32_t *)arg;
    uint64_t end = clock_ns() + 200 * NS_PER_MS;
    /* Spin like a blocking call would, until the report is out. */
    do {
        loop_get_stats(&s);
    } while (s.stalls == stalls && clock_ns() < end);
    blocker_saw_report = s.stalls == stalls + 1;
    end = clock_ns() + 30 * NS_PER_MS;
    while (clock_ns() < end)
        ;
}

static void test_stall_detector_names_callback(void)
{
    static uint32_t stalls;
    struct loop_stats s;
    loop_get_stats(&s);
    stalls = s.stalls;
    blocker_saw_report = 0;
    loop_set_stall_ms(30);
    KT_ASSERT_EQ(loop_post(blocker, &stalls), 0);
    thread_sleep_ms(100);
    loop_set_stall_ms(LOOP_STALL_MS_DEFAULT);
    loop_get_stats(&s);
    KT_ASSERT_EQ(s.stalls, stalls + 1);
    KT_ASSERT(blocker_saw_report);          /* reported while it still ran */
    KT_ASSERT(s.stall_name && strcmp(s.stall_name, "blocker") == 0);
    KT_ASSERT_RANGE(s.stall_ns, 30 * NS_PER_MS, 30 * NS_PER_MS + 2 * clock_tick_ns());
    KT_ASSERT(s.stall_total_ns >= s.stall_ns + 30 * NS_PER_MS);
    struct loop_cb_stats slow[1];
    KT_ASSERT_EQ(loop_slowest(slow, 1), 1);
    KT_ASSERT(strcmp(slow[0].name, "blocker") == 0);
}

/* ---- what a callback costs the loop's statistics ---- */

#define SHORT_POSTS 200
#define LONG_CB_MS 5
static volatile uint32_t short_ran;
static struct semaphore timing_done;

static void short_cb(void *arg)
{
    if (++short_ran == SHORT_POSTS)
        sem_up(&timing_done);
}

static void long_cb(void *arg)
{
    uint64_t t0 = clock_ns();
    while (clock_ns() - t0 < LONG_CB_MS * NS_PER_MS)
        ;
    sem_up(&timing_done);
}

/* A callback is timed only when a PIT tick lands in it, yet every one is
 * counted: a drain of short posts counts each exactly, a long callback's
 * time is exact to a tick. And once a post has woken the loop, the posts
 * that follow before it runs find it awake: no second wake-up. */
static void test_callbacks_counted_long_ones_timed(void)
{
    KT_ASSERT_EQ(loop_start(), 0);
    sem_init(&timing_done, 0, "timing done");
    thread_sleep_ms(2);                        /* the loop sleeps, nothing to do */
    KT_ASSERT(loop_core.asleep);
    struct loop_stats s0, s1;
    loop_get_stats(&s0);
    short_ran = 0;
    uint32_t f = irq_save();
    for (int i = 0; i < SHORT_POSTS; i++) {
        KT_ASSERT_EQ(loop_post_named("short cb", short_cb, NULL), 0);
        KT_ASSERT(!loop_core.asleep);          /* woken by the first, awake for the rest */
        KT_ASSERT(waitq_first(&loop_core.wake_q) == NULL);
    }
    irq_restore(f);
    sem_down(&timing_done);
    KT_ASSERT_EQ(loop_post_named("long cb", long_cb, NULL), 0);
    sem_down(&timing_done);
    thread_sleep_ms(1);
    loop_get_stats(&s1);
    KT_ASSERT_EQ(s1.callbacks - s0.callbacks, SHORT_POSTS + 1);
    struct loop_cb_stats slow[32];
    int n = loop_slowest(slow, 32), seen = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(slow[i].name, "short cb") == 0) {
            KT_ASSERT_EQ(slow[i].calls, SHORT_POSTS);
            seen |= 1;
        } else if (strcmp(slow[i].name, "long cb") == 0) {
            KT_ASSERT_EQ(slow[i].calls, 1);
            KT_ASSERT_RANGE(slow[i].max_ns, LONG_CB_MS * NS_PER_MS,
                            LONG_CB_MS * NS_PER_MS + clock_tick_ns());
            seen |= 2;
        }
    }
    KT_ASSERT_EQ(seen, 3);
    KT_ASSERT(s1.busy_ns - s0.busy_ns >= LONG_CB_MS * NS_PER_MS);
}

/* ---- bridges ---- */

struct job {
    uint32_t n;
    uint64_t sum;
    int worker_ok, done_ok;
};
static volatile uint32_t jobs_done;

static void sum_to_n(void *arg)
{
    struct job *j = arg;
    j->worker_ok = strncmp(thread_name(thread_current()), "worker", 6) == 0;
    for (uint32_t i = 1; i <= j->n; i++)
        j->sum += i;
}

static void job_done(void *arg)
{
    struct job *j = arg;
    j->done_ok = loop_in_callback() && strcmp(thread_name(thread_current()), "loop") == 0;
    jobs_done++;
}

static void test_worker_pool_results_in_loop(void)
{
    static struct job jobs[6];
    jobs_done = 0;
    for (int i = 0; i < 6; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].n = 100000u * (uint32_t)(i + 1);
        KT_ASSERT_EQ(loop_submit_work(sum_to_n, &jobs[i], job_done), 0);
    }
    kt_wait_count(&jobs_done, 6, 2000);
    for (int i = 0; i < 6; i++) {
        uint64_t n = jobs[i].n;
        KT_ASSERT(jobs[i].sum == n * (n + 1) / 2);
        KT_ASSERT(jobs[i].worker_ok);
        KT_ASSERT(jobs[i].done_ok);
    }
}

static volatile int call_in_loop;

static void note_context(void *arg)
{
    call_in_loop = loop_in_callback() && strcmp(thread_name(thread_current()), "loop") == 0;
    *(int *)arg = 42;
}

static void test_call_and_wait(void)
{
    int v = 0;
    call_in_loop = 0;
    KT_ASSERT_EQ(loop_call_and_wait(note_context, &v), 0);
    KT_ASSERT_EQ(v, 42);
    KT_ASSERT(call_in_loop);
}

static const struct ktest_case loop_cases[] = {
    { "timer_order_and_accuracy", test_timer_order_and_accuracy },
    { "timer_cancel_and_restart", test_timer_cancel_and_restart },
    { "periodic_drift_bounded", test_periodic_drift_bounded },
    { "ten_thousand_timers", test_ten_thousand_timers },
    { "post_from_irq_none_lost", test_post_from_irq_none_lost },
    { "post_burst_overflow_counted", test_post_burst_overflow_counted },
    { "post_dispatch_cost", test_post_dispatch_cost },
    { "stall_detector_names_callback", test_stall_detector_names_callback },
    { "callbacks_counted_long_ones_timed", test_callbacks_counted_long_ones_timed },
    { "worker_pool_results_in_loop", test_worker_pool_results_in_loop },
    { "call_and_wait", test_call_and_wait },
};

KTEST_SUITE(loop, loop_cases);
