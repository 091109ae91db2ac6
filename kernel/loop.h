/* Event loop internals: what the PIT needs from kernel/loop/ (run.c).
 * The public API is <webscale/loop.h>. */
#ifndef KERNEL_LOOP_H
#define KERNEL_LOOP_H

#include <stdint.h>

/* From the PIT's IRQ handler, every tick: wakes the loop when its first
 * timer is due, and notices a callback that has run too long. A few
 * compares per tick; the clock is read only when one of them says so. */
void loop_tick(uint64_t tick);

#endif
