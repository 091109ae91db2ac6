/* SEGMENT ARRIVES [RFC 9293 3.10.7]. tcp_input parses the segment, finds
 * its connection or its listening port, and then a synchronized (or
 * SYN-RECEIVED) connection's segment goes through the checks of 3.10.7.4
 * in the RFC's order, one function each:
 *
 *   first    the sequence number: is any of it in the receive window?
 *   second   RST: reset, or a challenge ACK unless exactly at rcv_nxt
 *   third    security: no IP security option here, nothing to check
 *   fourth   SYN: a challenge ACK (RFC 5961 4.2)
 *   fifth    ACK: completes the handshake, or moves snd_una and snd_wnd
 *   sixth    URG: ignored (RFC 6093 advises against its use)
 *   seventh  the segment text: in order only, into the receive buffer
 *   eighth   FIN: the peer is done sending
 *
 * Each check returns 1 to go on to the next one and 0 when the segment
 * has been dealt with (answered, dropped, or the connection has gone).
 * Every segment turned away is counted by net_drop, with its reason. */
#include <webscale/errno.h>
#include <webscale/string.h>
#include <webscale/system.h>
#include "kernel/net/tcp_internal.h"

/* Our SYN-ACK was lost: the peer sends its SYN again, unchanged. Before
 * the first check, which would take it for a SYN in the window. */
static int syn_again(struct tcp_conn *c, const struct tcp_info *t)
{
    if (c->state != TCP_SYN_RECEIVED || (t->flags & (TCP_SYN | TCP_ACK)) != TCP_SYN ||
        t->seq + 1 != c->rcv_nxt)
        return 0;
    tcp_send_syn_ack(c);
    return 1;
}

/* The four cases of RFC 9293 3.10.7.4's table: a segment is acceptable if
 * any of it lies in [rcv_nxt, rcv_nxt + RCV.WND); with the window shut,
 * only an empty segment exactly at rcv_nxt. */
static int acceptable(const struct tcp_conn *c, const struct tcp_info *t)
{
    uint32_t wnd = tcp_rcv_window(c);
    uint32_t len = tcp_seg_len(t);
    if (len == 0)
        return wnd == 0 ? t->seq == c->rcv_nxt : seq_in(t->seq, c->rcv_nxt, wnd);
    if (wnd == 0)
        return 0;
    return seq_in(t->seq, c->rcv_nxt, wnd) || seq_in(t->seq + len - 1, c->rcv_nxt, wnd);
}

/* A peer that closed (its FIN taken: CLOSE-WAIT, LAST-ACK, CLOSING) and
 * then got a segment of ours answers it with an RST whose SEQ is that
 * segment's ACK field. Ours was sent before its FIN arrived, so the RST
 * lies at rcv_nxt - 1, the FIN's own number, just left of the window:
 * wrk closing with a request in flight does this to ~900 of its 1,000
 * connections (README "The network cards"). RFC 9293 would drop it and
 * wait for the next RST, one more round trip (our FIN, its RST); like
 * Linux, we take this one number as well. A blind attacker gains nothing:
 * the number is as exact as rcv_nxt, and the peer has finished sending. */
static int rst_after_peer_fin(const struct tcp_conn *c, const struct tcp_info *t)
{
    return (t->flags & TCP_RST) && t->seq == c->rcv_nxt - 1 &&
           (c->state == TCP_CLOSE_WAIT || c->state == TCP_LAST_ACK || c->state == TCP_CLOSING);
}

/* First: an unacceptable segment gets an ACK that says what we expect
 * (unless it is an RST, which is dropped quietly). */
static int check_sequence(struct tcp_conn *c, const struct tcp_info *t)
{
    if (acceptable(c, t) || rst_after_peer_fin(c, t))
        return 1;
    net_drop(NET_DROP_TCP_WINDOW);
    if (!(t->flags & TCP_RST))
        tcp_send_ack(c);
    return 0;
}

/* RFC 5961 3.2 and 4.2: an RST or SYN in the window but not exactly where
 * we expect it may be a blind attacker's guess. Answer with an ACK: a real
 * peer that lost its state replies to it with an RST exactly at rcv_nxt. */
static void challenge_ack(struct tcp_conn *c)
{
    net_drop(NET_DROP_TCP_BAD_ACK);
    tcp_send_ack(c);
}

