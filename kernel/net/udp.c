/* UDP [RFC 768; RFC 1122 4.1]: checksum verified when the sender set one,
 * a small table of ports and their handlers, and the echo service on port
 * 7 [RFC 862] that sends every datagram back where it came from. Datagrams
 * for a port nobody listens on are dropped and counted, and answered with
 * ICMP port unreachable [RFC 1122 4.1.3.1] (icmp.c: rate-limited, never to
 * a broadcast). */
#include <webscale/errno.h>
#include <webscale/string.h>
#include "kernel/net/net.h"

#define UDP_PORTS 8

static struct {
    uint16_t port;
    udp_handler fn;
} ports[UDP_PORTS];

void udp_input(const struct ip_info *ip)
{
    struct udp_info u;
    int r = udp_parse(ip->payload, ip->len, ip->src, ip->dst, &u);
    if (r != NET_PASS) {
        net_drop(r);
        return;
    }
    net_st.rx_udp++;
    for (int i = 0; i < UDP_PORTS; i++) {
        if (ports[i].fn && ports[i].port == u.dport) {
            ports[i].fn(ip, &u);
            return;
        }
    }
    net_drop(NET_DROP_UDP_NO_PORT);
    icmp_send_unreachable(ip, ICMP_PORT_UNREACH);
}

int udp_bind(uint16_t port, udp_handler fn)
{
    int free = -1;
    for (int i = 0; i < UDP_PORTS; i++) {
        if (ports[i].fn && ports[i].port == port)
            return -E_BUSY;
        if (!ports[i].fn && free < 0)
            free = i;
    }
    if (free < 0)
        return -E_NOMEM;
    ports[free].port = port;
    ports[free].fn = fn;
    return 0;
}

int udp_output(uint32_t dst, uint16_t sport, uint16_t dport, size_t data_len)
{
    udp_build(net_tx + NET_TX_L4, net_if.ip, dst, sport, dport, data_len);
    return ip_output(dst, IP_PROTO_UDP, UDP_HLEN + data_len);
}

/* RFC 862: send back what came. Never to a broadcast (an amplifier), nor
 * to a source port below UDP_PORT_CLIENT_MIN: port 0 no client can have
 * sent from, and the others are services' ports, where a client never
 * sits. A datagram forged from another host's echo (7) or chargen (19)
 * would otherwise start the two services answering each other for ever,
 * each answer a new question (the UDP "echo loop", CERT CA-1996-01;
 * BSD inetd refuses the same). A client's port is ephemeral, above 1023. */
#define UDP_PORT_CLIENT_MIN 1024

static void udp_echo(const struct ip_info *ip, const struct udp_info *u)
{
    if (ip->dst != net_if.ip || u->sport < UDP_PORT_CLIENT_MIN) {
        net_drop(NET_DROP_ECHO_REFUSED);
        return;
    }
    memcpy(net_tx + NET_TX_L4 + UDP_HLEN, u->data, u->len);
    if (udp_output(ip->src, UDP_PORT_ECHO, u->sport, u->len) == 0)
        net_st.udp_echoed++;
}

void udp_init(void) { udp_bind(UDP_PORT_ECHO, udp_echo); }
