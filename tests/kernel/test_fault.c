/* CPU exceptions and stack overflows kill the thread that caused them,
 * with a report; every other thread goes on. */
#include <webscale/string.h>
#include <webscale/system.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "kernel/ktest.h"
#include "kernel/mem.h"
#include "kernel/sched.h"
#include "tests/kernel/util.h"

static struct kt_heartbeat hb;

static volatile int divisor;   /* 0, and the compiler cannot know */

static void divide_by_zero(void *arg)
{
    volatile int x = 10 / divisor;
    (void)x;
}

static void load_bad_segment(void *arg)
{
    /* GDT index 10 does not exist: #GP with the selector as error code. */
    __asm__ volatile("movw $0x50, %%ax; movw %%ax, %%ds" ::: "eax", "memory");
}

static void invalid_opcode(void *arg)
{
    __asm__ volatile("ud2");
}

/* Run victim next to a heartbeat thread: the victim must die with
 * THREAD_KILLED, the heartbeat must keep beating afterwards. */
static void expect_killed(thread_fn victim, const char *name)
{
    hb.stop = 0;
    hb.beats = 0;
    thread_t *h = thread_create("heartbeat", kt_heartbeat, &hb);
    thread_sleep_ms(5);
    thread_t *v = thread_create(name, victim, NULL);
    KT_ASSERT(h && v);
    KT_ASSERT_EQ(thread_join(v), THREAD_KILLED);
    uint32_t before = hb.beats;
    thread_sleep_ms(20);
    KT_ASSERT(hb.beats > before + 5);
    hb.stop = 1;
    KT_ASSERT_EQ(thread_join(h), 0);
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

/* A runaway recursion that nothing stops: its next push below the stack
 * lands in the guard page. The CPU cannot push the page fault's frame
 * there either, so the double fault's task (its own stack) reports it and
 * the thread dies; the heap below the stack is never touched. */
static void __attribute__((noinline)) runaway(int depth)
{
    volatile uint32_t frame[16];
    frame[0] = depth;
    if (!divisor)                   /* always: the compiler cannot know */
        runaway(depth + 1);
    frame[1] = frame[0];
}

static void kernel_overflow(void *arg) { runaway(0); }

static void test_kernel_stack_overflow_hits_guard_page(void)
{
    struct mem_stats before, after;
    mem_get_stats(&before);
    expect_killed(kernel_overflow, "runaway");
    KT_ASSERT_EQ(mem_check(), 0);          /* the heap below the stack is intact */
    mem_get_stats(&after);
    KT_ASSERT_EQ(after.used, before.used);
    /* Twice: the double fault's task is a loop and serves the next one. */
    expect_killed(kernel_overflow, "runaway2");
}

static const struct ktest_case fault_cases[] = {
    { "divide_error_kills_thread", test_divide_error_kills_thread },
    { "bad_segment_kills_thread", test_bad_segment_kills_thread },
    { "invalid_opcode_kills_thread", test_invalid_opcode_kills_thread },
    { "stack_overflow_is_caught", test_stack_overflow_is_caught },
    { "kernel_stack_overflow_hits_guard_page", test_kernel_stack_overflow_hits_guard_page },
};
KTEST_SUITE(fault, fault_cases);
