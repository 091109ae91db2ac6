/* latency: the talk's "speed of light" table, measured now on this CPU.
 *
 * Each row is one event's cost, from kernel/measure.c (<webscale/measure.h>),
 * in the clock's unit (TSC cycles, or PIT nanoseconds), and "scaled" as
 * the talk does it: one instruction stretched to one second. The talk's
 * own rows follow, and one line on where it is off for this machine. */
#include <webscale/kprintf.h>
#include <webscale/measure.h>
#include <webscale/net.h>
#include "user/commands.h"
#include "user/shell.h"

#define TALK_SWITCH_NS 30000ull     /* the talk: "Context Switch ~30us ~1 day" */
#define NIC_PINGS 3                 /* ICMP echoes to the gateway; the fastest counts */
#define NIC_TIMEOUT_MS 500

static const char serial_polled_text[] =
    "latency: this line went out polled, the CPU spinning on the UART per byte.\n";
static const char serial_irq_text[] =
    "latency: this line went out through the TX ring and the UART's interrupt.\n";

struct row {
    const char *what;
    uint64_t milli;            /* thousandths of a clock unit; 0: not measured */
};

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

/* One instruction = 1 s: the event's cost in instructions is its scaled seconds. */
static void fmt_scaled(char *buf, int size, uint64_t milli, uint64_t insn_milli)
{
    measure_fmt_scaled(buf, size, insn_milli ? milli * 1000 / insn_milli : 0);
}

static void print_row(const char *what, uint64_t milli, const struct measure_clock *c,
                      uint64_t insn_milli)
{
    char value[32], scaled[32];
    if (!milli) {
        kprintf("  %-52s %s\n", what, "not measured (cooperative mode? 'sched preempt')");
        return;
    }
    fmt_value(value, sizeof value, milli, c);
    fmt_scaled(scaled, sizeof scaled, milli, insn_milli);
    kprintf("  %-52s %14s   %s\n", what, value, scaled);
}

/* An ICMP echo to the gateway: card out, QEMU's network, card in, the
 * ISR's time stamp (<webscale/net.h>). In ns from the PIT, converted to
 * the table's unit. */
static void print_nic_row(const struct measure_clock *c, uint64_t insn)
{
    const char *what = "NIC round trip (ICMP echo to the gateway, best of 3)";
    struct net_config nc;
    net_get_config(&nc);
    if (!nc.up) {
        kprintf("  %-52s %14s   %s\n", "NIC round trip", "n/a", "(no NIC)");
        return;
    }
    uint64_t best = 0;
    for (int i = 0; i < NIC_PINGS; i++) {
        uint64_t rtt;
        if (net_ping(nc.gateway, (uint16_t)(1000 + i), NIC_TIMEOUT_MS, &rtt, 0) == 0 &&
            (!best || rtt < best))
            best = rtt;
    }
    if (!best) {
        kprintf("  %-52s %14s   %s\n", "NIC round trip", "n/a", "(no reply from the gateway)");
        return;
    }
    print_row(what, best * c->units_per_us, c, insn);   /* ns * (units/us) = milli-units */
}

int cmd_latency(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage(shell_find("latency"));
    struct measure_clock c;
    measure_clock(&c);
    if (c.tsc)
        kprintf("latency: measuring... clock: TSC, resolution 1 cycle, %u cycles/us "
                "(measured against the PIT); figures in cycles.\n", c.units_per_us);
    else
        kprintf("latency: measuring... clock: PIT, resolution %u ns (no TSC on this CPU): "
                "events are timed in batches and divided; figures in ns.\n", c.resolution);

    /* The serial rows print their own lines, so they go first. */
    uint64_t serial_polled = measure_serial_byte(serial_polled_text,
                                                 sizeof serial_polled_text - 1, 1);
    uint64_t serial_irq = measure_serial_byte(serial_irq_text, sizeof serial_irq_text - 1, 0);

    uint64_t insn = measure_instruction(10000);
    struct row rows[] = {
        { "one instruction (add, in a loop of 10)", insn },
        { "function call + return (call, ret)", measure_call(1000) },
        { "mutex lock + unlock, uncontended", measure_mutex_pair(1000) },
        { "IRQ entry + exit (int $0x25, empty handler)", measure_irq_round_trip(256) },
        { "event-loop dispatch (loop_post to callback, batched)", measure_loop_dispatch(256) },
        { "cooperative switch (thread_yield A->B)", measure_yield_switch(256) },
        { c.tsc ? "preemptive switch (the PIT takes the CPU)"
                : "preemptive switch (PIT takes the CPU; rough, +-1 us)",
          measure_preempt_switch(100) },
        { "event-loop round trip (thread -> idle loop -> thread)", measure_loop_round_trip(64) },
        { "semaphore round trip A->B->A (2 switches)", measure_semaphore_round_trip(256) },
        { "serial byte, polled", serial_polled },
        { "serial byte, interrupt-driven (TX ring + IRQ)", serial_irq },
        { "sleep wake-up: thread_sleep_ms(1), late by", measure_sleep_lateness(10) },
    };

    kprintf("\n  %-52s %14s   %s\n", "event (measured now)", "latency",
            "scaled (1 instruction = 1 s)");
    for (unsigned i = 0; i < sizeof rows / sizeof rows[0]; i++)
        print_row(rows[i].what, rows[i].milli, &c, insn);
    print_nic_row(&c, insn);

    kprintf("\nThe talk's table (its CPU: 1 cycle = 0.4 ns = 1 s):\n"
            "  one CPU cycle 0.4 ns = 1 s; L1 cache 0.9 ns = 2 s; memory ~100 ns = 4 min;\n"
            "  SSD 50-150 us = 1.5-4 days; context switch ~30 us = ~1 day.\n");

    /* Where the talk is off here: its switch is a Linux process switch. */
    uint64_t sw = rows[5].milli, sw_ns_milli = sw * 1000 / c.units_per_us;
    char value[32], scaled[32];
    fmt_value(value, sizeof value, sw, &c);
    fmt_scaled(scaled, sizeof scaled, sw, insn);
    if (sw_ns_milli)
        kprintf("Where the talk is off for this machine: a switch between kernel threads costs "
                "%s = %s scaled,\nnot ~1 day: %llu times less than its ~30 us (a Linux process "
                "switch: user/kernel crossing,\ncache and TLB misses).\n",
                value, scaled, (unsigned long long)(TALK_SWITCH_NS * 1000 / sw_ns_milli));
    kprintf("QEMU TCG has no cache model (no L1/memory rows) and does not pace the UART to "
            "its baud rate:\nserial figures are far faster than on hardware "
            "(115200 baud: 86805 ns a byte).%s\n",
            c.tsc ? "" : " Under -icount shift=0 one ns is one instruction.");
    return 0;
}
