/* TCP segments out [RFC 9293 3.8, 3.10.8]: every segment is built in
 * net_tx and handed to ip_output. Data goes out from the send buffer as
 * far as the peer's window and its MSS allow, FIN after the last byte;
 * a retransmission timeout goes back to snd_una and sends everything
 * again (go-back-N), each time waiting twice as long, up to a limit. */
#include <webscale/errno.h>
#include <webscale/string.h>
#include "kernel/net/tcp_internal.h"

/* Send one segment: flags, and len bytes of the send buffer from offset
 * off; seq is the sequence number of its first byte (or of SYN/FIN). */
static int send_segment(struct tcp_conn *c, uint32_t seq, uint8_t flags, uint32_t off,
                        size_t len, uint16_t mss_opt)
{
    uint8_t *p = net_tx + NET_TX_L4;
    if (len)
        memcpy(p + TCP_HLEN, c->sbuf + off, len);
    size_t h = tcp_build(p, net_if.ip, c->rip, c->lport, c->rport, seq, c->rcv_nxt, flags,
                         tcp_rcv_window(c), mss_opt, len);
    c->flags &= ~F_ACK_NOW;
    tcp_st.tx_segments++;
    tcp_st.tx_bytes += len;
    return ip_output(c->rip, IP_PROTO_TCP, h + len);
}

/* Every RST counts once, under its reason. */
static void count_reset(enum tcp_rst_reason why)
{
    tcp_st.resets_sent++;
    tcp_st.resets_by[why]++;
}

void tcp_send_reset(uint32_t rip, const struct tcp_info *t, enum tcp_rst_reason why)
{
    uint8_t *p = net_tx + NET_TX_L4;
    size_t h;
    if (t->flags & TCP_ACK) {
        h = tcp_build(p, net_if.ip, rip, t->dport, t->sport, t->ack, 0, TCP_RST, 0, 0, 0);
    } else {
        h = tcp_build(p, net_if.ip, rip, t->dport, t->sport, 0, t->seq + tcp_seg_len(t),
                      TCP_RST | TCP_ACK, 0, 0, 0);
    }
    count_reset(why);
    tcp_st.tx_segments++;
    ip_output(rip, IP_PROTO_TCP, h);
}

void tcp_send_syn_ack_stateless(uint32_t rip, const struct tcp_info *t, uint32_t iss)
{
    size_t h = tcp_build(net_tx + NET_TX_L4, net_if.ip, rip, t->dport, t->sport, iss,
                         t->seq + 1, TCP_SYN | TCP_ACK, TCP_RCVBUF, TCP_MSS_OURS, 0);
    tcp_st.tx_segments++;
    ip_output(rip, IP_PROTO_TCP, h);
}

/* At snd_nxt [RFC 9293 3.10.5], unless that lies beyond the right edge of
 * the peer's window (a zero-window probe went out): a receiver takes an
 * RST only inside its window (RFC 5961 3.2; Linux drops one beyond it, and
 * its connection would then stay open for ever), so then at the edge,
 * snd_una + snd_wnd, as Linux's tcp_acceptable_seq does. (In SYN-RECEIVED
 * the window does not count our SYN: snd_nxt it is.) */
void tcp_send_rst(struct tcp_conn *c, enum tcp_rst_reason why)
{
    uint32_t edge = c->snd_una + c->snd_wnd;
    int beyond = c->state != TCP_SYN_RECEIVED && seq_gt(c->snd_nxt, edge);
    send_segment(c, beyond ? edge : c->snd_nxt, TCP_RST, 0, 0, 0);
    count_reset(why);
}

void tcp_send_ack(struct tcp_conn *c) { send_segment(c, c->snd_nxt, TCP_ACK, 0, 0, 0); }

/* At ISS, which is snd_nxt - 1 (snd_una has moved past it once the peer's
 * ACK was seen while the accept queue was full). */
void tcp_send_syn_ack(struct tcp_conn *c)
{
    send_segment(c, c->snd_nxt - 1, TCP_SYN | TCP_ACK, 0, 0, TCP_MSS_OURS);
}

/* The next segment from snd_nxt: as many unsent bytes as the window and
 * the MSS allow, and FIN if it carries the last queued byte. Returns 0
 * when there is nothing to send. */
