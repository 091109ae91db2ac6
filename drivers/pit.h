/* The 8253/8254 programmable interval timer, channel 0 on IRQ 0. */
#ifndef DRIVERS_PIT_H
#define DRIVERS_PIT_H

#include <stdint.h>
#include "kernel/x86.h"

#define PIT_INPUT_HZ 1193182u   /* 14.31818 MHz / 12, fixed by the PC design */

/* Program channel 0 as a rate generator firing hz times a second;
 * returns the reload value (input clocks per tick). */
uint32_t pit_init(uint32_t hz);

#define PIT_CH0_PORT 0x40
#define PIT_CMD_PORT 0x43
#define PIT_LATCH_CH0 0x00   /* counter latch command for channel 0 */

/* Latch and read channel 0's counter: counts down from reload to 1.
 * Inline: the scheduler reads it on every context switch. */
static inline uint16_t pit_read_counter(void)
{
    outb(PIT_CMD_PORT, PIT_LATCH_CH0);
    uint8_t lo = inb(PIT_CH0_PORT);
    uint8_t hi = inb(PIT_CH0_PORT);
    return lo | (hi << 8);
}

#endif
