/* Helpers shared by the in-kernel test suites. */
#ifndef TESTS_KERNEL_UTIL_H
#define TESTS_KERNEL_UTIL_H

#include <stdint.h>
#include <webscale/thread.h>

/* The snapshot of one thread by id; returns 0, or -1 if there is none. */
int kt_thread_info(int id, struct thread_info *out);

/* Spin (no yield, no sleep) until *flag becomes nonzero. */
void kt_spin_until(volatile int *flag);

/* Sleep in 1 ms steps until *count reaches want; fail the case after ms. */
void kt_wait_count(volatile uint32_t *count, uint32_t want, uint32_t ms);

/* A thread that counts beats, sleeping 1 ms between them, until stop:
 * proof that the rest of the system goes on. */
struct kt_heartbeat {
    volatile int stop;
    volatile uint32_t beats;
};
void kt_heartbeat(void *hb);

#endif
