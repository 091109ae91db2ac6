/* kernel/measure.c, where `latency` once went wrong: the event-loop
 * dispatch row while someone else keeps the loop's post ring full, and a
 * row that cannot be measured saying why.
 *
 * Booted with test=measure under -icount shift=0. */
#include <webscale/loop.h>
#include <webscale/measure.h>
#include <webscale/sched.h>
#include <webscale/string.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "kernel/ktest.h"

#define ROUNDS 100

static volatile int flood_stop;
static volatile uint32_t flood_posts;

static void flood_cb(void *arg) { }

/* Every other turn, fill the post ring until it refuses; give the CPU
 * away. A batch of probes then starts beside an empty ring or a full one,
 * and when the PIT preempts it the ring may fill behind the probes the
 * loop has already run. */
static void flooder(void *arg)
{
    for (uint32_t turn = 0; !flood_stop; turn++) {
        while (turn % 2 && loop_post(flood_cb, NULL) == 0)
            flood_posts++;
        thread_yield();
    }
}

/* Posts refused while the flooder holds the ring: a batch counts only
 * the probes that went in, and one that had none says so. (Counting
 * refused posts down after the loop had already run the others left no
 * probe to see the last one, and latency would have waited forever; a
 * batch whose every post was refused made the row print "not measured
 * (cooperative mode?)", the only reason it knew, while preemptive.) */
static void test_dispatch_beside_a_full_ring(void)
{
    KT_ASSERT(sched_preemptive());
    KT_ASSERT_EQ(loop_start(), 0);
    uint32_t slice = sched_slice_ms();
    sched_set_slice_ms(1);
    flood_stop = 0;
    flood_posts = 0;
    thread_t *f = thread_create("flooder", flooder, NULL);
    KT_ASSERT(f != NULL);
    uint64_t t0 = clock_ns();
    int measured = 0, refused = 0;
    for (int i = 0; i < ROUNDS; i++) {
        uint64_t d = measure_loop_dispatch(256);
        if (d)
            measured++;
        else if (measure_why_not() &&
                 strcmp(measure_why_not(), "the loop's post ring stayed full") == 0)
            refused++;
    }
    flood_stop = 1;
    thread_join(f);
    sched_set_slice_ms(slice);
    kprintf("# %d dispatch figures beside a flooder (%u posts): %d measured, %d refused "
            "(ring full), in %u ms\n", ROUNDS, flood_posts, measured, refused,
            (unsigned)((clock_ns() - t0) / NS_PER_MS));
    KT_ASSERT(flood_posts > 0);
    KT_ASSERT_EQ(measured + refused, ROUNDS);
    KT_ASSERT(measured > 0);
}

/* Cooperative: the preemption rows name the reason, the others measure. */
static void test_cooperative_says_why(void)
{
    sched_set_preemptive(0);
    uint64_t p = measure_preempt_switch_from_irq(20);
    const char *why = measure_why_not();
    uint64_t y = measure_yield_switch(64);
    sched_set_preemptive(1);
    KT_ASSERT_EQ(p, 0);
    KT_ASSERT(why && strncmp(why, "cooperative mode", 16) == 0);
    KT_ASSERT(y > 0 && measure_why_not() == NULL);
}

static const struct ktest_case measure_cases[] = {
    { "dispatch_beside_a_full_ring", test_dispatch_beside_a_full_ring },
    { "cooperative_says_why", test_cooperative_says_why },
};

KTEST_SUITE(measure, measure_cases);
