/* The clock's read, inline: the scheduler stamps every switch with it, and
 * the switch's instruction count is benchmarked (make bench). Everything
 * else reads the clock through clock_raw() or clock_ns() (kernel/clock.h),
 * which add the checks that keep those readings monotonic. */
#ifndef KERNEL_CLOCK_READ_H
#define KERNEL_CLOCK_READ_H

#include <stdint.h>
#include "kernel/clock.h"

/* Kept by clock.c: PIT input clocks at the last counted tick (the tick
 * handler adds a reload each tick), and input clocks per tick. */
extern uint64_t clock_tick_raw;
extern uint32_t clock_reload;

/* PIT input clocks since the PIT started. Interrupts off. The tick count
 * plus how far the current tick has run, which the timer's driver reads
 * (clock_hw_since_tick: three port accesses most of the time, a fourth
 * just after a wrap; a leaf call, no frame: the kernel does not include
 * the driver's headers, so the read cannot be inline here). The result can
 * still be up to a tick behind an earlier reading when QEMU shows the
 * reload before the request: callers that subtract readings compare them
 * as signed. Before clock_init, the result is meaningless. */
static inline uint64_t clock_read_raw(void)
{
    return clock_tick_raw + clock_hw_since_tick();
}

#endif
