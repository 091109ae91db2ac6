/* The 8253/8254 programmable interval timer, channel 0 on IRQ 0. The
 * kernel's clock uses it only through kernel/clock.h, which pit.c
 * implements (clock_hw_start, clock_hw_count, clock_hw_tick_pending). */
#ifndef DRIVERS_PIT_H
#define DRIVERS_PIT_H

#include "kernel/clock.h"

#define PIT_INPUT_HZ CLOCK_RAW_HZ   /* 14.31818 MHz / 12 */

#endif
