/* The network stack's insides, shared by the files of kernel/net/: wire formats,
 * parsed headers, the pure parsers and builders (inet.c, parse.c,
 * arp_table.c compile on the host too), and the layers' entry points.
 *
 * Threading: every layer runs in the event loop (the NE2000's ISR posts
 * net_rx; threads reach the stack through loop_call_and_wait), so the
 * stack's state needs no locks and one transmit buffer serves all. */
#ifndef KERNEL_NET_NET_H
#define KERNEL_NET_NET_H

#include <stddef.h>
#include <stdint.h>
#include <webscale/net.h>
#include <webscale/sync.h>
#include <webscale/time.h>

/* Ethernet II [IEEE 802.3 clause 3; RFC 894]. */
#define ETH_HLEN      14
#define ETH_MTU       1500
#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_ARP  0x0806
/* ARP for IPv4 over Ethernet [RFC 826]. */
#define ARP_LEN       28
#define ARP_HTYPE_ETH 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY   2
/* IPv4 [RFC 791]. */
#define IP_HLEN       20
#define IP_PROTO_ICMP 1
#define IP_PROTO_UDP  17
#define IP_PROTO_TCP  6
#define IP_FLAG_EVIL  0x8000      /* reserved, must be zero [RFC 791 3.1] */
#define IP_FLAG_DF    0x4000
#define IP_FLAG_MF    0x2000
#define IP_OFFSET_MASK 0x1FFF
#define IP_TTL_OUT    64          /* [RFC 1700 "IP default TTL"] */
/* ICMP [RFC 792]. */
#define ICMP_HLEN     8
#define ICMP_ECHO_REPLY   0
#define ICMP_ECHO_REQUEST 8
#define ICMP_DEST_UNREACH 3
#define ICMP_PROTO_UNREACH 2      /* its code for "protocol unreachable" */
#define ICMP_PORT_UNREACH 3       /* its code for "port unreachable" */
#define ICMP_QUOTE_DATA   8       /* bytes of the datagram after its IP header that
                                   * an error quotes [RFC 792; RFC 1122 3.2.2] */
#define NET_ICMP_ERROR_BURST 10   /* ICMP errors sent at once, at most (the bucket) */
/* UDP [RFC 768]. */
#define UDP_HLEN      8
#define UDP_PORT_ECHO 7           /* [RFC 862] */

/* TCP [RFC 9293 3.1]. */
#define TCP_HLEN      20
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_OPT_END 0
#define TCP_OPT_NOP 1
#define TCP_OPT_MSS 2
#define TCP_MSS_DEFAULT 536       /* without an MSS option [RFC 9293 3.7.1] */

/* Sequence numbers compare modulo 2^32 [RFC 9293 3.4]: a is before b if
 * b - a, as a signed 32-bit number, is positive. */
static inline int seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline int seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline int seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline int seq_ge(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }
/* lo <= s < lo + len, modulo 2^32. */
static inline int seq_in(uint32_t s, uint32_t lo, uint32_t len) { return s - lo < len; }

/* What the parsers return when a header is fine; otherwise an enum net_drop. */
#define NET_PASS (-1)

static inline uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xFF; }
static inline void put32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24; p[1] = (v >> 16) & 0xFF; p[2] = (v >> 8) & 0xFF; p[3] = v & 0xFF;
}

/* ---- inet.c: the Internet checksum [RFC 1071] ---- */

/* One's-complement sum of len bytes added to sum, not yet folded. */
uint32_t inet_sum(const void *data, size_t len, uint32_t sum);
/* Fold and complement: the checksum field's value. Over data that holds a
 * correct checksum it is 0. */
uint16_t inet_fold(uint32_t sum);
uint16_t inet_checksum(const void *data, size_t len);
/* The pseudo-header sum UDP and TCP cover [RFC 768; RFC 9293 3.1]. */
uint32_t inet_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

/* ---- parse.c: headers, checked; each returns NET_PASS or why not ---- */

struct eth_info {
    const uint8_t *dst, *src;
    uint16_t type;
    const uint8_t *payload;
    size_t len;
};
struct arp_info {
    uint16_t op;
    uint8_t sha[6], tha[6];
    uint32_t spa, tpa;
};
struct ip_info {
    const uint8_t *hdr;
    size_t hlen;                 /* header bytes, options included */
    uint8_t ttl, proto;
    uint16_t id;
    uint32_t src, dst;
    const uint8_t *payload;
    size_t len;                  /* from the total length: Ethernet padding cut off */
};
struct icmp_info {
    uint8_t type, code;
    uint16_t id, seq;            /* echo messages */
    const uint8_t *data;         /* after the 8-byte header */
    size_t len;
};
struct udp_info {
    uint16_t sport, dport;
    const uint8_t *data;
    size_t len;
};

