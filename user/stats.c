/* /stats.json and the dashboard's text figures (user/stats.h), from the
 * kernel's public statistics calls: sched_get_stats, thread_snapshot_counts,
 * loop_get_stats and loop_slowest, tcp_get_stats, mem_get_stats,
 * irq_get_stats, net_get_stats and trace_snapshot, plus httpd's own
 * counters. Counters are cumulative (since boot, or since the server
 * started for httpd's); rates are the reader's: two samples and their
 * now_ns. Every figure's name ends in its unit where it has one. */
#include <webscale/errno.h>
#include <webscale/loop.h>
#include <webscale/net.h>
#include <webscale/sched.h>
#include <webscale/string.h>
#include <webscale/system.h>
#include <webscale/tcp.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include <webscale/trace.h>
#include "user/httpd.h"
#include "user/stats.h"

/* What is copied out of the kernel before any of it is written: on the
 * heap, since a connection thread has a 4 KiB stack. */
struct snapshot {
    uint64_t now_ns;
    struct sched_stats sched;
    struct loop_stats loop;
    struct loop_cb_stats slowest[STATS_SLOWEST];
    int nslowest;
    struct tcp_stats tcp;
    struct mem_stats mem;
    struct irq_stats irq[IRQ_LINES];
    uint32_t spurious;
    struct net_config netc;
    struct net_stats net;
    int nthreads, threads_total;
    struct thread_info threads[STATS_THREADS_MAX];
};

static struct snapshot *take(void)
{
    struct snapshot *s = kmalloc(sizeof *s);
    if (!s)
        return NULL;
    s->threads_total = thread_snapshot_counts(s->threads, STATS_THREADS_MAX);
    s->nthreads = s->threads_total < STATS_THREADS_MAX ? s->threads_total : STATS_THREADS_MAX;
    s->now_ns = clock_ns();
    sched_get_stats(&s->sched);
    loop_get_stats(&s->loop);
    s->nslowest = loop_slowest(s->slowest, STATS_SLOWEST);
    tcp_get_stats(&s->tcp);
    mem_get_stats(&s->mem);
    irq_get_stats(s->irq, &s->spurious);
    net_get_config(&s->netc);
    net_get_stats(&s->net);
    return s;
}

static unsigned long long ull(uint64_t v) { return (unsigned long long)v; }

static uint64_t lag_avg_ns(const struct loop_stats *l)
{
    return l->timer_fires ? l->lag_total_ns / l->timer_fires : 0;
}

static uint64_t drops_total(const struct net_stats *n)
{
    uint64_t t = 0;
    for (int i = 0; i < NET_DROP_REASONS; i++)
        t += n->drops[i];
    return t;
}

/* ---- JSON ---- */

static void json_httpd(struct outbuf *b, const struct snapshot *s)
{
    outbuf_printf(b, "\"httpd\":{\"style\":\"%s\",\"port\":%u,\"requests\":%u,\"refused\":%u,"
                  "\"connections\":%u,\"open\":%u,\"open_max\":%u,\"started_ns\":%llu,"
                  "\"switches_since_start\":%llu},",
                  httpd.style == STYLE_LOOP ? "loop" : "threads", httpd.port, httpd.requests,
                  httpd.bad_requests, httpd.conns, httpd.open, httpd.open_max,
                  ull(httpd.start_ns), ull(s->sched.switches - httpd.switches_base));
    outbuf_printf(b, "\"tcp\":{\"connections\":%u,\"time_wait\":%u,\"time_wait_max\":%u,"
                  "\"handshakes\":%u,\"retransmits\":%u,\"resets_sent\":%u,"
                  "\"resets_received\":%u,\"conn_bytes\":%u},",
                  s->tcp.conns - s->tcp.time_wait, s->tcp.time_wait, s->tcp.time_wait_max,
                  s->tcp.passive_opens, s->tcp.retransmits, s->tcp.resets_sent,
                  s->tcp.resets_received, (unsigned)tcp_conn_bytes());
    outbuf_printf(b, "\"heap\":{\"total_bytes\":%u,\"used_bytes\":%u,\"largest_free_bytes\":%u,"
                  "\"allocs\":%u,\"frees\":%u,\"failures\":%u},",
                  (unsigned)s->mem.total, (unsigned)s->mem.used, (unsigned)s->mem.largest_free,
                  s->mem.allocs, s->mem.frees, s->mem.failures);
}

