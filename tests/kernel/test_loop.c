/* The event loop: timer order, accuracy and drift, cancel and restart,
 * 10,000 timers, posts from an IRQ handler (none lost, or the overflow
 * counted exactly), the stall detector naming the guilty callback, the
 * worker pool and call_and_wait, progress beside a spinning thread, and
 * proof that an idle loop sleeps instead of polling.
 *
 * Booted with test=loop under -icount shift=0: 1 ns = 1 instruction, so
 * the bounds below are exact and the runs repeatable. */
#include <webscale/console.h>
#include <webscale/errno.h>
#include <webscale/loop.h>
#include <webscale/sched.h>
#include <webscale/string.h>
#include <webscale/system.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "drivers/pic.h"
#include "kernel/ktest.h"
#include "kernel/trap.h"

/* A timer fires at the first PIT tick at or after its deadline, and the
 * loop thread needs a little time to get there and dispatch. */
#define TICK_SLACK_NS (clock_tick_ns() + 200 * NS_PER_US)

static int find_thread(const char *name, struct thread_info *out)
{
    static struct thread_info all[64];
    int n = thread_snapshot(all, 64);
    for (int i = 0; i < n && i < 64; i++)
        if (strcmp(all[i].name, name) == 0) {
            *out = all[i];
            return 0;
        }
    return -1;
}

/* Sleep until *count reaches want, or fail after ms. */
static void wait_count(volatile uint32_t *count, uint32_t want, uint32_t ms)
{
    uint64_t end = clock_ns() + (uint64_t)ms * NS_PER_MS;
    while (*count < want && clock_ns() < end)
        thread_sleep_ms(1);
    if (*count < want)
        ktest_fail(__FILE__, __LINE__, "count %u, wanted %u within %u ms", *count, want, ms);
}

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
    wait_count(&nfired, 8, 200);
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
    periodic_start = t.due_ns - 7 * NS_PER_MS;
    wait_count(&periodic_fires, DRIFT_PERIODS, 2000);
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
    wait_count(&many_fired, MANY - stopped, 2000);
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
    wait_count(&post_runs, BURST, 1000);
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
    wait_count(&post_runs, LOOP_POST_RING, 1000);
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
    wait_count(&jobs_done, 6, 2000);
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

/* ---- sharing the CPU ---- */

static volatile int spin_stop;
static volatile uint32_t loop_beats, thread_beats;

static void spin_bounded(void *arg)
{
    uint64_t end = clock_ns() + 300 * NS_PER_MS;
    while (clock_ns() < end && !spin_stop)
        ;
}

static void beat(void *arg) { loop_beats++; }

static void sleepy_counter(void *arg)
{
    while (!spin_stop) {
        thread_sleep_ms(5);
        thread_beats++;
    }
}

/* While a third thread spins, the loop's timer and a sleeping thread
 * both keep going: the PIT takes the CPU from the spinner every slice. */
static void test_progress_beside_spinner(void)
{
    static struct loop_timer t;
    struct loop_stats s;
    spin_stop = 0;
    loop_beats = thread_beats = 0;
    loop_timer_init(&t, beat, NULL);
    loop_reset_stats();
    KT_ASSERT_EQ(loop_timer_start_ms(&t, 5, 5), 0);
    thread_t *spinner = thread_create("spinner", spin_bounded, NULL);
    thread_t *counter = thread_create("sleepy", sleepy_counter, NULL);
    KT_ASSERT(spinner && counter);
    thread_sleep_ms(200);
    uint32_t lb = loop_beats, tb = thread_beats;
    loop_get_stats(&s);
    spin_stop = 1;
    loop_timer_stop(&t);
    thread_join(spinner);
    thread_join(counter);
    /* Round robin among spinner, loop, counter and us, slice 10 ms: each
     * gets the CPU at least once every few slices. */
    uint32_t bound = 4 * sched_slice_ms();
    KT_ASSERT(lb >= 200 / bound);
    KT_ASSERT(tb >= 200 / bound);
    KT_ASSERT_RANGE(s.lag_max_ns, 0, (uint64_t)bound * NS_PER_MS);
    kprintf("# in 200 ms beside a spinning thread: loop timer ran %u times, sleeping "
            "thread %u times, worst timer lag %u ns\n", lb, tb, s.lag_max_ns);
}

/* With only a slow timer pending, the loop sleeps on its wait queue and
 * the CPU halts: idle time covers nearly all of the wait. */