struct tcp_info {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd;
    uint16_t mss;                /* from the MSS option, 0 without one */
    const uint8_t *data;
    size_t len;                  /* data bytes */
};

int eth_parse(const uint8_t *f, size_t len, struct eth_info *e);
int arp_parse(const uint8_t *p, size_t len, struct arp_info *a);
int ip_parse(const uint8_t *p, size_t len, struct ip_info *ip);
int icmp_parse(const uint8_t *p, size_t len, struct icmp_info *ic);
int udp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst, struct udp_info *u);
/* Checks length, data offset, ports, checksum (pseudo-header) and flag
 * soup; reads the MSS option. */
int tcp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst, struct tcp_info *t);
/* A source address no host may send from [RFC 1122 3.2.1.3]: 0, limited or
 * subnet broadcast, multicast/class E, loopback, or our own. */
int ip_source_bad(uint32_t src, uint32_t us, uint32_t netmask);

/* Builders: write the header at p; the payload follows it already. */
void eth_build(uint8_t *p, const uint8_t dst[6], const uint8_t src[6], uint16_t type);
void arp_build(uint8_t *p, uint16_t op, const uint8_t sha[6], uint32_t spa,
               const uint8_t tha[6], uint32_t tpa);
void ip_build(uint8_t *p, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id,
              size_t payload_len);
/* UDP header and checksum over header and data (0 becomes 0xFFFF). */
void udp_build(uint8_t *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
               size_t data_len);
/* TCP header (20 bytes, or 24 with an MSS option when mss != 0) and the
 * checksum over pseudo-header, header and data_len data bytes after it.
 * Returns the header length. */
size_t tcp_build(uint8_t *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                 uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd, uint16_t mss,
                 size_t data_len);
/* ICMP header (echo id/seq in the rest-of-header) and checksum. */
void icmp_build(uint8_t *p, uint8_t type, uint8_t code, uint16_t id, uint16_t seq,
                size_t data_len);

/* ---- arp_table.c: a few entries, aged by the caller's clock ---- */

#define ARP_TTL_NS     (60 * NS_PER_S)   /* a reply is believed this long */
#define ARP_REFRESH_NS (5 * NS_PER_S)    /* an entry in use is asked again this long
                                          * before it expires: five tries at ARP_RETRY_NS */
#define ARP_PENDING_NS (3 * NS_PER_S)    /* an unanswered request is given up */
#define ARP_RETRY_NS   (1 * NS_PER_S)    /* ask again at most this often */
#define ARP_QUEUE_LEN  4                 /* packets held per address being resolved */

enum arp_state { ARP_FREE, ARP_PENDING, ARP_RESOLVED };
struct arp_slot {
    uint32_t ip;
    uint8_t mac[6];
    uint8_t state;               /* enum arp_state */
    uint64_t stamp_ns;           /* resolved: confirmed; pending: first asked */
    uint64_t asked_ns;           /* last request sent (pending, or resolved and refreshing) */
};
struct arp_table {
    struct arp_slot s[NET_ARP_ENTRIES];
};
void arp_table_init(struct arp_table *t);
/* Drop entries that are too old. Returns a bitmask of the slots freed. */
uint32_t arp_table_expire(struct arp_table *t, uint64_t now);
/* The slot index for ip, or -1. */
int arp_table_find(const struct arp_table *t, uint32_t ip);
/* RFC 826's merge: if ip has a slot, set its MAC, resolved, now; returns
 * the slot or -1. */
int arp_table_update(struct arp_table *t, uint32_t ip, const uint8_t mac[6], uint64_t now);
/* A slot for ip (mac NULL: pending), taking a free one or the oldest. */
int arp_table_insert(struct arp_table *t, uint32_t ip, const uint8_t *mac, uint64_t now);
/* Slot i is resolved and about to be used: 1 if it is time to ask its
 * owner again (within ARP_REFRESH_NS of expiry, and no request in the last
 * ARP_RETRY_NS), noting the request; the old MAC stays in use meanwhile. */
int arp_table_refresh_due(struct arp_table *t, int i, uint64_t now);
/* NET_PASS if ARP may take a packet from sender address spa (0.0.0.0, an
 * RFC 5227 probe, included), NET_DROP_ARP_OFF_SUBNET if spa is outside
 * our subnet: no neighbour of ours, whom we would reach via the gateway. */
int arp_sender_check(uint32_t spa, uint32_t us, uint32_t netmask);

