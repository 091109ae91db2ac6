/* Time keeping from the PIT (internals; the public side is webscale/time.h). */
#ifndef KERNEL_CLOCK_H
#define KERNEL_CLOCK_H

#include <stdint.h>

/* Default PIT interrupt rate. Must stay where a tick is at least one PIT
 * input clock and the reload fits the 16-bit counter. */
#ifndef HZ
#define HZ 1000
#endif
#if HZ < 19 || HZ > 10000
#error "HZ must be between 19 (16-bit PIT reload) and 10000"
#endif

void clock_init(uint32_t hz);
void cpu_detect(void);
const char *cpu_description(void);

#endif
