#include "kernel/lib/heap.h"

struct heap_block {
    uint32_t size;        /* whole block, header included; bit 0 = in use */
    uint32_t prev_size;   /* size of the block just below, 0 for the first */
    /* free blocks only: the free-list links live in the payload */
    struct heap_block *next_free;
    struct heap_block *prev_free;
};

#define USED 1u
/* header + two free-list pointers: 16 bytes on i386, 24 on a 64-bit host */
#define MIN_BLOCK ((uint32_t)((sizeof(struct heap_block) + HEAP_ALIGN - 1) & ~(HEAP_ALIGN - 1)))

static uint32_t bsize(const struct heap_block *b) { return b->size & ~USED; }
static int bused(const struct heap_block *b) { return b->size & USED; }

static struct heap_block *next_block(const struct heap_block *b)
{
    return (struct heap_block *)((char *)b + bsize(b));
}

static struct heap_block *prev_block(const struct heap_block *b)
{
    return b->prev_size ? (struct heap_block *)((char *)b - b->prev_size) : NULL;
}

static void *payload(struct heap_block *b) { return (char *)b + HEAP_HEADER; }
static struct heap_block *block_of(const void *p)
{
    return (struct heap_block *)((char *)p - HEAP_HEADER);
}

static size_t round_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

static void free_list_add(struct heap *h, struct heap_block *b)
{
    b->prev_free = NULL;
    b->next_free = h->free_head;
    if (h->free_head)
        h->free_head->prev_free = b;
    h->free_head = b;
}

static void free_list_remove(struct heap *h, struct heap_block *b)
{
    if (b->prev_free)
        b->prev_free->next_free = b->next_free;
    else
        h->free_head = b->next_free;
    if (b->next_free)
        b->next_free->prev_free = b->prev_free;
}

/* Set a block's size and tell its upper neighbour. */
static void set_size(struct heap_block *b, uint32_t size, int used)
{
    b->size = size | (used ? USED : 0);
    next_block(b)->prev_size = size;
}

int heap_init(struct heap *h, void *base, size_t len)
{
    uintptr_t start = round_up((uintptr_t)base, HEAP_ALIGN);
    uintptr_t stop = ((uintptr_t)base + len) & ~(uintptr_t)(HEAP_ALIGN - 1);

    h->first = h->end = h->free_head = NULL;
    h->total = h->used = 0;
    h->allocs = h->frees = h->failures = h->bad_frees = 0;
    if (stop <= start || stop - start < MIN_BLOCK + HEAP_HEADER)
        return -1;

    struct heap_block *b = (struct heap_block *)start;
    size_t size = stop - start - HEAP_HEADER;   /* room for the sentinel */
    h->first = b;
    h->end = (struct heap_block *)(start + size);
    h->end->size = 0 | USED;                    /* never merged with */
    b->prev_size = 0;
    set_size(b, (uint32_t)size, 0);
    free_list_add(h, b);
    h->total = size;
    return 0;
}

/* Carve a used block of exactly `need` bytes at the start of free block b,
 * returning the rest (if big enough to stand alone) to the free list. */
static void *take(struct heap *h, struct heap_block *b, uint32_t need)
{
    uint32_t have = bsize(b);
    free_list_remove(h, b);
    if (have - need >= MIN_BLOCK) {
        set_size(b, need, 1);
        struct heap_block *rest = next_block(b);
        rest->prev_size = need;
        set_size(rest, have - need, 0);
        free_list_add(h, rest);
    } else {
        set_size(b, have, 1);
    }
    h->used += bsize(b);
    h->allocs++;
    return payload(b);
}

static uint32_t block_need(size_t size)
{
    size_t need = round_up(size, HEAP_ALIGN) + HEAP_HEADER;
    return need < MIN_BLOCK ? MIN_BLOCK : (uint32_t)need;
}

size_t heap_footprint(size_t size) { return block_need(size); }

void *heap_alloc(struct heap *h, size_t size)
{
    if (size == 0 || size > h->total) {
        h->failures++;
        return NULL;
    }
    uint32_t need = block_need(size);
    for (struct heap_block *b = h->free_head; b; b = b->next_free)
        if (bsize(b) >= need)
            return take(h, b, need);
    h->failures++;
    return NULL;
}

