/* httpd threads|loop [PORT]: the talk's "Apache vs nginx", the same tiny
 * HTTP/1.0 and 1.1 server [RFC 9112 message syntax, RFC 9110 status codes]
 * in two styles over <webscale/tcp.h>:
 *
 *  - threads: an acceptor thread and one thread (4 KiB stack) per
 *    connection, each blocking in tcp_sock_recv / tcp_sock_send; the
 *    acceptor joins the threads that ended, the stop joins the rest;
 *  - loop: callbacks in the event loop, a small struct per connection, no
 *    thread at all; an answer that does not fit in the send buffer waits
 *    for the writable callback, with the requests behind it.
 *
 * Both answer through user/httpd_serve.c, which parses with user/http.c
 * (pure, host-tested): GET / (and HEAD /) answers a page with the
 * figures measured so far; request bodies are skipped, never read as
 * requests; pipelined requests are answered in order; keep-alive as
 * HTTP/1.1 says (and HTTP/1.0 with "Connection: keep-alive"); a request
 * whose framing cannot be trusted is refused (400, 411, 413, 431, 501) and
 * the connection closed. Ctrl-C stops the server and prints requests,
 * connections (TIME-WAIT apart), memory per connection and context
 * switches. */
#include <webscale/assert.h>
#include <webscale/console.h>
#include <webscale/errno.h>
#include <webscale/kprintf.h>
#include <webscale/list.h>
#include <webscale/loop.h>
#include <webscale/sched.h>
#include <webscale/string.h>
#include <webscale/sync.h>
#include <webscale/system.h>
#include <webscale/tcp.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "user/commands.h"
#include "user/demo.h"
#include "user/httpd.h"
#include "user/shell.h"

#define HTTP_PORT_DEFAULT 80
#define HTTP_SCRATCH_LOOP 2048    /* bytes read at once in the loop; more of a head is held */
#define HTTP_SCRATCH_THREAD 512   /* the same on a connection thread's 4 KiB stack */
/* Connections the stack completes before httpd takes them: a burst of 1,000
 * clients (wrk -c1000) must not wait behind a 16-slot queue, where their
 * last ACK and first request are dropped and come again only after the
 * client's backed-off retransmission; 256 still filled behind httpd
 * threads' acceptor at c1000 (Linux's somaxconn is 4096). */
#define HTTP_BACKLOG 1024        /* TCP_BACKLOG_MAX: about 96 KiB of tcp_conn when full */

static uint32_t time_wait_now(void)
{
    struct tcp_stats t;
    tcp_get_stats(&t);
    return t.time_wait;
}

/* A connection opened (+1) or ended (-1). At a new peak of open ones, the
 * heap is sampled without the connections in TIME-WAIT: those are closed,
 * the stack keeps each (tcp_conn_bytes) for TCP_TIME_WAIT_MS, and counting
 * them would charge the closed ones to the open. */
static void count_conn(int delta)
{
    if (delta > 0) {
        httpd.conns++;
        if (++httpd.open > httpd.open_max) {
            httpd.open_max = httpd.open;
            uint32_t tw = time_wait_now();
            long u = (long)demo_heap_used() - (long)httpd.heap_base -
                     ((long)tw - (long)httpd.time_wait_base) * (long)tcp_conn_bytes();
            httpd.heap_at_max = u > 0 ? (size_t)u : 0;
            httpd.time_wait_at_max = tw;
        }
    } else {
        httpd.open--;
    }
}

/* ---- loop style ---- */

struct hconn {
    struct tcp_conn *c;
    struct list_node link;        /* on lconns */
    struct hin in;
};

/* GET /slow's wait in the loop style: a timer of its own, on the heap
 * only while it runs (in h->in.busy->wait), so an idle connection does
 * not carry one. */
struct hslow {
    struct loop_timer t;
};

/* Open connections, in the order they were last active: l_pump moves a
 * connection to the back. The idle sweep (HTTPD_IDLE_MS) keeps a mark in
 * this list, which is not a connection: whatever is still in front of it
 * at the next sweep did nothing since the last one. */
