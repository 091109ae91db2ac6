/* Threads and the scheduler: preemption, yield, sleep accuracy, join,
 * accounting, time slices, cooperative mode. Booted with test=sched under
 * -icount shift=0, so these timings are exact instruction counts. */
#include <webscale/errno.h>
#include <webscale/sched.h>
#include <webscale/string.h>
#include <webscale/system.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include <webscale/trace.h>
#include "kernel/clock.h"
#include "kernel/ktest.h"
#include "kernel/sched.h"
#include "kernel/x86.h"
#include "tests/kernel/util.h"

static volatile int stop;

struct spinner {
    volatile uint32_t count;
};

static void spin_count(void *arg)
{
    struct spinner *s = arg;
    while (!stop)
        s->count++;
}

/* A thread that never yields must not keep the CPU from the others:
 * this very test thread gets to run again only if the PIT preempts it. */
static void test_spinner_does_not_starve(void)
{
    struct spinner a = { 0 }, b = { 0 };
    stop = 0;
    thread_t *ta = thread_create("spinA", spin_count, &a);
    thread_t *tb = thread_create("spinB", spin_count, &b);
    KT_ASSERT(ta && tb);
    uint64_t t0 = clock_ns();
    thread_sleep_ms(100);
    uint64_t slept = clock_ns() - t0;
    struct thread_info ia, ib;
    KT_ASSERT(kt_thread_info(thread_id(ta), &ia) == 0);
    KT_ASSERT(kt_thread_info(thread_id(tb), &ib) == 0);
    stop = 1;
    KT_ASSERT_EQ(thread_join(ta), 0);
    KT_ASSERT_EQ(thread_join(tb), 0);
    KT_ASSERT(a.count > 0 && b.count > 0);
    /* Both were preempted, about once per 10 ms slice each. */
    KT_ASSERT_RANGE(ia.involuntary, 3, 10);
    KT_ASSERT_RANGE(ib.involuntary, 3, 10);
    /* Woken at the deadline's tick, we queue behind both spinners: at
     * most two 10 ms slices plus a tick later (round robin, no boost). */
    KT_ASSERT_RANGE(slept, 100 * NS_PER_MS, 122 * NS_PER_MS);
    /* Fair shares: each spinner had 40-60 % of the 100 ms. */
    KT_ASSERT_RANGE(ia.cpu_ns * 100 / slept, 40, 60);
    KT_ASSERT_RANGE(ib.cpu_ns * 100 / slept, 40, 60);
}

static char yield_log[32];
static volatile int yield_pos;

static void yield_writer(void *arg)
{
    for (int i = 0; i < 5; i++) {
        yield_log[yield_pos++] = *(const char *)arg;
        thread_yield();
    }
}

static void test_yield_alternates(void)
{
    memset(yield_log, 0, sizeof yield_log);
    yield_pos = 0;
    thread_t *a = thread_create("yieldA", yield_writer, "A");
    thread_t *b = thread_create("yieldB", yield_writer, "B");
    KT_ASSERT(a && b);
    thread_join(a);
    thread_join(b);
    if (strcmp(yield_log, "ABABABABAB") != 0)
        ktest_fail(__FILE__, __LINE__, "order was '%s'", yield_log);
    struct thread_info self;
    KT_ASSERT(kt_thread_info(thread_id(thread_current()), &self) == 0);
}

/* Three yielders: the run queue's list is in use (its first thread moves
 * up into runq_next at every pick), and the order stays round robin. A
 * fourth thread, started by the third, joins at the back. */
static void late_writer(void *arg)
{
    thread_t *d = thread_create("yieldD", yield_writer, "D");
    yield_writer(arg);
    thread_join(d);
}

