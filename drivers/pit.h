/* The 8253/8254 programmable interval timer, channel 0 on IRQ 0. The
 * kernel's clock uses it only through kernel/clock.h, which pit.c
 * implements (clock_hw_start, clock_hw_since_tick, clock_hw_vector). */
#ifndef DRIVERS_PIT_H
#define DRIVERS_PIT_H

#include "kernel/clock.h"
#include "kernel/x86.h"

#define PIT_INPUT_HZ CLOCK_RAW_HZ   /* 14.31818 MHz / 12 */
#define PIT_CH0_PORT 0x40
#define PIT_CMD_PORT 0x43
#define PIT_LATCH_CH0    0x00   /* counter latch command for channel 0 */

/* Latch channel 0 and read it, low byte then high: reload .. 1 through
 * each tick. */
static inline uint16_t pit_count(void)
{
    outb(PIT_CMD_PORT, PIT_LATCH_CH0);
    uint8_t lo = inb(PIT_CH0_PORT);
    uint8_t hi = inb(PIT_CH0_PORT);
    return lo | (hi << 8);
}

#endif