static struct list lconns = LIST_INIT(lconns);
static struct list_node lmark;
static struct loop_timer lsweep;
static struct tcp_listener *llisten;
/* The loop runs one callback at a time: one scratch buffer for them all. */
static char lresp[HTTP_RESP_MAX], lscratch[HTTP_SCRATCH_LOOP];

static void slow_free(struct hconn *h)
{
    struct hslow *w = h->in.busy ? h->in.busy->wait : NULL;
    if (w) {
        loop_timer_stop(&w->t);
        kfree(w);
        h->in.busy->wait = NULL;
    }
}

static void hconn_free(struct hconn *h)
{
    slow_free(h);
    list_remove(&h->link);
    httpd_input_free(&h->in);
    kfree(h);
    count_conn(-1);
}

/* The loop style's struct hio: its ctx is the struct hconn. */
static int l_recv(void *h, char *buf, size_t n)
{
    return tcp_recv(((struct hconn *)h)->c, buf, n);
}

static int l_send(void *h, const char *buf, size_t n)
{
    return tcp_send(((struct hconn *)h)->c, buf, n);
}

static int l_room(void *h) { return tcp_send_space(((struct hconn *)h)->c) >= HTTP_RESP_MAX; }
static int l_wait_ms(void *h, uint32_t ms);

/* New bytes, or room for answers held back: answer, read, answer, until
 * nothing is left to read or no room is left to answer. */
static void l_pump(struct tcp_conn *c, void *arg)
{
    struct hconn *h = arg;
    const struct hio io = { l_recv, l_send, l_room, l_wait_ms, h };
    list_remove(&h->link);       /* active: behind the idle sweep's mark */
    list_push_back(&lconns, &h->link);
    enum serve_end e = SERVE_READ;
    if (httpd_pending(&h->in))   /* requests or a body held back for want of room */
        e = httpd_serve_pending(&h->in, &io, lresp);
    while (e == SERVE_READ)
        e = httpd_serve_more(&h->in, &io, lscratch, sizeof lscratch, lresp);
    if (e == SERVE_CLOSE) {
        tcp_close(c);
        hconn_free(h);
    }
}

/* The slow service answered: serve the request that waited for it. */
static void l_slow_done(void *arg)
{
    struct hconn *h = arg;
    slow_free(h);                /* stopped already: it fired */
    h->in.busy->later_state = LATER_READY;
    l_pump(h->c, h);
}

static int l_wait_ms(void *arg, uint32_t ms)
{
    struct hconn *h = arg;
    struct hbusy *b = h->in.busy;
    ASSERT(b && !b->wait);       /* one request waits at a time: the rest behind it */
    struct hslow *w = kzalloc(sizeof *w);
    if (!w)
        return -E_NOMEM;
    loop_timer_init(&w->t, l_slow_done, h);
    if (loop_timer_start_ms(&w->t, ms, 0) < 0) {
        kfree(w);
        return -E_NOMEM;
    }
    b->wait = w;
    return 0;
}

/* Every HTTPD_IDLE_MS: the connections in front of the mark have had no
 * callback for at least that long. Those waiting for the client's bytes
 * are closed (FIN after what is queued); one waiting for room in the send
 * buffer (its client does not read, TCP probes its window) or for the
 * slow service is left, and moves behind the mark. O(connections
 * closed or left), not O(open). */
static void l_sweep(void *arg)
{
    (void)arg;
    while (lconns.head.next != &lmark) {
        struct hconn *h = container_of(lconns.head.next, struct hconn, link);
        list_remove(&h->link);
        list_push_back(&lconns, &h->link);
        struct hbusy *b = h->in.busy;
        if ((b && b->wait) || (httpd_pending(&h->in) && !l_room(h)))
            continue;
        httpd.idle_closed++;
        tcp_close(h->c);
        hconn_free(h);
    }
    list_remove(&lmark);          /* the active ones from now on go behind it */
    list_push_back(&lconns, &lmark);
}

static void l_closed(struct tcp_conn *c, void *arg, int err)
{
    hconn_free(arg);
}

