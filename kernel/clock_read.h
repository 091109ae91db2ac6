/* The clock's read, inline: the scheduler stamps every switch with it, and
 * the switch's instruction count is benchmarked (make bench). Everything
 * else reads the clock through clock_raw() or clock_ns() (kernel/clock.h),
 * which add the checks that keep those readings monotonic. */
#ifndef KERNEL_CLOCK_READ_H
#define KERNEL_CLOCK_READ_H

#include <stdint.h>
#include "kernel/clock.h"

/* The clock's state (clock.c): ticks counted since the PIT started, PIT
 * input clocks at the last counted tick (ticks * reload), and input
 * clocks per tick. The two counters move only in clock_count_tick. */
extern uint64_t clock_tick_count;
extern uint64_t clock_tick_raw;
extern uint32_t clock_reload;

/* Count one tick; returns its number. Only the PIT's handler calls it:
 * sched_tick (sched.c), which clock.c registers as the handler, so that
 * the clock's, the scheduler's and the loop's work of a tick is one
 * function with one prologue. Interrupts off. */
static inline uint64_t clock_count_tick(void)
{
    uint64_t t = clock_tick_count + 1;
    clock_tick_count = t;
    /* The raw clock's 64 bits added in its low word, the high one moved
     * on a carry (i386 has no 64-bit add): no zeroed register for the
     * reload's high word, which GCC's add and adc would need. (The count
     * above stays a plain 64-bit add: the handler needs it whole in
     * registers, and GCC builds a value from two halves clumsily.) */
    typedef uint32_t __attribute__((may_alias)) word_t;      /* a uint64_t's halves */
    word_t *raw = (word_t *)&clock_tick_raw;                   /* little-endian: [0] is low */
    if (__builtin_add_overflow(raw[0], clock_reload, &raw[0]))
        raw[1]++;
    return t;
}

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
