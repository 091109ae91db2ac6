/* scale's printing (user/demo_scale.c measures): a row of the table and
 * its @demo line, then the conclusions drawn from the rows. */
#include <webscale/kprintf.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "user/demo.h"
#include "user/demo_cost.h"
#include "user/demo_scale.h"

static const char *const way_names[WAYS] = { "threads", "loop" };

static const char *plural(uint32_t n)
{
    return n == 1 ? "" : "s";
}

static uint64_t switching_ns(const struct row *r)
{
    return r->switches * scale_cfg.switch_ps / 1000;
}

/* The row's busy time as the work and the rest (user/demo_cost.h): not
 * possible when the work, timed before the rows, does not fit. */
static struct cpu_split split(const struct row *r)
{
    struct cpu_split s;
    demo_cpu_split(r->window_ns, r->idle_ns, r->requests, scale_cfg.work_ns, switching_ns(r), &s);
    return s;
}

static int drifted(void)
{
    return demo_drifted(scale_cfg.work_ns, scale_cfg.work_after_ns);
}

/* A share of the row's window, or "-" where the split was not possible. */
static const char *share(char *buf, int size, const struct cpu_split *s, uint64_t part,
                         uint64_t window_ns)
{
    if (!s->possible)
        return "-";
    return demo_percent(buf, size, part, window_ns);
}

/* Two tables, so each fits 80 columns: what the clients saw, as each row
 * is measured; then what it cost, once all rows are in. */
void scale_print_header(void)
{
    kprintf("  %7s %-7s %11s %12s %12s %9s %8s\n", "clients", "way", "requests/s",
            "latency p50", "latency p99", "switches", "per req");
}

/* The row for programs (user/demo.h). */
static void print_line(enum way way, const struct row *r)
{
    demo_line_begin("scale");
    demo_line_str("way", way_names[way]);
    demo_line_u64("clients", r->n);
    demo_line_u64("window_ns", r->window_ns);
    demo_line_u64("requests", r->requests);
    demo_line_u64("requests_per_s", r->requests * NS_PER_S / r->window_ns);
    demo_line_u64("p50_ns", r->p50_ns);
    demo_line_u64("p99_ns", r->p99_ns);
    demo_line_u64("switches", r->switches);
    demo_line_milli("switches_per_request", r->requests ? r->switches * 1000 / r->requests : 0);
    demo_line_u64("heap_bytes", r->heap_bytes);
    demo_line_u64("heap_per_client_bytes", r->heap_bytes / r->n);
    demo_line_u64("switching_ns", switching_ns(r));
    struct cpu_split s = split(r);
    if (s.possible)
        demo_line_u64("overhead_ns", s.overhead_ns);
    else
        demo_line_str("overhead_ns", "-");
    demo_line_u64("idle_ns", r->idle_ns);
    demo_line_end();
}

void scale_print_row(enum way way, const struct row *r)
{
    char p50[24], p99[24], per[16];
    kprintf("  %7u %-7s %9llu/s %12s %12s %9llu %8s\n", r->n, way_names[way],
            (unsigned long long)(r->requests * NS_PER_S / r->window_ns),
            demo_ms(p50, sizeof p50, r->p50_ns), demo_ms(p99, sizeof p99, r->p99_ns),
            (unsigned long long)r->switches, demo_ratio(per, sizeof per, r->switches, r->requests));
    print_line(way, r);
}

static void print_costs(struct row rows[WAYS][SCALE_ROWS_MAX], int nrows)
{
    kprintf("What it cost: the heap, and shares of each row's window:\n");
    kprintf("  %7s %-7s %11s %11s %10s %9s %8s\n", "clients", "way", "heap", "per client",
            "switching", "overhead", "idle");
    for (int i = 0; i < nrows; i++)
        for (int w = 0; w < WAYS; w++) {
            const struct row *r = &rows[w][i];
            char heap[24], pc[24], sw[16], ov[16], idle[16];
            if (!r->ok)
                continue;
            struct cpu_split s = split(r);
            ksnprintf(heap, sizeof heap, "%u B", (unsigned)r->heap_bytes);
            ksnprintf(pc, sizeof pc, "%u B", (unsigned)(r->heap_bytes / r->n));
            kprintf("  %7u %-7s %11s %11s %10s %9s %8s\n", r->n, way_names[w], heap, pc,
                    demo_percent(sw, sizeof sw, switching_ns(r), r->window_ns),
                    share(ov, sizeof ov, &s, s.overhead_ns, r->window_ns),
                    demo_percent(idle, sizeof idle, r->idle_ns, r->window_ns));
        }
}

