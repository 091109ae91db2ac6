/* ps, uptime, sched, mem, irqs, halt: looking at the machine. */
#include <webscale/console.h>
#include <webscale/kprintf.h>
#include <webscale/sched.h>
#include <webscale/string.h>
#include <webscale/system.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "user/commands.h"
#include "user/demo.h"
#include "user/jobs.h"
#include "user/shell.h"

#define PS_MAX 64

const char *fit_name(char buf[NAME_COLUMN + 1], const char *name)
{
    strlcpy(buf, name, NAME_COLUMN + 1);
    if (strlen(name) > NAME_COLUMN)
        buf[NAME_COLUMN - 1] = '~';
    return buf;
}

void print_thread_columns(const struct thread_info *t)
{
    /* WAITS ON holds the longest, "loop: stall reports" (19 characters). */
    char name[NAME_COLUMN + 1];
    kprintf("%c%3d %-11s %-8s %-19s", t->is_current ? '*' : ' ', t->id, fit_name(name, t->name),
            t->state, t->wait_on);
}

/* Below a table of CPU times or switch counts: what `sched stats off`
 * left out of them. */
void print_stats_note(const char *columns)
{
    uint64_t off_ms = sched_stats_off_ns() / NS_PER_MS;
    if (!sched_stats())
        demo_say("%s: not measured: the scheduler's bookkeeping is off ('sched stats on' "
                 "turns it on).\n", columns);
    else if (off_ms)
        demo_say("%s: counted only while 'sched stats' was on: they leave out %llu ms.\n",
                 columns, (unsigned long long)off_ms);
}

int stats_on_for_run(const char *cmd)
{
    int was = sched_stats();
    if (!was) {
        demo_say("%s: its figures need the scheduler's bookkeeping: 'sched stats' is on for "
                 "this run, and off again after it.\n", cmd);
        sched_set_stats(1);
    }
    return was;
}

void stats_restore(int was) { sched_set_stats(was); }

int cmd_ps(int argc, char **argv)
{
    static struct thread_info info[PS_MAX];
    int n = thread_snapshot(info, PS_MAX);
    kprintf(THREAD_COLUMNS_HEAD "    CPU ms   VOL INVOL STACK B\n");
    int measured = sched_stats();
    for (int i = 0; i < n && i < PS_MAX; i++) {
        struct thread_info *t = &info[i];
        char cpu[24], vol[12], invol[12];
        shell_fmt_milli(cpu, sizeof cpu, t->cpu_ns / NS_PER_US);
        ksnprintf(vol, sizeof vol, "%u", t->voluntary);
        ksnprintf(invol, sizeof invol, "%u", t->involuntary);
        print_thread_columns(t);
        kprintf(" %9s %5s %5s %u/%u\n", measured ? cpu : "-", measured ? vol : "-",
                measured ? invol : "-", t->stack_used, t->stack_size);
    }
    if (n > PS_MAX)
        kprintf("(%d more threads not shown)\n", n - PS_MAX);
    print_stats_note("CPU ms, VOL, INVOL");
    demo_say("* = running now (%s). idle runs hlt when nothing else can run. "
             "VOL/INVOL: switches away, yielded or blocked / preempted. STACK B: bytes of "
             "stack used at most / its size.\n", shell_self());
    ps_processes();
    return 0;
}

int cmd_uptime(int argc, char **argv)
{
    struct sched_stats s;
    sched_get_stats(&s);
    uint64_t now = clock_ns();
    char up[32];
    shell_fmt_milli(up, sizeof up, now / NS_PER_MS);
    uint64_t idle_permille = now ? s.idle_ns * 1000 / now : 0;
    /* Stats off, the counts stand still: "-", as in ps and top, not the
     * figures of the moment they went off. */
    int measured = sched_stats();
    char idle[16] = "-", n[SWITCH_REASONS + 1][24];   /* by reason, then all */
    if (measured)
        ksnprintf(idle, sizeof idle, "%llu.%llu %%", (unsigned long long)idle_permille / 10,
                  (unsigned long long)idle_permille % 10);
    for (int i = 0; i <= SWITCH_REASONS; i++) {
        uint64_t v = i == SWITCH_REASONS ? s.switches : s.by_reason[i];
        if (measured)
            ksnprintf(n[i], sizeof n[i], "%llu", (unsigned long long)v);
        else
            strlcpy(n[i], "-", sizeof n[i]);
    }
    kprintf("up %s s (%llu ticks at %u Hz), idle %s\n", up, (unsigned long long)clock_ticks(),
            clock_hz(), idle);
    print_stats_note("idle, context switches");
    kprintf("%s context switches: %s yield, %s preempt, %s block, %s exit\n", n[SWITCH_REASONS],
            n[SWITCH_YIELD], n[SWITCH_PREEMPT], n[SWITCH_BLOCK], n[SWITCH_EXIT]);
    if (cpu_has_tsc())
        demo_say("boot: %llu TSC cycles from kernel entry to the shell's first prompt "
                 "(instructions, under QEMU -icount shift=0)\n",
                 (unsigned long long)(shell_start_cycles - boot_entry_cycles()));
    else
        kprintf("boot: no TSC on this CPU to time it (try QEMU -cpu pentium)\n");
    return 0;
}

