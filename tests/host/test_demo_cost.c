/* user/demo_cost.c: when scale and cpu-vs-io say their timings drifted,
 * and that a window's overhead is never an impossible figure. The
 * figures are scale's on a busy host: 50 us of work that measured 42, 83
 * and 146 us. */
#include "tests/host/check.h"
#include "user/demo_cost.h"

#define US 1000ull
#define MS (1000 * US)

static void test_drift(void)
{
    CHECK(!demo_drifted(50 * US, 50 * US));
    CHECK(!demo_drifted(50 * US, 55 * US));         /* 10 %: still one speed */
    CHECK(!demo_drifted(50 * US, 45 * US));
    CHECK(demo_drifted(50 * US, 55 * US + 1));
    CHECK(demo_drifted(50 * US, 45 * US - 1));
    CHECK(demo_drifted(50 * US, 42 * US));
    CHECK(demo_drifted(50 * US, 83 * US));
    CHECK(demo_drifted(50 * US, 146 * US));
    CHECK(!demo_drifted(0, 0));
    CHECK(demo_drifted(0, 1));
    /* cpu-vs-io's splits, the control run and the pool against the first
     * run: a busy host's 51.3 ms, then 53.3, 46.0 (1.11x "faster"), 49.6. */
    uint64_t steady[] = { 53 * MS, 49 * MS, 50 * MS, 51 * MS };
    uint64_t busy[] = { 53 * MS, 45 * MS, 50 * MS, 51 * MS };
    CHECK(!demo_drifted_any(51 * MS, steady, 4));
    CHECK(demo_drifted_any(51 * MS, busy, 4));
    CHECK(!demo_drifted_any(51 * MS, busy, 0));
}

static void test_split(void)
{
    struct cpu_split s;
    /* Under -icount: 1000 ms window, 500 ms idle, 9000 requests of 50 us
     * = 450 ms of work, 20 ms of switching: 50 ms of overhead. */
    demo_cpu_split(1000 * MS, 500 * MS, 9000, 50 * US, 20 * MS, &s);
    CHECK(s.possible);
    CHECK_EQ(s.busy_ns, 500 * MS);
    CHECK_EQ(s.work_ns, 450 * MS);
    CHECK_EQ(s.overhead_ns, 50 * MS);
    /* Work and switching exactly fill the busy time: possible, overhead
     * = the switching alone. */
    demo_cpu_split(1000 * MS, 530 * MS, 9000, 50 * US, 20 * MS, &s);
    CHECK(s.possible);
    CHECK_EQ(s.overhead_ns, 20 * MS);
    /* The host slowed QEMU down after the work was timed at 42 us: the
     * rows did the work in 83 us each, so 9000 x 42 us leaves more than
     * the truth for the overhead, but no impossible figure. With the work
     * timed at 146 us (QEMU sped up after) it exceeds the busy time. */
    demo_cpu_split(1000 * MS, 253 * MS, 9000, 83 * US, 0, &s);
    CHECK(s.possible);
    demo_cpu_split(1000 * MS, 253 * MS, 9000, 146 * US, 10 * MS, &s);
    CHECK(!s.possible);
    CHECK_EQ(s.overhead_ns, 0);
    /* Work within the busy time but leaving less than the switching. */
    demo_cpu_split(1000 * MS, 500 * MS, 9000, 55 * US, 10 * MS, &s);
    CHECK(!s.possible);
    /* Idle beyond the window (a clock read late): no busy time, and no
     * work may be claimed in it. */
    demo_cpu_split(100 * MS, 101 * MS, 0, 50 * US, 0, &s);
    CHECK(s.possible && s.busy_ns == 0 && s.overhead_ns == 0);
    demo_cpu_split(100 * MS, 101 * MS, 1, 50 * US, 0, &s);
    CHECK(!s.possible);
}

int main(void)
{
    test_drift();
    test_split();
    return check_done("demo_cost");
}
