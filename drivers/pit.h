/* The 8253/8254 programmable interval timer, channel 0 on IRQ 0. */
#ifndef DRIVERS_PIT_H
#define DRIVERS_PIT_H

#include <stdint.h>

#define PIT_INPUT_HZ 1193182u   /* 14.31818 MHz / 12, fixed by the PC design */

/* Program channel 0 as a rate generator firing hz times a second;
 * returns the reload value (input clocks per tick). */
uint32_t pit_init(uint32_t hz);

/* Latch and read channel 0's counter: counts down from reload to 1. */
uint16_t pit_read_counter(void);

#endif
