/* The kernel heap: all memory between the end of the kernel image and the
 * page pool, handed out by the first-fit allocator in lib/heap.c.
 * Interrupts are turned off around each call, which is all the locking
 * one core needs.
 *
 * Stack pages. A kernel stack is whole pages mapped again in a stack slot
 * (kernel/vm.c), so its memory must be page-aligned. A page-aligned heap
 * block costs up to two pages (its header sits in the page before), so
 * the pages come from chunks of KPAGE_CHUNK pages, one aligned block
 * each, handed out one page at a time and freed when all are back. The
 * pages of a chunk nobody holds do not count as used heap. */
#include <webscale/list.h>
#include <webscale/string.h>
#include <webscale/system.h>
#include "kernel/lib/heap.h"
#include "kernel/mem.h"
#include "kernel/page.h"
#include "kernel/x86.h"

#define KPAGE_CHUNK 16                      /* pages a chunk holds: 64 KiB */
#define KPAGE_ALL ((1u << KPAGE_CHUNK) - 1)

struct kpage_chunk {
    struct list_node link;
    uint8_t *base;
    uint32_t used;                          /* a bit per page handed out */
};

extern uint8_t __kernel_end[];
static struct heap kheap;
static struct list chunks = LIST_INIT(chunks);
static uint32_t kpages_idle;                /* pages in chunks, not handed out */

void mem_init(uint32_t mem_top)
{
    uint32_t start = (uint32_t)__kernel_end;
    if (mem_top <= start || heap_init(&kheap, (void *)start, mem_top - start) < 0)
        panic("mem_init: no memory above the kernel (top %#x, kernel end %#x)", mem_top,
              start);
}

void *kmalloc(size_t size)
{
    uint32_t f = irq_save();
    void *p = heap_alloc(&kheap, size);
    irq_restore(f);
    return p;
}

void *kmalloc_aligned(size_t size, size_t align)
{
    uint32_t f = irq_save();
    void *p = heap_alloc_aligned(&kheap, size, align);
    irq_restore(f);
    return p;
}

void *kzalloc(size_t size)
{
    void *p = kmalloc(size);
    if (p)
        memset(p, 0, size);
    return p;
}

void kfree(void *p)
{
    uint32_t f = irq_save();
    int bad = heap_free(&kheap, p);
    irq_restore(f);
    if (bad)
        panic("kfree(%p): not an allocated block (double free?)", p);
}

size_t kmalloc_footprint(size_t size) { return heap_footprint(size); }

void mem_get_stats(struct mem_stats *s)
{
    uint32_t f = irq_save();
    s->total = kheap.total;
    s->used = kheap.used - kpages_idle * PAGE_SIZE;
    s->largest_free = heap_largest_free(&kheap);
    s->allocs = kheap.allocs;
    s->frees = kheap.frees;
    s->failures = kheap.failures;
    irq_restore(f);
}

int mem_check(void)
{
    uint32_t f = irq_save();
    int r = heap_check(&kheap);
    irq_restore(f);
    return r;
}

/* ---- stack pages ---- */

void *kpage_alloc(void)
{
    uint32_t f = irq_save();
    struct kpage_chunk *c = NULL;
    struct list_node *pos;
    list_for_each(pos, &chunks) {
        struct kpage_chunk *k = container_of(pos, struct kpage_chunk, link);
        if (k->used != KPAGE_ALL) {
            c = k;
            break;
        }
    }
    if (!c) {
        c = heap_alloc(&kheap, sizeof *c);
        uint8_t *base = c ? heap_alloc_aligned(&kheap, KPAGE_CHUNK * PAGE_SIZE, PAGE_SIZE) : NULL;
        if (!base) {
            if (c)
                heap_free(&kheap, c);
            irq_restore(f);
            return NULL;
        }
        c->base = base;
        c->used = 0;
        list_push_front(&chunks, &c->link);
        kpages_idle += KPAGE_CHUNK;
    }
    int i = __builtin_ctz(~c->used);
    c->used |= 1u << i;
    kpages_idle--;
    if (c->used == KPAGE_ALL) {             /* full ones to the back: the search stops early */
        list_remove(&c->link);
        list_push_back(&chunks, &c->link);
    }
    irq_restore(f);
    return c->base + i * PAGE_SIZE;
}

void kpage_free(void *page)
{
    uint8_t *p = page;
    uint32_t f = irq_save();
    struct list_node *pos;
    list_for_each(pos, &chunks) {
        struct kpage_chunk *c = container_of(pos, struct kpage_chunk, link);
        if (p < c->base || p >= c->base + KPAGE_CHUNK * PAGE_SIZE)
            continue;
        uint32_t bit = 1u << ((p - c->base) / PAGE_SIZE);
        if (!(c->used & bit) || ((uint32_t)p & (PAGE_SIZE - 1)))
            break;
        c->used &= ~bit;
        kpages_idle++;
        list_remove(&c->link);
        if (c->used) {
            list_push_front(&chunks, &c->link);   /* has room now */
        } else {
            heap_free(&kheap, c->base);
            heap_free(&kheap, c);
            kpages_idle -= KPAGE_CHUNK;
        }
        irq_restore(f);
        return;
    }
    irq_restore(f);
    panic("kpage_free(%p): not a stack page handed out", page);
}
