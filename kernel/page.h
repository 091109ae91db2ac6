/* Physical pages for page tables and processes: a pool of 4 KiB frames
 * carved off the top of RAM at boot, apart from the heap, so a page costs
 * exactly a page (an aligned heap block would waste up to another one).
 * The pool is identity-mapped like all RAM: the kernel reaches a frame at
 * its own physical address. Interrupts are turned off around each call. */
#ifndef KERNEL_PAGE_H
#define KERNEL_PAGE_H

#include <stdint.h>

#define PAGE_SIZE 4096u
#define PAGE_SHIFT 12
#define PAGE_ROUND_UP(x) (((x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define PAGE_ROUND_DOWN(x) ((x) & ~(PAGE_SIZE - 1))

/* Who holds a page, for the counts `mem` and `ps` print. */
enum page_owner {
    PAGE_KERNEL,    /* the kernel's own page directory and page tables */
    PAGE_PROCESS,   /* a process's directory, page tables and user pages */
    PAGE_OWNERS
};

struct page_stats {
    uint32_t total;                 /* pages in the pool */
    uint32_t free;
    uint32_t used[PAGE_OWNERS];
    uint32_t failures;              /* allocations refused: the pool was empty */
};

/* Take [base, base + bytes) for the pool; base page-aligned. */
void page_init(uint32_t base, uint32_t bytes);
/* A zeroed page, or 0 when the pool is empty (counted, never a panic). */
uint32_t page_alloc(enum page_owner owner);
void page_free(uint32_t pa, enum page_owner owner);
void page_get_stats(struct page_stats *s);

#endif
