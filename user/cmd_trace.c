/* trace [MS]: the scheduling trace as a timeline. The kernel records
 * every context switch in a ring (<webscale/trace.h>); this draws who
 * held the CPU over the last MS milliseconds, one character per slot of
 * time, and counts the switches in it by reason.
 *
 * trace dump [MS]: the same records for a program to read: one line per
 * switch between BEGIN and END markers, with every thread's name.
 * tools/trace2view.py turns it into Perfetto JSON and an SVG timeline. */
#include <webscale/kprintf.h>
#include <webscale/sched.h>
#include <webscale/string.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include <webscale/trace.h>
#include "user/commands.h"
#include "user/demo.h"
#include "user/shell.h"

#define TIMELINE_COLS 64
#define LEGEND_MAX 26           /* threads with a letter of their own */
#define TRACE_MS_DEFAULT 100
#define TRACE_MS_MAX 60000
#define THREADS_MAX 64            /* threads thread_snapshot() reports here */

static struct trace_record rec[TRACE_RECORDS];
static struct thread_info info[THREADS_MAX];

/* The threads in the timeline, each with its letter. */
struct legend_entry {
    int id;
    char letter;
    char name[THREAD_NAME_MAX];
    int ended;
};

struct legend {
    int n;
    struct legend_entry e[LEGEND_MAX];
};

/* A thread's name: the live thread's, else the one the trace remembers
 * from its creation (the kernel keeps the last names), else "?". Returns
 * 1 if the thread has ended. */
static int thread_name_of(int id, int ni, char buf[THREAD_NAME_MAX])
{
    for (int j = 0; j < ni && j < THREADS_MAX; j++)
        if (info[j].id == id) {
            strlcpy(buf, info[j].name, THREAD_NAME_MAX);
            return 0;
        }
    if (trace_thread_name(id, buf, THREAD_NAME_MAX) < 0)
        strlcpy(buf, "?", THREAD_NAME_MAX);
    return 1;
}

/* The letter a demo gave the thread in its name: the threads demo's
 * countA, countB ... are A, B in its tables, so here too. */
static char own_letter(const char *name)
{
    size_t n = strlen(name);
    if (n == strlen("countA") && strncmp(name, "count", n - 1) == 0 &&
        name[n - 1] >= 'A' && name[n - 1] <= 'Z')
        return name[n - 1];
    return 0;
}

static int letter_taken(const struct legend *l, char c)
{
    for (int i = 0; i < l->n; i++)
        if (l->e[i].letter == c)
            return 1;
    return 0;
}

/* By letter, as the legend is read. */
static void sort_legend(struct legend *l)
{
    for (int i = 1; i < l->n; i++)
        for (int j = i; j > 0 && l->e[j - 1].letter > l->e[j].letter; j--) {
            struct legend_entry t = l->e[j];
            l->e[j] = l->e[j - 1];
            l->e[j - 1] = t;
        }
}

/* Every thread in ids[0..n) (idle and -1 excluded) gets a letter: its own if its
 * name has one, else the first free one from A. */
static void make_legend(struct legend *l, const int *ids, int n, int ni)
{
    l->n = 0;
    for (int i = 0; i < n && l->n < LEGEND_MAX; i++) {
        int k = l->n, dup = 0;
        for (int j = 0; j < k; j++)
            dup |= l->e[j].id == ids[i];
        if (dup || ids[i] <= 0)        /* idle, or before the first record */
            continue;
        l->e[k].id = ids[i];
        l->e[k].ended = thread_name_of(ids[i], ni, l->e[k].name);
        l->e[k].letter = 0;
        l->n++;
    }
    for (int k = 0; k < l->n; k++) {
        char c = own_letter(l->e[k].name);
        if (c && !letter_taken(l, c))
            l->e[k].letter = c;
    }
    char next = 'A';
    for (int k = 0; k < l->n; k++) {
        while (!l->e[k].letter && next <= 'Z') {
            if (!letter_taken(l, next))
                l->e[k].letter = next;
            next++;
        }
        if (!l->e[k].letter)
            l->e[k].letter = '?';
    }
    sort_legend(l);
}

