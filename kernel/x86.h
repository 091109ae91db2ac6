/* Thin wrappers around x86 instructions that C cannot express. */
#ifndef KERNEL_X86_H
#define KERNEL_X86_H

#include <stdint.h>
#include <webscale/assert.h>
#include <webscale/system.h>

#define EFLAGS_IF (1u << 9)    /* interrupt enable flag */
#define EFLAGS_DF (1u << 10)   /* direction flag: string instructions count down */
#define EFLAGS_ID (1u << 21)   /* writable only if the CPU has CPUID */

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint32_t read_eflags(void)
{
    uint32_t f;
    __asm__ volatile("pushfl; popl %0" : "=r"(f));
    return f;
}

static inline void write_eflags(uint32_t f)
{
    __asm__ volatile("pushl %0; popfl" : : "r"(f) : "memory", "cc");
}

static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }

/* Enable interrupts and halt in one go: the instruction after sti runs
 * before any interrupt is taken, so no wake-up can slip in between. */
static inline void sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }

/* Disable interrupts, returning whether they were on; pair with irq_restore. */
static inline uint32_t irq_save(void)
{
    uint32_t f = read_eflags();
    cli();
    return f & EFLAGS_IF;
}

static inline void irq_restore(uint32_t was_on)
{
    if (was_on)
        sti();
}

static inline int irqs_enabled(void) { return (read_eflags() & EFLAGS_IF) != 0; }

/* For a function whose contract is "interrupts off": fail loudly now, not
 * with a corrupted list later. Three instructions and a branch. */
#define ASSERT_IRQS_OFF() ASSERT(!irqs_enabled())

static inline uint32_t read_cr2(void)
{
    uint32_t v;
    __asm__ volatile("movl %%cr2, %0" : "=r"(v));
    return v;
}

static inline uint32_t read_ebp(void)
{
    uint32_t v;
    __asm__ volatile("movl %%ebp, %0" : "=r"(v));
    return v;
}

static inline uint64_t rdtsc(void)
{
    uint64_t v;
    __asm__ volatile("rdtsc" : "=A"(v));
    return v;
}

#endif