static void json_sched(struct outbuf *b, const struct snapshot *s)
{
    outbuf_printf(b, "\"sched\":{\"switches\":%llu,\"by_reason\":{", ull(s->sched.switches));
    for (int r = 0; r < SWITCH_REASONS; r++)
        outbuf_printf(b, "\"%s\":%llu,", sched_reason_name(r), ull(s->sched.by_reason[r]));
    outbuf_uncomma(b);
    outbuf_printf(b, "},\"idle_ns\":%llu,\"runnable\":%u,\"slice_ms\":%u,\"preemptive\":%d},",
                  ull(s->sched.idle_ns), s->sched.runnable, sched_slice_ms(), sched_preemptive());
    outbuf_printf(b, "\"threads_total\":%d,\"threads\":[", s->threads_total);
    for (int i = 0; i < s->nthreads; i++) {
        const struct thread_info *t = &s->threads[i];
        outbuf_printf(b, "{\"id\":%d,\"name\":", t->id);
        outbuf_json_str(b, t->name);
        outbuf_printf(b, ",\"state\":\"%s\",\"cpu_ns\":%llu,\"voluntary\":%u,\"involuntary\":%u,"
                      "\"idle\":%d},", t->state, ull(t->cpu_ns), t->voluntary, t->involuntary,
                      t->is_idle);
    }
    outbuf_uncomma(b);
    outbuf_printf(b, "],");
}

static void json_loop(struct outbuf *b, const struct snapshot *s)
{
    const struct loop_stats *l = &s->loop;
    outbuf_printf(b, "\"loop\":{\"callbacks\":%llu,\"busy_ns\":%llu,\"busy_permille\":%u,"
                  "\"events_per_s\":%u,\"timer_fires\":%llu,\"lag_last_ns\":%u,"
                  "\"lag_max_ns\":%u,\"lag_avg_ns\":%llu,\"stalls\":%u,\"slowest\":[",
                  ull(l->callbacks), ull(l->busy_ns), l->busy_permille, l->events_per_s,
                  ull(l->timer_fires), l->lag_last_ns, l->lag_max_ns, ull(lag_avg_ns(l)),
                  l->stalls);
    for (int i = 0; i < s->nslowest; i++) {
        outbuf_printf(b, "{\"name\":");
        outbuf_json_str(b, s->slowest[i].name ? s->slowest[i].name : "?");
        outbuf_printf(b, ",\"calls\":%u,\"max_ns\":%llu,\"total_ns\":%llu},",
                      s->slowest[i].calls, ull(s->slowest[i].max_ns), ull(s->slowest[i].total_ns));
    }
    outbuf_uncomma(b);
    outbuf_printf(b, "]},");
}

static void json_irqs_net(struct outbuf *b, const struct snapshot *s)
{
    outbuf_printf(b, "\"irqs\":{\"spurious\":%u,\"lines\":[", s->spurious);
    for (int i = 0; i < IRQ_LINES; i++) {
        if (!s->irq[i].name && !s->irq[i].count)
            continue;
        outbuf_printf(b, "{\"line\":%d,\"name\":", i);
        outbuf_json_str(b, s->irq[i].name ? s->irq[i].name : "");
        outbuf_printf(b, ",\"count\":%llu},", ull(s->irq[i].count));
    }
    outbuf_uncomma(b);
    const struct net_stats *n = &s->net;
    outbuf_printf(b, "]},\"net\":{\"up\":%d,\"rx_frames\":%llu,\"tx_frames\":%llu,"
                  "\"rx_bytes\":%llu,\"tx_bytes\":%llu,\"drops_total\":%llu,\"drops\":{",
                  s->netc.up, ull(n->rx_frames), ull(n->tx_frames), ull(n->rx_bytes),
                  ull(n->tx_bytes), ull(drops_total(n)));
    for (int i = 0; i < NET_DROP_REASONS; i++)
        outbuf_printf(b, "\"%s\":%llu,", net_drop_name(i), ull(n->drops[i]));
    outbuf_uncomma(b);
    outbuf_printf(b, "}},");
}

