/* TCP for threads (the thread-per-connection style of <webscale/tcp.h>):
 * blocking accept, recv, send and close over the loop-style API of tcp.c
 * [RFC 9293 3.9.1's user calls: OPEN (passive), RECEIVE, SEND, CLOSE].
 *
 * The stack lives in the event loop, so every call goes there with
 * loop_call_and_wait and comes back with an answer or "would block". Then
 * the thread waits on its socket's event count (<webscale/sync.h>) until a
 * loop callback (readable, writable, closed, a new connection) signals it.
 * The count is read before asking the loop, so a signal between the answer
 * and the wait is never lost. Each blocking call thus costs two or more context switches: the
 * price of the thread style, which `httpd` counts. */
#include <webscale/assert.h>
#include <webscale/errno.h>
#include <webscale/loop.h>
#include <webscale/sync.h>
#include <webscale/system.h>
#include <webscale/tcp.h>
#include <webscale/time.h>
#include "kernel/net/net.h"
#include "kernel/x86.h"

struct tcp_server {
    struct tcp_listener *l;
    struct list ready;               /* accepted by the stack, not yet by a thread */
    struct list live;                /* handed to threads, not yet closed */
    uint32_t nready, backlog;
    struct event ev;
    int closed;
};

struct tcp_sock {
    struct tcp_conn *c;              /* NULL once reset (err says why) or closed */
    struct tcp_server *srv;
    struct list_node link;           /* on srv->ready, then srv->live */
    struct event ev;
    int err;
};

static void sock_readable(struct tcp_conn *c, void *arg)
{
    struct tcp_sock *k = arg;
    event_signal(&k->ev);
}

static void sock_closed(struct tcp_conn *c, void *arg, int err)
{
    struct tcp_sock *k = arg;
    k->c = NULL;
    k->err = err;
    event_signal(&k->ev);
}

static const struct tcp_callbacks sock_cbs = {
    .readable = sock_readable,
    .writable = sock_readable,
    .closed = sock_closed,
};

/* A handshake completed: onto the accept queue. When that makes the queue
 * full (the caller's backlog), the listener is held, so the next completed
 * handshakes wait half-open with their final ACK unanswered instead of
 * being reset; tcp_accept releases it when it takes one. */
static void server_accept(void *arg, struct tcp_conn *c)
{
    struct tcp_server *s = arg;
    ASSERT(s->nready < s->backlog);
    struct tcp_sock *k = kzalloc(sizeof *k);
    if (!k) {
        net_drop(NET_DROP_TCP_NO_MEMORY);
        tcp_abort(c);
        return;
    }
    k->c = c;
    k->srv = s;
    event_init(&k->ev, "tcp: socket");
    tcp_set_callbacks(c, &sock_cbs, k);
    uint32_t f = irq_save();
    list_push_back(&s->ready, &k->link);
    int full = ++s->nready >= s->backlog;
    irq_restore(f);
    if (full)
        tcp_listen_hold(s->l, 1);
    event_signal(&s->ev);
}

/* In the loop, after tcp_accept took one from a full queue. */
static void do_release(void *arg)
{
    struct tcp_server *s = arg;
    if (s->l && s->nready < s->backlog)
        tcp_listen_hold(s->l, 0);
}

struct listen_req {
    struct tcp_server *s;
    uint16_t port;
    int backlog, result;
};

static void do_listen(void *arg)
{
    struct listen_req *r = arg;
    r->result = tcp_listen(r->port, r->backlog, server_accept, r->s, &r->s->l);
}

int tcp_server_open(uint16_t port, int backlog, struct tcp_server **out)
{
    struct tcp_server *s = kzalloc(sizeof *s);
    if (!s)
        return -E_NOMEM;
    list_init(&s->ready);
    list_init(&s->live);
    event_init(&s->ev, "tcp: accept");
    s->backlog = (uint32_t)backlog;
    struct listen_req r = { s, port, backlog, 0 };
    int e = loop_call_and_wait(do_listen, &r);
    if (e == 0)
        e = r.result;
    if (e < 0) {
        kfree(s);
        return e;
    }
    *out = s;
    return 0;
}

