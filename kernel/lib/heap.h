/* A first-fit heap with boundary tags, for thread stacks and kernel
 * objects. Every block starts with an 8-byte header: its size (with the
 * "in use" bit) and the size of the block before it, so freeing merges
 * with both neighbours in O(1). Free blocks are on a doubly-linked list.
 * Allocation walks that list: O(free blocks), fine for a teaching kernel's
 * few hundred objects, and honest about its cost in `mem`.
 * Pure: compiles on the host too; it takes no locks (the caller does). */
#ifndef KERNEL_LIB_HEAP_H
#define KERNEL_LIB_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define HEAP_HEADER 8u         /* bytes of bookkeeping per block */
#define HEAP_ALIGN 8u          /* every payload is 8-byte aligned */

struct heap_block;

struct heap {
    struct heap_block *first;  /* lowest block */
    struct heap_block *end;    /* the zero-size sentinel after the last block */
    struct heap_block *free_head;
    size_t total;              /* bytes managed */
    size_t used;               /* bytes in allocated blocks, headers included */
    uint32_t allocs;           /* allocations that succeeded */
    uint32_t frees;
    uint32_t failures;         /* allocations refused for lack of memory */
    uint32_t bad_frees;        /* frees of pointers that were not allocated */
};

/* Manage [base, base+len). Returns 0, or -1 if the region is too small. */
int heap_init(struct heap *h, void *base, size_t len);

/* NULL when no free block is big enough: never corrupts anything. */
void *heap_alloc(struct heap *h, size_t size);

/* align must be a power of two >= 8 (e.g. 4096 for a page). */
void *heap_alloc_aligned(struct heap *h, size_t size, size_t align);

/* Returns 0, or -1 (and counts bad_frees) for a pointer that is not an
 * allocated block's payload, e.g. a double free. */
int heap_free(struct heap *h, void *p);

/* Bytes of heap an allocation of size bytes takes: the payload rounded up
 * to HEAP_ALIGN plus the header, and never less than the smallest block. */
size_t heap_footprint(size_t size);

/* The payload size of an allocated block (>= what was asked). */
size_t heap_block_size(const void *p);

size_t heap_largest_free(const struct heap *h);

/* Walks every block and checks the tags; returns 0 if consistent. */
int heap_check(const struct heap *h);

#endif
