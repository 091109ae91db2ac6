/* The scheduling trace ring: written by schedule() through trace_switch()
 * (kernel/trace.h), read by the shell's `trace` through trace_snapshot(),
 * and by GDB's `ws trace` (tools/gdb/ws.py reads trace_ring and
 * trace_count directly). 16 KiB of .bss, away from code (linker.ld). */
#include "kernel/clock.h"
#include "kernel/trace.h"
#include "kernel/x86.h"

struct trace_slot trace_ring[TRACE_RECORDS];
uint64_t trace_count;

int trace_snapshot(struct trace_record *out, int max, uint64_t *total)
{
    uint32_t f = irq_save();
    uint64_t count = trace_count;
    int n = count < TRACE_RECORDS ? (int)count : TRACE_RECORDS;
    if (n > max)
        n = max;
    for (int i = 0; i < n; i++) {
        const struct trace_slot *s = &trace_ring[(uint32_t)(count - n + i) & (TRACE_RECORDS - 1)];
        out[i].raw = s->raw;
        out[i].from = s->from;
        out[i].to = s->to;
        out[i].reason = s->reason;
    }
    irq_restore(f);
    for (int i = 0; i < n; i++)
        out[i].ns = clock_raw_to_ns(out[i].raw);
    if (total)
        *total = count;
    return n;
}
