/* The ARP cache [RFC 826 "Packet Reception"; RFC 1122 2.3.2.1 "ARP Cache
 * Validation"]: NET_ARP_ENTRIES slots, each free, pending (a request is
 * out) or resolved. Entries age out (a reply is believed ARP_TTL_NS, a
 * request waits ARP_PENDING_NS); a full table gives up its oldest entry, so
 * a flood of ARP from made-up senders costs nothing but those slots.
 * The caller passes the time: pure, compiles on the host too. */
#include <webscale/string.h>
#include "kernel/net/net.h"

void arp_table_init(struct arp_table *t) { memset(t, 0, sizeof *t); }

uint32_t arp_table_expire(struct arp_table *t, uint64_t now)
{
    uint32_t freed = 0;
    for (int i = 0; i < NET_ARP_ENTRIES; i++) {
        struct arp_slot *s = &t->s[i];
        uint64_t limit = s->state == ARP_RESOLVED ? ARP_TTL_NS : ARP_PENDING_NS;
        if (s->state != ARP_FREE && now - s->stamp_ns >= limit) {
            s->state = ARP_FREE;
            freed |= 1u << i;
        }
    }
    return freed;
}

int arp_table_find(const struct arp_table *t, uint32_t ip)
{
    for (int i = 0; i < NET_ARP_ENTRIES; i++)
        if (t->s[i].state != ARP_FREE && t->s[i].ip == ip)
            return i;
    return -1;
}

int arp_table_update(struct arp_table *t, uint32_t ip, const uint8_t mac[6], uint64_t now)
{
    int i = arp_table_find(t, ip);
    if (i >= 0) {
        memcpy(t->s[i].mac, mac, 6);
        t->s[i].state = ARP_RESOLVED;
        t->s[i].stamp_ns = now;
    }
    return i;
}

int arp_table_insert(struct arp_table *t, uint32_t ip, const uint8_t *mac, uint64_t now)
{
    int i = arp_table_find(t, ip);
    if (i < 0) {
        /* A free slot, else the one confirmed (or asked) longest ago. */
        i = 0;
        for (int k = 0; k < NET_ARP_ENTRIES; k++) {
            if (t->s[k].state == ARP_FREE) {
                i = k;
                break;
            }
            if (t->s[k].stamp_ns < t->s[i].stamp_ns)
                i = k;
        }
    }
    struct arp_slot *s = &t->s[i];
    s->ip = ip;
    s->stamp_ns = now;
    if (mac) {
        memcpy(s->mac, mac, 6);
        s->state = ARP_RESOLVED;
    } else {
        memset(s->mac, 0, 6);
        s->state = ARP_PENDING;
        s->asked_ns = now;
    }
    return i;
}
