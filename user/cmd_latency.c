/* latency: the talk's "speed of light" table, measured now on this CPU.
 *
 * Each row is one event's cost, from kernel/measure.c (<webscale/measure.h>),
 * in the clock's unit (TSC cycles, or PIT nanoseconds), and "scaled" as
 * the talk does it: one instruction stretched to one second, so a row's
 * scaled seconds are its cost divided by the first row's (one
 * instruction, measured now). Everything is measured first into a
 * struct, then printed: the table, the talk's own rows, where it is off
 * for this machine (from the figures of the table), and the @demo line. */
#include <webscale/kprintf.h>
#include <webscale/measure.h>
#include <webscale/net.h>
#include <webscale/sched.h>
#include "user/commands.h"
#include "user/demo.h"
#include "user/shell.h"

#define TALK_SWITCH_NS 30000ull     /* the talk: "Context Switch ~30us ~1 day" */
#define NIC_PINGS 3                 /* ICMP echoes to the gateway; the fastest counts */
/* A byte on the wire at 115200 baud: 10 bits (start, 8 data, stop). */
#define SERIAL_BYTE_NS 86805ull
/* A polled byte that takes at least this share of SERIAL_BYTE_NS went at
 * the line's pace (Bochs, hardware); QEMU's TCG sends it at once. */
#define PACED_PERCENT 90
#define NIC_TIMEOUT_MS 500
#define SYSCALL_REPS 20000          /* ring-3 round trips timed in one go */

static const char serial_polled_text[] =
    "latency: this line went out polled, the CPU spinning on the UART per byte.\n";
static const char serial_irq_text[] =
    "latency: this line went out through the TX ring and the UART's interrupt.\n";

enum {
    ROW_INSN, ROW_CALL, ROW_MUTEX, ROW_IRQ, ROW_DISPATCH, ROW_YIELD, ROW_YIELD_BARE,
    ROW_PREEMPT, ROW_PREEMPT_BARE, ROW_LOOP_TRIP, ROW_SEM_TRIP, ROW_SEM_BARE,
    ROW_SYSCALL, ROW_PROC_SWITCH, ROW_THREAD_SWITCH, ROW_PAGE_FAULT,
    ROW_SERIAL_POLLED, ROW_SERIAL_IRQ, ROW_SLEEP, ROW_NIC, ROWS
};

struct row {
    const char *key;           /* in the @demo line, with the unit appended */
    const char *what;
    uint64_t milli;            /* thousandths of a clock unit; 0: not measured */
    const char *why_not;       /* then: why */
};

struct latency {
    struct measure_clock clock;
    struct row rows[ROWS];
};

/* ---- measuring ---- */

static void set_row(struct latency *l, int i, const char *key, const char *what,
                    uint64_t milli)
{
    struct row *r = &l->rows[i];
    r->key = key;
    r->what = what;
    r->milli = milli;
    r->why_not = milli ? NULL : measure_why_not();
}

/* An ICMP echo to the gateway: card out, QEMU's network, card in, the
 * ISR's time stamp (<webscale/net.h>). In ns from the PIT, converted to
 * the table's unit. */
static void measure_nic(struct latency *l)
{
    struct row *r = &l->rows[ROW_NIC];
    struct net_config nc;
    r->key = "nic_round_trip";
    r->what = "NIC round trip (ICMP echo to gateway, best of 3)";
    r->milli = 0;
    net_get_config(&nc);
    if (!nc.up) {
        r->why_not = "no NIC";
        return;
    }
    uint64_t best = 0;
    for (int i = 0; i < NIC_PINGS; i++) {
        uint64_t rtt;
        if (net_ping(nc.gateway, (uint16_t)(1000 + i), NIC_TIMEOUT_MS, &rtt, 0) == 0 &&
            (!best || rtt < best))
            best = rtt;
    }
    r->milli = best * l->clock.units_per_us;     /* ns * (units/us) = milli-units */
    r->why_not = best ? NULL : "no reply from the gateway";
}

/* The same measurement with the scheduler's bookkeeping off
 * (<webscale/sched.h>): what CPU time, counts and the trace cost. */
static uint64_t without_stats(uint64_t (*measure)(uint32_t), uint32_t reps)
{
    int was = sched_stats();
    sched_set_stats(0);
    uint64_t v = measure(reps);
    sched_set_stats(was);
    return v;
}