/* What json_trace copies and looks up, on the heap (about 20 KiB). */
#define NAME_HASH 2048           /* a power of two over twice the ids a window holds */
_Static_assert(NAME_HASH >= 2 * (STATS_TRACE_MAX + 1), "NAME_HASH: room for every id");
struct trace_scratch {
    struct trace_record r[STATS_TRACE_MAX];
    int named[NAME_HASH];        /* id + 1 of the threads named so far; 0 empty */
};

/* 1 the first time id is seen (open addressing, Knuth's multiplicative
 * hash), 0 after. */
static int first_sighting(int *named, int id)
{
    uint32_t h = ((uint32_t)id * 2654435761u) >> 21;   /* the top 11 bits */
    while (named[h]) {
        if (named[h] == id + 1)
            return 0;
        h = (h + 1) & (NAME_HASH - 1);
    }
    named[h] = id + 1;
    return 1;
}

/* A thread id, the hot path of the events (no format engine). */
static void put_id(struct outbuf *b, int id)
{
    if (id < 0) {
        outbuf_str(b, "-");
        id = -id;
    }
    outbuf_u32(b, (uint32_t)id);
}

/* Names for the ids in the trace, ended threads' too, each once. Each
 * switch's "to" is the next one's "from": the first from and every to. */
static void json_trace_names(struct outbuf *b, struct trace_scratch *t, int first, int n)
{
    memset(t->named, 0, sizeof t->named);
    outbuf_str(b, "\"names\":{");
    for (int i = first - 1; i < n; i++) {
        int id = i < first ? t->r[first].from : t->r[i].to;
        if (id < 0 || !first_sighting(t->named, id))
            continue;
        char name[THREAD_NAME_MAX];
        if (trace_thread_name(id, name, sizeof name) < 0)
            strlcpy(name, "?", sizeof name);
        outbuf_str(b, "\"");
        put_id(b, id);
        outbuf_str(b, "\":");
        outbuf_json_str(b, name);
        outbuf_str(b, ",");
    }
    outbuf_uncomma(b);
    outbuf_str(b, "}");
}

/* The last STATS_TRACE_WINDOW_MS of switches before now_ns. complete: 0
 * when the window held more than STATS_TRACE_MAX (the oldest left out). */
static int json_trace(struct outbuf *b, uint64_t now_ns)
{
    struct trace_scratch *t = kmalloc(sizeof *t);
    if (!t)
        return -E_NOMEM;
    struct trace_record *r = t->r;
    uint64_t total;
    int n = trace_snapshot(r, STATS_TRACE_MAX, &total);
    uint64_t window = STATS_TRACE_WINDOW_MS * NS_PER_MS;
    uint64_t since = now_ns > window ? now_ns - window : 0;
    int first = 0;
    while (first < n && r[first].ns < since)
        first++;
    int complete = first > 0 || total <= (uint64_t)n;
    while (n > first && r[n - 1].ns > now_ns)
        n--;                     /* after the figures were taken: not in their window */
    outbuf_printf(b, "\"trace\":{\"window_ns\":%llu,\"switches\":%llu,\"complete\":%d,"
                  "\"reasons\":[", ull(window), ull(total), complete);
    for (int k = 0; k < SWITCH_REASONS; k++)
        outbuf_printf(b, "\"%s\",", sched_reason_name(k));
    outbuf_uncomma(b);
    outbuf_str(b, "],\"events\":[");
    for (int i = first; i < n; i++) {
        /* ns before now_ns: within the window, so 32 bits (no 64-bit
         * division per digit: this list is most of the answer). */
        outbuf_str(b, "[");
        outbuf_u32(b, (uint32_t)(now_ns - r[i].ns));
        outbuf_str(b, ",");
        put_id(b, r[i].from);
        outbuf_str(b, ",");
        put_id(b, r[i].to);
        outbuf_str(b, ",");
        outbuf_u32(b, (uint32_t)r[i].reason);
        outbuf_str(b, "],");
    }
    outbuf_uncomma(b);
    outbuf_str(b, "],");
    json_trace_names(b, t, first, n);
    outbuf_str(b, "}");
    kfree(t);
    return 0;
}

