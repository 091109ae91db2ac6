/* Monotonic time from the PIT alone: whole ticks counted by the IRQ 0
 * handler, plus how far the current tick has run, read from the latched
 * counter. Resolution is one PIT input clock (1/1193182 s = 838 ns); no
 * TSC needed, which a 386 does not have. */
#include <webscale/time.h>
#include "kernel/clock.h"
#include "kernel/clock_read.h"
#include "kernel/sched.h"
#include "kernel/x86.h"

uint64_t clock_tick_count;       /* ticks, counted by the PIT handler (clock_count_tick) */
static uint32_t hz = HZ;
uint32_t clock_reload;           /* PIT input clocks per tick */
uint64_t clock_tick_raw;         /* ticks * reload, kept beside the count */
static uint64_t last_ns;         /* keeps clock_ns monotonic */
static uint64_t last_raw;        /* keeps clock_raw monotonic */

/* The PIT's handler is the scheduler's sched_tick: it counts the tick
 * (clock_count_tick, kernel/clock_read.h), then does the scheduler's and
 * the event loop's work of it, all in one function. IRQ 0's own path
 * (vectors.S) runs the same work in sched_tick_irq, with the EOI and the
 * switch. */
void clock_init(uint32_t rate)
{
    hz = rate;
    clock_reload = clock_hw_start(rate, sched_tick);
}

uint64_t clock_tick_at_or_after(uint64_t ns)
{
    /* The first raw time whose clock_raw_to_ns() is >= ns, rounded up;
     * split so that ns << 16 cannot overflow. */
    uint64_t q = ns / CLOCK_NS_PER_RAW_Q16, r = ns % CLOCK_NS_PER_RAW_Q16;
    uint64_t raw = (q << 16) + ((r << 16) + CLOCK_NS_PER_RAW_Q16 - 1) / CLOCK_NS_PER_RAW_Q16;
    /* Tick k fires when the counter wraps for the k-th time, at raw k * reload. */
    return (raw + clock_reload - 1) / clock_reload;
}

uint64_t clock_raw(void)
{
    ASSERT_IRQS_OFF();
    if (!clock_reload)
        return 0;                /* before clock_init */
    uint64_t raw = clock_read_raw();
    /* QEMU can show the counter already reloaded a moment before the PIC
     * shows the tick's IRQ: then neither the tick count nor the check above
     * has caught up, and the reading lands one tick in the past. Less than
     * a tick behind the last reading can only be that. Time never goes
     * back: schedule() subtracts successive readings. */
    if (__builtin_expect(raw < last_raw, 0)) {
        if (last_raw - raw < clock_reload)
            raw += clock_reload;
        if (raw < last_raw)
            raw = last_raw;
    }
    last_raw = raw;
    return raw;
}

uint64_t clock_ns(void)
{
    uint32_t f = irq_save();
    uint64_t ns = clock_raw_to_ns(clock_raw());
    if (ns < last_ns)
        ns = last_ns;
    last_ns = ns;
    irq_restore(f);
    return ns;
}

uint64_t clock_ticks(void)
{
    uint32_t f = irq_save();
    uint64_t t = clock_tick_count;
    irq_restore(f);
    return t;
}

uint32_t clock_hz(void) { return hz; }
uint32_t clock_tick_ns(void) { return (uint32_t)clock_raw_to_ns(clock_reload); }
uint32_t clock_resolution_ns(void) { return (uint32_t)(NS_PER_S / CLOCK_RAW_HZ); }
