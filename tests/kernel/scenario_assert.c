/* Broken contracts on purpose: each suite breaks one and must panic with
 * the ASSERT's expression, file, line and function (tests/scenarios/
 * test_waits.py checks that the line it names holds that ASSERT). One
 * suite a boot: the first failed ASSERT ends the kernel. */
#include <webscale/measure.h>
#include <webscale/sync.h>
#include <webscale/thread.h>
#include "kernel/irq.h"
#include "kernel/ktest.h"
#include "kernel/sched.h"
#include "kernel/x86.h"

/* Waking a thread that is not waiting: sched_wake used to queue it anyway,
 * and a thread on the run queue twice corrupts it. */
static void test_wake_a_running_thread(void)
{
    cli();
    sched_wake(current);
    sti();
    KT_ASSERT(!"sched_wake accepted a running thread");
}

static const struct ktest_case wake_cases[] = {
    { "wake_a_running_thread", test_wake_a_running_thread },
};
KTEST_SCENARIO_SUITE(assert_wake, wake_cases);

/* A wait-queue call whose contract is "interrupts off", with them on. */
static void test_waitq_with_interrupts_on(void)
{
    static struct waitq q = WAITQ_INIT(q, "test");
    sti();
    waitq_wake_one(&q);
    KT_ASSERT(!"waitq_wake_one ran with interrupts on");
}

static const struct ktest_case irqs_cases[] = {
    { "waitq_with_interrupts_on", test_waitq_with_interrupts_on },
};
KTEST_SCENARIO_SUITE(assert_irqs, irqs_cases);

/* schedule() with a reason that does not match the thread's state: to
 * block, the thread must be on a wait (BLOCKED or SLEEPING) already. */
static void test_schedule_from_a_wrong_state(void)
{
    cli();
    schedule(SWITCH_BLOCK);        /* still RUNNING, on no wait queue */
    sti();
    KT_ASSERT(!"schedule accepted a running thread as blocking");
}

static const struct ktest_case schedule_cases[] = {
    { "schedule_from_a_wrong_state", test_schedule_from_a_wrong_state },
};
KTEST_SCENARIO_SUITE(assert_schedule, schedule_cases);

/* A wait in an IRQ handler: it would put the interrupted thread to sleep
 * on the semaphore's queue, in the middle of whatever it was doing. */
static struct semaphore never_up;

static void sleeping_handler(void *arg)
{
    sem_down(&never_up);
    /* Not a jump to sem_down: the backtrace shows this function. */
    __asm__ volatile("" ::: "memory");
}

static void test_sem_down_in_an_irq_handler(void)
{
    sem_init(&never_up, 0, "never up");
    irq_register(MEASURE_IRQ, sleeping_handler, NULL, "sleeps");
    __asm__ volatile("int %0" : : "i"(IRQ_VECTOR_BASE + MEASURE_IRQ) : "memory");
    KT_ASSERT(!"sem_down slept in an IRQ handler");
}

static const struct ktest_case sleep_cases[] = {
    { "sem_down_in_an_irq_handler", test_sem_down_in_an_irq_handler },
};
KTEST_SCENARIO_SUITE(assert_sleep, sleep_cases);
