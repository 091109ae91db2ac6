/* A binary min-heap of intrusive nodes, for the event loop's timers: the
 * first node in O(1); insert, remove (any node) and re-key in O(log n).
 *
 * The heap is an array of node pointers in the classic layout (the
 * children of slot i are 2i + 1 and 2i + 2), and every node knows its own
 * slot, so removing one from the middle needs no search. Keys are compared
 * by their difference as a signed 64-bit number, so they may wrap (clock
 * times do, in theory) as long as no two keys in the heap are 2^63 or
 * more apart. Equal keys leave in the order they were inserted (or last
 * re-keyed): each takes a sequence number, compared the same wrap-safe way.
 *
 * The caller owns the slot array, its growth (minheap_move) and any
 * locking. A zeroed node is in no heap. Pure: compiles on the host too. */
#ifndef KERNEL_LIB_MINHEAP_H
#define KERNEL_LIB_MINHEAP_H

#include <stdint.h>

struct minheap_node {
    uint64_t key;               /* smaller leaves first */
    uint32_t seq;               /* among equal keys, smaller leaves first */
    uint32_t pos;               /* 1-based slot in its heap; 0 when in none */
};

struct minheap {
    struct minheap_node **slot;
    uint32_t n;                 /* nodes in the heap */
    uint32_t cap;               /* slots in the array */
    uint32_t next_seq;
};

/* An empty heap over slots[0..cap-1] (slots may be NULL when cap is 0). */
void minheap_init(struct minheap *h, struct minheap_node **slots, uint32_t cap);
/* Move the heap into slots[0..cap-1], cap >= its size, and return the old
 * array, for the caller to free. */
struct minheap_node **minheap_move(struct minheap *h, struct minheap_node **slots, uint32_t cap);

/* Put x (in no heap) in with key; 0, or -1 if the array is full. */
int minheap_insert(struct minheap *h, struct minheap_node *x, uint64_t key);
/* Take x out of h; 0, or -1 if x is not in h. */
int minheap_remove(struct minheap *h, struct minheap_node *x);
/* Take the first node out and return it; NULL if the heap is empty. */
struct minheap_node *minheap_pop(struct minheap *h);
/* Give x (in h) a new key; it goes behind the nodes already there with
 * the same key. */
void minheap_update(struct minheap *h, struct minheap_node *x, uint64_t key);

static inline struct minheap_node *minheap_min(const struct minheap *h)
{
    return h->n ? h->slot[0] : 0;
}

static inline int minheap_linked(const struct minheap_node *x) { return x->pos != 0; }

/* a leaves before b. */
static inline int minheap_before(const struct minheap_node *a, const struct minheap_node *b)
{
    int64_t d = (int64_t)(a->key - b->key);
    return d < 0 || (d == 0 && (int32_t)(a->seq - b->seq) < 0);
}

#endif
