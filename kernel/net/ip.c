/* IPv4 [RFC 791; RFC 1122 3.2.1 "Internet Protocol"]: a host, not a
 * router. Accepts datagrams for our address and broadcasts whose header
 * passes ip_parse (version, length, checksum, flags), drops fragments (no
 * reassembly) and impossible sources, hands ICMP, UDP and TCP on; any
 * other protocol gets ICMP protocol unreachable [RFC 1122 3.2.2.1: a host
 * SHOULD send it] under the rate of every ICMP error, and is counted as
 * dropped whether it was sent or not. Does not
 * check the TTL on receipt (RFC 1122 3.2.1.7: a host must not discard a
 * datagram for a low TTL); sends with TTL 64 to the gateway unless the
 * destination is on our subnet. */
#include "kernel/net/net.h"

static uint16_t next_id;

static int is_broadcast(uint32_t a)
{
    return a == 0xFFFFFFFFu || a == (net_if.ip | ~net_if.netmask);
}

void ip_input(const uint8_t *p, size_t len)
{
    struct ip_info ip;
    int r = ip_parse(p, len, &ip);
    if (r == NET_PASS && ip.dst != net_if.ip && !is_broadcast(ip.dst))
        r = NET_DROP_IP_NOT_US;
    if (r == NET_PASS && ip_source_bad(ip.src, net_if.ip, net_if.netmask))
        r = NET_DROP_IP_SOURCE;
    if (r != NET_PASS) {
        net_drop(r);
        return;
    }
    net_st.rx_ip++;
    switch (ip.proto) {
    case IP_PROTO_ICMP:
        icmp_input(&ip);
        break;
    case IP_PROTO_UDP:
        udp_input(&ip);
        break;
    case IP_PROTO_TCP:
        tcp_input(&ip);
        break;
    default:
        icmp_send_unreachable(&ip, ICMP_PROTO_UNREACH);
        net_drop(NET_DROP_IP_PROTOCOL);
        break;
    }
}

int ip_output(uint32_t dst, uint8_t proto, size_t len)
{
    ip_build(net_tx + NET_TX_IP, net_if.ip, dst, proto, next_id++, len);
    if (is_broadcast(dst))
        return eth_output(net_tx, eth_broadcast, ETH_TYPE_IPV4, IP_HLEN + len);
    uint32_t hop = (dst & net_if.netmask) == (net_if.ip & net_if.netmask) ? dst : net_if.gateway;
    return arp_output(net_tx, hop, IP_HLEN + len);
}