/* Whether the work's figure held through the rows: it timed the same
 * after them, and fits every row's CPU time. Says so where it did not. */
static int print_drift(struct row rows[WAYS][SCALE_ROWS_MAX], int nrows)
{
    char a[24], b[24];
    int misfits = 0;
    for (int i = 0; i < nrows; i++)
        for (int w = 0; w < WAYS; w++)
            misfits += rows[w][i].ok && !split(&rows[w][i]).possible;
    if (drifted())
        demo_say("QEMU's speed drifted during the rows (host load or clock): one request's "
                 "work took %s timed before them and %s after, more than %d %% apart, so "
                 "the overhead and the work's share are not to be trusted. Run it again, or "
                 "boot with -icount for exact figures.\n", demo_us(a, sizeof a, scale_cfg.work_ns),
                 demo_us(b, sizeof b, scale_cfg.work_after_ns), DEMO_DRIFT_PERCENT);
    if (misfits)
        demo_say("'-': in %d row%s the work, as timed alone, would not leave room for the "
                 "switching in the CPU time the row measured: QEMU ran at another speed "
                 "there.\n", misfits, plural((uint32_t)misfits));
    demo_line_begin("scale-work");
    demo_line_u64("work_before_ns", scale_cfg.work_ns);
    demo_line_u64("work_after_ns", scale_cfg.work_after_ns);
    demo_line_str("drift", drifted() ? "yes" : "no");
    demo_line_u64("misfit_rows", (uint64_t)misfits);
    demo_line_end();
    return !drifted() && !misfits;
}

/* One request's work as the prose quotes it: its timing, or, when that
 * did not hold, the range of its two timings ("9.873 to 44.654 us"). */
static const char *work_figure(char *buf, int size, int held)
{
    if (held)
        return demo_us(buf, size, scale_cfg.work_ns);
    uint64_t lo = scale_cfg.work_ns, hi = scale_cfg.work_after_ns;
    if (lo > hi) {
        lo = scale_cfg.work_after_ns;
        hi = scale_cfg.work_ns;
    }
    char h[24];
    ksnprintf(buf, size, "%llu.%03llu to %s", (unsigned long long)(lo / 1000),
              (unsigned long long)(lo % 1000), demo_us(h, sizeof h, hi));
    return buf;
}

/* The rows of one way at the fewest and the most clients that ran. */
static int ends(struct row *rows, int nrows, const struct row **lo, const struct row **hi)
{
    *lo = *hi = NULL;
    for (int i = 0; i < nrows; i++) {
        if (!rows[i].ok)
            continue;
        if (!*lo || rows[i].n < (*lo)->n)
            *lo = &rows[i];
        if (!*hi || rows[i].n >= (*hi)->n)
            *hi = &rows[i];
    }
    return *lo != NULL;
}

/* "who made X switches per request with lo clients and Y with hi: why." */
static void print_switch_trend(const char *who, const struct row *lo, const struct row *hi,
                               const char *why)
{
    char a[16], b[16];
    demo_say("%s made %s switches per request with %u client%s and %s with %u: %s.\n", who,
             demo_ratio(a, sizeof a, lo->switches, lo->requests), lo->n, plural(lo->n),
             demo_ratio(b, sizeof b, hi->switches, hi->requests), hi->n, why);
}