static char letter_of(const struct legend *l, int id)
{
    if (id == 0)
        return '.';
    for (int i = 0; i < l->n; i++)
        if (l->e[i].id == id)
            return l->e[i].letter;
    return '?';
}

/* A thread's name as one word: the live thread's, else the one the trace
 * remembers from its creation, else "?". */
static const char *dump_name(int id, int ni, char buf[THREAD_NAME_MAX])
{
    thread_name_of(id, ni, buf);
    for (char *c = buf; *c; c++)
        if (*c == ' ')
            *c = '_';
    return buf;
}

/* The records (n of them, of total ever recorded) reach back only
 * back_ns, less than the ms asked for: say why. Either the ring is full
 * and has dropped older switches, or the trace began then: `sched stats
 * on` starts it again, and nothing before was recorded. */
static void say_why_short(const char *prefix, int n, uint64_t total, uint64_t back_ns, uint32_t ms)
{
    unsigned long long back = (unsigned long long)(back_ns / NS_PER_MS);
    if (n >= TRACE_RECORDS - 1)
        kprintf("%sthe ring (%d switches) reaches back only %llu ms, not %u ms\n", prefix,
                TRACE_RECORDS, back, ms);
    else if (total > (uint64_t)n)
        kprintf("%sthe trace began %llu ms ago, at 'sched stats on'; nothing before\n",
                prefix, back);
}

/* The window is [start, now]: the first record's "from" held the CPU at
 * start, each record's "to" until the next record, the last one's "to"
 * (this shell) until now. */
static int trace_dump(uint32_t ms)
{
    uint64_t total;
    int n = trace_snapshot(rec, TRACE_RECORDS, &total);
    uint64_t now = clock_ns(), span = (uint64_t)ms * NS_PER_MS;
    uint64_t start = now > span ? now - span : 0;
    int first = 0;
    while (first < n && rec[first].ns < start)
        first++;
    if (first == 0 && n > 0 && rec[0].ns > start)
        start = rec[0].ns;          /* the ring does not reach back so far */
    int ni = thread_snapshot(info, THREADS_MAX);
    int running = thread_id(thread_current());
    char a[THREAD_NAME_MAX], b[THREAD_NAME_MAX];

    kprintf("trace dump BEGIN start_ns=%llu end_ns=%llu span_ms=%llu records=%d running=%d\n",
            (unsigned long long)start, (unsigned long long)now,
            (unsigned long long)((now - start) / NS_PER_MS), n - first, running);
    if (start > now - span && now > span)
        say_why_short("# ", n, total, now - start, ms);
    kprintf("# thread <id> <name>\n"
            "# T <ns since boot> <from id> <from name> <to id> <to name> <why from left>\n");
    /* Every thread the window mentions, once: who ran at its start, every
     * record's two threads, and who runs now. */
    int seen[THREADS_MAX], nseen = 0;
    for (int i = first - 1; i <= n; i++) {
        int ids[2] = { running, running };
        if (i >= first && i < n) {
            ids[0] = rec[i].from;
            ids[1] = rec[i].to;
        }
        for (int k = 0; k < 2; k++) {
            int dup = 0;
            for (int j = 0; j < nseen; j++)
                dup |= seen[j] == ids[k];
            if (!dup && nseen < THREADS_MAX) {
                seen[nseen++] = ids[k];
                kprintf("thread %d %s\n", ids[k], dump_name(ids[k], ni, a));
            }
        }
    }
    for (int i = first; i < n; i++)
        kprintf("T %llu %d %s %d %s %s\n", (unsigned long long)rec[i].ns, rec[i].from,
                dump_name(rec[i].from, ni, a), rec[i].to, dump_name(rec[i].to, ni, b),
                sched_reason_name(rec[i].reason));
    kprintf("trace dump END\n");
    return 0;
}

