/* Ethernet II [RFC 894]: hand each frame to ARP or IPv4 by its ethertype,
 * count the rest. The card already dropped frames addressed to other
 * stations (it accepts our address and broadcast only), so there is no
 * destination check here. */
#include "kernel/net/net.h"
#include "kernel/net/netdev.h"

const uint8_t eth_broadcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
int net_rx_link_group;

void eth_input(const uint8_t *f, size_t len)
{
    struct eth_info e;
    int r = eth_parse(f, len, &e);
    if (r != NET_PASS) {
        net_drop(r);
        return;
    }
    net_rx_link_group = e.dst[0] & 1;    /* the I/G bit [IEEE 802.3 3.2.3] */
    switch (e.type) {
    case ETH_TYPE_ARP:
        arp_input(e.payload, e.len);
        break;
    case ETH_TYPE_IPV4:
        ip_input(e.payload, e.len);
        break;
    default:
        net_drop(NET_DROP_ETH_TYPE);
        break;
    }
}

int eth_output(uint8_t *buf, const uint8_t dst[6], uint16_t type, size_t payload_len)
{
    eth_build(buf, dst, net_if.mac, type);
    return net_if.dev->send(net_if.dev, buf, ETH_HLEN + payload_len);
}
