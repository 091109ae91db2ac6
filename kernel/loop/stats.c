/* Running a callback, and what the loop measures about it: every callback
 * is timed, its name shown where the stall detector can see it, and its
 * time added to its name's slot (calls, total, longest) and to the
 * utilisation of the current one-second window. */
#include <webscale/string.h>
#include <webscale/time.h>
#include "kernel/lib/ring.h"
#include "kernel/loop/loop_internal.h"
#include "kernel/trap.h"
#include "kernel/x86.h"

#define NAME_SLOTS 32           /* callbacks with statistics of their own */

struct name_slot {
    const char *name;
    uint32_t calls;
    uint64_t total_ns, max_ns;
};

struct loop_running loop_cb;
struct loop_stats loop_st;

static struct {
    uint64_t win_start, win_busy;   /* the current window */
    uint32_t win_events;
    struct name_slot names[NAME_SLOTS];
} meter;

/* The slot of name: the same pointer first (the macros pass the same
 * literal every time), then the same text; the last slot is "(others)". */
static struct name_slot *name_slot(const char *name)
{
    struct name_slot *s = meter.names;
    for (int i = 0; i < NAME_SLOTS && s[i].name; i++)
        if (s[i].name == name)
            return &s[i];
    int i;
    for (i = 0; i < NAME_SLOTS - 1 && s[i].name; i++)
        if (strcmp(s[i].name, name) == 0)
            return &s[i];
    if (!s[i].name)
        s[i].name = i == NAME_SLOTS - 1 ? "(others)" : name;
    return &s[i];
}

static void account(const char *name, uint64_t start, uint64_t end)
{
    uint64_t ran = end - start;
    struct name_slot *s = name_slot(name);
    s->calls++;
    s->total_ns += ran;
    if (ran > s->max_ns)
        s->max_ns = ran;
    loop_st.callbacks++;
    loop_st.busy_ns += ran;
    meter.win_events++;
    meter.win_busy += ran;
    if (end - meter.win_start >= NS_PER_S) {
        uint64_t len = end - meter.win_start;
        loop_st.events_per_s = (uint32_t)((uint64_t)meter.win_events * NS_PER_S / len);
        loop_st.busy_permille = (uint32_t)(meter.win_busy * 1000 / len);
        meter.win_start = end;
        meter.win_events = 0;
        meter.win_busy = 0;
    }
}

void loop_run_cb(const char *name, loop_fn fn, void *arg)
{
    ASSERT(!loop_cb.name);          /* no callback inside a callback */
    ASSERT(irq_nesting == 0);       /* nor inside an IRQ handler */
    loop_cb.start = loop_cb.now;
    ring_barrier();
    loop_cb.seq++;
    loop_cb.name = name;
    fn(arg);
    loop_cb.name = NULL;
    uint64_t end = clock_ns();
    if (loop_stall_seq == loop_cb.seq)
        loop_stall_ended(name, end);
    account(name, loop_cb.start, end);
    loop_cb.now = end;
}

void loop_get_stats(struct loop_stats *s)
{
    uint32_t f = irq_save();
    *s = loop_st;
    s->timers_pending = loop_timers_pending();
    s->watchers = loop_watchers_active();
    s->posts_queued = loop_posts_queued();
    s->calls_queued = loop_calls_queued();
    s->work_pending = loop_work_pending();
    s->running = loop_cb.name;
    uint64_t now = clock_ns();
    /* An idle loop updates no window: show the one that is still open. */
    if (now - meter.win_start >= 2 * NS_PER_S) {
        s->events_per_s = (uint32_t)((uint64_t)meter.win_events * NS_PER_S /
                                     (now - meter.win_start));
        s->busy_permille = (uint32_t)(meter.win_busy * 1000 / (now - meter.win_start));
    }
    irq_restore(f);
}

void loop_reset_stats(void)
{
    uint32_t f = irq_save();
    memset(&loop_st, 0, sizeof loop_st);
    memset(meter.names, 0, sizeof meter.names);
    loop_st.since_ns = meter.win_start = clock_ns();
    meter.win_events = 0;
    meter.win_busy = 0;
    irq_restore(f);
}

int loop_slowest(struct loop_cb_stats *out, int max)
{
    static struct name_slot copy[NAME_SLOTS];
    uint32_t f = irq_save();
    memcpy(copy, meter.names, sizeof copy);
    irq_restore(f);
    int n = 0;
    while (n < max) {
        int best = -1;
        for (int i = 0; i < NAME_SLOTS; i++)
            if (copy[i].name && (best < 0 || copy[i].max_ns > copy[best].max_ns))
                best = i;
        if (best < 0)
            break;
        out[n].name = copy[best].name;
        out[n].calls = copy[best].calls;
        out[n].total_ns = copy[best].total_ns;
        out[n].max_ns = copy[best].max_ns;
        copy[best].name = NULL;
        n++;
    }
    return n;
}
