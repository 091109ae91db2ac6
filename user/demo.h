/* Small helpers the async demos share: CPU work of a known size,
 * percentiles of measured latencies, durations printed with their unit. */
#ifndef USER_DEMO_H
#define USER_DEMO_H

#include <stdint.h>

/* For the few hot loops whose speed the demos measure: a function of at
 * most DEMO_HOT's alignment can never straddle a 4 KiB page. Under QEMU's
 * TCG a loop that does runs about 10x slower (translated blocks that span
 * two pages are not chained): cpu-vs-io 100 once took 1036 ms for 100 ms
 * of work only because a change elsewhere moved demo_work onto a boundary. */
#define DEMO_HOT __attribute__((aligned(128)))

/* Busy for ns of wall time, without yielding: a blocking call as the CPU
 * sees it (or "that totally free service in China"). */
DEMO_HOT void demo_spin_ns(uint64_t ns);
/* A fixed amount of CPU work: iterations of a small hash. Returns the hash
 * so that the compiler cannot drop it. */
DEMO_HOT uint32_t demo_work(uint32_t iterations);
/* Iterations of demo_work that take about ms on this machine, measured. */
uint32_t demo_calibrate(uint32_t ms);

/* Sort v[0..n) ascending, in place. */
void demo_sort(uint32_t *v, int n);
/* The permille-th value of sorted v (500 = median, 990 = p99). */
uint32_t demo_percentile(const uint32_t *sorted, int n, int permille);

/* "12.345 ms" from ns, into buf. */
const char *demo_ms(char *buf, int size, uint64_t ns);
/* "12.345 us" from ns, into buf. */
const char *demo_us(char *buf, int size, uint64_t ns);

#endif
