/* httpd threads|loop [PORT]: the talk's "Apache vs nginx", the same tiny
 * HTTP/1.0 and 1.1 server [RFC 9112 message syntax, RFC 9110 status codes]
 * in two styles over <webscale/tcp.h>:
 *
 *  - threads: an acceptor thread and one thread (4 KiB stack) per
 *    connection, each blocking in tcp_sock_recv / tcp_sock_send; the
 *    acceptor joins the threads that ended, the stop joins the rest;
 *  - loop: callbacks in the event loop, a small struct per connection, no
 *    thread at all.
 *
 * GET / answers a page with the figures measured so far; keep-alive as
 * HTTP/1.1 says (and HTTP/1.0 with "Connection: keep-alive"); a request
 * that does not parse gets 400 and the connection is closed. Ctrl-C stops
 * the server and prints requests, connections, memory per connection and
 * context switches. */
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
#include "user/shell.h"

#define HTTP_PORT_DEFAULT 80
#define HTTP_REQ_MAX 512          /* bytes of request head we keep; more is a 400 */
#define HTTP_RESP_MAX 1024
#define HTTP_BACKLOG TCP_BACKLOG_DEFAULT

enum style { STYLE_THREADS, STYLE_LOOP };

/* What both styles count. Written by the server's threads or loop
 * callbacks, read by the shell: display figures. */
static struct {
    enum style style;
    uint16_t port;
    volatile uint32_t requests, bad_requests, conns, open, open_max;
    volatile uint32_t no_thread;  /* threads style: connections closed for want of a thread */
    size_t heap_base;             /* heap used before the server started */
    size_t heap_at_max;           /* heap used (over the base) at open_max */
    uint64_t switches_base, start_ns;
    struct mutex lock;            /* threads style: the counters */
} H;

static uint64_t switches_now(void)
{
    struct sched_stats s;
    sched_get_stats(&s);
    return s.switches;
}

/* A connection opened (+1) or ended (-1). */
static void count_conn(int delta)
{
    if (delta > 0) {
        H.conns++;
        if (++H.open > H.open_max) {
            H.open_max = H.open;
            size_t u = demo_heap_used();
            H.heap_at_max = u > H.heap_base ? u - H.heap_base : 0;
        }
    } else {
        H.open--;
    }
}

static uint32_t bytes_per_conn(void)
{
    return H.open_max ? (uint32_t)(H.heap_at_max / H.open_max) : 0;
}

/* ---- HTTP: the pure part ---- */

static int has_token(const char *head, size_t len, const char *tok)
{
    size_t n = strlen(tok);
    for (size_t i = 0; i + n <= len; i++) {
        size_t k = 0;
        while (k < n) {
            char c = head[i + k];
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            if (c != tok[k])
                break;
            k++;
        }
        if (k == n)
            return 1;
    }
    return 0;
}

/* Looks for the end of a request head in buf. 0: not complete yet;
 * otherwise its length, and *status (200, 400, 404, 405) and *keep. */
