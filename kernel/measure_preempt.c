/* The preemptive switch of `latency` and `make bench`
 * (<webscale/measure.h>): two threads spin, the PIT takes the CPU from
 * one and gives it to the other, and both stamp the clock as often as
 * they can. From the last stamp of the one preempted to the first of the
 * next, minus a turn of their loop, is the switch from A's last
 * instruction (`make bench`); from a stamp the PIT's entry point takes
 * (measure_entry.S) to the next one's first is the switch from the first
 * instruction the kernel controls (`latency`). */
#include <webscale/sched.h>
#include <webscale/sort.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "kernel/clock.h"
#include "kernel/measure.h"
#include "kernel/trap.h"
#include "kernel/x86.h"

#define PREEMPT_SAMPLES 512
/* Without a TSC every stamp is rounded to 838 ns, and the tick that
 * preempts always comes at a PIT clock edge: under -icount the phases
 * lock and the rounding never averages out. So on the PIT clock each
 * turn adds ~1000 instructions with interrupts off, and each slice starts
 * with a random delay: the tick fires at a random point of a turn longer
 * than a PIT step, and waits for the turn's end to be taken. */
#define PREEMPT_DITHER_TURNS 100

/* The clock at the first instruction of IRQ 0 that the kernel controls,
 * written by measure_pit_entry_tsc/_pit (measure_entry.S) while
 * measure_preempt_switch_from_irq has pointed the PIT's vector at them. */
volatile uint64_t measure_irq_entry_stamp;
void measure_pit_entry_tsc(void);
void measure_pit_entry_pit(void);
void measure_stamp_irq_entry(void);

/* Called by measure_pit_entry_pit with interrupts off, before anything
 * else of the IRQ runs. The PIT clock cannot be read in a few
 * instructions; the ~30 this call costs are far below its 838 ns step. */
void measure_stamp_irq_entry(void) { measure_irq_entry_stamp = clock_ns(); }

static struct {
    volatile uint64_t last_stamp;
    volatile int last_owner, stop;
    uint32_t dither;                   /* PREEMPT_DITHER_TURNS on the PIT clock, else 0 */
    uint32_t seed;
    uint32_t cross[PREEMPT_SAMPLES];   /* stamp gaps across a switch */
    uint32_t entry[PREEMPT_SAMPLES];   /* the IRQ's entry to the next thread's first stamp */
    uint32_t ncross, nentry;
    uint64_t same_total;               /* stamp gaps within one thread: a loop turn */
    uint32_t nsame;
} pp;

static void stamp_spinner(void *arg)
{
    int me = (int)(intptr_t)arg;
    while (!pp.stop) {
        /* Stamp and bookkeeping with interrupts off: a switch between them
         * would leave a stale last_stamp behind. The tick is taken at the
         * one point of the turn where interrupts are on, at the same
         * point in both threads, so a gap across a switch is one loop
         * turn plus the switch, and the thread the CPU goes to stamps
         * right after it resumes. */
        uint32_t f = irq_save();
        uint64_t now = cpu_cycles();
        if (pp.last_owner != me) {
            if (pp.last_owner && pp.ncross < PREEMPT_SAMPLES)
                pp.cross[pp.ncross++] = (uint32_t)(now - pp.last_stamp);
            /* The tick that preempted the other spinner stamped its entry
             * last; taken once, so that no switch uses an older one. */
            uint64_t entry = measure_irq_entry_stamp;
            measure_irq_entry_stamp = 0;
            if (pp.last_owner && entry && pp.nentry < PREEMPT_SAMPLES)
                pp.entry[pp.nentry++] = (uint32_t)(now - entry);
            pp.last_owner = me;
            if (pp.dither) {
                /* Shift this slice's turns by a random amount, so that
                 * the next tick lands at a random point of a turn. */
                pp.seed = pp.seed * 1103515245u + 12345u;   /* C's example LCG */
                spin_instructions((pp.seed >> 16) % (2 * pp.dither));
                now = cpu_cycles();
            }
        } else {
            pp.same_total += now - pp.last_stamp;
            pp.nsame++;
        }
        pp.last_stamp = now;
        spin_instructions(pp.dither);  /* a tick that comes now waits for the sti */
        irq_restore(f);
    }
}

/* The typical one of n gaps, in thousandths of a unit. With a TSC the
 * median: exact samples, the median drops the odd outlier. On the PIT
 * clock samples come in 838 ns steps and only their mean is finer than
 * that: the mean of those not far above the median (leaving out gaps in
 * which another thread ran: the caller waking up, the loop's timers). */
static uint64_t typical_gap(uint32_t *v, uint32_t n)
{
    sort_u32(v, n);
    uint64_t median = v[n / 2];
    if (cpu_has_tsc())
        return median * 1000;
    uint64_t limit = 2 * median + 2 * clock_resolution_ns(), sum = 0;
    uint32_t used = 0;
    for (uint32_t i = 0; i < n; i++)
        if (v[i] <= limit) {
            sum += v[i];
            used++;
        }
    return sum * 1000 / used;
}

/* Two spinners with a 1 ms slice for ms; with hook, the PIT's vector
 * stamps its entry meanwhile. 0, or -1 (why_not says why). */
static int run_spinners(uint32_t ms, int hook)
{
    not_measured(NULL);
    if (!sched_preemptive()) {
        /* the spinners would never give the CPU back */
        not_measured("cooperative mode: nothing preempts ('sched preempt')");
        return -1;
    }
    uint32_t slice = sched_slice_ms();
    pp.last_owner = pp.stop = 0;
    pp.ncross = pp.nentry = pp.nsame = 0;
    pp.same_total = 0;
    pp.dither = cpu_has_tsc() ? 0 : PREEMPT_DITHER_TURNS;
    measure_irq_entry_stamp = 0;
    uint32_t f = irq_save();
    uint32_t pit_entry = 0;
    if (hook)
        pit_entry = idt_set_entry(clock_hw_vector(), (uint32_t)(cpu_has_tsc()
                                  ? measure_pit_entry_tsc : measure_pit_entry_pit));
    irq_restore(f);
    sched_set_slice_ms(1);
    /* The spinners start at once; this thread sleeps through the run. */
    thread_t *a = thread_create("stampA", stamp_spinner, (void *)1);
    thread_t *b = thread_create("stampB", stamp_spinner, (void *)2);
    thread_sleep_ms(ms);
    pp.stop = 1;
    if (a)
        thread_join(a);
    if (b)
        thread_join(b);
    sched_set_slice_ms(slice);
    if (hook) {
        f = irq_save();
        idt_set_entry(clock_hw_vector(), pit_entry);
        irq_restore(f);
    }
    if (!a || !b) {
        not_measured("no memory for a thread");
        return -1;
    }
    if (!pp.ncross || !pp.nsame) {
        not_measured("the PIT never took the CPU from a spinner");
        return -1;
    }
    return 0;
}

uint64_t measure_preempt_switch(uint32_t ms)
{
    if (run_spinners(ms, 0) < 0)
        return 0;
    return minus(typical_gap(pp.cross, pp.ncross), pp.same_total * 1000 / pp.nsame);
}

uint64_t measure_preempt_switch_from_irq(uint32_t ms)
{
    if (run_spinners(ms, 1) < 0)
        return 0;
    if (!pp.nentry)
        return not_measured("no IRQ entry was stamped before a switch");
    return typical_gap(pp.entry, pp.nentry);
}

