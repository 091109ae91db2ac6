/* Header parsing and building for Ethernet [RFC 894], ARP [RFC 826], IPv4
 * [RFC 791, RFC 1122 3.2.1], ICMP [RFC 792], UDP [RFC 768] and TCP [RFC 9293]. Every check
 * a frame from the wire must pass is here, in one place, and each failure
 * names its reason (enum net_drop). Nothing is read beyond len.
 * Pure: compiles on the host too (tests/host/test_net.c, test_tcp.c). */
#include <webscale/string.h>
#include "kernel/net/net.h"

int eth_parse(const uint8_t *f, size_t len, struct eth_info *e)
{
    if (len < ETH_HLEN)
        return NET_DROP_RX_SHORT;
    e->dst = f;
    e->src = f + 6;
    e->type = get16(f + 12);
    e->payload = f + ETH_HLEN;
    e->len = len - ETH_HLEN;
    return NET_PASS;
}

int arp_parse(const uint8_t *p, size_t len, struct arp_info *a)
{
    if (len < ARP_LEN || get16(p) != ARP_HTYPE_ETH || get16(p + 2) != ETH_TYPE_IPV4 ||
        p[4] != 6 || p[5] != 4)
        return NET_DROP_ARP_MALFORMED;
    a->op = get16(p + 6);
    if (a->op != ARP_OP_REQUEST && a->op != ARP_OP_REPLY)
        return NET_DROP_ARP_MALFORMED;
    memcpy(a->sha, p + 8, 6);
    a->spa = get32(p + 14);
    memcpy(a->tha, p + 18, 6);
    a->tpa = get32(p + 24);
    /* A broadcast or multicast sender hardware address is a lie. */
    if (a->sha[0] & 1)
        return NET_DROP_ARP_MALFORMED;
    return NET_PASS;
}

int ip_parse(const uint8_t *p, size_t len, struct ip_info *ip)
{
    if (len < IP_HLEN)
        return NET_DROP_IP_TRUNCATED;
    size_t hlen = (size_t)(p[0] & 0x0F) * 4;
    if (p[0] >> 4 != 4 || hlen < IP_HLEN)
        return NET_DROP_IP_HEADER;
    if (hlen > len)
        return NET_DROP_IP_TRUNCATED;
    size_t total = get16(p + 2);
    if (total < hlen)
        return NET_DROP_IP_HEADER;
    if (total > len)
        return NET_DROP_IP_TRUNCATED;
    if (inet_checksum(p, hlen) != 0)
        return NET_DROP_IP_CHECKSUM;
    uint16_t frag = get16(p + 6);
    if (frag & IP_FLAG_EVIL)
        return NET_DROP_IP_FLAGS;
    if (frag & (IP_FLAG_MF | IP_OFFSET_MASK))
        return NET_DROP_IP_FRAGMENT;
    ip->hdr = p;
    ip->hlen = hlen;
    ip->id = get16(p + 4);
    ip->ttl = p[8];
    ip->proto = p[9];
    ip->src = get32(p + 12);
    ip->dst = get32(p + 16);
    ip->payload = p + hlen;
    ip->len = total - hlen;
    return NET_PASS;
}

int ip_source_bad(uint32_t src, uint32_t us, uint32_t netmask)
{
    uint32_t top = src >> 24;
    return src == 0 || src == 0xFFFFFFFFu || top >= 224 || top == 127 || src == us ||
           ((src & ~netmask) == ~netmask && (src & netmask) == (us & netmask));
}

int icmp_parse(const uint8_t *p, size_t len, struct icmp_info *ic)
{
    if (len < ICMP_HLEN)
        return NET_DROP_ICMP_TRUNCATED;
    if (inet_checksum(p, len) != 0)
        return NET_DROP_ICMP_CHECKSUM;
    ic->type = p[0];
    ic->code = p[1];
    ic->id = get16(p + 4);
    ic->seq = get16(p + 6);
    ic->data = p + ICMP_HLEN;
    ic->len = len - ICMP_HLEN;
    return NET_PASS;
}

int udp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst, struct udp_info *u)
{
    if (len < UDP_HLEN)
        return NET_DROP_UDP_TRUNCATED;
    size_t ulen = get16(p + 4);
    if (ulen < UDP_HLEN || ulen > len)
        return NET_DROP_UDP_TRUNCATED;
    /* 0 means the sender computed none [RFC 768]. */
    if (get16(p + 6) != 0 &&
        inet_fold(inet_sum(p, ulen, inet_pseudo_sum(src, dst, IP_PROTO_UDP, (uint16_t)ulen))))
        return NET_DROP_UDP_CHECKSUM;
    u->sport = get16(p);
    u->dport = get16(p + 2);
    u->data = p + UDP_HLEN;
    u->len = ulen - UDP_HLEN;
    return NET_PASS;
}

void eth_build(uint8_t *p, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
    memcpy(p, dst, 6);
    memcpy(p + 6, src, 6);
    put16(p + 12, type);
}

