/* What CPU are we on? A 386 has no CPUID instruction; a CPU has it if the
 * ID bit of EFLAGS can be flipped. [Intel SDM vol. 2A, CPUID; AP-485]
 * The TSC is used only if CPUID reports it (leaf 1, EDX bit 4). */
#include <webscale/string.h>
#include <webscale/time.h>
#include "kernel/clock.h"
#include "kernel/x86.h"

#define CPUID_FEAT_EDX_TSC (1u << 4)

static int has_cpuid, has_tsc;
static char vendor[13] = "none";

static int cpuid_supported(void)
{
    uint32_t before = read_eflags();
    write_eflags(before ^ EFLAGS_ID);
    uint32_t after = read_eflags();
    write_eflags(before);
    return ((before ^ after) & EFLAGS_ID) != 0;
}

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf));
}

void cpu_detect(void)
{
    uint32_t a, b, c, d;
    has_cpuid = cpuid_supported();
    if (!has_cpuid)
        return;
    cpuid(0, &a, &b, &c, &d);
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    vendor[12] = 0;
    if (a >= 1) {
        cpuid(1, &a, &b, &c, &d);
        has_tsc = (d & CPUID_FEAT_EDX_TSC) != 0;
    }
}

const char *cpu_description(void)
{
    if (!has_cpuid)
        return "no CPUID (386-class), no TSC";
    return has_tsc ? "CPUID, TSC" : "CPUID, no TSC";
}

int cpu_has_tsc(void) { return has_tsc; }

uint64_t cpu_cycles(void)
{
    return has_tsc ? rdtsc() : clock_ns();
}
