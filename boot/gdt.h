/* The global descriptor table: flat 4 GiB code and data segments. */
#ifndef BOOT_GDT_H
#define BOOT_GDT_H

/* Selectors: index * 8, table indicator 0 (GDT), requested privilege 0. */
#define SEG_KCODE 0x08
#define SEG_KDATA 0x10

#ifndef __ASSEMBLER__
void gdt_init(void);
#endif

#endif