void arp_build(uint8_t *p, uint16_t op, const uint8_t sha[6], uint32_t spa,
               const uint8_t tha[6], uint32_t tpa)
{
    put16(p, ARP_HTYPE_ETH);
    put16(p + 2, ETH_TYPE_IPV4);
    p[4] = 6;
    p[5] = 4;
    put16(p + 6, op);
    memcpy(p + 8, sha, 6);
    put32(p + 14, spa);
    memcpy(p + 18, tha, 6);
    put32(p + 24, tpa);
}

void ip_build(uint8_t *p, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id,
              size_t payload_len)
{
    p[0] = 0x45;                 /* version 4, 5 words: no options */
    p[1] = 0;                    /* routine service */
    put16(p + 2, (uint16_t)(IP_HLEN + payload_len));
    put16(p + 4, id);
    put16(p + 6, 0);             /* may fragment, but we never send more than the MTU */
    p[8] = IP_TTL_OUT;
    p[9] = proto;
    put16(p + 10, 0);
    put32(p + 12, src);
    put32(p + 16, dst);
    put16(p + 10, inet_checksum(p, IP_HLEN));
}

void udp_build(uint8_t *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
               size_t data_len)
{
    uint16_t ulen = (uint16_t)(UDP_HLEN + data_len);
    put16(p, sport);
    put16(p + 2, dport);
    put16(p + 4, ulen);
    put16(p + 6, 0);
    uint16_t c = inet_fold(inet_sum(p, ulen, inet_pseudo_sum(src, dst, IP_PROTO_UDP, ulen)));
    put16(p + 6, c ? c : 0xFFFF);     /* 0 would mean "no checksum" */
}

void icmp_build(uint8_t *p, uint8_t type, uint8_t code, uint16_t id, uint16_t seq,
                size_t data_len)
{
    p[0] = type;
    p[1] = code;
    put16(p + 2, 0);
    put16(p + 4, id);
    put16(p + 6, seq);
    put16(p + 2, inet_checksum(p, ICMP_HLEN + data_len));
}

int tcp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst, struct tcp_info *t)
{
    if (len < TCP_HLEN)
        return NET_DROP_TCP_TRUNCATED;
    size_t off = (size_t)(p[12] >> 4) * 4;
    if (off < TCP_HLEN)
        return NET_DROP_TCP_HEADER;
    if (off > len)
        return NET_DROP_TCP_TRUNCATED;
    if (len > 0xFFFF ||
        inet_fold(inet_sum(p, len, inet_pseudo_sum(src, dst, IP_PROTO_TCP, (uint16_t)len))))
        return NET_DROP_TCP_CHECKSUM;
    t->sport = get16(p);
    t->dport = get16(p + 2);
    if (t->sport == 0 || t->dport == 0)
        return NET_DROP_TCP_HEADER;
    t->seq = get32(p + 4);
    t->ack = get32(p + 8);
    t->flags = p[13] & 0x3F;
    t->wnd = get16(p + 14);
    t->mss = 0;
    for (size_t i = TCP_HLEN; i < off;) {
        uint8_t kind = p[i];
        if (kind == TCP_OPT_END)
            break;
        if (kind == TCP_OPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= off || p[i + 1] < 2 || i + p[i + 1] > off)
            return NET_DROP_TCP_HEADER;
        if (kind == TCP_OPT_MSS && p[i + 1] == 4)
            t->mss = get16(p + i + 2);
        i += p[i + 1];
    }
    t->data = p + off;
    t->len = len - off;
    uint8_t f = t->flags;
    /* Flag soup no real stack sends: SYN with FIN or RST, RST with FIN,
     * and anything but a SYN or an RST without ACK (RFC 9293 3.10.7: every
     * segment after the first SYN carries ACK), the null and Xmas scans
     * included. Checked last, so *t is whole: a closed port still answers
     * such a segment with RST (RFC 9293 3.10.7.1). */
    if (((f & TCP_SYN) && (f & (TCP_FIN | TCP_RST))) || ((f & TCP_RST) && (f & TCP_FIN)) ||
        (!(f & TCP_ACK) && f != TCP_SYN && !(f & TCP_RST)))
        return NET_DROP_TCP_FLAGS;
    return NET_PASS;
}

size_t tcp_build(uint8_t *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                 uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd, uint16_t mss,
                 size_t data_len)
{
    size_t hlen = mss ? TCP_HLEN + 4 : TCP_HLEN;
    if (mss)   /* the data, if any, must start after the option: move it */
        memmove(p + hlen, p + TCP_HLEN, data_len);
    put16(p, sport);
    put16(p + 2, dport);
    put32(p + 4, seq);
    put32(p + 8, ack);
    p[12] = (uint8_t)(hlen / 4) << 4;
    p[13] = flags;
    put16(p + 14, wnd);
    put16(p + 16, 0);
    put16(p + 18, 0);            /* no urgent data */
    if (mss) {
        p[20] = TCP_OPT_MSS;
        p[21] = 4;
        put16(p + 22, mss);
    }
    uint16_t tl = (uint16_t)(hlen + data_len);
    put16(p + 16, inet_fold(inet_sum(p, tl, inet_pseudo_sum(src, dst, IP_PROTO_TCP, tl))));
    return hlen;
}
