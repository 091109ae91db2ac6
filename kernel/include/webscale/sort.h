/* Sorting small arrays of unsigned values in place, for medians and
 * percentiles: the kernel's measurements (kernel/measure.c) and the demos
 * (user/) share this one sort. Shell sort with Ciura's gaps: no recursion,
 * no allocation, fast enough for the few thousand samples a demo keeps.
 * Header-only and pure, so the host tests compile it as it is. */
#ifndef WEBSCALE_SORT_H
#define WEBSCALE_SORT_H

#include <stddef.h>
#include <stdint.h>

/* Sort v[0..n) ascending. */
static inline void sort_u32(uint32_t *v, size_t n)
{
    static const size_t gaps[] = { 701, 301, 132, 57, 23, 10, 4, 1 };
    for (size_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
        size_t gap = gaps[g];
        for (size_t i = gap; i < n; i++) {
            uint32_t x = v[i];
            size_t j = i;
            for (; j >= gap && v[j - gap] > x; j -= gap)
                v[j] = v[j - gap];
            v[j] = x;
        }
    }
}

#endif
