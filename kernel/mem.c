/* The kernel heap: all memory between the end of the kernel image and the
 * top of RAM, handed out by the first-fit allocator in lib/heap.c.
 * Interrupts are turned off around each call, which is all the locking
 * one core needs. */
#include <webscale/string.h>
#include <webscale/system.h>
#include "kernel/lib/heap.h"
#include "kernel/mem.h"
#include "kernel/x86.h"

extern uint8_t __kernel_end[];
static struct heap kheap;

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
    s->used = kheap.used;
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