static void test_yield_round_robin_three(void)
{
    memset(yield_log, 0, sizeof yield_log);
    yield_pos = 0;
    uint32_t f = irq_save();             /* all three ready before any runs */
    thread_t *a = thread_create("yieldA", yield_writer, "A");
    thread_t *b = thread_create("yieldB", yield_writer, "B");
    thread_t *c = thread_create("yieldC", late_writer, "C");
    irq_restore(f);
    KT_ASSERT(a && b && c);
    thread_join(a);
    thread_join(b);
    thread_join(c);
    /* C starts D before its first letter: D is queued behind A and B and
     * ahead of C, which yields after it. Then each round is A B D C, and
     * D, started last, writes the last letter. */
    if (strcmp(yield_log, "ABCABDCABDCABDCABDCD") != 0)
        ktest_fail(__FILE__, __LINE__, "order was '%s'", yield_log);
}

/* sleep_ms wakes within one tick of its deadline, never early. */
static void test_sleep_accuracy(void)
{
    static const uint32_t ms[] = { 1, 2, 5, 17, 100, 250 };
    uint32_t tick = clock_tick_ns();
    for (unsigned i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        uint64_t t0 = clock_ns();
        thread_sleep_ms(ms[i]);
        uint64_t late = clock_ns() - t0 - ms[i] * NS_PER_MS;
        KT_ASSERT(clock_ns() - t0 >= ms[i] * NS_PER_MS);
        if (late > tick)
            ktest_fail(__FILE__, __LINE__, "sleep_ms(%u) woke %llu ns late (tick %u ns)",
                       ms[i], (unsigned long long)late, tick);
    }
}

struct sleeper {
    uint32_t ms;
    int order;
};
static volatile int wake_counter;

static void sleep_then_record(void *arg)
{
    struct sleeper *s = arg;
    thread_sleep_ms(s->ms);
    s->order = wake_counter++;
}

/* Sleepers wake in deadline order, not in the order they went to sleep. */
static void test_sleepers_wake_in_deadline_order(void)
{
    struct sleeper s[4] = { { 40, 0 }, { 10, 0 }, { 30, 0 }, { 20, 0 } };
    thread_t *t[4];
    wake_counter = 0;
    for (int i = 0; i < 4; i++)
        KT_ASSERT((t[i] = thread_create("sleeper", sleep_then_record, &s[i])) != NULL);
    for (int i = 0; i < 4; i++)
        thread_join(t[i]);
    KT_ASSERT_EQ(s[1].order, 0);
    KT_ASSERT_EQ(s[3].order, 1);
    KT_ASSERT_EQ(s[2].order, 2);
    KT_ASSERT_EQ(s[0].order, 3);
}

static void exit_with(void *arg)
{
    thread_exit((int)(intptr_t)arg);
}

static void return_normally(void *arg) { (void)arg; }

static void test_join_returns_exit_code(void)
{
    thread_t *a = thread_create("exit42", exit_with, (void *)42);
    thread_t *b = thread_create("returns", return_normally, NULL);
    KT_ASSERT(a && b);
    KT_ASSERT_EQ(thread_join(a), 42);
    KT_ASSERT_EQ(thread_join(b), 0);
    KT_ASSERT_EQ(thread_join(thread_current()), -E_INVAL);
    KT_ASSERT_EQ(thread_join(NULL), -E_INVAL);
}

/* A shorter slice means more preemptions of the same spinning work. */
static void test_slice_is_settable(void)
{
    KT_ASSERT_EQ(sched_set_slice_ms(0), -E_INVAL);
    KT_ASSERT_EQ(sched_set_slice_ms(SCHED_SLICE_MS_MAX + 1), -E_INVAL);
    uint32_t invol[2];
    static const uint32_t slices[2] = { 20, 2 };
    for (int k = 0; k < 2; k++) {
        KT_ASSERT_EQ(sched_set_slice_ms(slices[k]), 0);
        KT_ASSERT_EQ(sched_slice_ms(), slices[k]);
        struct spinner a = { 0 }, b = { 0 };
        stop = 0;
        thread_t *ta = thread_create("spinA", spin_count, &a);
        thread_t *tb = thread_create("spinB", spin_count, &b);
        thread_sleep_ms(200);
        struct thread_info ia;
        kt_thread_info(thread_id(ta), &ia);
        invol[k] = ia.involuntary;
        stop = 1;
        thread_join(ta);
        thread_join(tb);
    }
    sched_set_slice_ms(SCHED_SLICE_MS_DEFAULT);
    /* 200 ms shared by two spinners: ~5 slices of 20 ms, ~50 of 2 ms each. */
    KT_ASSERT_RANGE(invol[0], 3, 7);
    KT_ASSERT_RANGE(invol[1], 40, 60);
}