static size_t parse_request(const char *buf, size_t len, int *status, int *keep)
{
    size_t end = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] == '\n' && buf[i + 1] == '\n') {
            end = i + 2;
            break;
        }
        if (i + 3 < len && !memcmp(buf + i, "\r\n\r\n", 4)) {
            end = i + 4;
            break;
        }
    }
    if (!end) {
        if (len >= HTTP_REQ_MAX) {
            *status = 400;        /* too long a head: refuse rather than cut */
            *keep = 0;
            return len;
        }
        return 0;
    }
    *keep = 0;
    /* METHOD SP TARGET SP HTTP/1.x CRLF [RFC 9112 3] */
    size_t sp1 = 0, sp2 = 0, eol = 0;
    for (size_t i = 0; i < end; i++) {
        if (buf[i] == ' ' && !sp1)
            sp1 = i;
        else if (buf[i] == ' ' && !sp2)
            sp2 = i;
        else if (buf[i] == '\r' || buf[i] == '\n') {
            eol = i;
            break;
        }
    }
    if (!sp1 || !sp2 || sp2 <= sp1 + 1 || eol != sp2 + 9 || strncmp(buf + sp2 + 1, "HTTP/1.", 7) ||
        (buf[sp2 + 8] != '0' && buf[sp2 + 8] != '1')) {
        *status = 400;
        return end;
    }
    for (size_t i = 0; i < sp1; i++)
        if (buf[i] < 'A' || buf[i] > 'Z') {
            *status = 400;
            return end;
        }
    int v11 = buf[sp2 + 8] == '1';
    *keep = v11 ? !has_token(buf, end, "connection: close")
                : has_token(buf, end, "connection: keep-alive");
    if (!(sp1 == 3 && !memcmp(buf, "GET", 3)))
        *status = 405;
    else if (!(sp2 == sp1 + 2 && buf[sp1 + 1] == '/'))
        *status = 404;
    else
        *status = 200;
    return end;
}

static int build_response(char *out, size_t size, int status, int keep)
{
    char body[700];
    int n;
    if (status == 200) {
        uint64_t sw = switches_now() - H.switches_base;
        n = ksnprintf(body, sizeof body,
                      "webscale httpd, %s style: is it web scale?\n"
                      "requests served: %u\n"
                      "connections: %u accepted, %u open now, %u at most at once\n"
                      "memory per connection at the peak: %u bytes of heap "
                      "(struct tcp_conn %u bytes%s)\n"
                      "context switches since the server started: %llu\n",
                      H.style == STYLE_LOOP ? "event-loop" : "thread-per-connection",
                      H.requests, H.conns, H.open, H.open_max, bytes_per_conn(),
                      (unsigned)tcp_conn_bytes(),
                      H.style == STYLE_LOOP ? "" : ", plus a 4096-byte thread stack",
                      (unsigned long long)sw);
    } else {
        n = ksnprintf(body, sizeof body, "%s\n",
                      status == 404 ? "not found" : status == 405 ? "only GET" : "bad request");
    }
    const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found"
                         : status == 405 ? "Method Not Allowed" : "Bad Request";
    return ksnprintf(out, size,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                     "Connection: %s\r\n%s\r\n%s",
                     status, reason, n, keep ? "keep-alive" : "close",
                     status == 405 ? "Allow: GET\r\n" : "", body);
}

/* ---- loop style ---- */

struct hconn {
    struct tcp_conn *c;
    struct list_node link;        /* on lconns */
    char *req;                    /* allocated while a request is coming in */
    uint16_t len;
};

static struct list lconns = LIST_INIT(lconns);
static struct tcp_listener *llisten;
static char lresp[HTTP_RESP_MAX];   /* the loop runs one callback at a time */

static void hconn_free(struct hconn *h)
{
    list_remove(&h->link);
    kfree(h->req);
    kfree(h);
    count_conn(-1);
}

static void l_readable(struct tcp_conn *c, void *arg)
{
    struct hconn *h = arg;
    for (;;) {
        if (!h->req && !(h->req = kmalloc(HTTP_REQ_MAX))) {
            tcp_abort(c);
            hconn_free(h);
            return;
        }
        int n = tcp_recv(c, h->req + h->len, HTTP_REQ_MAX - h->len);
        if (n == -E_WOULDBLOCK)
            return;
        if (n <= 0) {             /* end of stream or reset */
            tcp_close(c);
            hconn_free(h);
            return;
        }
        h->len += (uint16_t)n;
        int status, keep;
        size_t used;
        while ((used = parse_request(h->req, h->len, &status, &keep)) > 0) {
            if (status == 400)
                H.bad_requests++;
            else
                H.requests++;
            int r = build_response(lresp, sizeof lresp, status, keep);
            if (tcp_send(c, lresp, (size_t)r) != r)
                keep = 0;         /* the client does not read: give up on it */
            if (!keep) {
                tcp_close(c);
                hconn_free(h);
                return;
            }
            memmove(h->req, h->req + used, h->len - used);
            h->len -= (uint16_t)used;
        }
        if (!h->len) {
            kfree(h->req);        /* an idle keep-alive connection keeps no buffer */
            h->req = NULL;
        }
    }
}

