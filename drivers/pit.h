/* The 8253/8254 programmable interval timer, channel 0 on IRQ 0. The
 * kernel's clock uses it only through kernel/clock.h, which pit.c
 * implements (clock_hw_start, clock_hw_since_tick, clock_hw_vector). */
#ifndef DRIVERS_PIT_H
#define DRIVERS_PIT_H

#include "drivers/pic.h"
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

/* Set by clock_hw_start: input clocks per tick, and the count above which
 * pit_since_tick asks the PIC (the first eighth of a tick). */
extern uint32_t pit_reload, pit_wrap_window;

/* clock_hw_since_tick (kernel/clock.h), inline for the scheduler's switch
 * path (kernel/clock_read.h): pit.c's function is this. Interrupts off. */
static inline uint32_t pit_since_tick(void)
{
    uint32_t count = pit_count();
    /* Mode 2 counts reload .. 1 and reloads: never above the reload. */
    uint32_t since = pit_reload - count;
    /* A count in the tick's first eighth with IRQ 0 requested: the
     * counter wrapped after the last counted tick. Only then is the PIC
     * asked (pic.c leaves the master's OCW3 on the IRR: one read), so
     * most readings skip it. A tick left pending longer than an eighth
     * (interrupts off for over 125 us at 1000 Hz) reads a tick behind:
     * clock_raw() and the switch's accounting treat that as they treat
     * QEMU's early reload (kernel/clock_read.h), so time still adds up. */
    if (__builtin_expect(count > pit_wrap_window, 0) && (pic_master_irr() & (1u << IRQ_PIT)))
        since += pit_reload;
    return since;
}

#endif