static volatile int coop_ran;

static void coop_marker(void *arg) { coop_ran = 1; }

/* Cooperative mode: a thread keeps the CPU until it gives it up. */
static void test_cooperative_mode(void)
{
    coop_ran = 0;
    sched_set_preemptive(0);
    thread_t *t = thread_create("marker", coop_marker, NULL);
    uint64_t t0 = clock_ns();
    while (clock_ns() - t0 < 30 * NS_PER_MS)
        ;   /* three slices of busy work: no preemption may happen */
    int ran_during_busy = coop_ran;
    thread_yield();
    int ran_after_yield = coop_ran;
    sched_set_preemptive(1);
    thread_join(t);
    KT_ASSERT_EQ(ran_during_busy, 0);
    KT_ASSERT_EQ(ran_after_yield, 1);
}

/* Per-thread accounting: a thread that sleeps uses almost no CPU and its
 * switches are voluntary; the stack high-water mark is measured. */
static void sleepy(void *arg)
{
    for (int i = 0; i < 10; i++)
        thread_sleep_ms(5);
    struct thread_info self;
    kt_thread_info(thread_id(thread_current()), &self);
    *(struct thread_info *)arg = self;
}

static void test_accounting(void)
{
    struct thread_info info;
    thread_t *t = thread_create("sleepy", sleepy, &info);
    KT_ASSERT(t);
    thread_join(t);
    KT_ASSERT_RANGE(info.voluntary, 10, 10);
    KT_ASSERT_EQ(info.involuntary, 0);
    KT_ASSERT(info.cpu_ns < 5 * NS_PER_MS);
    KT_ASSERT_EQ(info.stack_size, THREAD_STACK_DEFAULT);
    KT_ASSERT_RANGE(info.stack_used, 16, THREAD_STACK_DEFAULT - 256);
    struct sched_stats s;
    sched_get_stats(&s);
    KT_ASSERT(s.switches >= s.by_reason[SWITCH_BLOCK] + s.by_reason[SWITCH_EXIT]);
    KT_ASSERT(s.idle_ns > 0);
}

/* The CPU times that ps shows (thread_snapshot) and the clock, read at
 * one instant. */
static uint64_t cpu_total_ns(uint64_t *now)
{
    static struct thread_info info[64];
    uint32_t f = irq_save();
    int n = thread_snapshot(info, 64);
    *now = clock_ns();
    irq_restore(f);
    KT_ASSERT(n <= 64);
    uint64_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += info[i].cpu_ns;
    return sum;
}

static void yield_until_stop(void *arg)
{
    while (!stop)
        thread_yield();
}

/* CPU time is kept in PIT input clocks, stamped from the tick itself when
 * a thread is preempted at one: the times of all threads still add up to
 * the time that passed, within a tick, whatever mix of preemption, yields,
 * sleeps and idle filled it. (Threads stay alive over the window: a dead
 * thread's time leaves ps with it.) */
