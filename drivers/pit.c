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

uint32_t pit_reload, pit_wrap_window;

uint32_t clock_hw_start(uint32_t hz, irq_handler_fn tick)
{
    uint32_t reload = (PIT_INPUT_HZ + hz / 2) / hz;
    pit_reload = reload;
    pit_wrap_window = reload - reload / 8;
    outb(PIT_CMD_PORT, PIT_SEL_CH0 | PIT_ACCESS_LOHI | PIT_MODE_RATE);
    outb(PIT_CH0_PORT, reload & 0xFF);
    outb(PIT_CH0_PORT, (reload >> 8) & 0xFF);
    irq_register(IRQ_PIT, tick, NULL, "pit");
    return reload;
}

uint32_t clock_hw_since_tick(void) { return pit_since_tick(); }

int clock_hw_vector(void) { return IRQ_VECTOR_BASE + IRQ_PIT; }
