/* The serial driver's non-blocking calls and its interrupt-driven output. */
#include <webscale/console.h>
#include <webscale/errno.h>
#include <webscale/string.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "kernel/ktest.h"
#include "kernel/x86.h"

/* Nothing was typed: a non-blocking read says so at once. */
static void test_read_nonblock_would_block(void)
{
    char c;
    uint64_t t0 = clock_ns();
    KT_ASSERT_EQ(console_read_nonblock(&c, 1), -E_WOULDBLOCK);
    KT_ASSERT(clock_ns() - t0 < NS_PER_MS);
}

/* A burst bigger than the output ring: the non-blocking writer queues what
 * fits and says how much; the blocking writer sleeps until the TX interrupt
 * drains the ring, and nothing is lost. Interrupts stay off between the two
 * non-blocking calls so that the ISR cannot drain the ring (QEMU's UART
 * sends instantly: one interrupt empties all 8 KiB). */
static void test_write_nonblock_fills_ring(void)
{
    static char burst[16384];
    memset(burst, '.', sizeof burst);
    for (unsigned i = 63; i < sizeof burst; i += 64)
        burst[i] = '\n';
    struct console_stats before, after;
    console_get_stats(&before);
    uint32_t f = irq_save();
    int n = console_write_nonblock(burst, sizeof burst);
    int again = console_write_nonblock(burst, sizeof burst);
    irq_restore(f);
    KT_ASSERT(n > 0 && n < (int)sizeof burst);
    /* Only what the UART's 16-byte FIFO took from the ring meanwhile. */
    KT_ASSERT_RANGE(again, 1, 16);
    /* The blocking call returns only when all of it is queued. */
    KT_ASSERT_EQ(console_write(burst, sizeof burst), (int)sizeof burst);
    kprintf("\n");
    thread_sleep_ms(50);
    console_get_stats(&after);
    KT_ASSERT(after.tx_bytes - before.tx_bytes >= (uint64_t)n + again + sizeof burst);
    KT_ASSERT(after.tx_irqs > before.tx_irqs);
}

static const struct ktest_case serial_cases[] = {
    { "read_nonblock_would_block", test_read_nonblock_would_block },
    { "write_nonblock_fills_ring", test_write_nonblock_fills_ring },
};
KTEST_SUITE(serial, serial_cases);
