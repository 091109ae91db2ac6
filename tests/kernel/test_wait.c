/* Event counts and interruptible waits (sync.c, sched.c): a signal wakes
 * every waiter and is never lost between reading the count and sleeping;
 * a deadline ends a wait with -E_TIMEDOUT, never early and at most a tick
 * late; thread_interrupt ends interruptible waits with -E_INTR and leaves
 * the others alone; the foreground thread is the one Ctrl-C interrupts. */
#include <webscale/errno.h>
#include <webscale/string.h>
#include <webscale/sync.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "kernel/clock.h"
#include "kernel/ktest.h"
#include "tests/kernel/util.h"

static struct event ev = EVENT_INIT(ev, "test event");

struct waiter {
    int interruptible;
    uint64_t deadline_ns;     /* for event_wait_until */
    volatile int started, result, done;
    volatile uint64_t woke_ns;
};

static void wait_for_event(void *arg)
{
    struct waiter *w = arg;
    uint32_t seen = event_count(&ev);
    w->started = 1;
    if (w->interruptible) {
        w->result = event_wait_until(&ev, seen, w->deadline_ns);
    } else {
        event_wait(&ev, seen);
        w->result = 0;
    }
    w->woke_ns = clock_ns();
    w->done = 1;
}

static thread_t *start_waiter(struct waiter *w, int interruptible, uint64_t deadline_ns)
{
    memset((void *)w, 0, sizeof *w);
    w->interruptible = interruptible;
    w->deadline_ns = deadline_ns;
    thread_t *t = thread_create("waiter", wait_for_event, w);
    while (t && !w->started)
        thread_yield();
    thread_yield();          /* let it reach its wait */
    return t;
}

static const char *state_of(thread_t *t)
{
    static struct thread_info i;
    return kt_thread_info(thread_id(t), &i) == 0 ? i.state : "gone";
}

static void test_signal_wakes_every_waiter(void)
{
    struct waiter a, b;
    thread_t *ta = start_waiter(&a, 0, 0), *tb = start_waiter(&b, 1, TIME_NEVER);
    KT_ASSERT(ta && tb);
    thread_sleep_ms(5);
    KT_ASSERT(!a.done && !b.done);
    KT_ASSERT(strcmp(state_of(ta), "blocked") == 0);
    uint64_t t0 = clock_ns();
    event_signal(&ev);
    KT_ASSERT_EQ(thread_join(ta), 0);
    KT_ASSERT_EQ(thread_join(tb), 0);
    KT_ASSERT_EQ(a.result, 0);
    KT_ASSERT_EQ(b.result, 0);
    KT_ASSERT_RANGE(a.woke_ns - t0, 0, NS_PER_MS);     /* woken, not polling */
    KT_ASSERT_RANGE(b.woke_ns - t0, 0, NS_PER_MS);
}

static void test_signal_before_wait_is_not_lost(void)
{
    uint32_t seen = event_count(&ev);
    event_signal(&ev);                      /* between the read and the wait */
    uint64_t t0 = clock_ns();
    event_wait(&ev, seen);
    KT_ASSERT_EQ(event_wait_until(&ev, seen, clock_ns() + 50 * NS_PER_MS), 0);
    KT_ASSERT(clock_ns() - t0 < NS_PER_MS);
    KT_ASSERT(list_empty(&ev.q.waiters));
}

static void test_deadline_times_out(void)
{
    uint32_t seen = event_count(&ev);
    uint64_t t0 = clock_ns();
    KT_ASSERT_EQ(event_wait_until(&ev, seen, t0 + 10 * NS_PER_MS), -E_TIMEDOUT);
    uint64_t waited = clock_ns() - t0;
    KT_ASSERT_RANGE(waited, 10 * NS_PER_MS, 10 * NS_PER_MS + 2 * clock_tick_ns());
    /* Off the event's queue: a later signal wakes nobody. */
    KT_ASSERT(list_empty(&ev.q.waiters));
    /* A deadline already past: at once. */
    t0 = clock_ns();
    KT_ASSERT_EQ(event_wait_until(&ev, seen, t0 - 1), -E_TIMEDOUT);
    KT_ASSERT(clock_ns() - t0 < NS_PER_MS);
}

/* A waiter signalled before its deadline must also leave the sleep list:
 * its deadline passing later must not wake it out of its next wait. */
