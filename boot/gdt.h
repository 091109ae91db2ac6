/* The global descriptor table: flat 4 GiB code and data segments for
 * ring 0 and ring 3, and two task-state segments: the one the CPU takes
 * the ring-0 stack from when ring 3 is interrupted, and the one a double
 * fault switches to (its own stack: the fault may be a stack overflow). */
#ifndef BOOT_GDT_H
#define BOOT_GDT_H

/* Selectors: index * 8, table indicator 0 (GDT), requested privilege
 * level in the low two bits (3 for ring 3's). */
#define SEG_KCODE 0x08
#define SEG_KDATA 0x10
#define SEG_UCODE 0x1B
#define SEG_UDATA 0x23
#define SEG_TSS 0x28
#define SEG_DF_TSS 0x30
#define GDT_ENTRIES 7
#define RING_MASK 3         /* a selector's (or CS's) privilege bits */

#ifndef __ASSEMBLER__
#include <stdint.h>

/* A 32-bit task-state segment [Intel SDM vol. 3A, 7.2.1, figure 7-2]. */
struct tss {
    uint32_t link;              /* the previous task's selector, after a task switch */
    uint32_t esp0, ss0;         /* the stack ring 0 starts on when ring 3 is interrupted */
    uint32_t esp1, ss1, esp2, ss2;
    uint32_t cr3, eip, eflags;
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint32_t es, cs, ss, ds, fs, gs;
    uint32_t ldt;
    uint16_t trap, iomap_base;
} __attribute__((packed));

/* The TSS of everything but the double-fault handler: esp0 is the top of
 * the kernel stack of the process thread that runs now. */
extern struct tss kernel_tss;
/* The double fault's task: its own stack, registers, and the kernel's
 * directory; set up by trap.c. */
extern struct tss df_tss;

void gdt_init(void);
#endif

#endif
