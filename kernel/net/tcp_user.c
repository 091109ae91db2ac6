/* The user calls on an open connection [RFC 9293 3.10.2 to 3.10.6]: SEND,
 * RECEIVE, CLOSE, ABORT and STATUS, in the loop style of <webscale/tcp.h>
 * (they never block; tcp_sock.c builds the blocking ones on top). They run
 * in loop callbacks, so a connection that is being processed (F_BUSY: a
 * callback from inside tcp_input) sends nothing here; the segment's
 * processing sends it when it ends. */
#include <webscale/errno.h>
#include <webscale/string.h>
#include <webscale/system.h>
#include "kernel/net/tcp_internal.h"
#include "kernel/x86.h"

void tcp_set_callbacks(struct tcp_conn *c, const struct tcp_callbacks *cb, void *arg)
{
    c->cb = cb;
    c->arg = arg;
}

/* RECEIVE [3.10.3]. */
int tcp_recv(struct tcp_conn *c, void *buf, size_t n)
{
    if (c->rbuf_len) {
        size_t k = n < c->rbuf_len ? n : c->rbuf_len;
        int was_shut = tcp_rcv_window(c) < c->mss;
        struct tcp_rbuf *rb = c->rbuf;
        memcpy(buf, rb->data, k);
        /* The islands ahead move down with the unread bytes. */
        uint32_t extent = rb->islands ? rb->island[rb->islands - 1].end : c->rbuf_len;
        memmove(rb->data, rb->data + k, extent - k);
        for (int i = 0; i < rb->islands; i++) {
            rb->island[i].start -= (uint16_t)k;
            rb->island[i].end -= (uint16_t)k;
        }
        c->rbuf_len -= (uint16_t)k;
        if (!c->rbuf_len && !rb->islands) {
            kfree(c->rbuf);
            c->rbuf = NULL;
        }
        /* The window opened from (almost) shut: tell the peer, or it waits
         * for its persist timer [RFC 9293 3.8.6.2.2]. */
        if (was_shut && tcp_rcv_window(c) >= c->mss && c->state != TCP_CLOSED)
            tcp_send_ack(c);
        return (int)k;
    }
    if (c->flags & F_RESET)
        return -E_CONNRESET;
    if (c->flags & F_PEER_FIN)
        return 0;
    return -E_WOULDBLOCK;
}

static int send_closed(const struct tcp_conn *c)
{
    return (c->flags & (F_RESET | F_FIN_QUEUED)) || c->state == TCP_CLOSED;
}

size_t tcp_send_space(struct tcp_conn *c)
{
    return send_closed(c) ? 0 : TCP_SNDBUF - c->sbuf_len;
}

/* SEND [3.10.2]. */
int tcp_send(struct tcp_conn *c, const void *buf, size_t n)
{
    if (send_closed(c))
        return -E_CONNRESET;
    size_t room = TCP_SNDBUF - c->sbuf_len;
    if (n > room)
        n = room;
    if (n == 0)
        return -E_WOULDBLOCK;
    if (!c->sbuf && !(c->sbuf = kmalloc(TCP_SNDBUF)))
        return -E_NOMEM;
    memcpy(c->sbuf + c->sbuf_len, buf, n);
    c->sbuf_len += (uint16_t)n;
    if (!(c->flags & F_BUSY))
        tcp_output(c);
    return (int)n;
}

/* CLOSE [3.10.4]: FIN after the queued bytes. In any state but
 * ESTABLISHED and CLOSE-WAIT there is no FIN to send (SYN-RECEIVED is
 * never handed to the user; the closing states have sent theirs). */
void tcp_close(struct tcp_conn *c)
{
    if (c->flags & F_USER_CLOSED)
        return;
    c->flags |= F_USER_CLOSED;
    kfree(c->rbuf);                   /* nobody will read it */
    c->rbuf = NULL;
    c->rbuf_len = 0;
    if (c->state == TCP_ESTABLISHED)
        tcp_set_state(c, TCP_FIN_WAIT_1);
    else if (c->state == TCP_CLOSE_WAIT)
        tcp_set_state(c, TCP_LAST_ACK);
    else {
        tcp_conn_release(c);
        return;
    }
    c->flags |= F_FIN_QUEUED;
    if (!(c->flags & F_BUSY))
        tcp_output(c);
}

/* ABORT [3.10.5]. */
void tcp_abort(struct tcp_conn *c)
{
    if (c->state != TCP_CLOSED)
        tcp_send_rst(c, TCP_RST_ABORT);
    c->flags |= F_USER_CLOSED | F_RESET;
    tcp_conn_release(c);
}

/* STATUS [3.10.6], in part. */
void tcp_peer(const struct tcp_conn *c, uint32_t *ip, uint16_t *port)
{
    *ip = c->rip;
    *port = c->rport;
}

void tcp_get_stats(struct tcp_stats *s)
{
    /* The loop thread may be preempted mid-update: display figures only. */
    uint32_t f = irq_save();
    *s = tcp_st;
    irq_restore(f);
}

static const char *const rst_names[TCP_RST_REASONS] = {
    [TCP_RST_NO_PORT] = "no-port",
    [TCP_RST_NO_CONN] = "no-connection",
    [TCP_RST_BAD_COOKIE] = "bad-cookie",
    [TCP_RST_SYN_RCVD_ACK] = "syn-rcvd-bad-ack",
    [TCP_RST_ABORT] = "abort",
    [TCP_RST_GIVE_UP] = "gave-up",
    [TCP_RST_UNLISTEN] = "unlisten",
};

const char *tcp_rst_name(int reason)
{
    if (reason < 0 || reason >= TCP_RST_REASONS || !rst_names[reason])
        return "?";
    return rst_names[reason];
}

size_t tcp_conn_bytes(void) { return kmalloc_footprint(sizeof(struct tcp_conn)); }
