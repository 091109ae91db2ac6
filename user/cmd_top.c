/* top [SECONDS]: ps, live. Once a second the screen is redrawn in place
 * (ANSI cursor home + clear) with each thread's share of the CPU and its
 * switches over that second, not since boot: what is busy now. Ctrl-C or
 * SECONDS stop it. */
#include <webscale/kprintf.h>
#include <webscale/sched.h>
#include <webscale/system.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "user/commands.h"
#include "user/demo.h"
#include "user/shell.h"

#define TOP_MAX 64               /* threads shown, as ps */
#define SECONDS_MAX 86400
#define ANSI_HOME_CLEAR "\033[H\033[2J"

struct top_prev {
    int id;
    uint64_t cpu_ns;
    uint32_t switches;           /* voluntary + involuntary */
};

static struct thread_info info[TOP_MAX];
static struct top_prev prev[TOP_MAX];
static int nprev;

static const struct top_prev *find_prev(int id)
{
    for (int i = 0; i < nprev; i++)
        if (prev[i].id == id)
            return &prev[i];
    return NULL;
}

/* "12.3 %" from thousandths */
static void fmt_permille(char *buf, int size, uint64_t pm)
{
    ksnprintf(buf, size, "%llu.%llu %%", (unsigned long long)pm / 10,
              (unsigned long long)pm % 10);
}

static int take_snapshot(void)
{
    int n = thread_snapshot(info, TOP_MAX);
    return n > TOP_MAX ? TOP_MAX : n;
}

static void remember(int n)
{
    for (int i = 0; i < n; i++) {
        prev[i].id = info[i].id;
        prev[i].cpu_ns = info[i].cpu_ns;
        prev[i].switches = info[i].voluntary + info[i].involuntary;
    }
    nprev = n;
}

static void draw(int n, uint64_t now, uint64_t dt, const struct sched_stats *s,
                 const struct sched_stats *s0, int total_threads)
{
    struct mem_stats m;
    mem_get_stats(&m);
    char up[32], idle[16];
    shell_fmt_milli(up, sizeof up, now / NS_PER_MS);
    int measured = sched_stats();
    char rate[24];
    fmt_permille(idle, sizeof idle, (s->idle_ns - s0->idle_ns) * 1000 / dt);
    ksnprintf(rate, sizeof rate, "%llu",
              (unsigned long long)((s->switches - s0->switches) * NS_PER_S / dt));
    kprintf(ANSI_HOME_CLEAR "top - up %s s, %d threads, %s context switches/s, idle %s\n",
            up, total_threads, measured ? rate : "-", measured ? idle : "-");
    kprintf("heap: %u of %u bytes used\n", (unsigned)m.used, (unsigned)m.total);
    kprintf(THREAD_COLUMNS_HEAD "     CPU SWITCHES/s STACK B\n");
    for (int i = 0; i < n; i++) {
        struct thread_info *t = &info[i];
        const struct top_prev *p = find_prev(t->id);
        uint64_t cpu = t->cpu_ns - (p ? p->cpu_ns : 0);
        uint32_t sw = t->voluntary + t->involuntary - (p ? p->switches : 0);
        char share[16], per_s[24];
        fmt_permille(share, sizeof share, cpu * 1000 / dt);
        ksnprintf(per_s, sizeof per_s, "%llu", (unsigned long long)((uint64_t)sw * NS_PER_S / dt));
        print_thread_columns(t);
        kprintf(" %7s %10s %u\n", measured ? share : "-", measured ? per_s : "-", t->stack_used);
    }
    if (!measured)
        print_stats_note("CPU, SWITCHES/s, idle");
    if (total_threads > n)
        kprintf("(%d more threads not shown)\n", total_threads - n);
    demo_say("CPU = share of the last %llu ms; STACK B = bytes used at most; * = %s. "
             "%s stops.\n", (unsigned long long)(dt / NS_PER_MS), shell_self(), shell_stop_key());
}

int cmd_top(int argc, char **argv)
{
    uint32_t seconds = 0;
    if (shell_optional_uint(argc, argv, "SECONDS", 1, SECONDS_MAX, &seconds))
        return 1;

    struct sched_stats s0, s;
    uint64_t start = clock_ns(), last = start;
    sched_get_stats(&s0);
    remember(take_snapshot());
    for (uint32_t sec = 1; !seconds || sec <= seconds; sec++) {
        if (shell_sleep_until(start + sec * NS_PER_S))
            break;
        /* Snapshot first and print after: the printing is this shell's
         * own CPU time and belongs to the next interval. */
        uint64_t now = clock_ns();
        sched_get_stats(&s);
        int total = thread_snapshot(info, TOP_MAX);
        int n = total > TOP_MAX ? TOP_MAX : total;
        uint64_t dt = now - last ? now - last : 1;
        draw(n, now, dt, &s, &s0, total);
        remember(n);
        s0 = s;
        last = now;
    }
    return 0;
}