int cmd_trace(int argc, char **argv)
{
    uint32_t ms = TRACE_MS_DEFAULT;
    if (argc > 1 && strcmp(argv[1], "dump") == 0) {
        if (argc > 3)
            return shell_usage(shell_find("trace"));
        if (argc == 3 && shell_parse_uint("trace", "MS", argv[2], 1, TRACE_MS_MAX, &ms) < 0)
            return 1;
        return trace_dump(ms);
    }
    if (shell_optional_uint(argc, argv, "MS", 1, TRACE_MS_MAX, &ms))
        return 1;

    uint64_t total;
    int n = trace_snapshot(rec, TRACE_RECORDS, &total);
    uint64_t now = clock_ns(), span = (uint64_t)ms * NS_PER_MS;
    if (span > now) {
        span = now;                 /* no columns in the future: since boot */
        ms = (uint32_t)(now / NS_PER_MS);
    }
    uint64_t start = now - span;
    if (n == 0) {
        kprintf(total ? "trace: no switches since 'sched stats on' began the trace again\n"
                      : "trace: no switches recorded yet\n");
        return 0;
    }
    if (rec[0].ns > start)
        say_why_short("trace: ", n, total, now - rec[0].ns, ms);

    /* Who ran at each column's midpoint: the target of the last switch
     * before it (-1: before the ring's first record). The shell itself is
     * running now. */
    static int col_id[TIMELINE_COLS];
    static struct legend legend;
    int r = 0, busy = 0, me = thread_id(thread_current());
    uint64_t col_ns = span / TIMELINE_COLS;
    char line[TIMELINE_COLS + 1];
    for (int c = 0; c < TIMELINE_COLS; c++) {
        uint64_t t = start + col_ns * c + col_ns / 2;
        while (r < n && rec[r].ns <= t)
            r++;
        col_id[c] = r == 0 ? -1 : rec[r - 1].to;
        busy |= col_id[c] > 0 && col_id[c] != me;
    }
    int ni = thread_snapshot(info, THREADS_MAX);
    make_legend(&legend, col_id, TIMELINE_COLS, ni);
    for (int c = 0; c < TIMELINE_COLS; c++)
        line[c] = col_id[c] < 0 ? ' ' : letter_of(&legend, col_id[c]);
    line[TIMELINE_COLS] = 0;

    uint32_t by_reason[SWITCH_REASONS] = { 0 }, in_span = 0;
    for (int i = 0; i < n; i++)
        if (rec[i].ns >= start && (unsigned)rec[i].reason < SWITCH_REASONS) {
            by_reason[rec[i].reason]++;
            in_span++;
        }

    kprintf("the last %u ms, 1 char = %llu us: who held the CPU (. = idle)\n  %s\n", ms,
            (unsigned long long)(col_ns / NS_PER_US), line);
    if (!busy)
        demo_hang(2, "  Nothing happened: only idle (and this command) held the CPU; the "
                  "machine waited for your typing. Start something first, e.g. "
                  "'threads 3 5 &', then 'trace'.\n");
    /* The legend, as many entries a line as fit in 80 columns; none (only
     * idle held the CPU) prints no line, where a lone space was left. */
    int used = legend.n ? kprintf(" ") : 0;
    for (int i = 0; i < legend.n; i++) {
        char entry[8 + THREAD_NAME_MAX + 20];
        int len = ksnprintf(entry, sizeof entry, " %c = %d %s%s", legend.e[i].letter,
                            legend.e[i].id, legend.e[i].name, legend.e[i].ended ? " (ended)" : "");
        if (used > 1 && used + len >= DEMO_COLUMNS) {
            kprintf("\n ");
            used = 1;
        }
        used += kprintf("%s", entry);
    }
    kprintf("%s  %u switch%s in it:", legend.n ? "\n" : "", in_span, in_span == 1 ? "" : "es");
    for (int i = 0; i < SWITCH_REASONS; i++)
        kprintf(" %u %s%s", by_reason[i], sched_reason_name(i), i + 1 < SWITCH_REASONS ? "," : "");
    kprintf(".\n  %llu switches since boot; the last ones:\n", (unsigned long long)total);
    for (int i = n > 5 ? n - 5 : 0; i < n; i++)
        kprintf("    %10llu us  %3d -> %-3d %s\n", (unsigned long long)(rec[i].ns / NS_PER_US),
                rec[i].from, rec[i].to, sched_reason_name(rec[i].reason));
    print_stats_note("switches since boot");   /* none counted while stats were off */
    return 0;
}
