/* The scheduling trace ring: written by schedule() through trace_switch()
 * (kernel/trace.h), read by the shell's `trace` through trace_snapshot(),
 * and by GDB's `ws trace` (tools/gdb/ws.py reads trace_ring and
 * sched_switch_count directly; tools/gdb/ws.py decodes the same way).
 * 8 KiB of .bss, away from code (linker.ld).
 * Beside it, the names of the last TRACE_NAMES threads created, so that
 * `trace dump` can still name a thread that has ended. */
#include "kernel/clock.h"
#include "kernel/sched.h"
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
/* The trace starts at record trace_first, whose "from" is trace_first_from
 * (the idle thread at boot; whoever ran when `sched stats on` began a new
 * trace, trace_restart). Later records take theirs from the one before. */
uint64_t trace_first;
int trace_first_from;

void trace_restart(uint64_t count, int running)
{
    trace_first = count;
    trace_first_from = running;
}

/* The oldest record whose "from" is still known: the one before it must
 * still be in the ring, unless it is the trace's first. */
static uint64_t oldest_known(uint64_t count)
{
    uint64_t lo = count > TRACE_RECORDS ? count - TRACE_RECORDS + 1 : 0;
    if (count >= TRACE_RECORDS && trace_first == count - TRACE_RECORDS)
        lo = trace_first;
    return lo > trace_first ? lo : trace_first;
}

int trace_snapshot(struct trace_record *out, int max, uint64_t *total)
{
    const uint64_t time_mask = (1ull << TRACE_TIME_BITS) - 1;
    uint32_t f = irq_save();
    uint64_t count = sched_switch_count;
    uint64_t first = oldest_known(count);
    int n = (int)(count - first);
    if (n > max)
        n = max;
    /* Newest first: each record's full time from the one after it (the
     * newest from sched_switch_raw: its own time, or a little later when
     * a long turn was charged since). */
    uint64_t ref = sched_switch_raw;
    for (int i = n - 1; i >= 0; i--) {
        uint64_t k = count - n + i;
        const struct trace_slot *s = &trace_ring[(uint32_t)k & (TRACE_RECORDS - 1)];
        uint64_t low40 = s->raw_lo | (uint64_t)s->raw_hi << 32;
        ref -= (ref - low40) & time_mask;
        out[i].raw = ref;
        out[i].to = s->to;
        out[i].reason = s->reason;
        out[i].from = k == trace_first ? trace_first_from
                                       : trace_ring[(uint32_t)(k - 1) & (TRACE_RECORDS - 1)].to;
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