/* Second: an RST at rcv_nxt ends the connection; the user hears of it
 * unless it has closed already (or never had it: SYN-RECEIVED). */
static int check_rst(struct tcp_conn *c, const struct tcp_info *t)
{
    if (!(t->flags & TCP_RST))
        return 1;
    if (t->seq != c->rcv_nxt && !rst_after_peer_fin(c, t)) {
        challenge_ack(c);
        return 0;
    }
    tcp_st.resets_received++;
    if (c->state == TCP_SYN_RECEIVED || c->state == TCP_TIME_WAIT ||
        (c->flags & F_USER_CLOSED))
        tcp_conn_release(c);
    else
        tcp_notify_closed(c, -E_CONNRESET);
    return 0;
}

/* Fourth: a SYN on a synchronized connection, in any state. */
static int check_syn(struct tcp_conn *c, const struct tcp_info *t)
{
    if (!(t->flags & TCP_SYN))
        return 1;
    challenge_ack(c);
    return 0;
}

/* Fifth, in SYN-RECEIVED: an ACK of our SYN completes the handshake;
 * any other ACK gets an RST (3.10.7.4, "If the segment acknowledgment is
 * not acceptable, form a reset segment"). While the listener is held (its
 * accept queue is full) the ACK is remembered and the segment dropped,
 * unanswered: no RST, the peer sends its data again later, and the stack
 * completes the connection when the queue has room (tcp_listen_hold). */
static int ack_in_syn_received(struct tcp_conn *c, const struct tcp_info *t)
{
    if (t->ack != c->snd_nxt && !tcp_cookie_adopt(c, t)) {
        net_drop(NET_DROP_TCP_BAD_ACK);
        tcp_send_reset(c->rip, t, TCP_RST_SYN_RCVD_ACK);
        return 0;
    }
    tcp_rtt_ack(c, t->ack);
    c->snd_una = t->ack;
    c->snd_wnd = t->wnd;
    if (c->listener->held) {
        net_drop(NET_DROP_TCP_BACKLOG);
        return 0;
    }
    tcp_established(c);
    return !tcp_gone(c);          /* the accept callback may have refused it */
}

/* snd_una moved to ack: drop the acknowledged bytes from the send buffer. */
static void drop_acked_bytes(struct tcp_conn *c, uint32_t n)
{
    memmove(c->sbuf, c->sbuf + n, c->sbuf_len - n);
    c->sbuf_len -= (uint16_t)n;
    if (!c->sbuf_len) {
        kfree(c->sbuf);           /* idle connections keep no buffer */
        c->sbuf = NULL;
    }
}

/* The ACK of our FIN moves the closing states on (3.10.7.4, fifth, in
 * FIN-WAIT-1, CLOSING and LAST-ACK). */
static void fin_acked(struct tcp_conn *c)
{
    if (c->state == TCP_FIN_WAIT_1)
        tcp_set_state(c, TCP_FIN_WAIT_2);
    else if (c->state == TCP_CLOSING)
        tcp_set_state(c, TCP_TIME_WAIT);
    else if (c->state == TCP_LAST_ACK)
        tcp_conn_release(c);
}

/* An ACK with snd_una < ack <= snd_nxt: bytes (maybe our FIN) arrived.
 * The retransmission timer restarts for what is still in flight. */
static void new_ack(struct tcp_conn *c, uint32_t ack)
{
    uint32_t n = ack - c->snd_una;
    int fin = n > c->sbuf_len;          /* beyond the data: our FIN */
    if (fin)
        n = c->sbuf_len;
    if (n)
        drop_acked_bytes(c, n);
    tcp_rtt_ack(c, ack);
    c->snd_una = ack;
    c->retries = 0;
    if (c->snd_una == c->snd_nxt)
        tcp_timer_clear(c);
    else
        tcp_timer_set(c, c->rto_ms);
    if (fin)
        fin_acked(c);
    if (n && !tcp_gone(c))
        tcp_notify_writable(c);
}

/* The peer's window opens again while our zero-window probe is in flight
 * and was not taken (a shut window takes no byte: Linux drops the probe's
 * and ACKs snd_una). Sending on after the probe would leave that byte for
 * the retransmission timer, whose deadline is the probes' backoff (up to
 * TCP_RTO_MAX_MS away): go back to snd_una at once, as that timer would,
 * and time what goes now from a fresh RTO. */
