/* The host's stand-in for kernel/x86.h, for the TCP files compiled into
 * test_tcp_state (the Makefile puts this folder first with -iquote). A
 * host test is one thread with no interrupts, so saving and restoring the
 * interrupt flag does nothing. */
#ifndef TESTS_HOST_SHIM_KERNEL_X86_H
#define TESTS_HOST_SHIM_KERNEL_X86_H

#include <stdint.h>

static inline uint32_t irq_save(void) { return 0; }
static inline void irq_restore(uint32_t was_on) { (void)was_on; }

#endif
