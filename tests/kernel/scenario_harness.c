/* Cases that go wrong on purpose, for tests/scenarios/test_harness.py: it
 * runs tests/run.py on them and checks that the report names the case, the
 * failed check with its file and line, and, for the case that never ends,
 * that the suite's timeout says which case it was in. A scenario suite, so
 * test=all leaves it out; only test=harness or test=harness.CASE runs it. */
#include <webscale/kprintf.h>
#include <webscale/thread.h>
#include "kernel/ktest.h"

static void test_passes(void)
{
    KT_ASSERT_EQ(6 * 7, 42);
}

static volatile int answer = 41;     /* volatile: the compiler may not fold the check */

static void test_fails(void)
{
    KT_ASSERT_EQ(answer, 42);
}

#define HANG_LINES 50     /* more than the 40 lines a timeout report shows */

/* Says a few things, then waits for something that never comes. */
static void test_hangs(void)
{
    for (int i = 1; i <= HANG_LINES; i++)
        kprintf("harness: waiting, line %d of %d\n", i, HANG_LINES);
    for (;;)
        thread_sleep_ms(1000);
}

static const struct ktest_case harness_cases[] = {
    { "passes", test_passes },
    { "fails", test_fails },
    { "hangs", test_hangs },
};
KTEST_SCENARIO_SUITE(harness, harness_cases);