int cmd_sched(int argc, char **argv)
{
    const struct shell_cmd *self = shell_find("sched");
    if (argc == 1) {
        kprintf("scheduler: round robin, %s, slice %u ms\n",
                sched_preemptive() ? "preemptive" : "cooperative", sched_slice_ms());
        kprintf("clock: the PIT at %u Hz, one tick = %u ns\n", clock_hz(), clock_tick_ns());
        kprintf("stats: %s (CPU time, switch counts and the trace on every switch)\n",
                sched_stats() ? "on" : "off");
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "stats") == 0) {
        int on = strcmp(argv[2], "on") == 0;
        if (!on && strcmp(argv[2], "off") != 0) {
            kprintf("sched stats: '%s' is neither on nor off\n", argv[2]);
            return shell_usage(self);
        }
        sched_set_stats(on);
        demo_say(on ? "stats on: every switch keeps CPU time, switch counts and a trace "
                      "record (the trace starts again here)\n"
                    : "stats off: switches keep no CPU time, counts or trace; ps, top and "
                      "uptime say not measured\n");
        return 0;
    }
    if (strcmp(argv[1], "slice") == 0) {
        uint32_t ms;
        if (argc != 3)
            return shell_usage(self);
        if (shell_parse_uint("sched slice", "MS", argv[2], 1, SCHED_SLICE_MS_MAX, &ms) < 0)
            return 1;
        sched_set_slice_ms(ms);
        kprintf("time slice is now %u ms\n", ms);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "preempt") == 0) {
        sched_set_preemptive(1);
        kprintf("preemptive: the PIT takes the CPU from a thread after its slice\n");
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "coop") == 0) {
        int job = job_running(cmd_spawn);
        if (job) {                       /* its process could keep the CPU for good */
            demo_say("sched coop: job %%%d runs a ring-3 process, which would keep the CPU "
                     "from the prompt for good; 'kill %%%d' first\n", job, job);
            return 1;
        }
        sched_set_preemptive(0);
        kprintf("cooperative: a thread keeps the CPU until it yields, blocks or ends\n");
        return 0;
    }
    if (strcmp(argv[1], "stats") == 0)      /* known, but on or off is missing */
        kprintf("sched stats: say on or off\n");
    else
        kprintf("sched: unknown setting '%s'\n", argv[1]);
    return shell_usage(self);
}

int cmd_mem(int argc, char **argv)
{
    struct mem_stats m;
    mem_get_stats(&m);
    kprintf("heap: %u bytes, %u used, %u free\n", (unsigned)m.total, (unsigned)m.used,
            (unsigned)(m.total - m.used));
    kprintf("  largest free block: %u bytes\n", (unsigned)m.largest_free);
    kprintf("  %u allocations, %u frees, %u refused\n", m.allocs, m.frees, m.failures);
    return 0;
}

int cmd_irqs(int argc, char **argv)
{
    struct irq_stats irq[IRQ_LINES];
    uint32_t spurious;
    irq_get_stats(irq, &spurious);
    for (int i = 0; i < IRQ_LINES; i++)
        if (irq[i].name || irq[i].count)
            kprintf("  IRQ %2d %-8s %llu interrupts\n", i, irq[i].name ? irq[i].name : "-",
                    (unsigned long long)irq[i].count);
    kprintf("  spurious IRQ 7/15: %u\n", spurious);
    struct console_stats c;
    console_get_stats(&c);
    /* Three lines: what went through, how input was held back, what was lost. */
    kprintf("  serial: %llu bytes in, %llu bytes out; %u RX and %u TX interrupts\n",
            (unsigned long long)c.rx_bytes, (unsigned long long)c.tx_bytes, c.rx_irqs,
            c.tx_irqs);
    kprintf("  serial input: %u RX pauses (ring full), %u Ctrl-C\n", c.rx_stalls, c.interrupts);
    kprintf("  serial losses: %u overruns, %u typeahead bytes dropped\n", c.overruns,
            c.rx_dropped);
    return 0;
}

int cmd_halt(int argc, char **argv)
{
    kprintf("halting: the emulator (QEMU or Bochs) exits now.\n");
    system_poweroff(0);
}
