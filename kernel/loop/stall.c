/* The stall detector: a callback that runs longer than the stall limit
 * blocks every other event, and the loop says which one, while it still
 * runs. The PIT's IRQ (loop_tick, kernel/loop.h) counts the ticks a
 * callback has held the loop; at the limit it notes the name and wakes
 * "loopwatch", a preempted thread that gets the CPU while the guilty
 * callback spins and prints the report, so the IRQ handler never formats
 * text. When the callback returns at last, loop_run_cb says how long it
 * ran in all. */
#include <webscale/errno.h>
#include <webscale/kprintf.h>
#include <webscale/sched.h>
#include <webscale/time.h>
#include "kernel/loop/loop_internal.h"
#include "kernel/x86.h"

volatile uint32_t loop_stall_seq;

static struct {
    uint32_t ms;                /* the limit */
    uint64_t ns;
    uint32_t ticks;             /* PIT ticks before the clock is read */
    uint32_t tick_seq;          /* loop_cb.seq the ticks are counted for */
    uint32_t tick_count;
    struct semaphore report;
} stall = {
    .ms = LOOP_STALL_MS_DEFAULT,
};

/* The tick count is one short of the limit, so that the clock is read at
 * the first tick that can be past it. */
static void update_ticks(void)
{
    stall.ns = (uint64_t)stall.ms * NS_PER_MS;
    uint32_t t = (uint32_t)((uint64_t)stall.ms * clock_hz() / 1000);
    stall.ticks = t > 1 ? t - 1 : 1;
}

void loop_set_stall_ms(uint32_t ms)
{
    uint32_t f = irq_save();
    stall.ms = ms ? ms : 1;
    update_ticks();
    irq_restore(f);
}

uint32_t loop_stall_ms(void) { return stall.ms; }

void loop_stall_tick(void)
{
    if (loop_cb.seq != stall.tick_seq) {      /* a new callback since the last tick */
        stall.tick_seq = loop_cb.seq;
        stall.tick_count = 0;
        return;
    }
    if (loop_stall_seq == loop_cb.seq || ++stall.tick_count < stall.ticks)
        return;
    uint64_t ran = clock_ns() - loop_cb.now;
    if (ran < stall.ns)
        return;
    loop_stall_seq = loop_cb.seq;
    loop_st.stalls++;
    loop_st.stall_name = loop_cb.name;
    loop_st.stall_ns = ran;
    loop_st.stall_total_ns = 0;
    sem_up(&stall.report);
}

void loop_stall_ended(const char *name, uint64_t end)
{
    loop_st.stall_total_ns = end - loop_cb.now;
    kprintf("loop: callback '%s' returned after %llu ms;\n"
            "      the loop was stalled all that time\n",
            name, (unsigned long long)(loop_st.stall_total_ns / NS_PER_MS));
}

static void loopwatch(void *arg)
{
    for (;;) {
        sem_down(&stall.report);
        /* Cooperative, this thread gets the CPU only once the callback has
         * given it back: its "returned after" came first; say so. */
        if (loop_st.stall_total_ns)
            kprintf("loop: callback '%s' had blocked the loop for %llu ms (limit %u ms)\n"
                    "      when the detector noticed; it could report only after the\n"
                    "      callback returned: %s\n",
                    loop_st.stall_name, (unsigned long long)(loop_st.stall_ns / NS_PER_MS),
                    stall.ms, sched_preemptive() ? "other threads ran first"
                                                 : "the scheduler is cooperative");
        else
            kprintf("loop: callback '%s' has blocked the loop for %llu ms (limit %u ms):\n"
                    "      every other event waits\n", loop_st.stall_name,
                    (unsigned long long)(loop_st.stall_ns / NS_PER_MS), stall.ms);
    }
}

int loop_stall_init(void)
{
    sem_init(&stall.report, 0, "loop: stall reports");
    update_ticks();
    if (!thread_create_ex("loopwatch", loopwatch, NULL, THREAD_STACK_DEFAULT, THREAD_DETACHED))
        return -E_NOMEM;
    return 0;
}