static void measure_all(struct latency *l)
{
    /* The serial rows print their own lines, so they go first. */
    uint64_t polled = measure_serial_byte(serial_polled_text, sizeof serial_polled_text - 1, 1);
    const char *polled_why = measure_why_not();
    uint64_t irq = measure_serial_byte(serial_irq_text, sizeof serial_irq_text - 1, 0);
    int tsc = l->clock.tsc;

    set_row(l, ROW_INSN, "instruction", "one instruction (add, in a loop of 10)",
            measure_instruction(10000));
    set_row(l, ROW_CALL, "call", "function call + return (call, ret)", measure_call(1000));
    set_row(l, ROW_MUTEX, "mutex", "mutex lock + unlock, uncontended", measure_mutex_pair(1000));
    set_row(l, ROW_IRQ, "irq", "IRQ entry + exit (int $0x25, empty handler)",
            measure_irq_round_trip(256));
    set_row(l, ROW_DISPATCH, "loop_dispatch",
            "event-loop dispatch, batched (post -> callback)", measure_loop_dispatch(256));
    set_row(l, ROW_YIELD, "yield_switch", "cooperative switch (thread_yield A->B)",
            measure_yield_switch(256));
    set_row(l, ROW_YIELD_BARE, "yield_switch_nostats", "  the same, 'sched stats off'",
            without_stats(measure_yield_switch, 256));
    set_row(l, ROW_PREEMPT, "preempt_switch",
            tsc ? "preemptive switch (IRQ 0's entry to B)"
                : "preemptive switch (IRQ 0's entry to B, +-1 us)",
            measure_preempt_switch_from_irq(100));
    set_row(l, ROW_PREEMPT_BARE, "preempt_switch_nostats", "  the same, 'sched stats off'",
            without_stats(measure_preempt_switch_from_irq, 100));
    set_row(l, ROW_LOOP_TRIP, "loop_round_trip",
            "event-loop round trip (thread -> loop -> thread)", measure_loop_round_trip(64));
    set_row(l, ROW_SEM_TRIP, "semaphore_round_trip",
            "semaphore round trip A->B->A (2 switches)", measure_semaphore_round_trip(256));
    set_row(l, ROW_SEM_BARE, "semaphore_round_trip_nostats", "  the same, 'sched stats off'",
            without_stats(measure_semaphore_round_trip, 256));
    set_row(l, ROW_SYSCALL, "syscall", "system call from ring 3 (getpid, int 0x80)",
            measure_syscall_round_trip(SYSCALL_REPS));
    if (!l->rows[ROW_SYSCALL].milli)
        l->rows[ROW_SYSCALL].why_not = measure_ring3_why_not();
    set_row(l, ROW_PROC_SWITCH, "process_switch", "process switch (2 processes yield, CR3)",
            measure_process_switch(SYSCALL_REPS));
    if (!l->rows[ROW_PROC_SWITCH].milli)
        l->rows[ROW_PROC_SWITCH].why_not = measure_ring3_why_not();
    set_row(l, ROW_THREAD_SWITCH, "thread_switch", "switch between 2 threads of a process",
            measure_thread_switch(SYSCALL_REPS));
    if (!l->rows[ROW_THREAD_SWITCH].milli)
        l->rows[ROW_THREAD_SWITCH].why_not = measure_ring3_why_not();
    set_row(l, ROW_PAGE_FAULT, "page_fault", "page fault from ring 3 (heap page mapped)",
            measure_page_fault(PAGE_FAULT_REPS_MAX));
    if (!l->rows[ROW_PAGE_FAULT].milli)
        l->rows[ROW_PAGE_FAULT].why_not = measure_ring3_why_not();
    set_row(l, ROW_SERIAL_POLLED, "serial_polled", "serial byte, polled", polled);
    if (!polled)
        l->rows[ROW_SERIAL_POLLED].why_not = polled_why;
    set_row(l, ROW_SERIAL_IRQ, "serial_irq", "serial byte, interrupt-driven (TX ring + IRQ)",
            irq);
    set_row(l, ROW_SLEEP, "sleep_late", "sleep wake-up: thread_sleep_ms(1), late by",
            measure_sleep_lateness(10));
    measure_nic(l);
}

/* ---- printing ---- */

