/* The run loop: progress beside a spinning thread, proof that an idle
 * loop sleeps instead of polling, one iteration's phases in their order,
 * event sources (one defined here, notified from an IRQ handler, and the
 * console's), run_once and stop. And a scenario suite: a callback that
 * runs the loop inside itself trips the ASSERT that forbids it.
 *
 * Booted with test=loop_run under -icount shift=0, like test_loop.c. */
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
#include "kernel/loop/loop_internal.h"
#include "kernel/trap.h"
#include "kernel/x86.h"
#include "tests/kernel/util.h"

#define TEST_IRQ 5    /* free on this machine */

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

/* ---- one iteration, phase by phase ---- */

static char order[8];
static enum loop_phase order_phase[8];
static volatile uint32_t norder;
static struct loop_watcher always_w;

static void note(char tag)
{
    if (norder < sizeof order) {
        order[norder] = tag;
        order_phase[norder] = loop_core.phase;
        norder++;
    }
}

static void on_timer(void *arg) { note('T'); }
static void on_post(void *arg) { note('P'); }
static void on_call(void *arg) { note('C'); }

static void on_watch(void *arg)
{
    note('W');
    loop_watch_stop(&always_w);
}

static int always(void *arg) { return 1; }
static struct loop_source always_src = LOOP_SOURCE_INIT("always ready", always, NULL);

/* A timer, a post, a call and a watcher, all ready while the loop sleeps
 * (interrupts off from the first to the last): one iteration runs them in
 * the order of its phases, each in its own phase. */
static void test_one_iteration_in_phase_order(void)
{
    static const enum loop_phase want[] = { LOOP_TIMERS, LOOP_POSTS, LOOP_CALLS, LOOP_WATCHERS };
    static struct loop_timer t;
    loop_timer_init(&t, on_timer, NULL);
    KT_ASSERT_EQ(loop_timer_start_ms(&t, 1000, 0), 0);   /* the heap has room now */
    KT_ASSERT_EQ(loop_timer_stop(&t), 1);
    norder = 0;
    thread_sleep_ms(2);
    uint32_t f = irq_save();
    loop_watch_start(&always_w, &always_src, on_watch, NULL);
    int posted = loop_post(on_post, NULL);
    int armed = loop_timer_start(&t, 0, 0);
    int called = loop_call_and_wait(on_call, NULL);     /* sleeps: now the loop runs */
    irq_restore(f);
    KT_ASSERT(posted == 0 && armed == 0 && called == 0);
    kt_wait_count(&norder, 4, 100);
    KT_ASSERT(memcmp(order, "TPCW", 4) == 0);
    for (int i = 0; i < 4; i++)
        KT_ASSERT_EQ(order_phase[i], want[i]);
    KT_ASSERT_EQ(always_src.watchers, 0);
}

/* ---- an event source of our own ---- */

static volatile int dev_level;             /* bytes a pretend device holds */
static volatile uint32_t dev_reads;
static uint64_t dev_irq_at, dev_first_read_at;
static struct loop_watcher dev_w;

static int dev_ready(void *arg) { return dev_level > 0; }
static struct loop_source dev_src = LOOP_SOURCE_INIT("test device", dev_ready, NULL);

static void dev_irq(void *arg)
{
    dev_level = 3;
    dev_irq_at = clock_ns();
    loop_source_notify(&dev_src);
}

/* One byte per call: level-triggered, so called again while bytes remain. */
static void dev_read(void *arg)
{
    if (dev_reads++ == 0)
        dev_first_read_at = clock_ns();
    dev_level--;
}

static void raise_dev_irq(void)
{
    irq_register(TEST_IRQ, dev_irq, NULL, "loop-source-test");
    __asm__ volatile("int %0" : : "i"(PIC_IRQ_BASE + TEST_IRQ));
    pic_mask(TEST_IRQ);
}