static void l_closed(struct tcp_conn *c, void *arg, int err)
{
    hconn_free(arg);
}

static const struct tcp_callbacks l_cbs = { .readable = l_readable, .closed = l_closed };

static void l_accept(void *arg, struct tcp_conn *c)
{
    struct hconn *h = kzalloc(sizeof *h);
    if (!h) {
        tcp_abort(c);
        return;
    }
    h->c = c;
    list_push_back(&lconns, &h->link);
    tcp_set_callbacks(c, &l_cbs, h);
    count_conn(+1);
}

static int lstart_result;
static void l_start(void *arg)
{
    lstart_result = tcp_listen(H.port, HTTP_BACKLOG, l_accept, NULL, &llisten);
}

static void l_stop(void *arg)
{
    tcp_unlisten(llisten);
    while (!list_empty(&lconns)) {
        struct hconn *h = container_of(list_first(&lconns), struct hconn, link);
        tcp_abort(h->c);
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
static struct list tconns;       /* under H.lock */

static void t_conn(void *arg)
{
    struct tconn *tc = arg;
    struct tcp_sock *k = tc->k;
    char req[HTTP_REQ_MAX], resp[HTTP_RESP_MAX];
    size_t len = 0;
    for (;;) {
        int n = tcp_sock_recv(k, req + len, sizeof req - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        int status, keep = 1;
        size_t used;
        while (keep && (used = parse_request(req, len, &status, &keep)) > 0) {
            mutex_lock(&H.lock);
            if (status == 400)
                H.bad_requests++;
            else
                H.requests++;
            mutex_unlock(&H.lock);
            int r = build_response(resp, sizeof resp, status, keep);
            if (tcp_sock_send(k, resp, (size_t)r) != r)
                keep = 0;
            memmove(req, req + used, len - used);
            len -= used;
        }
        if (!keep)
            break;
    }
    tcp_sock_close(k);
    mutex_lock(&H.lock);
    count_conn(-1);
    tc->ended = 1;
    mutex_unlock(&H.lock);
}

/* Join the connection threads that ended (all of them if every is set),
 * and forget them. */
static void join_conns(int every)
{
    for (;;) {
        struct tconn *tc = NULL;
        struct list_node *n;
        mutex_lock(&H.lock);
        list_for_each(n, &tconns) {
            struct tconn *c = container_of(n, struct tconn, link);
            if (every || c->ended) {
                tc = c;
                list_remove(n);
                break;
            }
        }
        mutex_unlock(&H.lock);
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
        mutex_lock(&H.lock);
        count_conn(+1);
        if (tc) {
            tc->k = k;
            tc->t = thread_create("http", t_conn, tc);
            if (tc->t)
                list_push_back(&tconns, &tc->link);
        }
        mutex_unlock(&H.lock);
        if (!tc || !tc->t) {
            /* No memory for a stack: this connection is closed, the server
             * goes on with the ones it has. Said once, counted always. */
            kfree(tc);
            tcp_sock_close(k);
            mutex_lock(&H.lock);
            count_conn(-1);
            if (!H.no_thread++)
                kprintf("httpd: no memory for a thread at %u open connections: "
                        "closing new ones until some end (the server keeps running)\n", H.open);
            mutex_unlock(&H.lock);
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
    memset((void *)&H, 0, sizeof H);
    mutex_init(&H.lock, "httpd: counters");
    list_init(&tconns);
    H.style = style;
    H.port = (uint16_t)port;
    H.heap_base = demo_heap_used();
    H.switches_base = switches_now();
    H.start_ns = clock_ns();

    thread_t *acceptor = NULL;
    int r;
    if (style == STYLE_LOOP) {
        r = loop_call_and_wait(l_start, NULL);
        if (r == 0)
            r = lstart_result;
    } else {
        r = tcp_server_open(H.port, HTTP_BACKLOG, &tserver);
        if (r == 0 && !(acceptor = thread_create("httpd-accept", t_acceptor, NULL))) {
            tcp_server_close(tserver);
            tcp_server_free(tserver);
            r = -E_NOMEM;
        }
    }
    if (r < 0) {
        kprintf("httpd: cannot listen on TCP port %u: %s%s\n", H.port, ws_strerror(r),
                r == -E_NOENT ? " (no NIC, see 'net')" : "");
        return 1;
    }
    kprintf("httpd: %s style, listening on TCP port %u (from the host: curl "
            "http://127.0.0.1:8080/ under make run); Ctrl-C stops\n",
            style == STYLE_LOOP ? "event-loop" : "thread-per-connection", H.port);
    shell_sleep_until(TIME_NEVER);      /* one sleep, ended by Ctrl-C */

    uint32_t open_at_stop = H.open;
    if (style == STYLE_LOOP) {
        loop_call_and_wait(l_stop, NULL);
    } else {
        tcp_server_close(tserver);   /* resets every connection: their threads end */
        thread_join(acceptor);
        join_conns(1);
        tcp_server_free(tserver);
    }
    uint64_t ns = clock_ns() - H.start_ns;
    uint64_t sw = switches_now() - H.switches_base;
    struct tcp_stats ts;
    tcp_get_stats(&ts);
    kprintf("httpd: stopped after %llu ms: %u requests served, %u bad requests (400), "
            "%u connections (%u open at the stop, %u at most at once)\n",
            (unsigned long long)(ns / NS_PER_MS), H.requests, H.bad_requests, H.conns,
            open_at_stop, H.open_max);
    if (H.no_thread)
        kprintf("  %u connections closed at once: no memory for their thread\n", H.no_thread);
    kprintf("  memory per connection at the peak: %u bytes of heap (struct tcp_conn %u bytes",
            bytes_per_conn(), (unsigned)tcp_conn_bytes());
    if (style == STYLE_LOOP)
        kprintf(", struct hconn %u bytes, no thread)\n",
                (unsigned)kmalloc_footprint(sizeof(struct hconn)));
    else
        kprintf(", struct tcp_sock %u bytes, struct tconn %u bytes, a %u-byte stack and a "
                "thread)\n", (unsigned)tcp_sock_bytes(),
                (unsigned)kmalloc_footprint(sizeof(struct tconn)), THREAD_STACK_DEFAULT);
    kprintf("  context switches: %llu (%llu per request)\n", (unsigned long long)sw,
            (unsigned long long)(H.requests ? sw / H.requests : 0));
    size_t heap_after = demo_heap_used();
    kprintf("  heap: %u bytes used before, %u after\n", (unsigned)H.heap_base,
            (unsigned)heap_after);
    demo_line_begin("httpd");
    demo_line_str("style", style == STYLE_LOOP ? "loop" : "threads");
    demo_line_u64("ran_ms", ns / NS_PER_MS);
    demo_line_u64("requests", H.requests);
    demo_line_u64("bad_requests", H.bad_requests);
    demo_line_u64("connections", H.conns);
    demo_line_u64("open_at_stop", open_at_stop);
    demo_line_u64("open_max", H.open_max);
    demo_line_u64("no_thread", H.no_thread);
    demo_line_u64("heap_per_connection_bytes", bytes_per_conn());
    demo_line_u64("switches", sw);
    demo_line_u64("heap_before_bytes", H.heap_base);
    demo_line_u64("heap_after_bytes", heap_after);
    demo_line_end();
    return 0;
}
