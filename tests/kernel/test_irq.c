/* The IRQ path: handlers run with interrupts off and counted, spurious
 * IRQ 7/15 are recognised and get no EOI, the PIT ticks at HZ. */
#include <webscale/system.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "drivers/pic.h"
#include "kernel/ktest.h"
#include "kernel/trap.h"
#include "kernel/x86.h"

static volatile int seen_nesting, seen_if, calls;

static void probe(void *arg)
{
    calls++;
    seen_nesting = irq_nesting;
    seen_if = irqs_enabled();
}

#define TEST_IRQ 5

static void test_handler_runs_in_irq_context(void)
{
    struct irq_stats before[IRQ_LINES], after[IRQ_LINES];
    uint32_t sp;
    irq_get_stats(before, &sp);
    irq_register(TEST_IRQ, probe, NULL, "probe");
    __asm__ volatile("int %0" : : "i"(PIC_IRQ_BASE + TEST_IRQ));
    __asm__ volatile("int %0" : : "i"(PIC_IRQ_BASE + TEST_IRQ));
    pic_mask(TEST_IRQ);
    irq_get_stats(after, &sp);
    KT_ASSERT_EQ(calls, 2);
    KT_ASSERT_EQ(seen_nesting, 1);
    KT_ASSERT_EQ(seen_if, 0);
    KT_ASSERT_EQ(after[TEST_IRQ].count - before[TEST_IRQ].count, 2);
    KT_ASSERT_EQ(irq_nesting, 0);
    KT_ASSERT(irqs_enabled());
}

/* A line on the slave 8259 takes the same fast path (vectors.S), with the
 * EOI to both chips: counted exactly, once per interrupt, and the next
 * one still arrives (a forgotten EOI would block it). */
#define TEST_IRQ_SLAVE 10
static void test_slave_line_counted(void)
{
    struct irq_stats before[IRQ_LINES], after[IRQ_LINES];
    uint32_t sp;
    calls = 0;
    irq_get_stats(before, &sp);
    irq_register(TEST_IRQ_SLAVE, probe, NULL, "probe slave");
    for (int i = 0; i < 3; i++)
        __asm__ volatile("int %0" : : "i"(PIC_IRQ_BASE + TEST_IRQ_SLAVE));
    pic_mask(TEST_IRQ_SLAVE);
    irq_get_stats(after, &sp);
    KT_ASSERT_EQ(calls, 3);
    KT_ASSERT_EQ(after[TEST_IRQ_SLAVE].count - before[TEST_IRQ_SLAVE].count, 3);
    KT_ASSERT_EQ(after[TEST_IRQ].count, before[TEST_IRQ].count);
    KT_ASSERT_EQ(irq_nesting, 0);
    /* The PIT still ticks after the EOIs. */
    uint64_t pit = after[IRQ_PIT].count;
    thread_sleep_ms(3);
    irq_get_stats(after, &sp);
    KT_ASSERT(after[IRQ_PIT].count >= pit + 2);
}

/* Vector 39 without the PIC's in-service bit 7 set is the 8259's
 * "spurious interrupt": counted, no handler, no EOI. */
static void test_spurious_irq7_is_counted(void)
{
    struct irq_stats st[IRQ_LINES];
    uint32_t before, after;
    irq_get_stats(st, &before);
    uint64_t count7 = st[IRQ_SPURIOUS_MASTER].count;
    __asm__ volatile("int %0" : : "i"(PIC_IRQ_BASE + IRQ_SPURIOUS_MASTER));
    __asm__ volatile("int %0" : : "i"(PIC_IRQ_BASE + IRQ_SPURIOUS_SLAVE));
    irq_get_stats(st, &after);
    KT_ASSERT_EQ(after - before, 2);
    KT_ASSERT_EQ(st[IRQ_SPURIOUS_MASTER].count, count7);
    /* Timer interrupts still arrive afterwards: no EOI was lost or extra. */
    uint64_t t0 = clock_ticks();
    thread_sleep_ms(10);
    KT_ASSERT(clock_ticks() >= t0 + 10);
}

static void test_pit_rate(void)
{
    struct irq_stats a[IRQ_LINES], b[IRQ_LINES];
    uint32_t sp;
    irq_get_stats(a, &sp);
    uint64_t t0 = clock_ns();
    thread_sleep_ms(500);
    uint64_t ns = clock_ns() - t0;
    irq_get_stats(b, &sp);
    uint64_t ticks = b[IRQ_PIT].count - a[IRQ_PIT].count;
    /* HZ interrupts per second of PIT time, to one tick. */
    uint64_t expect = ns * clock_hz() / NS_PER_S;
    KT_ASSERT_RANGE(ticks, expect - 1, expect + 1);
}

static const struct ktest_case irq_cases[] = {
    { "handler_runs_in_irq_context", test_handler_runs_in_irq_context },
    { "slave_line_counted", test_slave_line_counted },
    { "spurious_irq7_is_counted", test_spurious_irq7_is_counted },
    { "pit_rate", test_pit_rate },
};
KTEST_SUITE(irq, irq_cases);