/* A figure in thousandths of a unit, with the digits that mean something. */
static void fmt_value(char *buf, int size, uint64_t milli, const struct measure_clock *c)
{
    if (!c->tsc && milli >= 100000000ull) {          /* >= 100 us: say us */
        uint64_t us_tenths = milli / 100000;
        ksnprintf(buf, size, "%llu.%llu us", (unsigned long long)us_tenths / 10,
                  (unsigned long long)us_tenths % 10);
    } else if (milli < 10000) {
        uint64_t hundredths = (milli + 5) / 10;
        ksnprintf(buf, size, "%llu.%02llu %s", (unsigned long long)hundredths / 100,
                  (unsigned long long)hundredths % 100, c->unit);
    } else if (milli < 1000000) {
        uint64_t tenths = (milli + 50) / 100;
        ksnprintf(buf, size, "%llu.%llu %s", (unsigned long long)tenths / 10,
                  (unsigned long long)tenths % 10, c->unit);
    } else {
        ksnprintf(buf, size, "%llu %s", (unsigned long long)((milli + 500) / 1000), c->unit);
    }
}

/* The one rule of the scaled column: one instruction = 1 s, so the cost
 * divided by one instruction's cost (the first row) is seconds. */
static void fmt_scaled(char *buf, int size, const struct latency *l, uint64_t milli)
{
    uint64_t insn = l->rows[ROW_INSN].milli;
    measure_fmt_scaled(buf, size, insn ? milli * 1000 / insn : 0);
}

/* A row: what (WHAT_WIDTH), the figure, the scaled figure; 78 columns at
 * most ("3 days 14 h" is the longest scaled figure short of months). A
 * row not measured says why on a line of its own. */
#define WHAT_WIDTH 48

static void print_row(const struct latency *l, const struct row *r)
{
    char value[32], scaled[32];
    if (!r->milli) {
        int used = kprintf("  %-*s %10s", WHAT_WIDTH, r->what, "not measured");
        char why[80];
        ksnprintf(why, sizeof why, "(%s)",
                  r->why_not ? r->why_not : "no more than the clock's own cost");
        demo_wrap(6, used, why);
        return;
    }
    fmt_value(value, sizeof value, r->milli, &l->clock);
    fmt_scaled(scaled, sizeof scaled, l, r->milli);
    kprintf("  %-*s %10s   %s\n", WHAT_WIDTH, r->what, value, scaled);
}

/* "40 times less than" or "1.5 times more than" the talk's ~30 us. */
static void fmt_vs_talk(char *buf, int size, const struct latency *l, uint64_t milli)
{
    uint64_t ns_milli = milli * 1000 / l->clock.units_per_us;
    if (ns_milli && ns_milli < TALK_SWITCH_NS * 1000) {
        uint64_t tenths = TALK_SWITCH_NS * 1000 * 10 / ns_milli;
        if (tenths >= 100)
            ksnprintf(buf, size, "%llu times less than", (unsigned long long)tenths / 10);
        else
            ksnprintf(buf, size, "%llu.%llu times less than", (unsigned long long)tenths / 10,
                      (unsigned long long)tenths % 10);
    } else {
        uint64_t tenths = ns_milli * 10 / (TALK_SWITCH_NS * 1000);
        ksnprintf(buf, size, "%llu.%llu times more than", (unsigned long long)tenths / 10,
                  (unsigned long long)tenths % 10);
    }
}

/* The talk's "calling into the OS is a context switch", measured: the
 * two ring-3 rows above, beside the peers measured the same way on this
 * machine (README, "Numbers"). */
static void print_crossing(const struct latency *l)
{
    const struct row *sys = &l->rows[ROW_SYSCALL], *sw = &l->rows[ROW_PROC_SWITCH];
    if (!sys->milli || !sw->milli)
        return;
    char a[32], b[32];
    fmt_value(a, sizeof a, sys->milli, &l->clock);
    fmt_value(b, sizeof b, sw->milli, &l->clock);
    demo_say("Calling into the OS is a mode switch: %s; a switch to another process: %s "
             "(xv6's getpid and process switch: 1,398 and 3,603 instructions; Linux 6.1's "
             "getpid and sched_yield switch: 376 and 2,198; measured on this machine under "
             "-icount shift=0, where one %s is one instruction).\n",
             a, b, l->clock.tsc ? "cycle" : "ns");
}

