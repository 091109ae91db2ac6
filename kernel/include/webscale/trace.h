/* The scheduling trace: the last context switches (TRACE_RECORDS - 1 of
 * them once the ring is full), each with its time, the two threads and
 * the reason. The scheduler records them in two words each
 * (kernel/trace.h); the shell's `trace` and GDB's `ws trace` decode them. */
#ifndef WEBSCALE_TRACE_H
#define WEBSCALE_TRACE_H

#include <stdint.h>

#define TRACE_RECORDS 1024          /* a power of two: the ring wraps with a mask */

struct trace_record {
    uint64_t ns;        /* time of the switch since boot, as clock_ns() counts it */
    uint64_t raw;       /* the same in PIT input clocks (838 ns each) */
    int from, to;       /* thread ids */
    int reason;         /* enum switch_reason (<webscale/sched.h>) */
};

/* Copy the newest records, at most max, oldest first; returns how many.
 * *total (if not NULL) gets how many switches were ever recorded. */
int trace_snapshot(struct trace_record *out, int max, uint64_t *total);

/* The name thread id had, even after it ended (the ring outlives its
 * threads): copies it into out and returns 0, or returns -1 when the id
 * is older than the last TRACE_NAMES threads created. */
#define TRACE_NAMES 128             /* a power of two */
int trace_thread_name(int id, char *out, int size);

#endif
