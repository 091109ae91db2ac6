/* Recording into the scheduling trace ring (<webscale/trace.h>). Inline:
 * schedule() calls it on every switch with the time it has already read,
 * so it is five stores: no lock (interrupts are off
 * there: schedule() asserts it), no branch, no division. */
#ifndef KERNEL_TRACE_H
#define KERNEL_TRACE_H

#include <webscale/trace.h>

_Static_assert((TRACE_RECORDS & (TRACE_RECORDS - 1)) == 0, "TRACE_RECORDS: a power of two");
_Static_assert((TRACE_NAMES & (TRACE_NAMES - 1)) == 0, "TRACE_NAMES: a power of two");

/* One switch as recorded; trace_snapshot() turns raw into ns. */
struct trace_slot {
    uint64_t raw;       /* clock_raw(): PIT input clocks since boot (838 ns each) */
    int16_t from, to;   /* thread ids */
    uint8_t reason;     /* enum switch_reason */
    uint8_t pad[3];
};

extern struct trace_slot trace_ring[TRACE_RECORDS];
/* Records ever written: the scheduler's one switch counter, which
 * schedule() increments after each record (the next goes to count % N). */
extern volatile uint64_t sched_switch_count;

/* thread_create_ex() tells the trace every new thread's id and name. */
void trace_thread_created(int id, const char *name);

static inline void trace_switch(uint64_t raw, int from, int to, int reason)
{
    struct trace_slot *r = &trace_ring[(uint32_t)sched_switch_count & (TRACE_RECORDS - 1)];
    r->raw = raw;
    r->from = (int16_t)from;
    r->to = (int16_t)to;
    r->reason = (uint8_t)reason;
}

#endif
