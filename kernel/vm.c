/* Paging: the kernel's half of every address space, the stack slots with
 * their guard pages, and the directories of processes. See vm.h for the
 * map. TLB: a 386 has no invlpg, so an unmapping reloads CR3, which
 * flushes the whole TLB [SDM 3A 4.10.4.1]; mapping a page that was not
 * present needs no flush (not-present entries are never cached). */
#include <webscale/errno.h>
#include <webscale/string.h>
#include <webscale/system.h>
#include "kernel/vm.h"
#include "kernel/x86.h"

#define CR0_PG 0x80000000u          /* paging on */
#define ENTRIES 1024                /* per directory or table */
#define KERNEL_PDES PDX(USER_BASE)  /* the shared half: entries 0-255 */
#define KSTACK_PAGES ((KSTACK_TOP - KSTACK_BASE) / PAGE_SIZE)
#define BITS 32

uint32_t *kernel_pgdir;
uint32_t vm_cr3;
uint32_t vm_cr3_loads;

/* Which pages of the stack region are taken (a stack's pages and its guard). */
static uint32_t kstack_used[KSTACK_PAGES / BITS];
static uint32_t kstack_hint;        /* where the next search starts */

static void tlb_flush(void)
{
    __asm__ volatile("movl %%cr3, %%eax; movl %%eax, %%cr3" ::: "eax", "memory");
}

/* The entry for va in pgdir's table, making the table if asked. */
static uint32_t *pte_of(uint32_t *pgdir, uint32_t va, int make, enum page_owner owner)
{
    uint32_t *pde = &pgdir[PDX(va)];
    if (!(*pde & PTE_P)) {
        if (!make)
            return NULL;
        uint32_t pt = page_alloc(owner);
        if (!pt)
            return NULL;
        /* The directory entry allows everything; the table's entries decide. */
        *pde = pt | PTE_P | PTE_W | (va >= USER_BASE ? PTE_U : 0);
    }
    return &((uint32_t *)(*pde & PTE_ADDR))[PTX(va)];
}

void vm_init(uint32_t mem_top)
{
    kernel_pgdir = (uint32_t *)page_alloc(PAGE_KERNEL);
    if (!kernel_pgdir)
        panic("vm_init: no page for the kernel's page directory");
    /* Identity map of RAM from the second page up; page 0 stays unmapped. */
    for (uint32_t va = PAGE_SIZE; va < PAGE_ROUND_UP(mem_top); va += PAGE_SIZE) {
        uint32_t *pte = pte_of(kernel_pgdir, va, 1, PAGE_KERNEL);
        if (!pte)
            panic("vm_init: no page for the identity map's tables");
        *pte = va | PTE_P | PTE_W;
    }
    /* Every table of the stack region now, so the kernel's half of the
     * directory never changes after boot and copies of it stay true. */
    for (uint32_t va = KSTACK_BASE; va < KSTACK_TOP; va += PAGE_SIZE * ENTRIES)
        if (!pte_of(kernel_pgdir, va, 1, PAGE_KERNEL))
            panic("vm_init: no page for the stack region's tables");
    vm_cr3 = (uint32_t)kernel_pgdir;
    __asm__ volatile("movl %0, %%cr3\n\t"
                     "movl %%cr0, %%eax\n\t"
                     "orl %1, %%eax\n\t"
                     "movl %%eax, %%cr0\n\t"
                     "jmp 1f\n"          /* the 386 wants a jump after turning paging on */
                     "1:"
                     : : "r"(vm_cr3), "i"(CR0_PG) : "eax", "memory");
}

/* Unmap one page of the kernel's half (the guard below the boot stack). */
void vm_kernel_unmap(uint32_t va)
{
    uint32_t *pte = pte_of(kernel_pgdir, va, 0, PAGE_KERNEL);
    if (pte)
        *pte = 0;
    tlb_flush();
}

/* ---- kernel stacks ---- */

static int slot_taken(uint32_t i) { return (kstack_used[i / BITS] >> (i % BITS)) & 1; }

static void slot_mark(uint32_t first, uint32_t n, int taken)
{
    for (uint32_t i = first; i < first + n; i++) {
        if (taken)
            kstack_used[i / BITS] |= 1u << (i % BITS);
        else
            kstack_used[i / BITS] &= ~(1u << (i % BITS));
    }
}

/* First fit from the hint, wrapping once: n free pages in a row. */
static int slot_find(uint32_t n, uint32_t *first)
{
    for (uint32_t tries = 0, i = kstack_hint; tries < KSTACK_PAGES; ) {
        if (i + n > KSTACK_PAGES) {
            tries += KSTACK_PAGES - i;
            i = 0;
            continue;
        }
        uint32_t run = 0;
        while (run < n && !slot_taken(i + run))
            run++;
        if (run == n) {
            *first = i;
            return 1;
        }
        tries += run + 1;
        i += run + 1;
    }
    return 0;
}

