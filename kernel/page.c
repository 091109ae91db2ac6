/* The page pool: a free list threaded through the free frames themselves
 * (the first word of a free page is the address of the next), so it costs
 * no memory of its own and both calls are O(1). */
#include <webscale/system.h>
#include "kernel/page.h"
#include "kernel/x86.h"

static uint32_t free_head;          /* physical address of the first free page, 0: none */
static uint32_t pool_lo, pool_hi;   /* the pool's bounds, to refuse foreign frees */
static struct page_stats stats;

/* A word at a time with rep stosl, where every fresh page table and every
 * page of a process is zeroed: memset's loop without its call and its 0-3
 * bytes left over (22 instructions a page fault less). Upwards: the
 * direction flag is clear in all of the kernel (kernel/lib/string.c). */
static void page_zero(uint32_t pa)
{
    uint32_t words = PAGE_SIZE / sizeof(uint32_t);
    __asm__ volatile("rep stosl" : "+D"(pa), "+c"(words) : "a"(0) : "memory");
}

void page_init(uint32_t base, uint32_t bytes)
{
    ASSERT((base & (PAGE_SIZE - 1)) == 0);
    pool_lo = base;
    pool_hi = base + PAGE_ROUND_DOWN(bytes);
    /* Highest first onto the list, so pages are handed out lowest first. */
    for (uint32_t pa = pool_hi; pa > pool_lo; ) {
        pa -= PAGE_SIZE;
        *(uint32_t *)pa = free_head;
        free_head = pa;
        stats.total++;
    }
    stats.free = stats.total;
}

uint32_t page_alloc(enum page_owner owner)
{
    uint32_t f = irq_save();
    uint32_t pa = free_head;
    if (pa) {
        free_head = *(uint32_t *)pa;
        stats.free--;
        stats.used[owner]++;
    } else {
        stats.failures++;
    }
    irq_restore(f);
    if (pa)
        page_zero(pa);
    return pa;
}

void page_free(uint32_t pa, enum page_owner owner)
{
    if (pa < pool_lo || pa >= pool_hi || (pa & (PAGE_SIZE - 1)))
        panic("page_free(%#x): not a page of the pool [%#x, %#x)", pa, pool_lo, pool_hi);
    uint32_t f = irq_save();
    ASSERT(stats.used[owner] > 0);
    *(uint32_t *)pa = free_head;
    free_head = pa;
    stats.free++;
    stats.used[owner]--;
    irq_restore(f);
}

void page_get_stats(struct page_stats *s)
{
    uint32_t f = irq_save();
    *s = stats;
    irq_restore(f);
}