/* Where the talk is off here, from the switch rows printed above. */
static void print_conclusion(const struct latency *l)
{
    const int sw[] = { ROW_YIELD, ROW_PREEMPT };
    const char *how[] = { "yielding", "preempted by the PIT" };
    int any = 0;
    for (int i = 0; i < 2; i++) {
        const struct row *r = &l->rows[sw[i]];
        if (!r->milli)
            continue;
        char value[32], scaled[32], vs[40];
        fmt_value(value, sizeof value, r->milli, &l->clock);
        fmt_scaled(scaled, sizeof scaled, l, r->milli);
        fmt_vs_talk(vs, sizeof vs, l, r->milli);
        if (!any)
            kprintf("Where the talk is off for this machine, a switch between kernel threads:\n");
        kprintf("  %s, costs %s = %s scaled:\n    %s the talk's ~30 us = ~1 day.\n", how[i],
                value, scaled, vs);
        any = 1;
    }
    if (any)
        demo_say("The talk's switch is a Linux process switch: user/kernel crossing, cache "
                 "and TLB misses.\n");
    print_crossing(l);
    const struct row *polled = &l->rows[ROW_SERIAL_POLLED];
    uint64_t polled_ns = polled->milli / l->clock.units_per_us;  /* milli-units / (units/us) */
    int paced = polled->milli && polled_ns * 100 >= SERIAL_BYTE_NS * PACED_PERCENT;
    demo_say("The emulator has no cache model (no L1/memory rows). %s (115200 baud: %llu ns "
             "a byte).%s\n", paced ? "It paces the UART to its baud rate, as hardware does"
             : "It does not pace the UART to its baud rate: serial figures are far faster "
             "than on hardware", SERIAL_BYTE_NS,
             l->clock.tsc ? "" : " Under -icount shift=0 one ns is one instruction.");
}

static void print_line(const struct latency *l)
{
    demo_line_begin("latency");
    demo_line_str("clock", l->clock.tsc ? "tsc" : "pit");
    demo_line_u64("units_per_us", l->clock.units_per_us);
    for (int i = 0; i < ROWS; i++) {
        char key[48];
        ksnprintf(key, sizeof key, "%s_%s", l->rows[i].key, l->clock.unit);
        if (l->rows[i].milli)
            demo_line_milli(key, l->rows[i].milli);
        else
            demo_line_str(key, "-");
    }
    demo_line_end();
}

static void print_latency(const struct latency *l)
{
    char insn[32];
    fmt_value(insn, sizeof insn, l->rows[ROW_INSN].milli, &l->clock);
    kprintf("\n  %-*s %10s   %s\n", WHAT_WIDTH, "event (measured now)", "latency", "scaled");
    kprintf("  (scaled = latency / %s, one instruction's: 1 instruction = 1 s)\n", insn);
    for (int i = 0; i < ROWS; i++)
        print_row(l, &l->rows[i]);
    kprintf("\nThe talk's table (its CPU: 1 cycle = 0.4 ns = 1 s):\n"
            "  one CPU cycle 0.4 ns = 1 s; L1 cache 0.9 ns = 2 s; memory ~100 ns = 4 min;\n"
            "  SSD 50-150 us = 1.5-4 days; context switch ~30 us = ~1 day.\n");
    print_conclusion(l);
    print_line(l);
}

int cmd_latency(int argc, char **argv)
{
    static struct latency l;
    if (argc != 1)
        return shell_usage(shell_find("latency"));
    measure_clock(&l.clock);
    if (l.clock.tsc)
        demo_say("latency: measuring... clock: TSC, resolution 1 cycle, %u cycles/us "
                 "(measured against the PIT); figures in cycles.\n", l.clock.units_per_us);
    else
        demo_say("latency: measuring... clock: PIT, resolution %u ns (no TSC on this CPU): "
                 "events are timed in batches and divided; figures in ns.\n",
                 l.clock.resolution);
    /* The guest cannot tell whether QEMU runs it under -icount: say both.
     * Under -icount a boot's figures repeat, but the preempted switch on
     * the PIT clock is a mean of stamps 838 ns apart, dithered over the
     * tick's phase: measured 172.6 then 230.1 ns in one boot, its 'sched
     * stats off' row 279.4 then 172.5, so it is not "the same on every
     * run" and its two rows may trade places. */
    demo_say("Without -icount (make run) the emulated clock follows the host's speed, so "
             "figures vary from run to run and a row can land above the one it should be "
             "under; under -icount shift=0 (make bench, the tests) one %s is one "
             "instruction, and a boot's figures repeat%s.\n", l.clock.tsc ? "cycle" : "ns",
             l.clock.tsc ? ""
                         : " (the preempted switch's, +-1 us, are means of 838 ns steps: "
                           "they move between runs, and its two rows may trade places)");
    /* Its rows are the switches as they run by default, with the
     * bookkeeping; the rows below them "the same, 'sched stats off'". */
    int was = stats_on_for_run("latency");
    measure_all(&l);
    stats_restore(was);
    print_latency(&l);
    return 0;
}
