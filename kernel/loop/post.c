/* Posts: events queued from anywhere, IRQ handlers included, without
 * allocating. A ring of LOOP_POST_RING slots with free-running indices:
 * many producers, each with interrupts off for a few instructions, and
 * one consumer, the loop, which alone moves the tail. A full ring refuses
 * the event and counts it: nothing is lost silently. */
#include <webscale/errno.h>
#include "kernel/lib/ring.h"
#include "kernel/loop/loop_internal.h"
#include "kernel/x86.h"

#if LOOP_POST_RING & (LOOP_POST_RING - 1)
#error "LOOP_POST_RING must be a power of two"
#endif

struct post_event {
    loop_fn fn;
    void *arg;
    const char *name;
    uint32_t pad;       /* 16 bytes: the drain finds a slot with a shift */
};

static struct {
    struct post_event ring[LOOP_POST_RING];
    volatile uint32_t head, tail;
} posts;

int loop_post_named(const char *name, loop_fn cb, void *arg)
{
    uint32_t f = irq_save();
    if (posts.head - posts.tail == LOOP_POST_RING) {
        loop_st.posts_lost++;
        irq_restore(f);
        return -E_BUSY;
    }
    struct post_event *e = &posts.ring[posts.head & (LOOP_POST_RING - 1)];
    e->fn = cb;
    e->arg = arg;
    e->name = name;
    posts.head++;
    loop_st.posts++;
    loop_wake();
    irq_restore(f);
    return 0;
}

uint32_t loop_posts_queued(void) { return posts.head - posts.tail; }

int loop_run_posts(void)
{
    ASSERT(loop_core.phase == LOOP_POSTS);
    /* Only the loop moves the tail: it stays in a register. */
    uint32_t tail = posts.tail, end = posts.head;
    for (uint32_t t = tail; t != end; t++) {
        /* Copy out before giving the slot back to the producers. */
        struct post_event e = posts.ring[t & (LOOP_POST_RING - 1)];
        ring_barrier();
        posts.tail = t + 1;
        loop_run_cb(e.name, e.fn, e.arg);
    }
    return (int)(end - tail);
}
