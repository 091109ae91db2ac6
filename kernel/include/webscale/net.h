/* The network as user/ sees it: the interface's address, its counters and
 * drops by reason, the ARP table, and ping. The stack is kernel/net/ (RFC
 * 826 ARP, RFC 791 IPv4, RFC 792 ICMP, RFC 768 UDP), the drivers
 * drivers/ne2k.c (NE2000, DP8390) and drivers/rtl8139.c (RTL8139, PCI).
 *
 * Addresses are host-order 32-bit numbers: 10.0.2.15 is 0x0A00020F.
 * Pure parts (net_parse_ip, net_fmt_ip, net_drop_name) also compile on the
 * host. */
#ifndef WEBSCALE_NET_H
#define WEBSCALE_NET_H

#include <stddef.h>
#include <stdint.h>

#define NET_IP(a, b, c, d) \
    (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

/* QEMU's user network ("slirp") defaults: our address, its gateway. */
#define NET_DEFAULT_IP      NET_IP(10, 0, 2, 15)
#define NET_DEFAULT_NETMASK NET_IP(255, 255, 255, 0)
#define NET_DEFAULT_GATEWAY NET_IP(10, 0, 2, 2)

/* Why a frame was dropped. Every frame that comes in is either handled or
 * counted under exactly one of these (the names are what `net` prints). */
enum net_drop {
    /* The driver (drivers/ne2k.c, drivers/rtl8139.c). */
    NET_DROP_RX_RING_FULL,     /* the kernel's RX ring was full and the frame could not
                                  wait on the card (only an overflow's recovery drops so) */
    NET_DROP_RX_SHORT,         /* the card's header says shorter than 60 bytes */
    NET_DROP_RX_LONG,          /* longer than 1514 bytes (a giant) */
    NET_DROP_RX_BAD_HEADER,    /* next-page pointer or status of the ring header is bad */
    NET_DROP_RX_OVERFLOW,      /* the card's ring overflowed (OVW) and was recovered;
                                  the frames it missed are in rx-card-errors */
    NET_DROP_RX_CARD_ERRORS,   /* the card's tally counters: CRC, frame alignment */
    NET_DROP_RX_CARD_MISSED,   /* the card's missed-frame tally: its own ring was full */
    NET_DROP_TX_QUEUE_FULL,    /* our transmit queue was full */
    NET_DROP_TX_ERROR,         /* the card reported a transmit error */
    /* Ethernet. */
    NET_DROP_ETH_TYPE,         /* an ethertype we do not speak (IPv6, VLAN, ...) */
    /* ARP (RFC 826). */
    NET_DROP_ARP_MALFORMED,    /* truncated, not Ethernet/IPv4, bad lengths or op */
    NET_DROP_ARP_NOT_US,       /* a request for another address, sender unknown */
    NET_DROP_ARP_OFF_SUBNET,   /* the sender's address is not on our subnet: not learned */
    NET_DROP_ARP_UNRESOLVED,   /* a packet waiting for ARP: no reply in time, or its
                                  entry was taken for another address */
    NET_DROP_ARP_QUEUE_FULL,   /* the oldest packet waiting for ARP, pushed out by a newer one */
    /* IPv4 (RFC 791, RFC 1122). */
    NET_DROP_IP_TRUNCATED,     /* shorter than its header or its total length */
    NET_DROP_IP_HEADER,        /* version not 4, header length < 20 bytes */
    NET_DROP_IP_CHECKSUM,      /* header checksum wrong */
    NET_DROP_IP_FLAGS,         /* the reserved ("evil") flag bit set */
    NET_DROP_IP_FRAGMENT,      /* a fragment: we do not reassemble */
    NET_DROP_IP_NOT_US,        /* for another address */
    NET_DROP_IP_SOURCE,        /* source is 0, broadcast, multicast, loopback or us */
    NET_DROP_IP_PROTOCOL,      /* not ICMP, UDP or TCP (ICMP protocol unreachable sent,
                                  within its rate) */
    /* ICMP (RFC 792). */
    NET_DROP_ICMP_TRUNCATED,   /* shorter than its 8-byte header */
    NET_DROP_ICMP_CHECKSUM,
    NET_DROP_ICMP_TYPE,        /* a type we do not answer, or an unexpected reply */
    /* UDP (RFC 768). */
    NET_DROP_UDP_TRUNCATED,    /* length field < 8 or beyond the IP payload */
    NET_DROP_UDP_CHECKSUM,
    NET_DROP_UDP_NO_PORT,      /* nobody listens on the port (ICMP port unreachable sent,
                                  within its rate) */
    NET_DROP_ECHO_REFUSED,     /* echo to a broadcast address, or UDP from port 0: not answered */
    /* TCP (RFC 9293). */
    NET_DROP_TCP_TRUNCATED,    /* shorter than 20 bytes or than its data offset */
    NET_DROP_TCP_HEADER,       /* data offset < 5, port 0, or not sent to our unicast address */
    NET_DROP_TCP_CHECKSUM,
    NET_DROP_TCP_FLAGS,        /* flag soup: SYN+FIN, SYN+RST, no ACK where one must be */
    NET_DROP_TCP_NO_PORT,      /* nobody listens: answered with RST */
    NET_DROP_TCP_BACKLOG,      /* a handshake's last ACK while the accept queue is full (the peer resends) */
    NET_DROP_TCP_NO_MEMORY,    /* no heap for a connection or a buffer: the peer retransmits */
    NET_DROP_TCP_WINDOW,       /* outside the receive window, out of order or an old duplicate */
    NET_DROP_TCP_BAD_ACK,      /* acknowledges what we never sent, or RST/SYN not exactly in place */
    NET_DROP_TCP_CLOSED,       /* for a connection that is closing or closed */
    NET_DROP_TCP_REASM_FULL,   /* out of order, and the reassembly queue's islands are all taken */
    NET_DROP_REASONS
};

/* "rx-ring-full", "ip-checksum", ...: one word each, for `net` and tests. */
const char *net_drop_name(int reason);

struct net_stats {
    uint64_t rx_frames, rx_bytes;      /* taken from the card into the kernel */
    uint64_t tx_frames, tx_bytes;      /* handed to the card */
    uint32_t rx_irqs;                  /* NE2000 interrupts */
    uint32_t rx_ring_max;              /* most frames ever waiting in the RX ring */
    uint32_t rx_holds;                 /* times the RX ring was full: frames waited on the card */
    uint32_t rx_ring_bytes;            /* the card's byte ring (RTL8139): its size, else 0 */
    uint32_t rx_ring_peak_bytes;       /* the most bytes waiting in it */
    uint64_t rx_arp, rx_ip, rx_icmp, rx_udp;   /* accepted by each layer */
    uint64_t arp_requests, arp_replies;        /* sent */
    uint64_t arp_refreshes;                    /* of the requests: unicast, before an entry in use expired */
    uint64_t echo_replies, udp_echoed;         /* sent: ICMP echo replies, UDP echo */
    uint64_t port_unreach;                     /* sent: ICMP port unreachable (UDP to a closed port) */
    uint64_t proto_unreach;                    /* sent: ICMP protocol unreachable (not ICMP/UDP/TCP) */
    uint64_t unreach_limited;                  /* either, not sent: over NET_ICMP_ERROR_RATE */
    uint64_t drops[NET_DROP_REASONS];
};

struct net_config {
    int up;                    /* 0: no NIC, the network is off */
    const char *nic;           /* the card: "NE2000", "RTL8139" */
    uint16_t iobase;
    uint8_t irq;
    uint8_t mac[6];
    uint32_t ip, netmask, gateway;
};

void net_get_config(struct net_config *c);
void net_get_stats(struct net_stats *s);

/* ICMP errors (port and protocol unreachable) sent per second at most, refilled into a
 * bucket of a few [RFC 1122 3.2.2 "SHOULD be rate-limited"; the number is
 * ours: enough for a scanner's answer, too few to amplify a flood]. */
#define NET_ICMP_ERROR_RATE 100

#define NET_ARP_ENTRIES 8
struct net_arp_entry {
    uint32_t ip;
    uint8_t mac[6];
    int resolved;              /* 0: a request is out, no reply yet */
    uint32_t age_ms;           /* since it was last confirmed or asked */
};
/* Copy the ARP table; returns the number of entries written. */
int net_arp_list(struct net_arp_entry *out, int max);

/* Send one ICMP echo request (56 data bytes) to ip and wait up to
 * timeout_ms for its reply. Returns 0 and the round trip in *rtt_ns (from
 * handing the request to the card to the interrupt that brought the
 * reply), -E_TIMEDOUT, -E_INTR on Ctrl-C, -E_NOENT without a NIC, or
 * -E_BUSY if another ping is outstanding, -E_INVAL for an address
 * net_dest_refused refuses (nothing is sent). For threads, not IRQ handlers
 * or loop callbacks (it waits). ttl gets the reply's TTL. */
#define NET_PING_DATA 56
int net_ping(uint32_t ip, uint16_t seq, uint32_t timeout_ms, uint64_t *rtt_ns, int *ttl);

/* Why ip can be no destination of a datagram we send from our address us,
 * or NULL if it can [RFC 1122 3.2.1.3]: 0.0.0.0/8 is "this host", a source
 * only; 127.0.0.0/8 is loopback, which "MUST NOT appear outside a host"
 * (and we have no loopback interface, so neither may our own address);
 * 240.0.0.0/4 is reserved, broadcast 255.255.255.255 apart; this stack
 * speaks no multicast, which would need its own MAC addresses, not the
 * gateway's. A reason, a phrase for after "ping: 127.0.0.1 is ". */
const char *net_dest_refused(uint32_t ip, uint32_t us);

/* "10.0.2.2" -> 0x0A000202; 0, or -1 if it is not a dotted quad. */
int net_parse_ip(const char *s, uint32_t *ip);
/* At least 16 bytes. */
void net_fmt_ip(char *buf, size_t size, uint32_t ip);
/* At least 18 bytes: "52:54:00:12:34:56". */
void net_fmt_mac(char *buf, size_t size, const uint8_t mac[6]);

#endif
