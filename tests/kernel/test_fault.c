/* CPU exceptions and stack overflows kill the thread that caused them,
 * with a report; every other thread goes on. */
#include <webscale/string.h>
#include <webscale/system.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "kernel/ktest.h"
#include "kernel/sched.h"
#include "tests/kernel/util.h"

static volatile int stop;
static volatile uint32_t beats;

static void heartbeat(void *arg)
{
    while (!stop) {
        beats++;
        thread_sleep_ms(1);
    }
}

static volatile int divisor;   /* 0, and the compiler cannot know */

static void divide_by_zero(void *arg)
{
    volatile int x = 10 / divisor;
    (void)x;
}

static void load_bad_segment(void *arg)
{
    /* GDT index 5 does not exist: #GP with the selector as error code. */
    __asm__ volatile("movw $0x28, %%ax; movw %%ax, %%ds" ::: "eax", "memory");
}

static void invalid_opcode(void *arg)
{
    __asm__ volatile("ud2");
}

/* Run victim next to a heartbeat thread: the victim must die with
 * THREAD_KILLED, the heartbeat must keep beating afterwards. */
static void expect_killed(thread_fn victim, const char *name)
{
    stop = 0;
    beats = 0;
    thread_t *hb = thread_create("heartbeat", heartbeat, NULL);
    thread_sleep_ms(5);
    thread_t *v = thread_create(name, victim, NULL);
    KT_ASSERT(hb && v);
    KT_ASSERT_EQ(thread_join(v), THREAD_KILLED);
    uint32_t before = beats;
    thread_sleep_ms(20);
    KT_ASSERT(beats > before + 5);
    stop = 1;
    KT_ASSERT_EQ(thread_join(hb), 0);
}

static void test_divide_error_kills_thread(void) { expect_killed(divide_by_zero, "divider"); }
static void test_bad_segment_kills_thread(void) { expect_killed(load_bad_segment, "badseg"); }
static void test_invalid_opcode_kills_thread(void) { expect_killed(invalid_opcode, "ud2"); }

/* A runaway recursion: each call takes ~80 bytes until the stack is
 * nearly gone, then the last frame's writes run over the lowest word, the
 * sentinel. The walk stops at the bottom of the allocation: going further
 * would trample the heap below, which only guard pages (paging) can catch. */
static uint32_t victim_stack_lo;

static void __attribute__((noinline)) dig(int depth)
{
    volatile uint32_t frame[16];
    for (int i = 0; i < 16; i++)
        frame[i] = depth;
    if ((uint32_t)&frame[0] > victim_stack_lo + 128) {
        dig(depth + 1);
    } else {
        for (volatile uint32_t *p = &frame[0]; (uint32_t)p >= victim_stack_lo; p--)
            *p = 0xDEADBEEF;
    }
}

static void overflow(void *arg)
{
    victim_stack_lo = (uint32_t)current->stack;
    dig(0);
    thread_yield();      /* the sentinel is checked when we switch out */
    for (;;)
        thread_sleep_ms(1);
}

static void test_stack_overflow_is_caught(void) { expect_killed(overflow, "overflow"); }

static const struct ktest_case fault_cases[] = {
    { "divide_error_kills_thread", test_divide_error_kills_thread },
    { "bad_segment_kills_thread", test_bad_segment_kills_thread },
    { "invalid_opcode_kills_thread", test_invalid_opcode_kills_thread },
    { "stack_overflow_is_caught", test_stack_overflow_is_caught },
};
KTEST_SUITE(fault, fault_cases);