static void window_reopened(struct tcp_conn *c)
{
    tcp_rtt_cancel(c);                /* Karn: the probe's byte goes again */
    c->snd_nxt = c->snd_una;
    c->flags &= ~F_FIN_SENT;
    c->retries = 0;
    tcp_timer_set(c, c->rto_ms);
}

/* Fifth: ACK is set (tcp_parse dropped the rest). An ACK of what we never
 * sent is answered and dropped; an old one is ignored, but its segment's
 * text still counts. The window is taken from any ACK not older than
 * snd_una (we send nothing that would need RFC 9293's SND.WL1/WL2 order);
 * one that says the window is shut is remembered as an answer to the
 * zero-window probes. */
static int check_ack(struct tcp_conn *c, const struct tcp_info *t)
{
    if (c->state == TCP_SYN_RECEIVED)
        return ack_in_syn_received(c, t);
    if (seq_gt(t->ack, c->snd_nxt)) {
        net_drop(NET_DROP_TCP_BAD_ACK);
        tcp_send_ack(c);
        return 0;
    }
    if (seq_ge(t->ack, c->snd_una)) {
        if (!c->snd_wnd && t->wnd && t->ack == c->snd_una && c->snd_nxt != c->snd_una)
            window_reopened(c);
        c->snd_wnd = t->wnd;
        /* Its window is still shut: the answer to our probe, from a peer
         * that is there and only slow to read (tcp_retransmit_timeout). */
        if (!t->wnd)
            c->flags |= F_WND_ANSWERED;
    }
    if (seq_gt(t->ack, c->snd_una))
        new_ack(c, t->ack);
    return !tcp_gone(c);
}

/* The part of a segment that is new: its text after what we have, and
 * whether its FIN still counts. */
struct seg_text {
    const uint8_t *data;
    uint32_t len;
    int fin;
};

/* Seventh, first half: trim what we already have. Text ahead of rcv_nxt
 * goes to the reassembly queue (ooo_store); the duplicate ACK says at
 * once what we still want [RFC 5681 4.2]. */
static int ooo_store(struct tcp_conn *c, uint32_t seq, const uint8_t *data, uint32_t len);

static int text_in_order(struct tcp_conn *c, const struct tcp_info *t, struct seg_text *x)
{
    uint32_t seq = t->seq;
    x->data = t->data;
    x->len = (uint32_t)t->len;
    x->fin = (t->flags & TCP_FIN) != 0;
    if (seq_lt(seq, c->rcv_nxt)) {
        uint32_t skip = c->rcv_nxt - seq;
        if (skip > x->len)
            skip = x->len;
        x->data += skip;
        x->len -= skip;
        seq += skip;
    }
    if (seq != c->rcv_nxt && (x->len || x->fin)) {
        if (!x->len || !ooo_store(c, seq, x->data, x->len))
            net_drop(NET_DROP_TCP_WINDOW);
        tcp_send_ack(c);
        return 0;
    }
    return 1;
}

static struct tcp_rbuf *rbuf_get(struct tcp_conn *c)
{
    if (!c->rbuf && (c->rbuf = kmalloc(sizeof *c->rbuf)))
        c->rbuf->islands = 0;
    if (!c->rbuf)
        net_drop(NET_DROP_TCP_NO_MEMORY);
    return c->rbuf;
}

/* Out-of-order text: into the buffer at its place, as an island of its
 * own or merged with those it touches. A FIN ahead is not kept (the peer
 * sends it again). 0 when it is not taken (the caller counts the drop),
 * 1 when it is taken or its drop is counted here. */
