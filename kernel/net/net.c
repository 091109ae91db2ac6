/* The network interface: brings up the card the boot wiring found (a
 * netdev, kernel/net/netdev.h) with QEMU user networking's static
 * configuration (10.0.2.15/24, gateway 10.0.2.2), runs the stack in the
 * event loop, and implements <webscale/net.h> for user/.
 *
 * Receive path: the card is one of the event loop's sources, "a frame is in
 * the receive ring" (nic_received). The card's ISR copies frames into its
 * RX ring and notifies the source; net_rx, its watcher, hands at most
 * NET_RX_BATCH frames to Ethernet per loop iteration. The source is
 * level-triggered, so frames left over run in the next iteration, after
 * the loop's timers and posts: a flood takes turns with everything else
 * instead of starving it. While the stack is behind, the driver's ring
 * fills and frames wait on the card (netdev.h: rx_release takes them). */
#include <webscale/console.h>
#include <webscale/errno.h>
#include <webscale/kprintf.h>
#include <webscale/loop.h>
#include <webscale/string.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "kernel/net/net.h"
#include "kernel/net/netdev.h"
#include "kernel/sched.h"
#include "kernel/x86.h"

#define NET_RX_BATCH 16           /* frames per loop callback */
#define PING_ID 0x5753            /* "WS": our echo identifier */

struct net_iface net_if;
struct net_stats net_st;
uint64_t net_rx_ns;
uint8_t net_tx[ETH_HLEN + ETH_MTU] __attribute__((aligned(4)));

/* Interrupts off (the loop's readiness test): a frame waits. */
static int frame_waiting(void *arg)
{
    struct netdev_frame f;
    return net_if.dev->rx_next(net_if.dev, &f);
}

static struct loop_source nic_received = LOOP_SOURCE_INIT("nic received", frame_waiting, NULL);
static struct loop_watcher rx_watch;

/* From the card's ISR. */
static void net_notify(void) { loop_source_notify(&nic_received); }

static void net_rx(void *arg)
{
    (void)arg;
    struct netdev *dev = net_if.dev;
    struct netdev_frame f;
    for (int n = 0; n < NET_RX_BATCH && dev->rx_next(dev, &f); n++) {
        net_rx_ns = f.rx_ns;
        eth_input(f.data, f.len);
        dev->rx_release(dev);
    }
}

/* The driver's drop reasons as the stack's: one table, so a driver never
 * sees <webscale/net.h>. */
static const uint8_t drop_reason[NETDEV_DROPS] = {
    [NETDEV_DROP_RX_RING_FULL] = NET_DROP_RX_RING_FULL,
    [NETDEV_DROP_RX_SHORT] = NET_DROP_RX_SHORT,
    [NETDEV_DROP_RX_LONG] = NET_DROP_RX_LONG,
    [NETDEV_DROP_RX_BAD_HEADER] = NET_DROP_RX_BAD_HEADER,
    [NETDEV_DROP_RX_OVERFLOW] = NET_DROP_RX_OVERFLOW,
    [NETDEV_DROP_RX_CARD_ERRORS] = NET_DROP_RX_CARD_ERRORS,
    [NETDEV_DROP_RX_CARD_MISSED] = NET_DROP_RX_CARD_MISSED,
    [NETDEV_DROP_TX_QUEUE_FULL] = NET_DROP_TX_QUEUE_FULL,
    [NETDEV_DROP_TX_ERROR] = NET_DROP_TX_ERROR,
};

static void add_driver_stats(struct net_stats *s, const struct netdev_stats *d)
{
    s->rx_frames += d->rx_frames;
    s->rx_bytes += d->rx_bytes;
    s->tx_frames += d->tx_frames;
    s->tx_bytes += d->tx_bytes;
    s->rx_irqs += d->irqs;
    s->rx_ring_max = d->rx_ring_max;
    s->rx_holds = d->rx_holds;
    s->rx_ring_bytes = d->rx_ring_bytes;
    s->rx_ring_peak_bytes = d->rx_ring_peak_bytes;
    for (int i = 0; i < NETDEV_DROPS; i++)
        s->drops[drop_reason[i]] += d->drops[i];
}