void scale_print_conclusion(struct row rows[WAYS][SCALE_ROWS_MAX], int nrows)
{
    const struct row *t1, *tn, *l1, *ln;
    char a[40], b[24], c[24], d[40], e[40];
    int have_t = ends(rows[THREADS], nrows, &t1, &tn);
    int have_l = ends(rows[LOOP], nrows, &l1, &ln);

    print_costs(rows, nrows);

    demo_say("switching = switches x %llu.%03llu ns (a cooperative switch, thread_yield A->B, "
             "measured now); overhead = CPU busy (window minus idle) minus requests x %s "
             "(one request's work, measured alone): everything that is not the work.\n",
             (unsigned long long)(scale_cfg.switch_ps / 1000), (unsigned long long)(scale_cfg.switch_ps % 1000),
             demo_us(a, sizeof a, scale_cfg.work_ns));
    int work_held = print_drift(rows, nrows);
    if (have_t && t1 != tn)
        print_switch_trend("Switches follow wake-ups, not threads: threads", t1, tn,
                           "one as a request's thread blocks, one more out of idle when no "
                           "other thread was ready; sleeping threads cost none");
    if (have_l && l1 != ln)
        print_switch_trend("The loop", l1, ln, "one wake-up of its thread runs every timer "
                           "due by then, and a busy loop never sleeps");
    if (have_t && have_l)
        demo_say("What grows with N is memory: %u bytes per client as a thread (its %u-byte "
                 "stack and its struct) against %u bytes as a loop timer, %llu times less.\n",
                 (unsigned)(tn->heap_bytes / tn->n), THREAD_STACK_DEFAULT,
                 (unsigned)(ln->heap_bytes / ln->n),
                 (unsigned long long)(ln->heap_bytes ? (uint64_t)tn->heap_bytes * ln->n /
                                      ((uint64_t)ln->heap_bytes * tn->n) : 0));
    const struct row *hi = have_t ? tn : have_l ? ln : NULL, *lo = have_t ? t1 : l1;
    for (int i = 0; i < nrows; i++) {
        const struct row *t = &rows[THREADS][i], *l = &rows[LOOP][i];
        if (t->no_memory && l->ok)
            demo_say("%u threads did not fit in the heap (%u-byte stacks); the loop served "
                     "the same %u clients in %u bytes.\n", t->n, THREAD_STACK_DEFAULT, l->n,
                     (unsigned)l->heap_bytes);
    }
    if (hi && hi != lo) {
        if (hi->idle_ns * 100 < hi->window_ns * 5)
            demo_say("And latency, once N x %llu requests/s x %s of work outruns the CPU: with "
                     "%u clients idle was %s and p99 %s, against %s with %u.\n",
                     (unsigned long long)(lo->requests * NS_PER_S / lo->window_ns / lo->n),
                     work_figure(a, sizeof a, work_held), hi->n,
                     demo_percent(b, sizeof b, hi->idle_ns, hi->window_ns),
                     demo_ms(c, sizeof c, hi->p99_ns), demo_ms(d, sizeof d, lo->p99_ns), lo->n);
        else
            demo_say("The CPU never ran out here (idle %s with %u clients), so latency stayed "
                     "near the %u ms wait: p99 %s.\n",
                     demo_percent(a, sizeof a, hi->idle_ns, hi->window_ns), hi->n, WAIT_MS,
                     demo_ms(b, sizeof b, hi->p99_ns));
    }
    if (work_held && have_t && have_l && tn->n == ln->n && tn->requests && ln->requests)
        demo_say("Per request, everything besides the work cost %s with threads and %s in the "
                 "loop (%u clients): the loop saves the switches, and pays for its timer heap "
                 "and the timing of every callback instead.\n",
                 demo_us(a, sizeof a, split(tn).overhead_ns / tn->requests),
                 demo_us(b, sizeof b, split(ln).overhead_ns / ln->requests), tn->n);
    if (have_t) {
        uint64_t sw = switching_ns(tn), win = tn->window_ns;
        struct cpu_split st = split(tn);
        if (work_held)
            demo_say("The talk's \"1000 threads ... no work will ever get done\", with %u "
                     "threads: switching took %s of the CPU, everything besides the work %s, "
                     "the work %s.\n", tn->n, demo_percent(a, sizeof a, sw, win),
                     demo_percent(b, sizeof b, st.overhead_ns, win),
                     demo_percent(c, sizeof c, st.work_ns, win));
        else
            demo_say("The talk's \"1000 threads ... no work will ever get done\", with %u "
                     "threads: switching took %s of the CPU (%llu switches x one timed before "
                     "the rows); the work's share is not known here (above).\n", tn->n,
                     demo_percent(a, sizeof a, sw, win), (unsigned long long)tn->switches);
        /* Switching eats half the CPU when a request's switches cost as
         * much as its work. */
        uint64_t per_req_ps = tn->requests ? tn->switches * scale_cfg.switch_ps / tn->requests : 0;
        if (sw * 2 > win)
            demo_say("It holds here: each request's work (%s) is no more than its switches "
                     "cost.\n", work_figure(d, sizeof d, work_held));
        else
            demo_say("It does not hold on this machine: a request's switches cost %s, its work "
                     "%s; switching would take half the CPU only if each request worked no "
                     "longer than its switches.\n", demo_us(d, sizeof d, per_req_ps / 1000),
                     work_figure(e, sizeof e, work_held));
    }
}
