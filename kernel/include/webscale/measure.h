/* Measuring the talk's "speed of light" table on this machine: what one
 * instruction, a call, an interrupt, a context switch, an event dispatch,
 * a wake-up, a serial byte and a semaphore hand-off cost, measured on the
 * spot. The shell's `latency` prints them; `make bench` (tests/kernel/
 * bench.c) reports the same figures, so there is one implementation.
 *
 * Every measure_* returns the cost of one event in thousandths of a
 * cpu_cycles() unit ("milli-units"): TSC cycles when CPUID reports a TSC,
 * else nanoseconds from the PIT, whose 838 ns resolution is beaten by
 * timing many events together and dividing. Thousandths because one
 * instruction is far below one unit on the PIT clock. Under QEMU's
 * -icount shift=0 a TSC cycle and a PIT nanosecond are both exactly one
 * guest instruction. They run in a thread, never in an IRQ handler, and
 * take a few milliseconds each unless said otherwise. */
#ifndef WEBSCALE_MEASURE_H
#define WEBSCALE_MEASURE_H

#include <stddef.h>
#include <stdint.h>

#define MEASURE_IRQ 5          /* the line `int` raises: free on this machine (LPT2 on a PC) */
#define MEASURE_BATCHES 8      /* batches per figure: the fastest (TSC) or the median (PIT) is kept */

/* The clock the figures are in. */
struct measure_clock {
    int tsc;                   /* 1: TSC cycles, 0: PIT nanoseconds */
    const char *unit;          /* "cycles" or "ns" */
    uint32_t resolution;       /* in unit: 1 cycle, or 838 ns */
    uint32_t units_per_us;     /* TSC cycles per us, measured against the PIT; 1000 for ns */
};
void measure_clock(struct measure_clock *c);

/* A loop of simple register instructions (add, dec, jnz), per instruction. */
uint64_t measure_instruction(uint32_t reps);
/* Calling an empty C function (a bare ret) and returning, loop overhead
 * subtracted. */
uint64_t measure_call(uint32_t reps);
/* `int` on MEASURE_IRQ's vector: entry, the common IRQ tail with EOI, an
 * empty handler, iret. */
uint64_t measure_irq_round_trip(uint32_t reps);
/* Two threads yielding to each other: per thread_yield A->B. */
uint64_t measure_yield_switch(uint32_t reps);
/* Two spinning threads with a 1 ms slice for ms milliseconds: from the
 * last clock read of the thread the PIT preempted to the first of the
 * next one, minus one turn of the spin loop (`make bench`). The tick is
 * taken at the one point of the loop where interrupts are on. The median
 * with a TSC; on the PIT clock a trimmed mean, with a delay in the spin
 * loop that spreads the ticks over it. 0 in cooperative mode. */
uint64_t measure_preempt_switch(uint32_t ms);
/* The same switches, from the first instruction of the PIT's interrupt
 * entry to the next thread's first clock read (`latency`): without
 * QEMU's -icount, how late QEMU delivers the interrupt after the PIT
 * fired (on a busy host, tens of us) is not in it. Included: the
 * stamping entry's 5 instructions after its clock read, and the ~10 of
 * the next thread before its own (with a TSC, under -icount, 392 against
 * make bench's 375 from the last instruction of A). */
uint64_t measure_preempt_switch_from_irq(uint32_t ms);
/* loop_post() of reps events in a row, to the last callback's entry, per
 * event: the loop dispatching back to back (one switch, amortised). */
uint64_t measure_loop_dispatch(uint32_t reps);
/* A thread posts one event to the idle event loop and sleeps until the
 * callback wakes it: post, switch to the loop thread, dispatch, wake,
 * switch back. (One way alone is below the PIT clock's resolution, and
 * phase-locked to it under -icount, so it cannot be averaged out.) */
uint64_t measure_loop_round_trip(uint32_t reps);
/* thread_sleep_ms(1): how late after its deadline the thread runs again,
 * averaged over reps sleeps (reps ms at least). */
uint64_t measure_sleep_lateness(uint32_t reps);
/* Push the n bytes of text out of the UART, per byte: polled (interrupts
 * off, spinning on the line status) or interrupt-driven (the TX ring and
 * the "transmitter empty" interrupt), until the transmitter is idle. The
 * text appears on the console: make it a readable line. */
uint64_t measure_serial_byte(const char *text, size_t n, int polled);
/* Two threads hand a token back and forth through two semaphores, per
 * round trip (two switches). */
uint64_t measure_semaphore_round_trip(uint32_t reps);
/* mutex_lock + mutex_unlock, uncontended. */
uint64_t measure_mutex_pair(uint32_t reps);

/* From ring 3 (user/ring3/bench.c, kernel/measure_ring3.c): getpid()
 * round trips through int 0x80, loop and stub call subtracted; and a
 * switch between two processes that yield to each other (CR3 included). */
uint64_t measure_syscall_round_trip(uint32_t reps);
uint64_t measure_process_switch(uint32_t reps);
/* The same between two threads of one process: no CR3 load. */
uint64_t measure_thread_switch(uint32_t reps);
/* A ring-3 program's first touch of a heap page: the page fault, a zeroed
 * page mapped, the return (reps pages, at most PAGE_FAULT_REPS_MAX). */
#define PAGE_FAULT_REPS_MAX 48
uint64_t measure_page_fault(uint32_t reps);
/* Why the last of those two measured nothing (NULL: it measured). */
const char *measure_ring3_why_not(void);

/* Why the last measure_* that returned 0 measured nothing, in words
 * ("cooperative mode: ..."); NULL after one that measured. */
const char *measure_why_not(void);

/* The talk's "scaled" column: a duration in thousandths of a second as
 * people say it, "0.4 s", "42 s", "3 min 20 s", "5 h 33 min", "1 day 4 h",
 * "12 days", "4 months", "11 years". Pure (kernel/lib/scaled.c, host
 * tested). Returns the length written, like ksnprintf. */
int measure_fmt_scaled(char *buf, size_t size, uint64_t ms);

#endif