static void test_idle_loop_blocks(void)
{
    static struct loop_timer t;
    struct sched_stats s0, s1;
    struct loop_stats l0, l1;
    struct thread_info i0, i1;
    loop_timer_init(&t, beat, NULL);
    KT_ASSERT_EQ(loop_timer_start_ms(&t, 20, 20), 0);
    KT_ASSERT(find_thread("loop", &i0) == 0);
    sched_get_stats(&s0);
    loop_get_stats(&l0);
    uint64_t t0 = clock_ns();
    thread_sleep_ms(500);
    uint64_t elapsed = clock_ns() - t0;
    sched_get_stats(&s1);
    loop_get_stats(&l1);
    KT_ASSERT(find_thread("loop", &i1) == 0);
    loop_timer_stop(&t);
    uint64_t idle = s1.idle_ns - s0.idle_ns;
    uint64_t loop_cpu = i1.cpu_ns - i0.cpu_ns;
    KT_ASSERT(idle * 100 >= elapsed * 95);
    KT_ASSERT(loop_cpu * 100 <= elapsed);
    KT_ASSERT(l1.waits - l0.waits >= 20);
    kprintf("# idle loop, 500 ms: CPU idle %llu ns of %llu ns; loop thread used %llu ns "
            "and blocked %llu times\n",
            (unsigned long long)idle, (unsigned long long)elapsed,
            (unsigned long long)loop_cpu, (unsigned long long)(l1.waits - l0.waits));
}

/* ---- run, run_once, stop, idle hook ---- */

static volatile uint32_t hook_calls, once_runs;

static void idle_hook(void *arg) { hook_calls++; }
static void once_cb(void *arg) { once_runs++; }

static void stop_after_three(void *arg)
{
    if (++once_runs == 3)
        loop_stop();
}

static void test_run_once_and_stop(void)
{
    static struct loop_timer t;
    KT_ASSERT_EQ(loop_run_once(), -E_BUSY);       /* the loop thread runs it */
    loop_shutdown();
    once_runs = hook_calls = 0;
    loop_set_idle_hook(idle_hook, NULL);
    loop_timer_init(&t, once_cb, NULL);
    KT_ASSERT_EQ(loop_timer_start_ms(&t, 5, 0), 0);
    KT_ASSERT_EQ(loop_run_once(), 1);            /* blocks until the timer */
    KT_ASSERT_EQ(once_runs, 1);
    for (int i = 0; i < 3; i++)
        KT_ASSERT_EQ(loop_post(once_cb, NULL), 0);
    KT_ASSERT_EQ(loop_run_once(), 3);
    once_runs = 0;
    loop_timer_init(&t, stop_after_three, NULL);
    KT_ASSERT_EQ(loop_timer_start_ms(&t, 2, 2), 0);
    KT_ASSERT_EQ(loop_run(), 0);                  /* returns on loop_stop */
    KT_ASSERT_EQ(once_runs, 3);
    loop_timer_stop(&t);
    loop_set_idle_hook(NULL, NULL);
    KT_ASSERT(hook_calls >= 2);
    KT_ASSERT_EQ(loop_start(), 0);
}

/* ---- serial through the loop ---- */

#define SERIAL_LINE 80
#define SERIAL_LINES 150
static char serial_text[SERIAL_LINES * SERIAL_LINE];
static uint32_t serial_sent, serial_would_block, serial_short;
static volatile uint32_t serial_done;
static struct loop_watcher serial_w;

/* One attempt per call, then back to the loop: other events get their
 * turn between the pieces. */
static void write_some(void *arg)
{
    uint32_t want = sizeof serial_text - serial_sent;
    int n = console_write_nonblock(serial_text + serial_sent, want);
    if (n == -E_WOULDBLOCK) {
        serial_would_block++;
        return;                  /* called again when there is room */
    }
    if ((uint32_t)n < want)
        serial_short++;
    serial_sent += (uint32_t)n;
    if (serial_sent == sizeof serial_text) {
        loop_watch_stop(&serial_w);
        serial_done = 1;
    }
}

static void start_writing(void *arg)
{
    loop_watch_start(&serial_w, LOOP_SERIAL_WRITABLE, write_some, NULL);
}

/* 12,000 bytes, more than the output ring holds, written from the loop
 * without ever blocking: the writable watcher resumes after each refusal. */
static void test_serial_writable_watcher(void)
{
    memset(serial_text, '.', sizeof serial_text);
    for (int i = 0; i < SERIAL_LINES; i++) {
        char *line = serial_text + i * SERIAL_LINE;
        memcpy(line, "# serial through the loop ", 26);
        line[SERIAL_LINE - 2] = '\r';
        line[SERIAL_LINE - 1] = '\n';
    }
    serial_sent = serial_would_block = serial_short = serial_done = 0;
    KT_ASSERT_EQ(loop_call_and_wait(start_writing, NULL), 0);
    wait_count(&serial_done, 1, 5000);
    KT_ASSERT_EQ(serial_sent, sizeof serial_text);
    KT_ASSERT(serial_short >= 1);          /* the output ring did fill */
    KT_ASSERT(serial_w.calls >= 2);
    kprintf("# wrote %u bytes through the loop: %u watcher calls, %u short writes, "
            "%u refusals (would block); the loop never blocked\n",
            serial_sent, serial_w.calls, serial_short, serial_would_block);
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
    { "worker_pool_results_in_loop", test_worker_pool_results_in_loop },
    { "call_and_wait", test_call_and_wait },
    { "progress_beside_spinner", test_progress_beside_spinner },
    { "idle_loop_blocks", test_idle_loop_blocks },
    { "run_once_and_stop", test_run_once_and_stop },
    { "serial_writable_watcher", test_serial_writable_watcher },
};

KTEST_SUITE(loop, loop_cases);
