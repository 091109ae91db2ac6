/* Recording into the scheduling trace ring (<webscale/trace.h>). Inline:
 * schedule() calls it on every switch with the time it has already read,
 * so it is two stores of two words: no lock (interrupts are off there:
 * schedule() asserts it), no division.
 *
 * A record keeps the time (its low 40 bits), the thread switched to and
 * the reason. The thread switched from is the one the record before
 * switched to: one core, so whoever gives up the CPU is whoever got it
 * last. trace_snapshot() (and GDB's `ws trace`) rebuild the full time
 * from the newest record back, each record at most 2^40 PIT input clocks
 * (10.6 days) before the next. */
#ifndef KERNEL_TRACE_H
#define KERNEL_TRACE_H

#include <webscale/trace.h>

_Static_assert((TRACE_RECORDS & (TRACE_RECORDS - 1)) == 0, "TRACE_RECORDS: a power of two");
_Static_assert((TRACE_NAMES & (TRACE_NAMES - 1)) == 0, "TRACE_NAMES: a power of two");

#define TRACE_TIME_BITS 40          /* of the time, kept in a record */

/* One switch as recorded: two words. */
struct trace_slot {
    uint32_t raw_lo;    /* clock_raw() at the switch, bits 0-31 (838 ns each) */
    uint16_t to;        /* the thread switched to */
    uint8_t reason;     /* enum switch_reason */
    uint8_t raw_hi;     /* clock_raw() bits 32-39 */
};
_Static_assert(sizeof(struct trace_slot) == 8, "a trace record is two words");

extern struct trace_slot trace_ring[TRACE_RECORDS];
/* Records ever written: the scheduler's one switch counter, which
 * schedule() increments after each record (the next goes to count % N). */
extern uint64_t sched_switch_count;

/* The trace begins anew at record count, running being the thread that
 * holds the CPU (`sched stats on`: the switches while off were not
 * recorded). Interrupts off. */
void trace_restart(uint64_t count, int running);
/* Where the trace begins (trace.c; read by trace_snapshot and GDB). */
extern uint64_t trace_first;
extern int trace_first_from;

/* thread_create_ex() tells the trace every new thread's id and name. */
void trace_thread_created(int id, const char *name);

/* Record switch number n (sched_switch_count, which the caller then
 * increments: it has it in a register already). */
static inline void trace_switch(uint64_t n, uint64_t raw, int to, int reason)
{
    struct trace_slot *r = &trace_ring[(uint32_t)n & (TRACE_RECORDS - 1)];
    r->raw_lo = (uint32_t)raw;
    r->to = (uint16_t)to;
    r->reason = (uint8_t)reason;
    r->raw_hi = (uint8_t)(raw >> 32);
}

#endif