void net_init(struct netdev *dev)
{
    if (!dev)
        return;
    net_if.dev = dev;
    memcpy(net_if.mac, dev->mac, 6);
    net_if.ip = NET_DEFAULT_IP;
    net_if.netmask = NET_DEFAULT_NETMASK;
    net_if.gateway = NET_DEFAULT_GATEWAY;
    arp_init();
    udp_init();
    dev->set_notify(dev, net_notify);
    net_if.up = 1;
    loop_watch_start(&rx_watch, &nic_received, net_rx, NULL);  /* and frames already there */
    char mac[18], ip[16], gw[16];
    net_fmt_mac(mac, sizeof mac, net_if.mac);
    net_fmt_ip(ip, sizeof ip, net_if.ip);
    net_fmt_ip(gw, sizeof gw, net_if.gateway);
    /* Two lines: the banner fits an 80-column terminal. */
    kprintf("webscale: %s at %#x, IRQ %d, MAC %s\n", dev->name, dev->iobase, dev->irq, mac);
    kprintf("webscale: address %s/24, gateway %s\n", ip, gw);
}

void net_get_config(struct net_config *c)
{
    memset(c, 0, sizeof *c);
    c->up = net_if.up;
    if (net_if.dev) {
        c->nic = net_if.dev->name;
        c->iobase = net_if.dev->iobase;
        c->irq = net_if.dev->irq;
    }
    memcpy(c->mac, net_if.mac, 6);
    c->ip = net_if.ip;
    c->netmask = net_if.netmask;
    c->gateway = net_if.gateway;
}

void net_get_stats(struct net_stats *s)
{
    /* The loop thread may be preempted halfway through a 64-bit increment:
     * a figure can be off by one carry for one look. Display only. */
    uint32_t f = irq_save();
    *s = net_st;
    irq_restore(f);
    if (net_if.dev) {
        struct netdev_stats d;
        net_if.dev->get_stats(net_if.dev, &d);
        add_driver_stats(s, &d);
    }
}

int net_arp_list(struct net_arp_entry *out, int max)
{
    struct arp_list_req q = { out, max, 0 };
    if (!net_if.up || loop_call_and_wait(arp_list, &q) < 0)
        return 0;
    return q.n;
}

static void ping_send(void *arg)
{
    struct ping_state *P = arg;
    if (icmp_send_echo(P->ip, P->id, P->seq) < 0) {
        P->done = -1;
        event_signal(&P->changed);
    }
}

int net_ping(uint32_t ip, uint16_t seq, uint32_t timeout_ms, uint64_t *rtt_ns, int *ttl)
{
    struct ping_state *P = &net_ping_state;
    if (!net_if.up)
        return -E_NOENT;
    /* The one destination a user picks: every other datagram answers a
     * source that ip_input checked, so only here can one that must never
     * reach the wire get in (127.0.0.1 went to the gateway's MAC). */
    if (net_dest_refused(ip, net_if.ip))
        return -E_INVAL;
    if (!sched_can_sleep() || loop_in_callback())
        return -E_INVAL;
    uint32_t f = irq_save();
    if (P->waiting) {
        irq_restore(f);
        return -E_BUSY;
    }
    P->waiting = 1;
    P->done = 0;
    P->ip = ip;
    P->id = PING_ID;
    P->seq = seq;
    irq_restore(f);

    int r = loop_call_and_wait(ping_send, P);
    /* One wait, ended by the reply (icmp_input signals), the timeout or
     * Ctrl-C; the reply is stamped by the ISR, so waking late costs no
     * accuracy. */
    uint64_t deadline = clock_ns() + (uint64_t)timeout_ms * NS_PER_MS;
    while (r == 0) {
        uint32_t seen = event_count(&P->changed);
        if (P->done)
            break;
        r = event_wait_until(&P->changed, seen, deadline);
    }
    if (r == 0 && P->done < 0)
        r = -E_BUSY;              /* the transmit queue was full */
    if (r == 0) {
        *rtt_ns = P->rtt_ns;
        if (ttl)
            *ttl = P->ttl;
    }
    f = irq_save();
    P->waiting = 0;
    irq_restore(f);
    return r;
}
