/* A byte ring buffer for one producer and one consumer (an IRQ handler and
 * a thread). The size is a power of two and the indices run freely, so
 * full and empty are told apart without wasting a slot: used = head - tail.
 * The producer only writes head, the consumer only writes tail; on one
 * core that is enough, with a compiler barrier between data and index.
 * Pure: compiles on the host too. */
#ifndef KERNEL_LIB_RING_H
#define KERNEL_LIB_RING_H

#include <stdint.h>

struct ring {
    uint8_t *buf;
    uint32_t size;              /* power of two */
    volatile uint32_t head;     /* next slot to write */
    volatile uint32_t tail;     /* next slot to read */
};

/* The compiler barrier between a slot's data and its index: one core, so
 * no fence is needed, only that the compiler keeps the order. The other
 * single-producer rings (the loop's posts, the NE2000's RX slots) use it
 * too. */
#define ring_barrier() __asm__ volatile("" ::: "memory")

/* Returns 0, or -1 if size is not a power of two. */
int ring_init(struct ring *r, uint8_t *buf, uint32_t size);

static inline uint32_t ring_used(const struct ring *r) { return r->head - r->tail; }
static inline uint32_t ring_free(const struct ring *r) { return r->size - ring_used(r); }
static inline int ring_empty(const struct ring *r) { return r->head == r->tail; }
static inline int ring_full(const struct ring *r) { return ring_used(r) == r->size; }

/* Put one byte; returns 0, or -1 if full. */
static inline int ring_put(struct ring *r, uint8_t c)
{
    if (ring_full(r))
        return -1;
    r->buf[r->head & (r->size - 1)] = c;
    ring_barrier();
    r->head++;
    return 0;
}

/* Take one byte; returns it (0..255), or -1 if empty. */
static inline int ring_get(struct ring *r)
{
    if (ring_empty(r))
        return -1;
    uint8_t c = r->buf[r->tail & (r->size - 1)];
    ring_barrier();
    r->tail++;
    return c;
}

/* Bulk variants: move up to n bytes, return how many moved. */
uint32_t ring_write(struct ring *r, const void *src, uint32_t n);
uint32_t ring_read(struct ring *r, void *dst, uint32_t n);

#endif