static const struct tcp_callbacks l_cbs = { .readable = l_pump, .writable = l_pump,
                                            .closed = l_closed };

static void l_accept(void *arg, struct tcp_conn *c)
{
    struct hconn *h = kzalloc(sizeof *h);
    if (!h) {
        tcp_abort(c);
        return;
    }
    h->c = c;
    httpd_input_init(&h->in);
    list_push_back(&lconns, &h->link);
    tcp_set_callbacks(c, &l_cbs, h);
    count_conn(+1);
}

static int lstart_result;
static void l_start(void *arg)
{
    lstart_result = tcp_listen(httpd.port, HTTP_BACKLOG, l_accept, NULL, &llisten);
    if (lstart_result < 0)
        return;
    list_push_back(&lconns, &lmark);
    loop_timer_init(&lsweep, l_sweep, NULL);
    if (loop_timer_start_ms(&lsweep, HTTPD_IDLE_MS, HTTPD_IDLE_MS) < 0) {
        list_remove(&lmark);
        tcp_unlisten(llisten);
        lstart_result = -E_NOMEM;
    }
}

/* Stop: every open connection is closed as the peer would see a server
 * close it (what is queued, then FIN), not reset. A client whose own FIN
 * or RST is still on its way (its retransmission waits behind a lost
 * frame) finishes the close with the stack, which sends it no RST. */
static void l_stop(void *arg)
{
    tcp_unlisten(llisten);
    loop_timer_stop(&lsweep);
    list_remove(&lmark);          /* only connections are left in lconns */
    while (!list_empty(&lconns)) {
        struct hconn *h = container_of(list_first(&lconns), struct hconn, link);
        tcp_close(h->c);
        hconn_free(h);
    }
}

/* ---- thread style ---- */

static struct tcp_server *tserver;

/* A connection thread, remembered until somebody joins it. */
struct tconn {
    struct list_node link;       /* on tconns */
    struct tcp_sock *k;
    thread_t *t;
    volatile int ended;          /* the thread is about to end: join it */
};
static struct list tconns;       /* under httpd.lock */

/* A byte within HTTPD_IDLE_MS, or the connection is closed (SERVE_CLOSE). */
static int t_recv(void *k, char *buf, size_t n)
{
    int r = tcp_sock_recv_until(k, buf, n, clock_ns() + (uint64_t)HTTPD_IDLE_MS * NS_PER_MS);
    if (r == -E_TIMEDOUT) {
        mutex_lock(&httpd.lock);
        httpd.idle_closed++;
        mutex_unlock(&httpd.lock);
    }
    return r;
}
static int t_send(void *k, const char *buf, size_t n) { return tcp_sock_send(k, buf, n); }

static void t_conn(void *arg)
{
    struct tconn *tc = arg;
    struct tcp_sock *k = tc->k;
    /* On a 4 KiB stack: a small scratch, the head held on the heap. */
    char scratch[HTTP_SCRATCH_THREAD], resp[HTTP_RESP_MAX];
    struct hin in;
    httpd_input_init(&in);
    const struct hio io = { t_recv, t_send, NULL, NULL, k };   /* send waits for room */
    while (httpd_serve_more(&in, &io, scratch, sizeof scratch, resp) == SERVE_READ)
        ;
    tcp_sock_close(k);
    mutex_lock(&httpd.lock);
    count_conn(-1);
    tc->ended = 1;
    mutex_unlock(&httpd.lock);
}

/* Join the connection threads that ended (all of them if every is set),
 * and forget them. */
static void join_conns(int every)
{
    for (;;) {
        struct tconn *tc = NULL;
        struct list_node *n;
        mutex_lock(&httpd.lock);
        list_for_each(n, &tconns) {
            struct tconn *c = container_of(n, struct tconn, link);
            if (every || c->ended) {
                tc = c;
                list_remove(n);
                break;
            }
        }
        mutex_unlock(&httpd.lock);
        if (!tc)
            return;
        thread_join(tc->t);
        kfree(tc);
    }
}

