/* What the TCP files need from the rest of the kernel, on the host: a clock
 * the test moves, the heap on malloc (with a switch to make it fail),
 * loop timers fired by that clock, an ip_output that keeps every segment
 * sent, and ASSERT that reports and aborts. tcp_stubs.c implements it. */
#ifndef TESTS_HOST_TCP_STUBS_H
#define TESTS_HOST_TCP_STUBS_H

#include <stdint.h>
#include "kernel/net/net.h"

/* clock_ns() reads this. */
extern uint64_t stub_now_ns;
/* Move the clock on ms milliseconds, one at a time, running every loop
 * timer that falls due on the way (in the loop, timers run late by up to
 * a tick; here they run on the millisecond). */
void stub_advance_ms(uint32_t ms);
static inline uint32_t stub_now_ms(void) { return (uint32_t)(stub_now_ns / NS_PER_MS); }
/* Loop timers armed now (the TCP ticker runs only while a connection waits). */
int stub_timers_active(void);

/* Nonzero: kmalloc and kzalloc return NULL. */
extern int stub_no_memory;
/* Blocks kmalloc'd and not yet freed. */
extern long stub_heap_blocks;

/* A segment ip_output was given, parsed back with tcp_parse (so its
 * checksum was right), its data copied. */
struct stub_seg {
    uint32_t dst;
    uint32_t at_ms;
    struct tcp_info t;
    uint8_t data[ETH_MTU];
};
#define STUB_SEGS 64
/* Segments sent since the last stub_out_clear, oldest first. */
int stub_out_count(void);
const struct stub_seg *stub_out(int i);
void stub_out_clear(void);

#endif
