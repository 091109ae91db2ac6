/* 8254 PIT driver: the timer side of kernel/clock.h. [Intel 8254
 * datasheet; OSDev wiki "Programmable Interval Timer"]
 *
 * Mode 2 (rate generator) counts down by one per input clock and reloads,
 * so a latched read tells how far into the current tick we are, to one
 * input clock (838 ns). Mode 3 (square wave) counts by two and would halve
 * that resolution. */
#include "drivers/pic.h"
#include "drivers/pit.h"
#include "kernel/x86.h"

#define PIT_SEL_CH0      0x00
#define PIT_ACCESS_LOHI  0x30   /* low byte then high byte */
#define PIT_MODE_RATE    0x04   /* mode 2 */

/* Input clocks per tick, and the count above which clock_hw_since_tick
 * asks the PIC (the first eighth of a tick). */
static uint32_t reload, wrap_window;

uint32_t clock_hw_start(uint32_t hz, irq_handler_fn tick)
{
    reload = (PIT_INPUT_HZ + hz / 2) / hz;
    wrap_window = reload - reload / 8;
    outb(PIT_CMD_PORT, PIT_SEL_CH0 | PIT_ACCESS_LOHI | PIT_MODE_RATE);
    outb(PIT_CH0_PORT, reload & 0xFF);
    outb(PIT_CH0_PORT, (reload >> 8) & 0xFF);
    irq_register(IRQ_PIT, tick, NULL, "pit");
    return reload;
}

uint32_t clock_hw_since_tick(void)
{
    uint32_t count = pit_count();
    /* Mode 2 counts reload .. 1 and reloads: never above the reload. */
    uint32_t since = reload - count;
    /* A count in the tick's first eighth with IRQ 0 requested: the
     * counter wrapped after the last counted tick. Only then is the PIC
     * asked (pic.c leaves the master's OCW3 on the IRR: one read), so
     * most readings skip it. A tick left pending longer than an eighth
     * (interrupts off for over 125 us at 1000 Hz) reads a tick behind:
     * clock_raw() and the switch's accounting treat that as they treat
     * QEMU's early reload (kernel/clock_read.h), so time still adds up. */
    if (__builtin_expect(count > wrap_window, 0) && (pic_master_irr() & (1u << IRQ_PIT)))
        since += reload;
    return since;
}

int clock_hw_vector(void) { return IRQ_VECTOR_BASE + IRQ_PIT; }