/* No timer pending: only the source's notify, from the IRQ handler, can
 * wake the sleeping loop. Its watcher then runs once per iteration while
 * the source is ready, and not before or after. */
static void test_source_notify_from_irq_wakes_watcher(void)
{
    struct loop_stats s;
    loop_get_stats(&s);
    KT_ASSERT_EQ(s.timers_pending, 0);
    dev_level = 0;
    dev_reads = 0;
    loop_watch_start(&dev_w, &dev_src, dev_read, NULL);
    KT_ASSERT_EQ(dev_src.watchers, 1);
    thread_sleep_ms(5);
    KT_ASSERT_EQ(dev_reads, 0);               /* not ready: not called */
    raise_dev_irq();
    kt_wait_count(&dev_reads, 3, 100);
    thread_sleep_ms(5);
    KT_ASSERT_EQ(dev_reads, 3);
    KT_ASSERT_EQ(dev_level, 0);
    KT_ASSERT_RANGE(dev_first_read_at - dev_irq_at, 0, clock_tick_ns());
    loop_watch_stop(&dev_w);
    KT_ASSERT_EQ(dev_src.watchers, 0);
    kprintf("# own source: IRQ to first watcher call %llu ns; 3 calls for 3 bytes\n",
            (unsigned long long)(dev_first_read_at - dev_irq_at));
}

/* With nobody watching, a notify from an IRQ handler leaves the loop
 * asleep: it neither wakes nor runs anything. */
static void test_source_notify_unwatched_wakes_nothing(void)
{
    struct loop_stats s0, s1;
    KT_ASSERT_EQ(dev_src.watchers, 0);
    dev_level = 0;
    dev_reads = 0;
    thread_sleep_ms(5);                       /* the loop is asleep */
    loop_get_stats(&s0);
    raise_dev_irq();
    thread_sleep_ms(5);
    loop_get_stats(&s1);
    KT_ASSERT_EQ(s1.waits, s0.waits);
    KT_ASSERT_EQ(s1.callbacks, s0.callbacks);
    KT_ASSERT_EQ(dev_reads, 0);
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
    loop_watch_start(&serial_w, &console_writable, write_some, NULL);
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
    kt_wait_count(&serial_done, 1, 5000);
    KT_ASSERT_EQ(serial_sent, sizeof serial_text);
    KT_ASSERT(serial_short >= 1);          /* the output ring did fill */
    KT_ASSERT(serial_w.calls >= 2);
    kprintf("# wrote %u bytes through the loop: %u watcher calls, %u short writes, "
            "%u refusals (would block); the loop never blocked\n",
            serial_sent, serial_w.calls, serial_short, serial_would_block);
}

static const struct ktest_case loop_run_cases[] = {
    { "progress_beside_spinner", test_progress_beside_spinner },
    { "idle_loop_blocks", test_idle_loop_blocks },
    { "one_iteration_in_phase_order", test_one_iteration_in_phase_order },
    { "source_notify_from_irq_wakes_watcher", test_source_notify_from_irq_wakes_watcher },
    { "source_notify_unwatched_wakes_nothing", test_source_notify_unwatched_wakes_nothing },
    { "serial_writable_watcher", test_serial_writable_watcher },
    { "run_once_and_stop", test_run_once_and_stop },
};

KTEST_SUITE(loop_run, loop_run_cases);

/* ---- the loop is not re-entered ---- */

static void run_loop_inside(void *arg) { loop_run_once(); }

/* A callback that runs the loop would run callbacks inside itself: the
 * ASSERT in claim() stops the kernel with the file and line. */
static void test_run_inside_callback_asserts(void)
{
    loop_call_and_wait(run_loop_inside, NULL);
    KT_ASSERT(!"the loop ran inside one of its own callbacks");
}

static const struct ktest_case reenter_cases[] = {
    { "run_inside_callback_asserts", test_run_inside_callback_asserts },
};
KTEST_SCENARIO_SUITE(loop_reenter, reenter_cases);
