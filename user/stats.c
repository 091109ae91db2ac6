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

/* The JSON's pieces, written without the format engine: its 64-bit
 * numbers cost a 64-bit division per digit on a 386, which made them
 * most of a poll's instructions (make bench's stats_json rows). */

/* "name":v, */
static void num(struct outbuf *b, const char *name, uint64_t v)
{
    outbuf_str(b, "\"");
    outbuf_str(b, name);
    outbuf_str(b, "\":");
    outbuf_u64(b, v);
    outbuf_str(b, ",");
}

/* "name":"v", (v a name of ours: no escapes needed, json_str for others) */
static void word(struct outbuf *b, const char *name, const char *v)
{
    outbuf_str(b, "\"");
    outbuf_str(b, name);
    outbuf_str(b, "\":");
    outbuf_json_str(b, v);
    outbuf_str(b, ",");
}

/* "name":{ ... }, and "name":[ ... ], around their members. */
static void open_as(struct outbuf *b, const char *name, const char *bracket)
{
    outbuf_str(b, "\"");
    outbuf_str(b, name);
    outbuf_str(b, "\":");
    outbuf_str(b, bracket);
}

static void close_as(struct outbuf *b, const char *bracket)
{
    outbuf_uncomma(b);
    outbuf_str(b, bracket);
    outbuf_str(b, ",");
}

static void json_httpd(struct outbuf *b, const struct snapshot *s)
{
    open_as(b, "httpd", "{");
    word(b, "style", httpd.style == STYLE_LOOP ? "loop" : "threads");
    num(b, "port", httpd.port);
    num(b, "requests", httpd.requests);
    num(b, "refused", httpd.bad_requests);
    num(b, "connections", httpd.conns);
    num(b, "open", httpd.open);
    num(b, "open_max", httpd.open_max);
    num(b, "started_ns", httpd.start_ns);
    num(b, "switches_since_start", s->sched.switches - httpd.switches_base);
    close_as(b, "}");
    open_as(b, "tcp", "{");
    num(b, "connections", s->tcp.conns - s->tcp.time_wait);
    num(b, "time_wait", s->tcp.time_wait);
    num(b, "time_wait_max", s->tcp.time_wait_max);
    num(b, "handshakes", s->tcp.passive_opens);
    num(b, "retransmits", s->tcp.retransmits);
    num(b, "resets_sent", s->tcp.resets_sent);
    num(b, "resets_received", s->tcp.resets_received);
    num(b, "conn_bytes", tcp_conn_bytes());
    close_as(b, "}");
    open_as(b, "heap", "{");
    num(b, "total_bytes", s->mem.total);
    num(b, "used_bytes", s->mem.used);
    num(b, "largest_free_bytes", s->mem.largest_free);
    num(b, "allocs", s->mem.allocs);
    num(b, "frees", s->mem.frees);
    num(b, "failures", s->mem.failures);
    close_as(b, "}");
}

static void json_sched(struct outbuf *b, const struct snapshot *s)
{
    open_as(b, "sched", "{");
    num(b, "switches", s->sched.switches);
    open_as(b, "by_reason", "{");
    for (int r = 0; r < SWITCH_REASONS; r++)
        num(b, sched_reason_name(r), s->sched.by_reason[r]);
    close_as(b, "}");
    num(b, "idle_ns", s->sched.idle_ns);
    num(b, "runnable", s->sched.runnable);
    num(b, "slice_ms", sched_slice_ms());
    num(b, "preemptive", (uint64_t)sched_preemptive());
    close_as(b, "}");
    num(b, "threads_total", (uint64_t)s->threads_total);
    open_as(b, "threads", "[");
    for (int i = 0; i < s->nthreads; i++) {
        const struct thread_info *t = &s->threads[i];
        outbuf_str(b, "{");
        num(b, "id", (uint64_t)t->id);
        word(b, "name", t->name);
        word(b, "state", t->state);
        num(b, "cpu_ns", t->cpu_ns);
        num(b, "voluntary", t->voluntary);
        num(b, "involuntary", t->involuntary);
        num(b, "idle", (uint64_t)t->is_idle);
        close_as(b, "}");
    }
    close_as(b, "]");
}