static int send_next(struct tcp_conn *c)
{
    uint32_t sent = c->snd_nxt - c->snd_una;       /* in flight */
    uint32_t room = c->snd_wnd > sent ? c->snd_wnd - sent : 0;
    uint32_t unsent = c->sbuf_len - sent;
    uint32_t n = unsent < room ? unsent : room;
    if (n > c->mss)
        n = c->mss;
    int fin = (c->flags & F_FIN_QUEUED) && n == unsent;
    if (n == 0 && !fin)
        return 0;
    uint8_t flags = TCP_ACK | (n ? TCP_PSH : 0) | (fin ? TCP_FIN : 0);
    send_segment(c, c->snd_nxt, flags, sent, n, 0);
    tcp_rtt_start(c, c->snd_nxt);
    c->snd_nxt += n;
    if (fin) {
        c->snd_nxt++;
        c->flags |= F_FIN_SENT;
    }
    if (!(c->flags & F_TIMED))
        tcp_timer_set(c, c->rto_ms);
    return 1;
}

void tcp_output(struct tcp_conn *c)
{
    if (c->state == TCP_SYN_RECEIVED || c->state == TCP_CLOSED)
        return;
    if (c->state == TCP_TIME_WAIT) {
        if (c->flags & F_ACK_NOW)
            tcp_send_ack(c);      /* the ACK of the peer's FIN */
        return;
    }
    while (!(c->flags & F_FIN_SENT) && send_next(c))
        ;
    /* Bytes wait but the peer's window is shut: the timer probes it. */
    if (c->sbuf_len > c->snd_nxt - c->snd_una && !(c->flags & F_TIMED))
        tcp_timer_set(c, c->rto_ms);
    if (c->flags & F_ACK_NOW)
        tcp_send_ack(c);
}

/* The RTO doubled for each try so far [RFC 6298 5.5], at most TCP_RTO_MAX_MS. */
static uint32_t backoff_ms(const struct tcp_conn *c)
{
    uint32_t rto = (uint32_t)c->rto_ms << (c->retries < 16 ? c->retries : 16);
    return rto > TCP_RTO_MAX_MS ? TCP_RTO_MAX_MS : rto;
}

/* A half-open connection the peer has completed (its ACK waits for room in
 * the accept queue) is a real client: it gets the longer retry limit of an
 * established one. The SYN-ACK again makes the peer ACK again, as Linux's
 * does; the stack hands the connection over as soon as there is room. */
void tcp_syn_ack_timeout(struct tcp_conn *c)
{
    if (c->retries >= (tcp_syn_acked(c) ? TCP_RETRIES : TCP_SYN_RETRIES)) {
        tcp_conn_release(c);       /* a half-open one nobody finished: no RST, nobody to tell */
        return;
    }
    c->retries++;
    tcp_st.retransmits++;
    tcp_rtt_cancel(c);
    tcp_send_syn_ack(c);
    tcp_timer_set(c, backoff_ms(c));
}

void tcp_retransmit_timeout(struct tcp_conn *c)
{
    if (c->snd_una == c->snd_nxt && c->sbuf_len == 0)
        return;                    /* all acknowledged meanwhile */
    /* A shut window whose probe the peer answered (F_WND_ANSWERED: an ACK
     * that still says 0) is a peer that is there and reads slowly, not a
     * lost one: "as long as the receiving TCP continues to send
     * acknowledgments in response to the probe segments, the sending TCP
     * MUST allow the connection to stay open" [RFC 1122 4.2.2.17]. So it
     * is never given up; the probes go on, further apart each time, up to
     * TCP_RTO_MAX_MS. One that stops answering is given up like lost
     * data: after TCP_RETRIES tries, at the first one left unanswered.
     * Only while the user holds the connection: once it has closed it,
     * nobody waits for those bytes, and a peer that kept its window shut
     * for ever would keep the connection for ever (Linux bounds such an
     * orphan's probes too, tcp_orphan_retries): it is given up after
     * TCP_RETRIES, answered or not. */
    int answered = !c->snd_wnd && (c->flags & F_WND_ANSWERED) &&
                   !(c->flags & F_USER_CLOSED);
    c->flags &= ~F_WND_ANSWERED;
    if (c->retries >= TCP_RETRIES && !answered) {
        tcp_st.timeouts++;
        tcp_send_rst(c, TCP_RST_GIVE_UP);
        tcp_notify_closed(c, -E_TIMEDOUT);
        return;
    }
    if (c->retries < TCP_RETRIES)
        c->retries++;
    if (c->snd_nxt != c->snd_una)
        tcp_st.retransmits++;
    /* Go back: resend from the oldest unacknowledged byte. A shut window
     * gets a one-byte probe [RFC 9293 3.8.6.1]. */
    tcp_rtt_cancel(c);
    c->snd_nxt = c->snd_una;
    c->flags &= ~F_FIN_SENT;
    tcp_timer_set(c, backoff_ms(c));
    uint16_t wnd = c->snd_wnd;
    if (!wnd)
        c->snd_wnd = 1;
    tcp_output(c);
    if (!wnd)
        c->snd_wnd = 0;
}
