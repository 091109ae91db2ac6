/* The scheduling trace's two-word records (kernel/trace.h): every record
 * decodes to the switch it was, its "from" taken from the record before,
 * its full time rebuilt from 40 bits. */
#include <webscale/sched.h>
#include <webscale/string.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include <webscale/trace.h>
#include "kernel/clock.h"
#include "kernel/ktest.h"
#include "kernel/sched.h"
#include "kernel/trace.h"
#include "kernel/x86.h"

static struct trace_record rec[TRACE_RECORDS];

#define ROUNDS 700              /* two yielders: 1400 switches, the ring wraps */
static volatile int ids[2];

static void yielder(void *arg)
{
    for (int i = 0; i < ROUNDS; i++)
        thread_yield();
}

/* Two threads yield to each other past a full ring: every record after
 * the first is from the thread the one before went to, times never go
 * back, and the pairs alternate between the two yielders. */
static void every_record_decodes(void)
{
    thread_t *a = thread_create("trA", yielder, NULL);
    thread_t *b = thread_create("trB", yielder, NULL);
    KT_ASSERT(a && b);
    ids[0] = thread_id(a);
    ids[1] = thread_id(b);
    thread_join(a);
    thread_join(b);
    uint64_t total;
    int n = trace_snapshot(rec, TRACE_RECORDS, &total);
    KT_ASSERT(total > TRACE_RECORDS);
    KT_ASSERT_EQ(n, TRACE_RECORDS - 1);      /* the oldest slot's "from" is gone */
    int alternating = 0;
    for (int i = 1; i < n; i++) {
        KT_ASSERT_EQ(rec[i].from, rec[i - 1].to);
        KT_ASSERT(rec[i].raw >= rec[i - 1].raw);
        KT_ASSERT(rec[i].ns >= rec[i - 1].ns);
        KT_ASSERT((unsigned)rec[i].reason < SWITCH_REASONS);
        if ((rec[i].from == ids[0] && rec[i].to == ids[1]) ||
            (rec[i].from == ids[1] && rec[i].to == ids[0]))
            alternating++;
    }
    KT_ASSERT(alternating > TRACE_RECORDS / 2);
    /* The newest record is the switch that brought this thread back. */
    KT_ASSERT_EQ(rec[n - 1].to, thread_id(thread_current()));
    KT_ASSERT(rec[n - 1].ns <= clock_ns());
}

/* Forged records around the 2^32 and 2^40 boundaries of the time (an
 * hour and 10.6 days of uptime): the full time comes back exact. Done
 * with interrupts off, and everything the trace keeps put back after. */
static struct trace_slot saved[TRACE_RECORDS];

static void full_time_rebuilt(void)
{
    static const uint64_t t[] = {
        0xFFFFFFFF00ull, 0x10000000010ull, 0x10100000005ull, 0x101FFFFFFFFull,
        0x10200000000ull, 0x1FFFFFFFFFFull, 0x20000000001ull,
    };
    const int n = sizeof t / sizeof t[0];
    uint32_t f = irq_save();
    memcpy(saved, trace_ring, sizeof saved);
    uint64_t count = sched_switch_count, raw = sched_switch_raw, first = trace_first;
    int first_from = trace_first_from;

    trace_restart(0, 7);
    for (sched_switch_count = 0; sched_switch_count < (uint64_t)n; sched_switch_count++)
        trace_switch(sched_switch_count, t[sched_switch_count], 10 + (int)sched_switch_count,
                     (int)sched_switch_count % SWITCH_REASONS);
    sched_switch_raw = t[n - 1];
    uint64_t total;
    int got = trace_snapshot(rec, TRACE_RECORDS, &total);

    memcpy(trace_ring, saved, sizeof saved);
    sched_switch_count = count;
    sched_switch_raw = raw;
    trace_restart(first, first_from);
    irq_restore(f);

    KT_ASSERT_EQ(got, n);
    KT_ASSERT_EQ(total, n);
    for (int i = 0; i < n; i++) {
        KT_ASSERT_EQ(rec[i].raw, t[i]);
        KT_ASSERT_EQ(rec[i].to, 10 + i);
        KT_ASSERT_EQ(rec[i].from, i == 0 ? 7 : 10 + i - 1);
        KT_ASSERT_EQ(rec[i].reason, i % SWITCH_REASONS);
    }
}

static const struct ktest_case trace_cases[] = {
    { "every_record_decodes", every_record_decodes },
    { "full_time_rebuilt", full_time_rebuilt },
};
KTEST_SUITE(trace, trace_cases);