uint8_t *vm_kstack_slot(uint32_t size)
{
    ASSERT((size & (PAGE_SIZE - 1)) == 0);
    uint32_t n = size / PAGE_SIZE + 1;            /* the guard page, then the stack */
    uint32_t f = irq_save();
    uint32_t first;
    if (!slot_find(n, &first)) {
        irq_restore(f);
        return NULL;
    }
    slot_mark(first, n, 1);
    kstack_hint = first + n;
    irq_restore(f);
    return (uint8_t *)(KSTACK_BASE + (first + 1) * PAGE_SIZE);
}

void vm_kstack_set(uint8_t *va, void *page)
{
    *pte_of(kernel_pgdir, (uint32_t)va, 0, PAGE_KERNEL) = (uint32_t)page | PTE_P | PTE_W;
}

void *vm_kstack_page(const uint8_t *va)
{
    uint32_t pte = *pte_of(kernel_pgdir, (uint32_t)va, 0, PAGE_KERNEL);
    return pte & PTE_P ? (void *)(pte & PTE_ADDR) : NULL;
}

void vm_kstack_release(uint8_t *stack, uint32_t size)
{
    uint32_t va = (uint32_t)stack;
    ASSERT(va >= KSTACK_BASE + PAGE_SIZE && va + size <= KSTACK_TOP);
    for (uint32_t off = 0; off < size; off += PAGE_SIZE)
        *pte_of(kernel_pgdir, va + off, 0, PAGE_KERNEL) = 0;
    tlb_flush();
    uint32_t f = irq_save();
    slot_mark((va - KSTACK_BASE) / PAGE_SIZE - 1, size / PAGE_SIZE + 1, 0);
    irq_restore(f);
}

/* ---- address spaces of processes ---- */

uint32_t *vm_create(void)
{
    uint32_t *pgdir = (uint32_t *)page_alloc(PAGE_PROCESS);
    if (pgdir)
        memcpy(pgdir, kernel_pgdir, KERNEL_PDES * sizeof *pgdir);
    return pgdir;
}

void vm_destroy(uint32_t *pgdir)
{
    ASSERT((uint32_t)pgdir != vm_cr3 && pgdir != kernel_pgdir);
    for (uint32_t d = KERNEL_PDES; d < ENTRIES; d++) {
        if (!(pgdir[d] & PTE_P))
            continue;
        uint32_t *pt = (uint32_t *)(pgdir[d] & PTE_ADDR);
        for (int i = 0; i < ENTRIES; i++)
            if (pt[i] & PTE_P)
                page_free(pt[i] & PTE_ADDR, PAGE_PROCESS);
        page_free((uint32_t)pt, PAGE_PROCESS);
    }
    page_free((uint32_t)pgdir, PAGE_PROCESS);
}

int vm_map_user(uint32_t *pgdir, uint32_t va, uint32_t flags, uint32_t *pages)
{
    ASSERT(va >= USER_BASE && va < USER_TOP && (va & (PAGE_SIZE - 1)) == 0);
    int had_table = (pgdir[PDX(va)] & PTE_P) != 0;
    uint32_t *pte = pte_of(pgdir, va, 1, PAGE_PROCESS);
    if (!pte)
        return -E_NOMEM;
    *pages += !had_table;
    ASSERT(!(*pte & PTE_P));
    uint32_t pa = page_alloc(PAGE_PROCESS);
    if (!pa)
        return -E_NOMEM;
    *pte = pa | PTE_P | PTE_U | (flags & PTE_W);
    (*pages)++;
    return 0;
}

uint32_t vm_translate(const uint32_t *pgdir, uint32_t va)
{
    uint32_t pde = pgdir[PDX(va)];
    if (!(pde & PTE_P))
        return 0;
    uint32_t pte = ((uint32_t *)(pde & PTE_ADDR))[PTX(va)];
    return pte & PTE_P ? (pte & PTE_ADDR) | (va & (PAGE_SIZE - 1)) : 0;
}

int vm_user_ok(const uint32_t *pgdir, uint32_t va, uint32_t len, int write)
{
    if (va < USER_BASE || va > USER_TOP || len > USER_TOP - va)
        return 0;
    uint32_t want = PTE_P | PTE_U | (write ? PTE_W : 0);
    for (uint32_t p = PAGE_ROUND_DOWN(va); p < va + len; p += PAGE_SIZE) {
        uint32_t pde = pgdir[PDX(p)];
        if (!(pde & PTE_P))
            return 0;
        if ((((uint32_t *)(pde & PTE_ADDR))[PTX(p)] & want) != want)
            return 0;
    }
    return 1;
}

uint32_t vm_pages(const uint32_t *pgdir)
{
    uint32_t n = 1;
    for (uint32_t d = KERNEL_PDES; d < ENTRIES; d++) {
        if (!(pgdir[d] & PTE_P))
            continue;
        const uint32_t *pt = (const uint32_t *)(pgdir[d] & PTE_ADDR);
        n++;
        for (int i = 0; i < ENTRIES; i++)
            n += pt[i] & PTE_P;
    }
    return n;
}