static int ooo_store(struct tcp_conn *c, uint32_t seq, const uint8_t *data, uint32_t len)
{
    if ((c->state != TCP_ESTABLISHED && c->state != TCP_FIN_WAIT_1 &&
         c->state != TCP_FIN_WAIT_2) || (c->flags & F_USER_CLOSED))
        return 0;
    uint32_t off = c->rbuf_len + (seq - c->rcv_nxt);
    if (off >= TCP_RCVBUF)
        return 0;
    if (len > TCP_RCVBUF - off)
        len = TCP_RCVBUF - off;       /* the window's edge */
    uint32_t start = off, end = off + len;
    struct tcp_rbuf *rb = rbuf_get(c);
    if (!rb)
        return 1;
    /* The islands it touches, [i, j), become one. */
    int i = 0, j;
    while (i < rb->islands && rb->island[i].end < start)
        i++;
    for (j = i; j < rb->islands && rb->island[j].start <= end; j++) {
        if (rb->island[j].start < start)
            start = rb->island[j].start;
        if (rb->island[j].end > end)
            end = rb->island[j].end;
    }
    if (i == j && rb->islands == TCP_REASM_MAX) {
        net_drop(NET_DROP_TCP_REASM_FULL);
        tcp_st.reasm_dropped++;
        return 1;
    }
    memcpy(rb->data + off, data, len);
    int merged = j - i;               /* islands replaced by the new one */
    memmove(&rb->island[i + 1], &rb->island[j], (size_t)(rb->islands - j) * sizeof rb->island[0]);
    rb->islands = (uint8_t)(rb->islands - merged + 1);
    rb->island[i].start = (uint16_t)start;
    rb->island[i].end = (uint16_t)end;
    tcp_st.reasm_queued++;
    return 1;
}

/* Islands that the in-order bytes now reach join them: rcv_nxt moves
 * over them. */
static uint32_t ooo_join(struct tcp_conn *c)
{
    struct tcp_rbuf *rb = c->rbuf;
    uint32_t got = 0;
    while (rb->islands && rb->island[0].start <= c->rbuf_len) {
        if (rb->island[0].end > c->rbuf_len) {
            got += rb->island[0].end - c->rbuf_len;
            c->rbuf_len = rb->island[0].end;
        }
        rb->islands--;
        memmove(&rb->island[0], &rb->island[1], rb->islands * sizeof rb->island[0]);
    }
    c->rcv_nxt += got;
    return got;
}

/* Into the receive buffer, as much as fits; a FIN after a cut is not ours yet. */
static int text_store(struct tcp_conn *c, struct seg_text *x)
{
    struct tcp_rbuf *rb = rbuf_get(c);
    if (!rb)
        return 0;
    uint32_t room = TCP_RCVBUF - c->rbuf_len;
    if (x->len > room) {
        x->len = room;
        x->fin = 0;
    }
    memcpy(rb->data + c->rbuf_len, x->data, x->len);
    c->rbuf_len += (uint16_t)x->len;
    c->rcv_nxt += x->len;
    if (x->fin)
        rb->islands = 0;              /* nothing of the stream lies after its FIN */
    if (rb->islands)
        x->len += ooo_join(c);
    return 1;
}

/* Seventh, second half: text is taken in ESTABLISHED and FIN-WAIT-1/2;
 * after the peer's FIN nothing may follow. */
static int check_text(struct tcp_conn *c, struct seg_text *x)
{
    if (!x->len)
        return 1;
    if (c->state != TCP_ESTABLISHED && c->state != TCP_FIN_WAIT_1 &&
        c->state != TCP_FIN_WAIT_2) {
        net_drop(NET_DROP_TCP_CLOSED);
        return 0;
    }
    if (c->flags & F_USER_CLOSED)
        c->rcv_nxt += x->len;     /* nobody reads: take it and forget it */
    else if (!text_store(c, x))
        return 0;
    tcp_st.rx_bytes += x->len;
    c->flags |= F_ACK_NOW;
    return 1;
}

/* Eighth: the peer's FIN takes one sequence number and moves the state
 * on; a FIN again in TIME-WAIT means our last ACK was lost. */
static void check_fin(struct tcp_conn *c, const struct seg_text *x)
{
    if (!x->fin)
        return;
    if (c->flags & F_PEER_FIN) {
        if (c->state == TCP_TIME_WAIT) {
            c->flags |= F_ACK_NOW;    /* again, and wait anew */
            tcp_timer_set(c, TCP_TIME_WAIT_MS);
        }
        return;
    }
    c->rcv_nxt++;
    c->flags |= F_PEER_FIN | F_ACK_NOW;
    if (c->state == TCP_ESTABLISHED)
        tcp_set_state(c, TCP_CLOSE_WAIT);
    else if (c->state == TCP_FIN_WAIT_1)
        tcp_set_state(c, TCP_CLOSING);     /* both sent FIN at once */
    else if (c->state == TCP_FIN_WAIT_2)
        tcp_set_state(c, TCP_TIME_WAIT);
}

