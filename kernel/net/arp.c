/* ARP [RFC 826], with RFC 1122 2.3.2's advice: answer requests for our
 * address, learn (merge) senders as RFC 826's "Packet Reception" says,
 * but only senders on our subnet (anyone else is no neighbour: dropped,
 * arp-off-subnet), and hold up to ARP_QUEUE_LEN packets for an address
 * being resolved, sending them in order when the reply comes (an older
 * one pushed out is counted, arp-queue-full; those that never see a reply
 * are counted too, arp-unresolved). A request is repeated at most once per
 * ARP_RETRY_NS. An entry that traffic uses is asked again by a unicast
 * request to the MAC we know, ARP_REFRESH_NS before it would expire, and
 * that MAC serves meanwhile: traffic that flows never waits for ARP. */
#include <webscale/string.h>
#include <webscale/time.h>
#include "kernel/net/net.h"

static const uint8_t zero_mac[6];

static struct arp_table table;
/* The packets waiting for each entry to resolve, parallel to table.s. */
static struct arp_queue held[NET_ARP_ENTRIES];

void arp_init(void) { arp_table_init(&table); }

static void send_arp(uint16_t op, const uint8_t eth_dst[6], const uint8_t tha[6], uint32_t tpa)
{
    uint8_t buf[ETH_HLEN + ARP_LEN];
    arp_build(buf + ETH_HLEN, op, net_if.mac, net_if.ip, tha, tpa);
    if (eth_output(buf, eth_dst, ETH_TYPE_ARP, ARP_LEN) == 0) {
        if (op == ARP_OP_REQUEST)
            net_st.arp_requests++;
        else
            net_st.arp_replies++;
    }
}

/* Every packet slot i held, given up: no reply came for it. */
static void drop_held(int i)
{
    net_st.drops[NET_DROP_ARP_UNRESOLVED] += (uint64_t)arp_queue_clear(&held[i]);
}

static void expire(uint64_t now)
{
    uint32_t freed = arp_table_expire(&table, now);
    for (int i = 0; i < NET_ARP_ENTRIES; i++)
        if (freed & (1u << i))
            drop_held(i);
}

/* Slot i just resolved: send what waited for it, oldest first. */
static void flush_held(int i)
{
    size_t len;
    uint8_t *f;
    while ((f = arp_queue_peek(&held[i], table.s[i].ip, &len)) != NULL) {
        eth_output(f, table.s[i].mac, ETH_TYPE_IPV4, len);
        arp_queue_pop(&held[i]);
    }
}

void arp_input(const uint8_t *p, size_t len)
{
    struct arp_info a;
    int r = arp_parse(p, len, &a);
    if (r == NET_PASS)
        r = arp_sender_check(a.spa, net_if.ip, net_if.netmask);
    if (r != NET_PASS) {
        net_drop(r);
        return;
    }
    uint64_t now = clock_ns();
    expire(now);
    /* RFC 826: update a sender we know whoever the packet is for... */
    int sender_ok = !ip_source_bad(a.spa, net_if.ip, net_if.netmask);
    int i = sender_ok ? arp_table_update(&table, a.spa, a.sha, now) : -1;
    if (a.tpa != net_if.ip) {
        if (i < 0)
            net_drop(NET_DROP_ARP_NOT_US);
        else
            net_st.rx_arp++;
        return;
    }
    net_st.rx_arp++;
    /* ...and add one that talks to us. */
    if (i < 0 && sender_ok)
        i = arp_table_insert(&table, a.spa, a.sha, now);
    if (i >= 0) {
        if (held[i].n && held[i].ip != a.spa)
            drop_held(i);     /* the slot was taken from an address still unresolved */
        flush_held(i);
    }
    if (a.op == ARP_OP_REQUEST)
        send_arp(ARP_OP_REPLY, a.sha, a.sha, a.spa);
}

int arp_output(uint8_t *buf, uint32_t next_hop, size_t len)
{
    uint64_t now = clock_ns();
    expire(now);
    int i = arp_table_find(&table, next_hop);
    if (i >= 0 && table.s[i].state == ARP_RESOLVED) {
        if (arp_table_refresh_due(&table, i, now)) {
            net_st.arp_refreshes++;
            send_arp(ARP_OP_REQUEST, table.s[i].mac, table.s[i].mac, next_hop);
        }
        return eth_output(buf, table.s[i].mac, ETH_TYPE_IPV4, len);
    }
    int ask = 0;
    if (i < 0) {
        i = arp_table_insert(&table, next_hop, NULL, now);
        ask = 1;
    } else if (now - table.s[i].asked_ns >= ARP_RETRY_NS) {
        table.s[i].asked_ns = now;
        ask = 1;
    }
    if (held[i].n && held[i].ip != next_hop)
        drop_held(i);         /* an evicted entry's packets */
    if (arp_queue_push(&held[i], next_hop, buf, len))
        net_drop(NET_DROP_ARP_QUEUE_FULL);
    if (ask)
        send_arp(ARP_OP_REQUEST, eth_broadcast, zero_mac, next_hop);
    return 0;
}

/* For net_arp_list, run in the loop. */
void arp_list(void *arg)
{
    struct arp_list_req *q = arg;
    uint64_t now = clock_ns();
    expire(now);
    q->n = 0;
    for (int i = 0; i < NET_ARP_ENTRIES && q->n < q->max; i++) {
        const struct arp_slot *s = &table.s[i];
        if (s->state == ARP_FREE)
            continue;
        struct net_arp_entry *e = &q->out[q->n++];
        e->ip = s->ip;
        memcpy(e->mac, s->mac, 6);
        e->resolved = s->state == ARP_RESOLVED;
        e->age_ms = (uint32_t)((now - (e->resolved ? s->stamp_ns : s->asked_ns)) / NS_PER_MS);
    }
}
