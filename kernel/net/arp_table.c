/* The ARP cache [RFC 826 "Packet Reception"; RFC 1122 2.3.2.1 "ARP Cache
 * Validation"]: NET_ARP_ENTRIES slots, each free, pending (a request is
 * out) or resolved. Entries age out (a reply is believed ARP_TTL_NS, a
 * request waits ARP_PENDING_NS); a full table gives up its oldest entry, so
 * a flood of ARP from made-up senders costs nothing but those slots, and
 * only senders on our subnet get one at all. An entry in use is asked
 * again, unicast, ARP_REFRESH_NS before it would expire (RFC 1122
 * 2.3.2.1's "unicast poll"), and its MAC serves until then, so traffic
 * that flows never waits for ARP. Beside it, the queue of frames waiting
 * for one address: ARP_QUEUE_LEN of them, the oldest let go first
 * (RFC 1122 2.3.2.2 asks to keep "at least one"; one is not enough for a
 * burst of replies).
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

int arp_table_refresh_due(struct arp_table *t, int i, uint64_t now)
{
    struct arp_slot *s = &t->s[i];
    if (s->state != ARP_RESOLVED || now - s->stamp_ns < ARP_TTL_NS - ARP_REFRESH_NS)
        return 0;
    /* Asked since the last confirmation, and not long ago: wait. */
    if (s->asked_ns > s->stamp_ns && now - s->asked_ns < ARP_RETRY_NS)
        return 0;
    s->asked_ns = now;
    return 1;
}

int arp_sender_check(uint32_t spa, uint32_t us, uint32_t netmask)
{
    if (spa != 0 && (spa & netmask) != (us & netmask))
        return NET_DROP_ARP_OFF_SUBNET;
    return NET_PASS;
}

int arp_queue_push(struct arp_queue *q, uint32_t ip, const uint8_t *buf, size_t len)
{
    int dropped = 0;
    if (q->n == ARP_QUEUE_LEN) {
        arp_queue_pop(q);
        dropped = 1;
    }
    int k = (q->head + q->n) % ARP_QUEUE_LEN;
    q->ip = ip;
    q->len[k] = (uint16_t)len;
    memcpy(q->frame[k], buf, ETH_HLEN + len);
    q->n++;
    return dropped;
}

uint8_t *arp_queue_peek(struct arp_queue *q, uint32_t ip, size_t *len)
{
    if (!q->n || q->ip != ip)
        return NULL;
    *len = q->len[q->head];
    return q->frame[q->head];
}

void arp_queue_pop(struct arp_queue *q)
{
    if (q->n) {
        q->head = (uint8_t)((q->head + 1) % ARP_QUEUE_LEN);
        q->n--;
    }
}

int arp_queue_clear(struct arp_queue *q)
{
    int n = q->n;
    q->head = 0;
    q->n = 0;
    return n;
}
