/* Whole-machine calls: memory, power off, panic. */
#ifndef WEBSCALE_SYSTEM_H
#define WEBSCALE_SYSTEM_H

#include <stddef.h>
#include <stdint.h>

void *kmalloc(size_t size);            /* NULL when memory runs out */
void *kmalloc_aligned(size_t size, size_t align);
void *kzalloc(size_t size);
void kfree(void *p);
/* What kmalloc(size) really takes of the heap, its bookkeeping included. */
size_t kmalloc_footprint(size_t size);

struct mem_stats {
    size_t total, used, largest_free;  /* bytes */
    uint32_t allocs, frees, failures;
};
void mem_get_stats(struct mem_stats *s);

/* Interrupts taken per IRQ line since boot. */
#define IRQ_LINES 16       /* two cascaded 8259A PICs, 8 lines each */
struct irq_stats {
    const char *name;      /* driver that owns the line, or NULL */
    uint64_t count;
};
void irq_get_stats(struct irq_stats out[IRQ_LINES], uint32_t *spurious);

/* Flush the console and leave QEMU with this status as seen by its caller
 * (0 = success, at most 126), through the isa-debug-exit device; under
 * Bochs through its shutdown port, which carries no status. */
void system_poweroff(int status) __attribute__((noreturn));

void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* cpu_cycles() at the first instruction of kmain: with a TSC, how long the
 * boot took is cpu_cycles() - boot_entry_cycles() (without one, 0). */
uint64_t boot_entry_cycles(void);

/* The kernel command line (multiboot), and one key=value of it. */
const char *kernel_cmdline(void);
/* Copies the value of key into buf; returns its length, or -1 if absent. */
int kernel_cmdline_get(const char *key, char *buf, size_t size);

/* Name of the function that contains addr, and the offset into it. */
const char *ksym_lookup(uint32_t addr, uint32_t *offset);

#endif
