/* ICMP [RFC 792; RFC 1122 3.2.2]: answer echo requests to our address with
 * the same identifier, sequence number and data; match echo replies to the
 * one ping in flight (net_ping). Echo requests to a broadcast address are
 * not answered (RFC 1122 3.2.2.6 allows it; it keeps us out of smurf
 * floods). Every other type is counted and dropped.
 *
 * An echo request's code is not looked at: RFC 792 gives echo only code 0
 * but says nothing of a receiver that meets another, and hosts answer it
 * (nmap -O sends code 9 and notes what comes back; Linux copies the code
 * into its reply). We answer too, and, conservative in what we send
 * [RFC 1122 1.2.2], with the one code RFC 792 gives the reply: 0.
 *
 * Errors: destination unreachable for UDP to a closed port (udp.c, code 3)
 * and for a protocol we do not speak (ip.c, code 2 [RFC 1122 3.2.2.1]), never
 * about what RFC 1122 3.2.2 forbids (an ICMP error, an IP or link-layer
 * broadcast or multicast, a fragment, a source that is no single host:
 * ip_input already drops the last two, UDP never hands us the first), and
 * at most NET_ICMP_ERROR_RATE a second from a bucket of
 * NET_ICMP_ERROR_BURST; what the bucket refuses is counted. */
#include <webscale/string.h>
#include <webscale/sync.h>
#include <webscale/time.h>
#include "kernel/lib/ratelimit.h"
#include "kernel/net/net.h"

struct ping_state net_ping_state = {
    .changed = EVENT_INIT(net_ping_state.changed, "ping reply"),
};
static struct ratelimit icmp_errors = RATELIMIT_INIT(NET_ICMP_ERROR_RATE, NET_ICMP_ERROR_BURST);

void icmp_input(const struct ip_info *ip)
{
    struct icmp_info ic;
    int r = icmp_parse(ip->payload, ip->len, &ic);
    if (r != NET_PASS) {
        net_drop(r);
        return;
    }
    net_st.rx_icmp++;
    if (ic.type == ICMP_ECHO_REQUEST) {   /* any code: see above */
        if (ip->dst != net_if.ip) {
            net_drop(NET_DROP_ECHO_REFUSED);
            return;
        }
        uint8_t *m = net_tx + NET_TX_L4;
        memcpy(m + ICMP_HLEN, ic.data, ic.len);
        icmp_build(m, ICMP_ECHO_REPLY, 0, ic.id, ic.seq, ic.len);
        if (ip_output(ip->src, IP_PROTO_ICMP, ICMP_HLEN + ic.len) == 0)
            net_st.echo_replies++;
        return;
    }
    struct ping_state *P = &net_ping_state;
    if (ic.type == ICMP_ECHO_REPLY && P->waiting && !P->done && ic.id == P->id &&
        ic.seq == P->seq && ip->src == P->ip) {
        P->rtt_ns = net_rx_ns - P->sent_ns;
        P->ttl = ip->ttl;
        P->done = 1;
        event_signal(&P->changed);
        return;
    }
    net_drop(NET_DROP_ICMP_TYPE);
}

int icmp_send_echo(uint32_t dst, uint16_t id, uint16_t seq)
{
    uint8_t *m = net_tx + NET_TX_L4;
    for (int i = 0; i < NET_PING_DATA; i++)
        m[ICMP_HLEN + i] = (uint8_t)i;
    icmp_build(m, ICMP_ECHO_REQUEST, 0, id, seq, NET_PING_DATA);
    net_ping_state.sent_ns = clock_ns();
    return ip_output(dst, IP_PROTO_ICMP, ICMP_HLEN + NET_PING_DATA);
}

void icmp_send_unreachable(const struct ip_info *ip, uint8_t code)
{
    if (ip->dst != net_if.ip || net_rx_link_group)
        return;
    if (!ratelimit_take(&icmp_errors, clock_ns())) {
        net_st.unreach_limited++;
        return;
    }
    size_t quote = ip->hlen + (ip->len < ICMP_QUOTE_DATA ? ip->len : ICMP_QUOTE_DATA);
    uint8_t *m = net_tx + NET_TX_L4;
    memcpy(m + ICMP_HLEN, ip->hdr, quote);
    icmp_build(m, ICMP_DEST_UNREACH, code, 0, 0, quote);   /* "unused" is zero */
    if (ip_output(ip->src, IP_PROTO_ICMP, ICMP_HLEN + quote) == 0) {
        if (code == ICMP_PROTO_UNREACH)
            net_st.proto_unreach++;
        else
            net_st.port_unreach++;
    }
}
