/* The min-heap (minheap.h): sift up and sift down over an array of node
 * pointers, each node told its slot whenever it moves. */
#include "kernel/lib/minheap.h"

static void place(struct minheap *h, uint32_t i, struct minheap_node *x)
{
    h->slot[i] = x;
    x->pos = i + 1;
}

/* x is bound for slot i: move it up past every parent it leaves before. */
static void sift_up(struct minheap *h, uint32_t i, struct minheap_node *x)
{
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!minheap_before(x, h->slot[parent]))
            break;
        place(h, i, h->slot[parent]);
        i = parent;
    }
    place(h, i, x);
}

/* x is bound for slot i: move it down past every child that leaves before it. */
static void sift_down(struct minheap *h, uint32_t i, struct minheap_node *x)
{
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && minheap_before(h->slot[c + 1], h->slot[c]))
            c++;
        if (!minheap_before(h->slot[c], x))
            break;
        place(h, i, h->slot[c]);
        i = c;
    }
    place(h, i, x);
}

/* Slot i holds x, whose key has changed (or which has just been put
 * there): move it up or down to where it belongs. */
static void resettle(struct minheap *h, uint32_t i, struct minheap_node *x)
{
    if (i > 0 && minheap_before(x, h->slot[(i - 1) / 2]))
        sift_up(h, i, x);
    else
        sift_down(h, i, x);
}

void minheap_init(struct minheap *h, struct minheap_node **slots, uint32_t cap)
{
    h->slot = slots;
    h->n = 0;
    h->cap = cap;
    h->next_seq = 0;
}

struct minheap_node **minheap_move(struct minheap *h, struct minheap_node **slots, uint32_t cap)
{
    struct minheap_node **old = h->slot;
    for (uint32_t i = 0; i < h->n; i++)
        slots[i] = old[i];
    h->slot = slots;
    h->cap = cap;
    return old;
}

int minheap_insert(struct minheap *h, struct minheap_node *x, uint64_t key)
{
    if (h->n == h->cap)
        return -1;
    x->key = key;
    x->seq = h->next_seq++;
    sift_up(h, h->n++, x);
    return 0;
}

int minheap_remove(struct minheap *h, struct minheap_node *x)
{
    uint32_t i = x->pos - 1;
    if (x->pos == 0 || i >= h->n || h->slot[i] != x)
        return -1;
    x->pos = 0;
    struct minheap_node *last = h->slot[--h->n];
    if (last != x)
        resettle(h, i, last);     /* the last node fills the hole */
    return 0;
}

struct minheap_node *minheap_pop(struct minheap *h)
{
    struct minheap_node *x = minheap_min(h);
    if (x)
        minheap_remove(h, x);
    return x;
}

void minheap_update(struct minheap *h, struct minheap_node *x, uint64_t key)
{
    x->key = key;
    x->seq = h->next_seq++;
    resettle(h, x->pos - 1, x);
}
