/* The clock's read, inline: the scheduler stamps every switch with it, and
 * the switch's instruction count is benchmarked (make bench). Everything
 * else reads the clock through clock_raw() or clock_ns() (kernel/clock.h),
 * which add the checks that keep those readings monotonic. */
#ifndef KERNEL_CLOCK_READ_H
#define KERNEL_CLOCK_READ_H

#include <stdint.h>
#include "drivers/pic.h"
#include "drivers/pit.h"

/* Kept by clock.c: PIT input clocks at the last counted tick (the tick
 * handler adds a reload each tick), and input clocks per tick. */
extern uint64_t clock_tick_raw;
extern uint32_t clock_reload, clock_half_reload;

/* PIT input clocks since the PIT started. Interrupts off. Three port
 * accesses most of the time: the tick count, plus how far the counter has
 * run down since it reloaded. The counter may have wrapped after the last
 * counted tick, with IRQ 0 still pending because interrupts are off: a
 * count in the tick's first half with IRQ 0 requested means the wrap came
 * first, so count that tick too (a fourth access, the PIC's IRR). The
 * result can still be up to a tick behind an earlier reading when QEMU
 * shows the reload before the request: callers that subtract readings
 * compare them as signed. Before clock_init, the result is meaningless
 * (reload 0). */
static inline uint64_t clock_read_raw(void)
{
    uint32_t count = pit_count();
    uint64_t raw = clock_tick_raw + (int32_t)(clock_reload - count);
    if (__builtin_expect(count > clock_half_reload, 0) &&
        (pic_master_irr() & (1u << IRQ_PIT)))
        raw += clock_reload;
    return raw;
}

#endif