int tcp_accept(struct tcp_server *s, struct tcp_sock **out)
{
    for (;;) {
        uint32_t seen = event_count(&s->ev);
        uint32_t f = irq_save();
        if (s->closed) {
            irq_restore(f);
            return -E_INTR;
        }
        if (!list_empty(&s->ready)) {
            struct tcp_sock *k = container_of(list_pop_front(&s->ready), struct tcp_sock, link);
            int was_full = s->nready-- == s->backlog;
            list_push_back(&s->live, &k->link);
            irq_restore(f);
            if (was_full)
                loop_call_and_wait(do_release, s);
            *out = k;
            return 0;
        }
        irq_restore(f);
        event_wait(&s->ev, seen);
    }
}

static void do_server_close(void *arg)
{
    struct tcp_server *s = arg;
    if (s->l)
        tcp_unlisten(s->l);
    s->l = NULL;
    /* Every open connection is closed, not reset (FIN after what is
     * queued): the peer sees a server that closed, and a peer whose own
     * close is still on its way finishes it with the stack. Those not yet
     * taken by a thread: nobody else knows them. */
    while (!list_empty(&s->ready)) {
        struct tcp_sock *k = container_of(list_pop_front(&s->ready), struct tcp_sock, link);
        tcp_close(k->c);
        kfree(k);
    }
    s->nready = 0;
    /* Taken: their threads wake up with -E_INTR and close the socket. */
    struct list_node *n;
    list_for_each(n, &s->live) {
        struct tcp_sock *k = container_of(n, struct tcp_sock, link);
        if (k->c) {
            tcp_close(k->c);
            k->c = NULL;
            k->err = -E_INTR;
            event_signal(&k->ev);
        }
    }
    s->closed = 1;
    event_signal(&s->ev);
}

void tcp_server_close(struct tcp_server *s) { loop_call_and_wait(do_server_close, s); }

void tcp_server_free(struct tcp_server *s) { kfree(s); }

struct io_req {
    struct tcp_sock *k;
    void *buf;
    size_t n;
    int result;
};

static void do_recv(void *arg)
{
    struct io_req *r = arg;
    r->result = r->k->c ? tcp_recv(r->k->c, r->buf, r->n) : r->k->err ? r->k->err : 0;
}

static void do_send(void *arg)
{
    struct io_req *r = arg;
    r->result = r->k->c ? tcp_send(r->k->c, r->buf, r->n) : r->k->err ? r->k->err : -E_CONNRESET;
}

int tcp_sock_recv_until(struct tcp_sock *k, void *buf, size_t n, uint64_t deadline_ns)
{
    for (;;) {
        uint32_t seen = event_count(&k->ev);
        struct io_req r = { k, buf, n, 0 };
        loop_call_and_wait(do_recv, &r);
        if (r.result != -E_WOULDBLOCK)
            return r.result;
        /* Woken, or interrupted (a connection's thread is never the
         * shell's foreground; if it were, it would just ask again): ask. */
        if (deadline_ns == TIME_NEVER)
            event_wait(&k->ev, seen);
        else if (event_wait_until(&k->ev, seen, deadline_ns) == -E_TIMEDOUT &&
                 event_count(&k->ev) == seen)
            return -E_TIMEDOUT;
    }
}

int tcp_sock_recv(struct tcp_sock *k, void *buf, size_t n)
{
    return tcp_sock_recv_until(k, buf, n, TIME_NEVER);
}

int tcp_sock_send(struct tcp_sock *k, const void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        uint32_t seen = event_count(&k->ev);
        struct io_req r = { k, (uint8_t *)buf + done, n - done, 0 };
        loop_call_and_wait(do_send, &r);
        if (r.result > 0)
            done += (size_t)r.result;
        else if (r.result == -E_WOULDBLOCK)
            event_wait(&k->ev, seen);
        else
            return r.result;
    }
    return (int)n;
}

static void do_close(void *arg)
{
    struct tcp_sock *k = arg;
    if (k->c)
        tcp_close(k->c);
    k->c = NULL;
    uint32_t f = irq_save();
    list_remove(&k->link);
    irq_restore(f);
}

void tcp_sock_close(struct tcp_sock *k)
{
    loop_call_and_wait(do_close, k);
    kfree(k);
}

size_t tcp_sock_bytes(void) { return kmalloc_footprint(sizeof(struct tcp_sock)); }