static void t_acceptor(void *arg)
{
    struct tcp_sock *k;
    while (tcp_accept(tserver, &k) == 0) {
        join_conns(0);
        struct tconn *tc = kzalloc(sizeof *tc);
        mutex_lock(&httpd.lock);
        count_conn(+1);
        if (tc) {
            tc->k = k;
            tc->t = thread_create("http", t_conn, tc);
            if (tc->t)
                list_push_back(&tconns, &tc->link);
        }
        mutex_unlock(&httpd.lock);
        if (!tc || !tc->t) {
            /* No memory for a stack: this connection is closed, the server
             * goes on with the ones it has. Said once, counted always. */
            kfree(tc);
            tcp_sock_close(k);
            mutex_lock(&httpd.lock);
            count_conn(-1);
            if (!httpd.no_thread++)
                kprintf("httpd: no memory for a thread at %u open connections: "
                        "closing new ones until some end (the server keeps running)\n", httpd.open);
            mutex_unlock(&httpd.lock);
        }
    }
}

/* ---- the command ---- */

int cmd_httpd(int argc, char **argv)
{
    const struct shell_cmd *self = shell_find("httpd");
    if (argc < 2 || argc > 3)
        return shell_usage(self);
    enum style style;
    if (!strcmp(argv[1], "threads"))
        style = STYLE_THREADS;
    else if (!strcmp(argv[1], "loop"))
        style = STYLE_LOOP;
    else
        return shell_usage(self);
    uint32_t port = HTTP_PORT_DEFAULT;
    if (argc == 3 && shell_parse_uint("httpd", "PORT", argv[2], 1, 65535, &port) < 0)
        return 1;
    memset((void *)&httpd, 0, sizeof httpd);
    mutex_init(&httpd.lock, "httpd: counters");
    list_init(&tconns);
    httpd.style = style;
    httpd.port = (uint16_t)port;
    httpd.heap_base = demo_heap_used();
    httpd.time_wait_base = time_wait_now();
    httpd.switches_base = httpd_switches();
    httpd.start_ns = clock_ns();

    thread_t *acceptor = NULL;
    int r;
    if (style == STYLE_LOOP) {
        r = loop_call_and_wait(l_start, NULL);
        if (r == 0)
            r = lstart_result;
    } else {
        r = tcp_server_open(httpd.port, HTTP_BACKLOG, &tserver);
        if (r == 0 && !(acceptor = thread_create("httpd-accept", t_acceptor, NULL))) {
            tcp_server_close(tserver);
            tcp_server_free(tserver);
            r = -E_NOMEM;
        }
    }
    if (r < 0) {
        kprintf("httpd: cannot listen on TCP port %u: %s%s\n", httpd.port, ws_strerror(r),
                r == -E_NOENT ? " (no NIC, see 'net')" : "");
        return 1;
    }
    /* make run names the host's end of its forward on the command line. */
    char fwd[64], url[96];
    if (httpd.port != 80)
        ksnprintf(url, sizeof url, "make run forwards a host port to guest port 80 only");
    else if (kernel_cmdline_get("http_url", fwd, sizeof fwd) > 0)
        ksnprintf(url, sizeof url, "from the host: curl %s", fwd);
    else
        ksnprintf(url, sizeof url, "from the host: curl the port QEMU forwards to guest port 80");
    kprintf("httpd: %s style, listening on TCP port %u; %s stops\n",
            style == STYLE_LOOP ? "event-loop" : "thread-per-connection", httpd.port,
            shell_stop_key());
    kprintf("httpd: %s\n", url);
    shell_sleep_until(TIME_NEVER);      /* one sleep, ended by Ctrl-C */

    uint32_t open_at_stop = httpd.open, time_wait_at_stop = time_wait_now();
    if (style == STYLE_LOOP) {
        loop_call_and_wait(l_stop, NULL);
    } else {
        tcp_server_close(tserver);   /* closes every connection: their threads end */
        thread_join(acceptor);
        join_conns(1);
        tcp_server_free(tserver);
    }
    uint64_t ns = clock_ns() - httpd.start_ns;
    uint64_t sw = httpd_switches() - httpd.switches_base;
    struct tcp_stats ts;
    tcp_get_stats(&ts);
    /* The report is prose: demo_hang wraps it at column 80, continuation
     * lines indented under their first word, as a job's lines are. */
    demo_hang(7, "httpd: stopped after %llu ms: %u requests served, %u refused (400, 411, "
              "413, 431, 501), %u connections (%u open at the stop, %u at most at once)\n",
              (unsigned long long)(ns / NS_PER_MS), httpd.requests, httpd.bad_requests,
              httpd.conns, open_at_stop, httpd.open_max);
    demo_hang(4, "  TIME-WAIT, apart from the open ones: %u connections at the stop, %u at "
              "the peak of open ones, %u at most (%u bytes each, not in the memory per "
              "connection)\n", time_wait_at_stop, httpd.time_wait_at_max, ts.time_wait_max,
              (unsigned)tcp_conn_bytes());
    demo_hang(4, "  request heads held (%u bytes each, only while a head is partial or "
              "waits for room): %u at most at once\n", HTTP_HEAD_MAX, httpd.heads_held_max);
    if (httpd.no_thread)
        demo_hang(4, "  %u connections closed at once: no memory for their thread\n",
                  httpd.no_thread);
    if (httpd.idle_closed)
        demo_hang(4, "  %u connections closed idle: no byte from the client in %u s\n",
                  httpd.idle_closed, HTTPD_IDLE_MS / 1000);
    char parts[128];
    if (style == STYLE_LOOP)
        ksnprintf(parts, sizeof parts, "struct hconn %u bytes, no thread",
                  (unsigned)kmalloc_footprint(sizeof(struct hconn)));
    else
        ksnprintf(parts, sizeof parts, "struct tcp_sock %u bytes, struct tconn %u bytes, "
                  "a %u-byte stack and a thread", (unsigned)tcp_sock_bytes(),
                  (unsigned)kmalloc_footprint(sizeof(struct tconn)), THREAD_STACK_DEFAULT);
    demo_hang(4, "  memory per connection at the peak: %u bytes of heap (struct tcp_conn "
              "%u bytes, %s)\n", httpd_bytes_per_conn(), (unsigned)tcp_conn_bytes(), parts);
    /* Every switch of every thread while it ran: idle's wake-ups for the
     * PIT's timers and other jobs too. At low load they are most of it. */
    uint64_t per10 = httpd.requests ? sw * 10 / httpd.requests : 0;
    kprintf("  context switches: %llu, of all threads while it ran (%llu.%llu per request;\n"
            "    idle's wake-ups and other jobs count too, most of them at low load)\n",
            (unsigned long long)sw, (unsigned long long)(per10 / 10),
            (unsigned long long)(per10 % 10));
    size_t heap_after = demo_heap_used();
    kprintf("  heap: %u bytes used before, %u after\n", (unsigned)httpd.heap_base,
            (unsigned)heap_after);
    demo_line_begin("httpd");
    demo_line_str("style", style == STYLE_LOOP ? "loop" : "threads");
    demo_line_u64("ran_ms", ns / NS_PER_MS);
    demo_line_u64("requests", httpd.requests);
    demo_line_u64("bad_requests", httpd.bad_requests);
    demo_line_u64("connections", httpd.conns);
    demo_line_u64("open_at_stop", open_at_stop);
    demo_line_u64("open_max", httpd.open_max);
    demo_line_u64("time_wait_at_stop", time_wait_at_stop);
    demo_line_u64("time_wait_at_peak", httpd.time_wait_at_max);
    demo_line_u64("time_wait_max", ts.time_wait_max);
    demo_line_u64("heads_held_max", httpd.heads_held_max);
    demo_line_u64("no_thread", httpd.no_thread);
    demo_line_u64("idle_closed", httpd.idle_closed);
    demo_line_u64("heap_per_connection_bytes", httpd_bytes_per_conn());
    demo_line_u64("switches", sw);
    demo_line_u64("heap_before_bytes", httpd.heap_base);
    demo_line_u64("heap_after_bytes", heap_after);
    demo_line_end();
    return 0;
}