int stats_json(struct outbuf *b)
{
    struct snapshot *s = take();
    if (!s)
        return -E_NOMEM;
    outbuf_printf(b, "{\"version\":%d,\"now_ns\":%llu,", STATS_VERSION, ull(s->now_ns));
    json_httpd(b, s);
    json_sched(b, s);
    json_loop(b, s);
    json_irqs_net(b, s);
    uint64_t now = s->now_ns;
    kfree(s);
    if (json_trace(b, now) < 0)
        return -E_NOMEM;
    outbuf_printf(b, "}\n");
    return 0;
}

/* ---- text ---- */

/* "12.3" from a part and a whole, in tenths of a percent. */
static void permille(struct outbuf *b, uint64_t part, uint64_t whole)
{
    uint64_t pm = whole ? part * 1000 / whole : 0;
    outbuf_printf(b, "%llu.%llu %%", ull(pm / 10), ull(pm % 10));
}

int stats_text(struct outbuf *b)
{
    struct snapshot *s = take();
    if (!s)
        return -E_NOMEM;
    outbuf_printf(b, "up %llu ms; httpd, %s style: %u requests served, %u refused; "
                  "connections: %u open, %u in TIME-WAIT, %u at most at once\n",
                  ull(s->now_ns / NS_PER_MS), httpd.style == STYLE_LOOP ? "loop" : "threads",
                  httpd.requests, httpd.bad_requests, httpd.open, s->tcp.time_wait,
                  httpd.open_max);
    outbuf_printf(b, "heap: %u of %u bytes used, %u allocations failed\n",
                  (unsigned)s->mem.used, (unsigned)s->mem.total, s->mem.failures);
    outbuf_printf(b, "context switches since boot: %llu (", ull(s->sched.switches));
    for (int r = 0; r < SWITCH_REASONS; r++)
        outbuf_printf(b, "%s%s %llu", r ? ", " : "", sched_reason_name(r),
                      ull(s->sched.by_reason[r]));
    outbuf_printf(b, ")\nthreads (%d; CPU share since boot, voluntary/involuntary switches):\n",
                  s->threads_total);
    for (int i = 0; i < s->nthreads; i++) {
        const struct thread_info *t = &s->threads[i];
        outbuf_printf(b, "  %3d ", t->id);
        outbuf_html(b, t->name);
        outbuf_printf(b, " %s: ", t->state);
        permille(b, t->cpu_ns, s->now_ns);
        outbuf_printf(b, ", %u/%u\n", t->voluntary, t->involuntary);
    }
    const struct loop_stats *l = &s->loop;
    outbuf_printf(b, "loop: busy %u.%u %% (last second), timer lag last %u ns, max %u ns, "
                  "average %llu ns; slowest callbacks:", l->busy_permille / 10,
                  l->busy_permille % 10, l->lag_last_ns, l->lag_max_ns, ull(lag_avg_ns(l)));
    for (int i = 0; i < s->nslowest; i++) {
        outbuf_printf(b, "%s ", i ? "," : "");
        outbuf_html(b, s->slowest[i].name ? s->slowest[i].name : "?");
        outbuf_printf(b, " %llu ns", ull(s->slowest[i].max_ns));
    }
    outbuf_printf(b, "\nIRQs since boot:");
    for (int i = 0; i < IRQ_LINES; i++) {
        if (!s->irq[i].count)
            continue;
        outbuf_printf(b, " %d (", i);
        outbuf_html(b, s->irq[i].name ? s->irq[i].name : "-");
        outbuf_printf(b, ") %llu,", ull(s->irq[i].count));
    }
    outbuf_uncomma(b);
    outbuf_printf(b, "\nnetwork drops since boot: %llu", ull(drops_total(&s->net)));
    for (int i = 0; i < NET_DROP_REASONS; i++)
        if (s->net.drops[i])
            outbuf_printf(b, ", %s %llu", net_drop_name(i), ull(s->net.drops[i]));
    outbuf_printf(b, "\n");
    kfree(s);
    return 0;
}