static void test_cpu_time_adds_up(void)
{
    struct spinner a = { 0 };
    stop = 0;
    uint64_t t0, t1;
    uint64_t c0 = cpu_total_ns(&t0);
    thread_t *ts = thread_create("spinA", spin_count, &a);
    thread_t *ty = thread_create("yielder", yield_until_stop, NULL);
    thread_t *tz = thread_create("sleepy", sleepy, &(struct thread_info){ 0 });
    KT_ASSERT(ts && ty && tz);
    thread_sleep_ms(60);
    stop = 1;
    thread_sleep_ms(60);     /* idle now: sleepy still sleeps in 5 ms steps */
    uint64_t c1 = cpu_total_ns(&t1);
    thread_join(ts);
    thread_join(ty);
    thread_join(tz);
    KT_ASSERT(a.count > 0);
    uint64_t used = c1 - c0, passed = t1 - t0;
    KT_ASSERT(passed > 100 * NS_PER_MS);
    KT_ASSERT_RANGE(used, passed - clock_tick_ns(), passed + clock_tick_ns());
}

/* A turn of more than 2^31 PIT input clocks (30 minutes) would wrap
 * account_switch's 32-bit turn. The idle thread, alone on the CPU while
 * this thread sleeps 35 minutes, is charged every CHARGE_IDLE_TICKS ticks
 * (charge_turn, sched.c), so the CPU times still add up to the time that
 * passed, within a tick. Under -icount with sleep=off QEMU skips the idle
 * time between ticks: 35 guest minutes take seconds. */
static void test_long_idle_turn_adds_up(void)
{
    uint64_t t0, t1;
    uint64_t c0 = cpu_total_ns(&t0);
    thread_sleep_ms(35u * 60 * 1000);
    uint64_t c1 = cpu_total_ns(&t1);
    uint64_t used = c1 - c0, passed = t1 - t0;
    KT_ASSERT(passed >= 35ull * 60 * NS_PER_S);
    KT_ASSERT_RANGE(used, passed - clock_tick_ns(), passed + clock_tick_ns());
}

/* `sched stats off`: switches go on, but count nothing, charge no CPU
 * time and write no trace record; turned back on, the CPU times plus the
 * time with stats off add up to the time that passed, within a tick, and
 * the trace starts again at the thread that turned them on. */
static void test_stats_off_skips_bookkeeping(void)
{
    static struct trace_record rec[4];
    struct spinner a = { 0 };
    stop = 0;
    uint64_t off0 = sched_stats_off_ns(), t0, t1;
    uint64_t c0 = cpu_total_ns(&t0);
    sched_set_stats(0);
    KT_ASSERT(!sched_stats());
    struct sched_stats s0, s1;
    sched_get_stats(&s0);
    uint64_t traced0;
    trace_snapshot(rec, 1, &traced0);
    thread_t *ts = thread_create("spinA", spin_count, &a);
    thread_t *ty = thread_create("yielder", yield_until_stop, NULL);
    KT_ASSERT(ts && ty);
    thread_sleep_ms(30);                  /* they yield and are preempted meanwhile */
    sched_get_stats(&s1);
    uint64_t traced1;
    trace_snapshot(rec, 1, &traced1);
    KT_ASSERT(a.count > 0);
    KT_ASSERT_EQ(s1.switches, s0.switches);
    KT_ASSERT_EQ(traced1, traced0);
    sched_set_stats(1);
    uint64_t off = sched_stats_off_ns() - off0;
    KT_ASSERT(off >= 30 * NS_PER_MS);
    thread_sleep_ms(30);
    uint64_t c1 = cpu_total_ns(&t1);      /* before they end: a dead thread leaves ps */
    uint64_t off1 = sched_stats_off_ns();
    stop = 1;
    thread_join(ts);
    thread_join(ty);
    /* The first record of the new trace is from this thread. */
    int n = trace_snapshot(rec, 4, &traced1);
    KT_ASSERT(n >= 1 && traced1 > traced0);
    int from_us = 0;
    for (int i = 0; i < n; i++)
        from_us |= rec[i].from == thread_id(thread_current());
    KT_ASSERT(from_us);
    uint64_t used = c1 - c0 + (off1 - off0), passed = t1 - t0;
    KT_ASSERT_RANGE(used, passed - clock_tick_ns(), passed + clock_tick_ns());
}

