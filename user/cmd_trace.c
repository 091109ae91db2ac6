/* trace [MS]: the scheduling trace as a timeline. The kernel records
 * every context switch in a ring (<webscale/trace.h>); this draws who
 * held the CPU over the last MS milliseconds, one character per slot of
 * time, and counts the switches in it by reason. */
#include <webscale/kprintf.h>
#include <webscale/sched.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include <webscale/trace.h>
#include "user/commands.h"
#include "user/shell.h"

#define TIMELINE_COLS 64
#define LEGEND_MAX 26           /* threads with a letter of their own */
#define TRACE_MS_DEFAULT 100
#define TRACE_MS_MAX 60000

static char letter(int *ids, int *nids, int id)
{
    if (id == 0)
        return '.';
    for (int i = 0; i < *nids; i++)
        if (ids[i] == id)
            return (char)('A' + i);
    if (*nids == LEGEND_MAX)
        return '?';
    ids[*nids] = id;
    return (char)('A' + (*nids)++);
}

int cmd_trace(int argc, char **argv)
{
    static struct trace_record rec[TRACE_RECORDS];
    static struct thread_info info[64];
    uint32_t ms = TRACE_MS_DEFAULT;
    if (argc > 2)
        return shell_usage(shell_find("trace"));
    if (argc == 2 && shell_parse_uint("trace", "MS", argv[1], 1, TRACE_MS_MAX, &ms) < 0)
        return 1;

    uint64_t total;
    int n = trace_snapshot(rec, TRACE_RECORDS, &total);
    uint64_t now = clock_ns(), span = (uint64_t)ms * NS_PER_MS;
    uint64_t start = now > span ? now - span : 0;
    if (n == 0) {
        kprintf("trace: no switches recorded yet\n");
        return 0;
    }
    if (rec[0].ns > start)
        kprintf("trace: the ring (%d switches) reaches back only %llu ms\n", TRACE_RECORDS,
                (unsigned long long)((now - rec[0].ns) / NS_PER_MS));

    /* Who ran at each column's midpoint: the target of the last switch
     * before it. The shell itself is running now. */
    int ids[LEGEND_MAX], nids = 0, r = 0;
    uint64_t col_ns = span / TIMELINE_COLS;
    char line[TIMELINE_COLS + 1];
    for (int c = 0; c < TIMELINE_COLS; c++) {
        uint64_t t = start + col_ns * c + col_ns / 2;
        while (r < n && rec[r].ns <= t)
            r++;
        line[c] = r == 0 ? ' ' : letter(ids, &nids, rec[r - 1].to);
    }
    line[TIMELINE_COLS] = 0;

    uint32_t by_reason[SWITCH_REASONS] = { 0 }, in_span = 0;
    for (int i = 0; i < n; i++)
        if (rec[i].ns >= start && (unsigned)rec[i].reason < SWITCH_REASONS) {
            by_reason[rec[i].reason]++;
            in_span++;
        }

    kprintf("the last %u ms, 1 char = %llu us: who held the CPU (. = idle)\n  %s\n", ms,
            (unsigned long long)(col_ns / NS_PER_US), line);
    int ni = thread_snapshot(info, 64);
    kprintf(" ");
    for (int i = 0; i < nids; i++) {
        const char *name = "(ended)";
        for (int j = 0; j < ni && j < 64; j++)
            if (info[j].id == ids[i])
                name = info[j].name;
        kprintf(" %c = %d %s", 'A' + i, ids[i], name);
    }
    kprintf("\n  %u switches in it:", in_span);
    for (int i = 0; i < SWITCH_REASONS; i++)
        kprintf(" %u %s%s", by_reason[i], sched_reason_name(i), i + 1 < SWITCH_REASONS ? "," : "");
    kprintf("; %llu since boot. The last ones:\n", (unsigned long long)total);
    for (int i = n > 5 ? n - 5 : 0; i < n; i++)
        kprintf("    %10llu us  %3d -> %-3d %s\n", (unsigned long long)(rec[i].ns / NS_PER_US),
                rec[i].from, rec[i].to, sched_reason_name(rec[i].reason));
    return 0;
}
