/* The retransmission timeout from measured round trips [RFC 6298].
 *
 * One segment at a time is timed (rtt_seq, sent at rtt_ms): the SYN-ACK,
 * then new data or FIN. The ACK that covers it gives a sample R, and
 *
 *   first sample:  SRTT = R, RTTVAR = R/2                          (2.2)
 *   then:          RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|,
 *                  SRTT = 7/8 SRTT + 1/8 R                         (2.3)
 *   RTO = SRTT + max(G, K * RTTVAR), K = 4, G = the timer's tick,
 *   within [TCP_RTO_MIN_MS, TCP_RTO_MAX_MS]                     (2.4, 2.5)
 *
 * kept as SRTT * 8 and RTTVAR * 8 in milliseconds, so the 1/8 and 1/4
 * steps are shifts. Karn's rule (section 3): a retransmission cancels the
 * timing, and nothing is timed again until the ACK passes everything sent
 * before it (F_KARN, up to rtt_seq), so an ACK is never matched with the
 * wrong copy. The backoff (5.5) is tcp_output.c's: RTO << retries. */
#include "kernel/net/tcp_internal.h"

#define RTT_SAMPLE_MAX_MS 8000u      /* SRTT * 8 fits 16 bits; a LAN never waits so long */

void tcp_rtt_start(struct tcp_conn *c, uint32_t seq)
{
    if (c->flags & (F_RTT | F_KARN))
        return;
    c->flags |= F_RTT;
    c->rtt_seq = seq;
    c->rtt_ms = (uint16_t)tcp_now_ms();
}

void tcp_rtt_cancel(struct tcp_conn *c)
{
    c->flags &= ~F_RTT;
    c->flags |= F_KARN;
    c->rtt_seq = c->snd_nxt;     /* nothing is timed until this is acknowledged */
}

void tcp_rto_sample(struct tcp_conn *c, uint32_t r)
{
    if (r > RTT_SAMPLE_MAX_MS)
        r = RTT_SAMPLE_MAX_MS;
    if (!(c->flags & F_SRTT)) {
        c->srtt8 = (uint16_t)(r << 3);
        c->rttvar8 = (uint16_t)(r << 2);
        c->flags |= F_SRTT;
    } else {
        uint32_t r8 = r << 3;
        uint32_t err8 = r8 > c->srtt8 ? r8 - c->srtt8 : c->srtt8 - r8;
        /* Rounded to nearest: truncating both steps would bias up. */
        c->rttvar8 = (uint16_t)(c->rttvar8 - ((c->rttvar8 + 2) >> 2) + ((err8 + 2) >> 2));
        c->srtt8 = (uint16_t)(c->srtt8 - ((c->srtt8 + 4) >> 3) + r);
    }
    uint32_t var8 = 4u * c->rttvar8;                   /* K * RTTVAR, times 8 */
    uint32_t rto = (c->srtt8 + (var8 > 8 * TCP_TICK_MS ? var8 : 8 * TCP_TICK_MS) + 4) >> 3;
    if (rto < TCP_RTO_MIN_MS)
        rto = TCP_RTO_MIN_MS;
    c->rto_ms = (uint16_t)(rto > TCP_RTO_MAX_MS ? TCP_RTO_MAX_MS : rto);
}

void tcp_rtt_ack(struct tcp_conn *c, uint32_t ack)
{
    if ((c->flags & F_KARN) && seq_ge(ack, c->rtt_seq))
        c->flags &= ~F_KARN;
    if (!(c->flags & F_RTT) || !seq_gt(ack, c->rtt_seq))
        return;
    c->flags &= ~F_RTT;
    tcp_rto_sample(c, (uint16_t)((uint16_t)tcp_now_ms() - c->rtt_ms));
}

/* RFC 6298 5.7: the SYN-ACK had to be sent again and no sample came: data
 * starts with an RTO of 3 s, the old initial value, not the 1 s one. */
void tcp_rtt_established(struct tcp_conn *c)
{
    if (c->retries && !(c->flags & F_SRTT) && c->rto_ms < TCP_RTO_SYN_LOST_MS)
        c->rto_ms = TCP_RTO_SYN_LOST_MS;
}
