/* Our own GDT, so we do not depend on the loader's.
 * [Intel SDM vol. 3A, 3.4.5 "Segment Descriptors"]
 * Multiboot leaves a working GDT behind but says we must not rely on it
 * (Multiboot 0.6.96, 3.2). */
#include <stdint.h>
#include "boot/gdt.h"

struct gdt_entry {
    uint16_t limit_lo;
    uint16_t base_lo;
    uint8_t base_mid;
    uint8_t access;       /* present, ring, type */
    uint8_t limit_hi_flags;
    uint8_t base_hi;
} __attribute__((packed));

struct gdt_ptr {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

#define GDT_ACCESS_PRESENT  0x80
#define GDT_ACCESS_RING0    0x00
#define GDT_ACCESS_RING3    0x60   /* descriptor privilege level 3 */
#define GDT_ACCESS_TSS      0x09   /* a 32-bit TSS, not busy (system segment) */
#define GDT_ACCESS_SEGMENT  0x10   /* code or data, not a system segment */
#define GDT_ACCESS_CODE_RX  0x0A   /* executable, readable */
#define GDT_ACCESS_DATA_RW  0x02   /* writable */
#define GDT_FLAG_4K         0x80   /* limit counts 4 KiB pages */
#define GDT_FLAG_32BIT      0x40

static struct gdt_entry gdt[GDT_ENTRIES];
struct tss kernel_tss, df_tss;

static void gdt_set_flags(int i, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    gdt[i].limit_lo = limit & 0xFFFF;
    gdt[i].base_lo = base & 0xFFFF;
    gdt[i].base_mid = (base >> 16) & 0xFF;
    gdt[i].access = access;
    gdt[i].limit_hi_flags = ((limit >> 16) & 0x0F) | flags;
    gdt[i].base_hi = (base >> 24) & 0xFF;
}

static void gdt_set(int i, uint32_t base, uint32_t limit, uint8_t access)
{
    gdt_set_flags(i, base, limit, access, GDT_FLAG_4K | GDT_FLAG_32BIT);
}

/* A TSS descriptor: byte granularity, the limit is its size - 1. No I/O
 * bitmap (its base lies past the limit), so ring 3 may not use in/out. */
static void gdt_set_tss(int i, struct tss *t)
{
    t->iomap_base = sizeof *t;
    gdt_set_flags(i, (uint32_t)t, sizeof *t - 1, GDT_ACCESS_PRESENT | GDT_ACCESS_TSS, 0);
}

void gdt_init(void)
{
    struct gdt_ptr ptr = { sizeof gdt - 1, (uint32_t)gdt };

    gdt_set(0, 0, 0, 0);
    gdt_set(SEG_KCODE / 8, 0, 0xFFFFF,
            GDT_ACCESS_PRESENT | GDT_ACCESS_RING0 | GDT_ACCESS_SEGMENT | GDT_ACCESS_CODE_RX);
    gdt_set(SEG_KDATA / 8, 0, 0xFFFFF,
            GDT_ACCESS_PRESENT | GDT_ACCESS_RING0 | GDT_ACCESS_SEGMENT | GDT_ACCESS_DATA_RW);
    gdt_set(SEG_UCODE / 8, 0, 0xFFFFF,
            GDT_ACCESS_PRESENT | GDT_ACCESS_RING3 | GDT_ACCESS_SEGMENT | GDT_ACCESS_CODE_RX);
    gdt_set(SEG_UDATA / 8, 0, 0xFFFFF,
            GDT_ACCESS_PRESENT | GDT_ACCESS_RING3 | GDT_ACCESS_SEGMENT | GDT_ACCESS_DATA_RW);
    kernel_tss.ss0 = SEG_KDATA;
    gdt_set_tss(SEG_TSS / 8, &kernel_tss);
    gdt_set_tss(SEG_DF_TSS / 8, &df_tss);

    /* DS and ES hold the ring-3 data segment in ring 0 too: it is the same
     * flat 4 GiB (paging, not segments, keeps ring 3 out of the kernel),
     * so a return to ring 3 needs no reload, and every kernel entry sets
     * them to it again (vectors.S), whatever ring 3 left in them. SS must
     * match the ring, so it is the kernel's own. */
    __asm__ volatile(
        "lgdt %0\n\t"
        "ljmp %1, $1f\n"          /* reload CS */
        "1:\n\t"
        "movw %w2, %%ax\n\t"
        "movw %%ax, %%ss\n\t"
        "movw %w3, %%ax\n\t"
        "movw %%ax, %%ds\n\t"
        "movw %%ax, %%es\n\t"
        "movw %%ax, %%fs\n\t"
        "movw %%ax, %%gs\n\t"
        "movw %w4, %%ax\n\t"
        "ltr %%ax\n\t"
        : : "m"(ptr), "i"(SEG_KCODE), "i"(SEG_KDATA), "i"(SEG_UDATA), "i"(SEG_TSS)
        : "eax", "memory");
}
