/* Paging, as a 386 has it: a page directory of 1024 entries, each for a
 * page table of 1024 4 KiB pages (no PSE, PAE or NX). [Intel SDM vol. 3A,
 * 4.3 "32-bit paging"]
 *
 * The virtual address space, the same in every address space below
 * USER_BASE (the kernel's half is shared: its page tables are made once at
 * boot and every process directory points at them):
 *
 *   0          - 4 KiB      unmapped: a NULL dereference faults
 *   4 KiB      - RAM's top  all RAM, identity-mapped, supervisor only
 *                           (kernel image, heap, page pool)
 *   KSTACK_BASE- USER_BASE  kernel thread stacks, each with an unmapped
 *                           guard page below it; the stack's memory is a heap
 *                           block, mapped here a second time
 *   USER_BASE  - USER_TOP   a process's own pages (user, one page table):
 *                           its program, its heap, its stack at the top
 *                           with an unmapped guard page below */
#ifndef KERNEL_VM_H
#define KERNEL_VM_H

#include <stdint.h>
#include "kernel/page.h"

#define KSTACK_BASE 0x3C000000u
#define KSTACK_TOP 0x40000000u          /* 64 MiB of stack slots */
#define USER_BASE 0x40000000u
#define USER_TOP 0x40400000u            /* one page table: 4 MiB per process */
#define USER_STACK_PAGES 4              /* 16 KiB of user stack */
#define USER_STACK_TOP USER_TOP
#define USER_STACK_LO (USER_STACK_TOP - USER_STACK_PAGES * PAGE_SIZE)
#define USER_GUARD_LO (USER_STACK_LO - PAGE_SIZE)   /* unmapped, always */

/* Page table entry bits [SDM 3A table 4-6]. */
#define PTE_P 0x001u     /* present */
#define PTE_W 0x002u     /* writable (from ring 3; a 386 lets ring 0 write anyway) */
#define PTE_U 0x004u     /* user: ring 3 may touch it */
#define PTE_ADDR 0xFFFFF000u

#define PDX(va) ((uint32_t)(va) >> 22)
#define PTX(va) (((uint32_t)(va) >> PAGE_SHIFT) & 0x3FF)

/* The kernel's directory (kernel threads run on it) and the one loaded
 * now. Both are physical addresses, which the identity map makes usable
 * as pointers. */
extern uint32_t *kernel_pgdir;
extern uint32_t vm_cr3;
extern uint32_t vm_cr3_loads;       /* times vm_load really loaded CR3 */

/* Build the kernel's half, load it, turn paging on. The page pool must
 * exist; before any thread but idle. */
void vm_init(uint32_t mem_top);

/* Unmap one page of the kernel's half for good (the boot stack's guard). */
void vm_kernel_unmap(uint32_t va);

/* Load pgdir into CR3 unless it is there already. */
static inline void vm_load(uint32_t *pgdir)
{
    if ((uint32_t)pgdir != vm_cr3) {
        vm_cr3 = (uint32_t)pgdir;
        vm_cr3_loads++;
        __asm__ volatile("movl %0, %%cr3" : : "r"(vm_cr3) : "memory");
    }
}

/* ---- kernel stacks ---- */
/* A free stack slot for size bytes (page multiple), an unmapped guard
 * page below it: the stack's low end, or NULL if the slots are all taken.
 * Its pages are mapped one by one (vm_kstack_set). */
uint8_t *vm_kstack_slot(uint32_t size);
void vm_kstack_set(uint8_t *va, void *page);
/* The page behind va in a slot, or NULL if none is mapped. */
void *vm_kstack_page(const uint8_t *va);
/* Unmap the slot's pages (the caller frees them first) and free it. */
void vm_kstack_release(uint8_t *stack, uint32_t size);

/* ---- address spaces of processes ---- */
/* A new directory: the kernel's half, nothing of its own. NULL: no page. */
uint32_t *vm_create(void);
/* Free every user page, the page tables and the directory; counts go
 * back. pgdir must not be loaded (the caller loads the kernel's first). */
void vm_destroy(uint32_t *pgdir);
/* Map a fresh zeroed page at va (user range) with PTE_U | flags, adding
 * the pages it took (1, or 2 with a new page table) to *pages. Returns
 * 0, or -E_NOMEM (no page, or the table for it could not be had). */
int vm_map_user(uint32_t *pgdir, uint32_t va, uint32_t flags, uint32_t *pages);
/* The physical address behind va, or 0 if unmapped. */
uint32_t vm_translate(const uint32_t *pgdir, uint32_t va);
/* Is [va, va + len) all user pages of pgdir (writable ones if write)?
 * The whole range must lie in [USER_BASE, USER_TOP). len 0 is fine. */
int vm_user_ok(const uint32_t *pgdir, uint32_t va, uint32_t len, int write);
/* Pages pgdir holds: directory, page tables and user pages. */
uint32_t vm_pages(const uint32_t *pgdir);

#endif
