/* Symbol lookup for backtraces, from the table that tools/mksyms.py
 * generates from the linked kernel and the second link embeds in .ksyms. */
#include <stdint.h>
#include <webscale/system.h>

extern const uint32_t ksyms_count;
extern const uint32_t ksyms_addrs[];     /* sorted ascending */
extern const uint32_t ksyms_name_offs[];
extern const char ksyms_strtab[];
extern const uint8_t __kernel_start[], __text_end[];

const char *ksym_lookup(uint32_t addr, uint32_t *offset)
{
    if (addr < (uint32_t)__kernel_start || addr >= (uint32_t)__text_end || ksyms_count == 0)
        return 0;
    /* The last symbol at or below addr. */
    uint32_t lo = 0, hi = ksyms_count;
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if (ksyms_addrs[mid] <= addr)
            lo = mid;
        else
            hi = mid;
    }
    if (ksyms_addrs[lo] > addr)
        return 0;
    if (offset)
        *offset = addr - ksyms_addrs[lo];
    return ksyms_strtab + ksyms_name_offs[lo];
}