static void json_loop(struct outbuf *b, const struct snapshot *s)
{
    const struct loop_stats *l = &s->loop;
    open_as(b, "loop", "{");
    num(b, "callbacks", l->callbacks);
    num(b, "busy_ns", l->busy_ns);
    num(b, "busy_permille", l->busy_permille);
    num(b, "events_per_s", l->events_per_s);
    num(b, "timer_fires", l->timer_fires);
    num(b, "lag_last_ns", l->lag_last_ns);
    num(b, "lag_max_ns", l->lag_max_ns);
    num(b, "lag_avg_ns", lag_avg_ns(l));
    num(b, "stalls", l->stalls);
    open_as(b, "slowest", "[");
    for (int i = 0; i < s->nslowest; i++) {
        const struct loop_cb_stats *c = &s->slowest[i];
        outbuf_str(b, "{");
        word(b, "name", c->name ? c->name : "?");
        num(b, "calls", c->calls);
        num(b, "max_ns", c->max_ns);
        num(b, "total_ns", c->total_ns);
        close_as(b, "}");
    }
    close_as(b, "]");
    close_as(b, "}");
}

static void json_irqs_net(struct outbuf *b, const struct snapshot *s)
{
    open_as(b, "irqs", "{");
    num(b, "spurious", s->spurious);
    open_as(b, "lines", "[");
    for (int i = 0; i < IRQ_LINES; i++) {
        if (!s->irq[i].name && !s->irq[i].count)
            continue;
        outbuf_str(b, "{");
        num(b, "line", (uint64_t)i);
        word(b, "name", s->irq[i].name ? s->irq[i].name : "");
        num(b, "count", s->irq[i].count);
        close_as(b, "}");
    }
    close_as(b, "]");
    close_as(b, "}");
    const struct net_stats *n = &s->net;
    open_as(b, "net", "{");
    num(b, "up", (uint64_t)s->netc.up);
    num(b, "rx_frames", n->rx_frames);
    num(b, "tx_frames", n->tx_frames);
    num(b, "rx_bytes", n->rx_bytes);
    num(b, "tx_bytes", n->tx_bytes);
    num(b, "drops_total", drops_total(n));
    open_as(b, "drops", "{");
    for (int i = 0; i < NET_DROP_REASONS; i++)
        num(b, net_drop_name(i), n->drops[i]);
    close_as(b, "}");
    close_as(b, "}");
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

/* A thread id's digits at out (a sign and 10 digits at most); their count. */
static size_t id_text(char *out, int id)
{
    size_t n = 0;
    if (id < 0) {
        out[n++] = '-';
        id = -id;
    }
    return n + outbuf_u32_text(out + n, (uint32_t)id);
}

static void put_id(struct outbuf *b, int id)
{
    char d[11];
    outbuf_mem(b, d, id_text(d, id));
}

/* One event, [ago_ns,from,to,reason], built on the stack and appended
 * once: this list is most of a busy poll's answer. */
static void put_event(struct outbuf *b, const struct trace_record *r, uint64_t now_ns)
{
    char e[48];                  /* [ 10 , 11 , 11 , 10 ] , */
    size_t k = 0;
    e[k++] = '[';
    k += outbuf_u32_text(e + k, (uint32_t)(now_ns - r->ns));   /* within the window: 32 bits */
    e[k++] = ',';
    k += id_text(e + k, r->from);
    e[k++] = ',';
    k += id_text(e + k, r->to);
    e[k++] = ',';
    k += outbuf_u32_text(e + k, (uint32_t)r->reason);
    e[k++] = ']';
    e[k++] = ',';
    outbuf_mem(b, e, k);
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
    close_as(b, "}");
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
    open_as(b, "trace", "{");
    num(b, "window_ns", window);
    num(b, "switches", total);
    num(b, "complete", (uint64_t)complete);
    open_as(b, "reasons", "[");
    for (int k = 0; k < SWITCH_REASONS; k++) {
        outbuf_json_str(b, sched_reason_name(k));
        outbuf_str(b, ",");
    }
    close_as(b, "]");
    open_as(b, "events", "[");
    for (int i = first; i < n; i++)
        put_event(b, &r[i], now_ns);
    close_as(b, "]");
    json_trace_names(b, t, first, n);
    close_as(b, "}");
    kfree(t);
    return 0;
}

int stats_json(struct outbuf *b)
{
    struct snapshot *s = take();
    if (!s)
        return -E_NOMEM;
    outbuf_str(b, "{");
    num(b, "version", STATS_VERSION);
    num(b, "now_ns", s->now_ns);
    json_httpd(b, s);
    json_sched(b, s);
    json_loop(b, s);
    json_irqs_net(b, s);
    uint64_t now = s->now_ns;
    kfree(s);
    if (json_trace(b, now) < 0)
        return -E_NOMEM;
    outbuf_uncomma(b);
    outbuf_str(b, "}\n");
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
