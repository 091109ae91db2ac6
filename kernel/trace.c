/* The scheduling trace ring: written by schedule() through trace_switch()
 * (kernel/trace.h), read by the shell's `trace` through trace_snapshot(),
 * and by GDB's `ws trace` (tools/gdb/ws.py reads trace_ring and
 * sched_switch_count directly). 16 KiB of .bss, away from code (linker.ld).
 * Beside it, the names of the last TRACE_NAMES threads created, so that
 * `trace dump` can still name a thread that has ended. */
#include "kernel/clock.h"
#include "kernel/trace.h"
#include "kernel/x86.h"
#include <webscale/string.h>
#include <webscale/thread.h>

struct trace_name {
    int id;                         /* -1: never used */
    char name[THREAD_NAME_MAX];
};
static struct trace_name trace_names[TRACE_NAMES] = { [0 ... TRACE_NAMES - 1] = { .id = -1 } };

struct trace_slot trace_ring[TRACE_RECORDS];

int trace_snapshot(struct trace_record *out, int max, uint64_t *total)
{
    uint32_t f = irq_save();
    uint64_t count = sched_switch_count;
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

void trace_thread_created(int id, const char *name)
{
    uint32_t f = irq_save();
    struct trace_name *n = &trace_names[(uint32_t)id & (TRACE_NAMES - 1)];
    n->id = id;
    strlcpy(n->name, name, sizeof n->name);
    irq_restore(f);
}

int trace_thread_name(int id, char *out, int size)
{
    int found = -1;
    uint32_t f = irq_save();
    const struct trace_name *n = &trace_names[(uint32_t)id & (TRACE_NAMES - 1)];
    if (id >= 0 && n->id == id && size > 0) {
        strlcpy(out, n->name, (size_t)size);
        found = 0;
    }
    irq_restore(f);
    return found;
}