/* Before the first check, too: an ACK at another sequence number than a
 * half-open connection's may return a cookie sent to another SYN on its
 * four numbers (tcp_cookie_adopt), which then takes the connection over.
 * Only a segment the first check would drop is hashed. */
static void cookie_of_another_syn(struct tcp_conn *c, const struct tcp_info *t)
{
    if (c->state == TCP_SYN_RECEIVED && t->seq != c->rcv_nxt &&
        (t->flags & (TCP_SYN | TCP_RST | TCP_ACK)) == TCP_ACK && !acceptable(c, t))
        tcp_cookie_adopt(c, t);
}

static void segment_arrives(struct tcp_conn *c, const struct tcp_info *t)
{
    if (syn_again(c, t) || tcp_reopen_time_wait(c, t))
        return;
    cookie_of_another_syn(c, t);
    if (!check_sequence(c, t) || !check_rst(c, t) || !check_syn(c, t) || !check_ack(c, t))
        return;
    struct seg_text x;
    if (!text_in_order(c, t, &x) || !check_text(c, &x))
        return;
    check_fin(c, &x);
    if (x.len || x.fin)
        tcp_notify_readable(c);
    if (!tcp_gone(c))
        tcp_output(c);                /* replies ride on the ACK we owe */
}

static void segment_on(struct tcp_conn *c, const struct tcp_info *t)
{
    c->flags |= F_BUSY;
    segment_arrives(c, t);
    tcp_conn_unbusy(c);
}

/* LISTEN [RFC 9293 3.10.7.2]: RST ignored, SYN opens, an ACK answered with
 * RST unless it returns a SYN cookie: then the connection it opens takes
 * the rest of the segment (its data, its FIN). */
static void listen_arrives(struct tcp_listener *l, uint32_t rip, const struct tcp_info *t)
{
    if (t->flags & TCP_RST) {
        net_drop(NET_DROP_TCP_CLOSED);
    } else if (t->flags & TCP_ACK) {
        struct tcp_conn *c = tcp_cookie_open(rip, t, l);
        if (c)
            segment_on(c, t);
    } else {
        tcp_passive_open(rip, t, l);
    }
}

/* CLOSED [RFC 9293 3.10.7.1]: no connection, no listener. "An incoming
 * segment containing a RST is discarded. An incoming segment not
 * containing a RST causes a RST to be sent in response", whatever else it
 * carries: FIN, Xmas (FIN+PSH+URG) and null scans, SYN+FIN too. */
static void closed_arrives(uint32_t rip, const struct tcp_info *t)
{
    net_drop(NET_DROP_TCP_NO_PORT);
    if (!(t->flags & TCP_RST))
        tcp_send_reset(rip, t, TCP_RST_NO_PORT);
}

/* Flag soup (tcp_parse said so, *t is whole) for nobody: CLOSED answers it;
 * a connection or a listener drops it. */
static int soup_for_closed_port(const struct ip_info *ip, const struct tcp_info *t)
{
    return ip->dst == net_if.ip && !tcp_lookup(ip->src, t->sport, t->dport) &&
           !tcp_find_listener(t->dport);
}

void tcp_input(const struct ip_info *ip)
{
    struct tcp_info t;
    int r = tcp_parse(ip->payload, ip->len, ip->src, ip->dst, &t);
    if (r == NET_PASS && ip->dst != net_if.ip)
        r = NET_DROP_TCP_HEADER;      /* TCP is unicast [RFC 1122 4.2.3.10] */
    if (r == NET_DROP_TCP_FLAGS && soup_for_closed_port(ip, &t)) {
        tcp_st.rx_segments++;
        closed_arrives(ip->src, &t);
        return;
    }
    if (r != NET_PASS) {
        net_drop(r);
        return;
    }
    tcp_st.rx_segments++;
    struct tcp_conn *c = tcp_lookup(ip->src, t.sport, t.dport);
    if (c) {
        segment_on(c, &t);
        return;
    }
    struct tcp_listener *l = tcp_find_listener(t.dport);
    if (l) {
        listen_arrives(l, ip->src, &t);
        return;
    }
    closed_arrives(ip->src, &t);
}
