/* Event sources and their watchers, level-triggered like poll(2): a
 * watcher's callback runs in every iteration in which its source is
 * ready. The loop knows a source only by its struct loop_source: a name,
 * a readiness test it calls with interrupts off, and the count of active
 * watchers that the source's own loop_source_notify reads, so that an ISR
 * with nobody watching wakes nothing. Whoever owns the device or queue
 * defines the source (the console's are in kernel/console.c). */
#include "kernel/loop/loop_internal.h"
#include "kernel/x86.h"

#define WATCH_BATCH 16          /* ready watchers run per iteration, at most */

static struct {
    struct list watchers;       /* struct loop_watcher, in start order */
    uint32_t active;
} watch = {
    .watchers = LIST_INIT(watch.watchers),
};

void loop_source_notify(struct loop_source *src)
{
    src->notifies++;
    if (src->watchers)
        loop_wake();
}

static int source_ready(const struct loop_source *src)
{
    return src->ready(src->arg);
}

void loop_watch_start_named(struct loop_watcher *w, const char *name, struct loop_source *src,
                            loop_fn cb, void *arg)
{
    loop_watch_stop(w);
    w->source = src;
    w->cb = cb;
    w->arg = arg;
    w->name = name;
    w->calls = 0;
    uint32_t f = irq_save();
    w->active = 1;
    list_push_back(&watch.watchers, &w->link);
    watch.active++;
    src->watchers++;
    loop_wake();
    irq_restore(f);
}

void loop_watch_stop(struct loop_watcher *w)
{
    uint32_t f = irq_save();
    if (w->active) {
        w->active = 0;
        list_remove(&w->link);
        watch.active--;
        w->source->watchers--;
    }
    irq_restore(f);
}

uint32_t loop_watchers_active(void) { return watch.active; }

int loop_sources_ready(void)
{
    if (!watch.active)
        return 0;
    struct list_node *pos;
    list_for_each(pos, &watch.watchers)
        if (source_ready(container_of(pos, struct loop_watcher, link)->source))
            return 1;
    return 0;
}

int loop_run_watchers(void)
{
    ASSERT(loop_core.phase == LOOP_WATCHERS);
    struct loop_watcher *ready[WATCH_BATCH];
    int n = 0, ran = 0;
    uint32_t f = irq_save();
    struct list_node *pos;
    list_for_each(pos, &watch.watchers) {
        struct loop_watcher *w = container_of(pos, struct loop_watcher, link);
        if (n < WATCH_BATCH && source_ready(w->source))
            ready[n++] = w;
    }
    irq_restore(f);
    /* A callback may stop any watcher, so check again just before each. */
    for (int i = 0; i < n; i++) {
        if (!ready[i]->active)
            continue;
        ready[i]->calls++;
        loop_run_cb(ready[i]->name, ready[i]->cb, ready[i]->arg);
        ran++;
    }
    return ran;
}