/* The frames waiting for one address to resolve, oldest first. */
struct arp_queue {
    uint32_t ip;                 /* the address they wait for */
    uint8_t head, n;             /* the oldest one's index; how many wait */
    uint16_t len[ARP_QUEUE_LEN]; /* IP packet bytes after the Ethernet header */
    uint8_t frame[ARP_QUEUE_LEN][ETH_HLEN + ETH_MTU];
};
/* Hold the frame in buf (ETH_HLEN + len bytes) for ip, which must be the
 * address of those already waiting. A full queue lets its oldest go: 1 if
 * one went, else 0. */
int arp_queue_push(struct arp_queue *q, uint32_t ip, const uint8_t *buf, size_t len);
/* The oldest frame waiting for ip (its IP bytes in *len), or NULL;
 * arp_queue_pop lets it go. */
uint8_t *arp_queue_peek(struct arp_queue *q, uint32_t ip, size_t *len);
void arp_queue_pop(struct arp_queue *q);
/* Let every frame go; returns how many there were. */
int arp_queue_clear(struct arp_queue *q);

/* ---- the layers (net.c, eth.c, arp.c, ip.c, icmp.c, udp.c, tcp*.c) ---- */

struct netdev;

struct net_iface {
    int up;
    struct netdev *dev;                     /* the card (kernel/net/netdev.h) */
    uint8_t mac[6];
    uint32_t ip, netmask, gateway;
};
extern struct net_iface net_if;
extern struct net_stats net_st;            /* the stack's counters (the driver has its own) */
extern uint64_t net_rx_ns;                  /* when the frame being handled arrived */
extern int net_rx_link_group;               /* it came to a broadcast or multicast MAC */

static inline void net_drop(int reason) { net_st.drops[reason]++; }

/* One transmit frame, built in place: Ethernet header, IP header, then
 * the transport's header and data at NET_TX_L4. */
#define NET_TX_IP  ETH_HLEN
#define NET_TX_L4  (ETH_HLEN + IP_HLEN)
extern uint8_t net_tx[ETH_HLEN + ETH_MTU];

/* ff:ff:ff:ff:ff:ff, every station on the segment (eth.c). */
extern const uint8_t eth_broadcast[6];

void eth_input(const uint8_t *f, size_t len);
/* Send buf (payload at buf + ETH_HLEN) to dst. 0 or -E_BUSY. */
int eth_output(uint8_t *buf, const uint8_t dst[6], uint16_t type, size_t payload_len);

void arp_input(const uint8_t *p, size_t len);
/* Send the frame in buf (IP packet of len bytes at buf + ETH_HLEN) to the
 * next hop: now if its MAC is known, else hold it and ask. */
int arp_output(uint8_t *buf, uint32_t next_hop, size_t len);
void arp_init(void);
/* loop_call_and_wait target: arg is a struct arp_list_req (net.c). */
struct arp_list_req {
    struct net_arp_entry *out;
    int max, n;
};
void arp_list(void *arg);

void ip_input(const uint8_t *p, size_t len);
/* net_tx holds len bytes of transport at NET_TX_L4: add the IP header
 * and send. */
int ip_output(uint32_t dst, uint8_t proto, size_t len);

void icmp_input(const struct ip_info *ip);
void udp_input(const struct ip_info *ip);
void tcp_input(const struct ip_info *ip);

typedef void (*udp_handler)(const struct ip_info *ip, const struct udp_info *u);
/* Listen on port; 0, -E_BUSY (taken) or -E_NOMEM (table full). */
int udp_bind(uint16_t port, udp_handler fn);
/* Send data_len bytes that are already at net_tx + NET_TX_L4 + UDP_HLEN. */
int udp_output(uint32_t dst, uint16_t sport, uint16_t dport, size_t data_len);
/* Binds the echo service on port 7. */
void udp_init(void);

/* The ping in flight (icmp.c), for net_ping: the reply (or a failed send)
 * sets done and signals changed, which net_ping waits on. */
struct ping_state {
    volatile int waiting, done;
    struct event changed;
    uint32_t ip;
    uint16_t id, seq;
    uint64_t sent_ns;
    volatile uint64_t rtt_ns;
    int ttl;
};
extern struct ping_state net_ping_state;
int icmp_send_echo(uint32_t dst, uint16_t id, uint16_t seq);
/* Destination unreachable (code) about the datagram ip, quoting its
 * header and first 8 bytes, to its sender: only if it came to our own
 * address on a unicast frame, and within NET_ICMP_ERROR_RATE. */
void icmp_send_unreachable(const struct ip_info *ip, uint8_t code);

/* Bring the interface up on dev (the boot wiring probed it), or report
 * that there is no network when dev is NULL. */
void net_init(struct netdev *dev);

#endif
