/* The network interface: brings up the NE2000 with QEMU user
 * networking's static configuration (10.0.2.15/24, gateway 10.0.2.2), runs
 * the stack in the event loop, and implements <webscale/net.h> for user/.
 *
 * Receive path: the NE2000's ISR copies frames into its RX ring and calls
 * net_notify, which posts net_rx to the event loop once (a flag keeps a
 * burst of interrupts from queueing a post each). net_rx hands at most
 * NET_RX_BATCH frames to Ethernet, then posts itself again if more wait,
 * so a flood takes turns with the loop's timers and other events instead
 * of starving them; the rings bound the flood, their drops are counted. */
#include <webscale/errno.h>
#include <webscale/kprintf.h>
#include <webscale/loop.h>
#include <webscale/string.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "drivers/ne2k.h"
#include "drivers/pic.h"
#include "kernel/net/net.h"
#include "kernel/sched.h"
#include "kernel/x86.h"

#define NET_RX_BATCH 16           /* frames per loop callback */
#define PING_ID 0x5753            /* "WS": our echo identifier */

struct net_iface net_if;
struct net_stats net_st;
uint64_t net_rx_ns;
uint8_t net_tx[ETH_HLEN + ETH_MTU] __attribute__((aligned(4)));

static volatile int rx_posted;

static void net_rx(void *arg);

/* ISR or loop: make sure one net_rx is queued. A full post ring refuses
 * (and counts it); the next interrupt tries again. */
static void net_notify(void)
{
    uint32_t f = irq_save();
    if (!rx_posted && loop_post(net_rx, NULL) == 0)
        rx_posted = 1;
    irq_restore(f);
}

static void net_rx(void *arg)
{
    (void)arg;
    rx_posted = 0;
    for (int n = 0; n < NET_RX_BATCH; n++) {
        struct ne2k_frame *f = ne2k_rx_peek();
        if (!f)
            return;
        net_rx_ns = f->rx_ns;
        eth_input(f->data, f->len);
        ne2k_rx_release();
    }
    if (ne2k_rx_peek())
        net_notify();
}

void net_init(void)
{
    if (ne2k_init() < 0) {
        kprintf("webscale: no NE2000 at %#x: no network\n", NE2K_IOBASE);
        return;
    }
    ne2k_get_mac(net_if.mac);
    net_if.ip = NET_DEFAULT_IP;
    net_if.netmask = NET_DEFAULT_NETMASK;
    net_if.gateway = NET_DEFAULT_GATEWAY;
    arp_init();
    udp_init();
    ne2k_set_notify(net_notify);
    net_if.up = 1;
    net_notify();                 /* frames that came before the hook was set */
    char mac[18], ip[16], gw[16];
    net_fmt_mac(mac, sizeof mac, net_if.mac);
    net_fmt_ip(ip, sizeof ip, net_if.ip);
    net_fmt_ip(gw, sizeof gw, net_if.gateway);
    kprintf("webscale: NE2000 at %#x, IRQ %d, MAC %s; %s/24, gateway %s\n", NE2K_IOBASE,
            IRQ_NE2K, mac, ip, gw);
}

void net_get_config(struct net_config *c)
{
    memset(c, 0, sizeof *c);
    c->up = net_if.up;
    c->iobase = NE2K_IOBASE;
    c->irq = IRQ_NE2K;
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
    ne2k_add_stats(s);
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
