/* Monotonic time from the PIT alone: whole ticks counted by the IRQ 0
 * handler, plus how far the current tick has run, read from the latched
 * counter. Resolution is one PIT input clock (1/1193182 s = 838 ns); no
 * TSC needed, which a 386 does not have. */
#include <webscale/time.h>
#include "kernel/clock.h"
#include "kernel/loop.h"
#include "kernel/sched.h"
#include "kernel/x86.h"

static volatile uint64_t ticks;
static uint32_t hz = HZ;
static uint32_t reload;          /* PIT input clocks per tick */
static uint32_t half_reload;
static uint64_t tick_raw;        /* ticks * reload, kept by the PIT handler */
static uint64_t last_ns;         /* keeps clock_ns monotonic */
static uint64_t last_raw;        /* keeps clock_raw monotonic */

static void clock_tick(void *arg)
{
    (void)arg;
    ticks++;
    tick_raw += reload;
    sched_tick(ticks);
    loop_tick(ticks);
}

void clock_init(uint32_t rate)
{
    hz = rate;
    reload = clock_hw_start(rate, clock_tick);
    half_reload = reload / 2;
}

uint64_t clock_tick_at_or_after(uint64_t ns)
{
    /* The first raw time whose clock_raw_to_ns() is >= ns, rounded up;
     * split so that ns << 16 cannot overflow. */
    uint64_t q = ns / CLOCK_NS_PER_RAW_Q16, r = ns % CLOCK_NS_PER_RAW_Q16;
    uint64_t raw = (q << 16) + ((r << 16) + CLOCK_NS_PER_RAW_Q16 - 1) / CLOCK_NS_PER_RAW_Q16;
    /* Tick k fires when the counter wraps for the k-th time, at raw k * reload. */
    return (raw + reload - 1) / reload;
}

uint64_t clock_raw(void)
{
    ASSERT_IRQS_OFF();
    if (!reload)
        return 0;                /* before clock_init */
    uint32_t count = clock_hw_count();
    uint64_t raw = tick_raw + (count < reload ? reload - count : 0);
    /* The counter may have wrapped after the last counted tick, with its
     * IRQ still pending because interrupts are off here. A high count read
     * with IRQ 0 pending means the wrap came first: count that tick. Only
     * then is the PIC asked, so most reads cost three port accesses. */
    if (__builtin_expect(count > half_reload, 0) && clock_hw_tick_pending())
        raw += reload;
    /* QEMU can show the counter already reloaded a moment before the PIC
     * shows the tick's IRQ: then neither the tick count nor the check above
     * has caught up, and the reading lands one tick in the past. Less than
     * a tick behind the last reading can only be that. Time never goes
     * back: schedule() subtracts successive readings. */
    if (__builtin_expect(raw < last_raw, 0)) {
        if (last_raw - raw < reload)
            raw += reload;
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
    uint64_t t = ticks;
    irq_restore(f);
    return t;
}

uint32_t clock_hz(void) { return hz; }
uint32_t clock_tick_ns(void) { return (uint32_t)clock_raw_to_ns(reload); }
uint32_t clock_resolution_ns(void) { return (uint32_t)(NS_PER_S / CLOCK_RAW_HZ); }