/* The clock is monotonic and has sub-tick resolution. */
static void test_clock(void)
{
    uint64_t prev = clock_ns();
    int distinct = 0;
    uint64_t t0 = prev;
    while (clock_ns() - t0 < 3 * NS_PER_MS) {
        uint64_t now = clock_ns();
        KT_ASSERT(now >= prev);
        if (now != prev)
            distinct++;
        prev = now;
    }
    /* Far more distinct readings than the 3 ticks that passed. */
    KT_ASSERT(distinct > 30);
    /* The raw clock the scheduler charges CPU time with never goes back,
     * across tick boundaries too (a step back once made idle time huge). */
    uint64_t prev_raw = 0;
    t0 = clock_ns();
    while (clock_ns() - t0 < 5 * NS_PER_MS) {
        uint32_t f = irq_save();
        uint64_t r = clock_raw();
        irq_restore(f);
        KT_ASSERT(r >= prev_raw);
        prev_raw = r;
    }
    struct sched_stats st;
    sched_get_stats(&st);
    KT_ASSERT(st.idle_ns <= clock_ns());
    KT_ASSERT_EQ(clock_hz(), 1000);
    KT_ASSERT_RANGE(clock_tick_ns(), 999000, 1001000);
}

/* Reading the running thread's CPU time charges its turn up to then
 * (sched_cpu_ns): the figure shown is what the thread is charged, so the
 * switch that ends the turn, whose clock reading may lag clock_raw()'s
 * (QEMU shows the PIT's reload before IRQ 0 is requested), can charge
 * nothing more but never take back what was shown. Checked with
 * interrupts off, no switch in between: the thread's charged time equals
 * the figure, and the turn now starts at the reading. */
static void test_reading_cpu_time_charges_the_turn(void)
{
    uint32_t f = irq_save();
    struct thread *me = current;
    for (volatile int i = 0; i < 20000; i++)
        ;                                 /* a turn of many PIT input clocks */
    uint64_t ns = sched_cpu_ns(me);
    uint64_t charged = me->cpu_raw, stamp = sched_switch_raw;
    uint64_t later = sched_cpu_ns(me);
    irq_restore(f);
    KT_ASSERT(ns > 0);
    KT_ASSERT_EQ(clock_raw_to_ns(charged), ns);
    KT_ASSERT(later >= ns);
    KT_ASSERT(sched_switch_raw >= stamp);
    /* And across switches: 2000 yields to a thread that yields back, a
     * tick now and then among them, read after each. */
    stop = 0;
    thread_t *ts = thread_create("yielder", yield_until_stop, NULL);
    KT_ASSERT(ts);
    uint64_t last = sched_cpu_ns(current);
    for (int i = 0; i < 2000; i++) {
        thread_yield();
        uint64_t now = sched_cpu_ns(current);
        KT_ASSERT(now >= last);
        last = now;
    }
    stop = 1;
    thread_join(ts);
}

static const struct ktest_case sched_cases[] = {
    { "spinner_does_not_starve", test_spinner_does_not_starve },
    { "yield_alternates", test_yield_alternates },
    { "yield_round_robin_three", test_yield_round_robin_three },
    { "sleep_accuracy", test_sleep_accuracy },
    { "sleepers_wake_in_deadline_order", test_sleepers_wake_in_deadline_order },
    { "join_returns_exit_code", test_join_returns_exit_code },
    { "slice_is_settable", test_slice_is_settable },
    { "cooperative_mode", test_cooperative_mode },
    { "accounting", test_accounting },
    { "cpu_time_adds_up", test_cpu_time_adds_up },
    { "long_idle_turn_adds_up", test_long_idle_turn_adds_up },
    { "stats_off_skips_bookkeeping", test_stats_off_skips_bookkeeping },
    { "clock", test_clock },
    { "reading_cpu_time_charges_the_turn", test_reading_cpu_time_charges_the_turn },
};
KTEST_SUITE(sched, sched_cases);
