/* What the loop measures about its callbacks (running one is inline:
 * loop_run_cb, loop_internal.h): every callback is counted in its name's
 * slot; one that a PIT tick interrupted is timed, and its time added to
 * the slot (total, longest) and to the utilisation of the current
 * one-second window. A callback shorter than a tick is timed only when a
 * tick lands in it, so a slot's total is a sample; a long callback always
 * is, and exactly (the stall detector's). */
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
    uint64_t win_callbacks;         /* loop_st.callbacks when it began */
    struct name_slot names[NAME_SLOTS];
} meter;

struct loop_last_slot loop_last;

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

uint32_t *loop_calls_of(const char *name)
{
    loop_last.name = name;
    loop_last.calls = &name_slot(name)->calls;
    return loop_last.calls;
}

/* Close the one-second window at end if it is over. */
static void roll_window(uint64_t end)
{
    if (end - meter.win_start < NS_PER_S)
        return;
    uint64_t len = end - meter.win_start;
    loop_st.events_per_s = (uint32_t)((loop_st.callbacks - meter.win_callbacks) * NS_PER_S / len);
    loop_st.busy_permille = (uint32_t)(meter.win_busy * 1000 / len);
    meter.win_start = end;
    meter.win_callbacks = loop_st.callbacks;
    meter.win_busy = 0;
}

/* A tick came while name ran: it took from loop_cb.now (the loop's
 * last reading, at most a tick before it began) to now. That span is all
 * callbacks (those untimed since the reading too): busy time. */
void loop_time_cb(const char *name)
{
    uint64_t end = clock_ns(), ran = end - loop_cb.now;
    if (loop_stall_seq == loop_cb.seq)
        loop_stall_ended(name, end);
    struct name_slot *s = name_slot(name);
    s->total_ns += ran;
    if (ran > s->max_ns)
        s->max_ns = ran;
    loop_st.busy_ns += ran;
    meter.win_busy += ran;
    roll_window(end);
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
        s->events_per_s = (uint32_t)((loop_st.callbacks - meter.win_callbacks) * NS_PER_S /
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
    meter.win_callbacks = 0;
    meter.win_busy = 0;
    loop_last.name = NULL;          /* its slot was zeroed */
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
