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
#define GDT_ACCESS_SEGMENT  0x10   /* code or data, not a system segment */
#define GDT_ACCESS_CODE_RX  0x0A   /* executable, readable */
#define GDT_ACCESS_DATA_RW  0x02   /* writable */
#define GDT_FLAG_4K         0x80   /* limit counts 4 KiB pages */
#define GDT_FLAG_32BIT      0x40

static struct gdt_entry gdt[3];

static void gdt_set(int i, uint32_t base, uint32_t limit, uint8_t access)
{
    gdt[i].limit_lo = limit & 0xFFFF;
    gdt[i].base_lo = base & 0xFFFF;
    gdt[i].base_mid = (base >> 16) & 0xFF;
    gdt[i].access = access;
    gdt[i].limit_hi_flags = ((limit >> 16) & 0x0F) | GDT_FLAG_4K | GDT_FLAG_32BIT;
    gdt[i].base_hi = (base >> 24) & 0xFF;
}

void gdt_init(void)
{
    struct gdt_ptr ptr = { sizeof gdt - 1, (uint32_t)gdt };

    gdt_set(0, 0, 0, 0);
    gdt_set(SEG_KCODE / 8, 0, 0xFFFFF,
            GDT_ACCESS_PRESENT | GDT_ACCESS_RING0 | GDT_ACCESS_SEGMENT | GDT_ACCESS_CODE_RX);
    gdt_set(SEG_KDATA / 8, 0, 0xFFFFF,
            GDT_ACCESS_PRESENT | GDT_ACCESS_RING0 | GDT_ACCESS_SEGMENT | GDT_ACCESS_DATA_RW);

    __asm__ volatile(
        "lgdt %0\n\t"
        "ljmp %1, $1f\n"          /* reload CS */
        "1:\n\t"
        "movw %w2, %%ax\n\t"
        "movw %%ax, %%ds\n\t"
        "movw %%ax, %%es\n\t"
        "movw %%ax, %%fs\n\t"
        "movw %%ax, %%gs\n\t"
        "movw %%ax, %%ss\n\t"
        : : "m"(ptr), "i"(SEG_KCODE), "i"(SEG_KDATA) : "eax", "memory");
}
