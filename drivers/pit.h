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
 * each tick, 16 bits in a 32-bit word. In assembly because every clock
 * read on the switch path runs it (make bench): the low byte is read into
 * al and parked in ah, the high byte read into al, and the swap leaves
 * ax = high:low; eax started as the latch command (below 256, so the
 * upper half is zero), and no shifts, ors or zero-extensions are needed. */
static inline uint32_t pit_count(void)
{
    uint32_t count = PIT_LATCH_CH0;
    __asm__ volatile("outb %%al, %w1\n\t"
                     "inb %w2, %%al\n\t"
                     "movb %%al, %%ah\n\t"
                     "inb %w2, %%al\n\t"
                     "xchgb %%al, %%ah"
                     : "+a"(count)
                     : "Nd"((uint16_t)PIT_CMD_PORT), "Nd"((uint16_t)PIT_CH0_PORT));
    return count;
}

#endif