void *heap_alloc_aligned(struct heap *h, size_t size, size_t align)
{
    if (align <= HEAP_ALIGN)
        return heap_alloc(h, size);
    if (size == 0 || size > h->total || (align & (align - 1))) {
        h->failures++;
        return NULL;
    }
    uint32_t need = block_need(size);
    for (struct heap_block *b = h->free_head; b; b = b->next_free) {
        uintptr_t start = (uintptr_t)b;
        uintptr_t pay = round_up(start + HEAP_HEADER, align);
        /* A gap before the aligned payload must be 0 or a whole free block. */
        while (pay - HEAP_HEADER != start && pay - HEAP_HEADER - start < MIN_BLOCK)
            pay += align;
        uintptr_t blk = pay - HEAP_HEADER;
        if (blk + need > start + bsize(b))
            continue;
        if (blk != start) {
            /* Split off the gap as its own free block. */
            uint32_t gap = (uint32_t)(blk - start);
            uint32_t rest = bsize(b) - gap;
            set_size(b, gap, 0);                 /* b stays on the free list */
            struct heap_block *nb = (struct heap_block *)blk;
            nb->prev_size = gap;
            set_size(nb, rest, 0);
            free_list_add(h, nb);
            b = nb;
        }
        return take(h, b, need);
    }
    h->failures++;
    return NULL;
}

/* Does b look like a real block? Its size must agree with both
 * neighbours' tags. O(1), so kfree stays cheap with thousands of blocks;
 * a wild pointer whose bytes happen to mimic two matching tags would get
 * through, which a walk over all blocks would catch at O(n) per free. */
static int plausible_block(const struct heap *h, const struct heap_block *b)
{
    if ((uintptr_t)b < (uintptr_t)h->first || (uintptr_t)b >= (uintptr_t)h->end ||
        ((uintptr_t)b & (HEAP_ALIGN - 1)))
        return 0;
    uint32_t size = bsize(b);
    if (size < MIN_BLOCK || size > (uintptr_t)h->end - (uintptr_t)b ||
        next_block(b)->prev_size != size)
        return 0;
    if (b->prev_size == 0)
        return b == h->first;
    const struct heap_block *prev = prev_block(b);
    return (uintptr_t)prev >= (uintptr_t)h->first && bsize(prev) == b->prev_size;
}

int heap_free(struct heap *h, void *p)
{
    if (!p)
        return 0;
    struct heap_block *b = block_of(p);
    if (!plausible_block(h, b) || !bused(b)) {
        h->bad_frees++;
        return -1;
    }
    h->used -= bsize(b);
    h->frees++;

    uint32_t size = bsize(b);
    struct heap_block *next = next_block(b);
    if (!bused(next)) {
        free_list_remove(h, next);
        size += bsize(next);
    }
    struct heap_block *prev = prev_block(b);
    if (prev && !bused(prev)) {
        free_list_remove(h, prev);
        size += bsize(prev);
        b = prev;
    }
    set_size(b, size, 0);
    free_list_add(h, b);
    return 0;
}

size_t heap_block_size(const void *p)
{
    return bsize(block_of(p)) - HEAP_HEADER;
}

size_t heap_largest_free(const struct heap *h)
{
    size_t best = 0;
    for (struct heap_block *b = h->free_head; b; b = b->next_free)
        if (bsize(b) - HEAP_HEADER > best)
            best = bsize(b) - HEAP_HEADER;
    return best;
}

int heap_check(const struct heap *h)
{
    uint32_t prev = 0;
    size_t used = 0, free_bytes = 0, free_blocks = 0;
    int prev_free = 0;
    for (struct heap_block *b = h->first; b != h->end; b = next_block(b)) {
        if (bsize(b) < MIN_BLOCK || b->prev_size != prev)
            return -1;
        if ((uintptr_t)next_block(b) > (uintptr_t)h->end)
            return -1;
        if (!bused(b)) {
            if (prev_free)
                return -1;          /* two free neighbours were not merged */
            free_bytes += bsize(b);
            free_blocks++;
        } else {
            used += bsize(b);
        }
        prev_free = !bused(b);
        prev = bsize(b);
    }
    if (h->end->prev_size != prev || used != h->used || used + free_bytes != h->total)
        return -1;
    size_t listed = 0;
    for (struct heap_block *b = h->free_head; b; b = b->next_free) {
        if (bused(b) || ++listed > free_blocks)
            return -1;
    }
    return listed == free_blocks ? 0 : -1;
}
