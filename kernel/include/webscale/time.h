/* Time since boot, from the PIT: ticks, and nanoseconds to one PIT input
 * clock (838 ns). Under QEMU's -icount shift=0 one nanosecond is one guest
 * instruction. */
#ifndef WEBSCALE_TIME_H
#define WEBSCALE_TIME_H

#include <stdint.h>

#define NS_PER_US 1000ull
#define NS_PER_MS 1000000ull
#define NS_PER_S  1000000000ull

/* A deadline that never comes: wait without a timeout. */
#define TIME_NEVER UINT64_MAX

uint64_t clock_ns(void);         /* monotonic */
uint64_t clock_ticks(void);      /* PIT interrupts since boot */
uint32_t clock_hz(void);         /* PIT interrupts per second */
uint32_t clock_tick_ns(void);    /* length of one tick */
uint32_t clock_resolution_ns(void); /* one PIT input clock */

/* Cycle counter: rdtsc when CPUID says there is one, else clock_ns(). */
int cpu_has_tsc(void);
uint64_t cpu_cycles(void);

#endif