static void test_signal_cancels_the_deadline(void)
{
    struct waiter w;
    thread_t *t = start_waiter(&w, 1, clock_ns() + 5 * NS_PER_MS);
    KT_ASSERT(t);
    event_signal(&ev);
    KT_ASSERT_EQ(thread_join(t), 0);
    KT_ASSERT_EQ(w.result, 0);
    uint64_t t0 = clock_ns();
    thread_sleep_ms(20);
    KT_ASSERT(clock_ns() - t0 >= 20 * NS_PER_MS);
}

static void test_interrupt_ends_interruptible_waits(void)
{
    struct waiter w;
    /* Deadlines, so that a wait that ignores the interrupt fails the case
     * rather than hanging it. */
    thread_t *t = start_waiter(&w, 1, clock_ns() + 200 * NS_PER_MS);
    KT_ASSERT(t);
    thread_sleep_ms(5);
    KT_ASSERT(!w.done);
    uint64_t t0 = clock_ns();
    thread_interrupt(t);
    KT_ASSERT_EQ(thread_join(t), 0);
    KT_ASSERT_EQ(w.result, -E_INTR);
    KT_ASSERT_RANGE(w.woke_ns - t0, 0, NS_PER_MS);

    /* Pending: every interruptible wait says so at once, until cleared. */
    thread_interrupt(thread_current());
    KT_ASSERT(thread_interrupt_pending());
    uint32_t seen = event_count(&ev);
    KT_ASSERT_EQ(event_wait_until(&ev, seen, clock_ns() + 50 * NS_PER_MS), -E_INTR);
    KT_ASSERT_EQ(thread_sleep_until(clock_ns() + 50 * NS_PER_MS), -E_INTR);
    thread_clear_interrupt();
    KT_ASSERT_EQ(event_wait_until(&ev, seen, clock_ns() + 2 * NS_PER_MS), -E_TIMEDOUT);
}

static void test_interrupt_leaves_other_waits_alone(void)
{
    struct waiter w;
    thread_t *t = start_waiter(&w, 0, 0);
    KT_ASSERT(t);
    thread_interrupt(t);
    thread_sleep_ms(5);
    KT_ASSERT(!w.done);
    KT_ASSERT(strcmp(state_of(t), "blocked") == 0);
    event_signal(&ev);
    KT_ASSERT_EQ(thread_join(t), 0);
    KT_ASSERT_EQ(w.result, 0);
}

struct sleeper {
    uint64_t deadline_ns;
    volatile int result;
    volatile uint64_t woke_ns;
};

static void sleep_until(void *arg)
{
    struct sleeper *s = arg;
    s->result = thread_sleep_until(s->deadline_ns);
    s->woke_ns = clock_ns();
}

static void test_sleep_until(void)
{
    /* Never early, at most a tick late. */
    struct sleeper s = { clock_ns() + 7 * NS_PER_MS, 1, 0 };
    sleep_until(&s);
    KT_ASSERT_EQ(s.result, 0);
    KT_ASSERT_RANGE(s.woke_ns - s.deadline_ns, 0, 2 * clock_tick_ns());
    /* The foreground thread is the one thread_interrupt_foreground (the
     * console's Ctrl-C) interrupts, and nobody once it is cleared. */
    s.deadline_ns = clock_ns() + 100 * NS_PER_MS;
    thread_t *t = thread_create("sleeper", sleep_until, &s);
    KT_ASSERT(t);
    thread_sleep_ms(5);
    thread_set_foreground(t);
    uint64_t t0 = clock_ns();
    thread_interrupt_foreground();
    thread_set_foreground(NULL);
    KT_ASSERT_EQ(thread_join(t), 0);
    KT_ASSERT_EQ(s.result, -E_INTR);
    KT_ASSERT_RANGE(s.woke_ns - t0, 0, NS_PER_MS);
    KT_ASSERT(thread_foreground_interrupted_ns() >= t0);
    thread_interrupt_foreground();
    KT_ASSERT(!thread_interrupt_pending());
    KT_ASSERT_EQ(thread_sleep_until(clock_ns() + NS_PER_MS), 0);
}

static const struct ktest_case wait_cases[] = {
    { "signal_wakes_every_waiter", test_signal_wakes_every_waiter },
    { "signal_before_wait_is_not_lost", test_signal_before_wait_is_not_lost },
    { "deadline_times_out", test_deadline_times_out },
    { "signal_cancels_the_deadline", test_signal_cancels_the_deadline },
    { "interrupt_ends_interruptible_waits", test_interrupt_ends_interruptible_waits },
    { "interrupt_leaves_other_waits_alone", test_interrupt_leaves_other_waits_alone },
    { "sleep_until", test_sleep_until },
};
KTEST_SUITE(wait, wait_cases);
