/* What kernel/measure.c shares with measure_preempt.c (the public API is
 * <webscale/measure.h>). */
#ifndef KERNEL_MEASURE_H
#define KERNEL_MEASURE_H

#include <stdint.h>

#define INSNS_PER_TURN 10          /* spin_instructions: 8 adds, dec, jnz */

/* Say why the figure being measured is not there (NULL: it is); returns
 * 0, the figure. measure_why_not() reads it. */
uint64_t not_measured(const char *why);

static inline uint64_t minus(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

/* turns x INSNS_PER_TURN register instructions: what `latency` times as
 * "one instruction", and the preemption spinners' busy work. */
static inline void spin_instructions(uint32_t turns)
{
    if (!turns)
        return;
    uint32_t a = 0;
    __asm__ volatile("1:\n\t"
                     "addl $1, %1\n\taddl $1, %1\n\taddl $1, %1\n\taddl $1, %1\n\t"
                     "addl $1, %1\n\taddl $1, %1\n\taddl $1, %1\n\taddl $1, %1\n\t"
                     "decl %0\n\tjnz 1b"
                     : "+r"(turns), "+r"(a));
}

#endif
