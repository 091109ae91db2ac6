/* Time keeping from the PIT (internals; the public side is webscale/time.h). */
#ifndef KERNEL_CLOCK_H
#define KERNEL_CLOCK_H

#include <stdint.h>
#include "kernel/irq.h"

/* Default PIT interrupt rate. Must stay where a tick is at least one PIT
 * input clock and the reload fits the 16-bit counter. */
#ifndef HZ
#define HZ 1000
#endif
#if HZ < 19 || HZ > 10000
#error "HZ must be between 19 (16-bit PIT reload) and 10000"
#endif

void clock_init(uint32_t hz);

/* ---- the timer hardware: drivers/pit.c implements these (driver-facing) ----
 * The clock counts in the PIT's input clocks; a tick is `reload` of them. */
#define CLOCK_RAW_HZ 1193182u   /* 14.31818 MHz / 12, fixed by the PC design */

/* Fire tick from the timer's IRQ hz times a second; returns the reload
 * (input clocks per tick). */
uint32_t clock_hw_start(uint32_t hz, irq_handler_fn tick);
/* Input clocks since the last tick the handler counted, 0 .. 2 * reload:
 * how far the counter has run down since it reloaded, plus a whole tick
 * when the counter has wrapped again with the tick's interrupt still
 * pending (interrupts off: the handler has not run). Interrupts off. A
 * direct call, not a pointer: the scheduler stamps every switch with it
 * (kernel/clock_read.h), and the switch's instruction count is
 * benchmarked. */
uint32_t clock_hw_since_tick(void);
/* The IDT vector the tick arrives on (measure_preempt.c stamps its entry). */
int clock_hw_vector(void);

/* PIT input clocks (1/1193182 s, 838 ns each) since the PIT started.
 * Interrupts must be off. Cheap (three port accesses, no division), and
 * never less than its last reading. The scheduler reads the clock on its
 * own, inline (kernel/clock_read.h), and keeps CPU time in these units. */
uint64_t clock_raw(void);

/* Nanoseconds per PIT input clock in 16.16 fixed point, rounded up:
 * 1e9 / 1193182 * 65536 = 54925401.15. Rounding up makes the clock run
 * 16 ppm fast (58 us an hour), well inside the PIT crystal's own
 * tolerance, and it means a deadline is never seen as passed too early.
 * All of the kernel's time is this one mapping, so it is consistent. */
#define CLOCK_NS_PER_RAW_Q16 54925402u

/* raw -> ns: one 32x32 multiply (two after 60 minutes), no division. */
static inline uint64_t clock_raw_to_ns(uint64_t raw)
{
    uint64_t ns = ((uint64_t)(uint32_t)raw * CLOCK_NS_PER_RAW_Q16) >> 16;
    uint32_t hi = (uint32_t)(raw >> 32);
    if (hi)
        ns += ((uint64_t)hi * CLOCK_NS_PER_RAW_Q16) << 16;
    return ns;
}

/* The number of the first PIT tick at or after time ns (clock_ns time):
 * timers compare deadlines with the tick count, not the clock, so the PIT
 * handler needs no clock read. One division, when a deadline is set. */
uint64_t clock_tick_at_or_after(uint64_t ns);

void cpu_detect(void);
const char *cpu_description(void);

#endif
