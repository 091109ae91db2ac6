/* Kernel halves of tests/scenarios/: the host sends or checks, the kernel
 * measures. Run only when named (test=paste, test=panic_irq, ...). */
#include <webscale/console.h>
#include <webscale/kprintf.h>
#include <webscale/system.h>
#include <webscale/thread.h>
#include "kernel/ktest.h"
#include "kernel/trap.h"

#define PASTE_BYTES (1024 * 1024)
#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u

/* Read exactly 1 MiB in raw mode and print its FNV-1a hash: the host
 * compares it with the hash of what it sent. */
static void test_paste_1mib(void)
{
    static uint8_t buf[512];
    uint32_t got = 0, hash = FNV_OFFSET;
    console_set_raw(1);
    kprintf("paste: ready for %u bytes\n", PASTE_BYTES);
    /* Let the 4 KiB receive ring fill up first, so that the driver has to
     * pause the UART (flow control) and resume it: nothing may be lost. */
    thread_sleep_ms(200);
    while (got < PASTE_BYTES) {
        int n = console_read(buf, sizeof buf);
        KT_ASSERT(n > 0);
        if ((uint32_t)n > PASTE_BYTES - got)
            n = PASTE_BYTES - got;
        for (int i = 0; i < n; i++)
            hash = (hash ^ buf[i]) * FNV_PRIME;
        got += n;
    }
    console_set_raw(0);
    struct console_stats st;
    console_get_stats(&st);
    kprintf("paste: received %u bytes, fnv1a %08x, %u RX pauses (ring full), %u overruns\n",
            got, hash, st.rx_stalls, st.overruns);
    KT_ASSERT_EQ(st.overruns, 0);
}

static const struct ktest_case paste_cases[] = {
    { "paste_1mib", test_paste_1mib },
};
KTEST_SCENARIO_SUITE(paste, paste_cases);

static volatile int zero;

static void divide_in_irq(void *arg)
{
    /* Not 1 / zero: GCC turns that into a range check, no division. */
    volatile int x = 1000 / zero;
    (void)x;
}

#define TEST_IRQ 5    /* free on this machine */

/* An exception inside an IRQ handler cannot be blamed on a thread: panic,
 * and under test QEMU exits with a failure status. */
static void test_exception_in_irq_panics(void)
{
    irq_register(TEST_IRQ, divide_in_irq, NULL, "test");
    __asm__ volatile("int %0" : : "i"(32 + TEST_IRQ));
    KT_ASSERT(!"still running after an exception in an IRQ handler");
}

static const struct ktest_case panic_cases[] = {
    { "exception_in_irq_panics", test_exception_in_irq_panics },
};
KTEST_SCENARIO_SUITE(panic_irq, panic_cases);
