/* net and ping: the network interface, its counters and drops by reason,
 * TCP's counters (RFC 9293), the ARP table; ICMP echo round trips measured by the kernel (RFC 792).
 * Only <webscale/net.h>: the driver and stack stay behind it. */
#include <webscale/errno.h>
#include <webscale/kprintf.h>
#include <webscale/net.h>
#include <webscale/tcp.h>
#include <webscale/time.h>
#include "user/commands.h"
#include "user/demo.h"
#include "user/shell.h"

#define PING_COUNT_DEFAULT 4
#define PING_COUNT_MAX 100000
#define PING_INTERVAL_MS 1000     /* one echo request a second, like ping(8) */
#define PING_TIMEOUT_MS 1000

static unsigned long long ull(uint64_t v) { return (unsigned long long)v; }

/* Counts by reason, two to a line (68 columns, whatever the figures). */
static void reason_table(const char *(*name)(int), const uint64_t *count, int n)
{
    for (int i = 0; i < n; i += 2) {
        kprintf("    %-20s %8llu", name(i), ull(count[i]));
        if (i + 1 < n)
            kprintf("      %-20s %8llu", name(i + 1), ull(count[i + 1]));
        kprintf("\n");
    }
}

int cmd_net(int argc, char **argv)
{
    struct net_config c;
    net_get_config(&c);
    if (!c.up) {
        demo_hang(5, "net: no NIC (no RTL8139 on PCI, no NE2000 answered at 0x300): the "
                  "network is off. QEMU needs -netdev user,id=n0,restrict=on and -device "
                  "ne2k_isa,netdev=n0,iobase=0x300,irq=9 or -device rtl8139,netdev=n0 "
                  "(make run has one).\n");
        return 0;
    }
    /* The ARP table first: listing it ages it, and what that gives up is
     * counted in the figures read next. */
    static struct net_arp_entry arp[NET_ARP_ENTRIES];
    int n = net_arp_list(arp, NET_ARP_ENTRIES);
    static struct net_stats s;
    net_get_stats(&s);
    char mac[18], ip[16], mask[16], gw[16];
    net_fmt_mac(mac, sizeof mac, c.mac);
    net_fmt_ip(ip, sizeof ip, c.ip);
    net_fmt_ip(mask, sizeof mask, c.netmask);
    net_fmt_ip(gw, sizeof gw, c.gateway);
    kprintf("net: %s at %#x, IRQ %u, MAC %s\n", c.nic, c.iobase, c.irq, mac);
    kprintf("  address %s, netmask %s, gateway %s\n", ip, mask, gw);
    /* Short lines, one group of figures each: 80 columns, and the same
     * line breaks whatever the figures are (programs read them). */
    kprintf("  in:  %llu frames, %llu bytes, %u interrupts\n", ull(s.rx_frames), ull(s.rx_bytes),
            s.rx_irqs);
    if (s.rx_ring_bytes)          /* the card's own ring, in our memory */
        kprintf("       RX ring peak %u of %u bytes, full %u times (frames waited)\n",
                s.rx_ring_peak_bytes, s.rx_ring_bytes, s.rx_holds);
    else
        kprintf("       RX ring peak %u frames, full %u times (the frames waited on the card)\n",
                s.rx_ring_max, s.rx_holds);
    kprintf("       accepted: %llu arp, %llu ip (%llu icmp, %llu udp) packets\n", ull(s.rx_arp),
            ull(s.rx_ip), ull(s.rx_icmp), ull(s.rx_udp));
    kprintf("  out: %llu frames, %llu bytes\n", ull(s.tx_frames), ull(s.tx_bytes));
    kprintf("       %llu arp requests (%llu refreshes), %llu arp replies\n",
            ull(s.arp_requests), ull(s.arp_refreshes), ull(s.arp_replies));
    kprintf("       %llu echo replies, %llu udp echoes\n", ull(s.echo_replies), ull(s.udp_echoed));
    kprintf("       %llu port unreachables, %llu protocol unreachables,\n", ull(s.port_unreach),
            ull(s.proto_unreach));
    kprintf("       %llu not sent (over %u per second)\n", ull(s.unreach_limited),
            NET_ICMP_ERROR_RATE);
    struct tcp_stats t;
    tcp_get_stats(&t);
    kprintf("  tcp: %llu segments in, %llu out; %llu data bytes in, %llu out\n",
            ull(t.rx_segments), ull(t.tx_segments), ull(t.rx_bytes), ull(t.tx_bytes));
    kprintf("       %u handshakes, %u connections now (%u at most, %u in TIME-WAIT);\n",
            t.passive_opens, t.conns, t.conns_max, t.time_wait);
    kprintf("       %u TIME-WAITs ended by a new SYN;\n", t.time_wait_reopened);
    kprintf("       %u SYNs took a slot, %u cookies sent, %u came back,\n", t.syn_received,
            t.syn_cookies_sent, t.syn_cookies_ok);
    kprintf("       %u completed a half-open one; half-open at most %u;\n",
            t.syn_cookies_adopted, t.half_open_max);
    kprintf("       %u retransmits, %u timed out, %u forgotten in FIN-WAIT-2;\n", t.retransmits,
            t.timeouts, t.fin_wait_2_timeouts);
    kprintf("       resets %u sent, %u received; %u bytes per connection\n", t.resets_sent,
            t.resets_received, (unsigned)tcp_conn_bytes());
    uint64_t resets[TCP_RST_REASONS];
    for (int i = 0; i < TCP_RST_REASONS; i++)
        resets[i] = t.resets_by[i];
    kprintf("  resets sent, by reason:\n");
    reason_table(tcp_rst_name, resets, TCP_RST_REASONS);
    kprintf("  arp: %d of %d entries\n", n, NET_ARP_ENTRIES);
    for (int i = 0; i < n; i++) {
        char aip[16], amac[18];
        net_fmt_ip(aip, sizeof aip, arp[i].ip);
        net_fmt_mac(amac, sizeof amac, arp[i].mac);
        kprintf("       %-15s %s (%s %u ms ago)\n", aip, arp[i].resolved ? amac : "?",
                arp[i].resolved ? "confirmed" : "asked", arp[i].age_ms);
    }
    uint64_t total = 0;
    for (int i = 0; i < NET_DROP_REASONS; i++)
        total += s.drops[i];
    kprintf("  dropped: %llu frames, by reason:\n", ull(total));
    reason_table(net_drop_name, s.drops, NET_DROP_REASONS);
    return 0;
}

int cmd_ping(int argc, char **argv)
{
    const struct shell_cmd *self = shell_find("ping");
    if (argc > 3)
        return shell_usage(self);
    struct net_config c;
    net_get_config(&c);
    uint32_t ip = c.gateway, count = PING_COUNT_DEFAULT;
    if (argc >= 2 && net_parse_ip(argv[1], &ip) < 0) {
        kprintf("ping: '%s' is not an IPv4 address like 10.0.2.2\n", argv[1]);
        return 1;
    }
    if (argc == 3 && shell_parse_uint("ping", "COUNT", argv[2], 1, PING_COUNT_MAX, &count) < 0)
        return 1;
    if (!c.up) {
        kprintf("ping: no NIC: the network is off (see 'net')\n");
        return 1;
    }
    char dst[16];
    net_fmt_ip(dst, sizeof dst, ip);
    const char *why = net_dest_refused(ip, c.ip);
    if (why) {
        kprintf("ping: %s is %s; nothing sent\n", dst, why);
        return 1;
    }
    demo_say("PING %s: %u data bytes, one request every %u ms, timeout %u ms; %s stops\n",
             dst, NET_PING_DATA, PING_INTERVAL_MS, PING_TIMEOUT_MS, shell_stop_key());
    uint32_t sent = 0, got = 0;
    uint64_t min = UINT64_MAX, max = 0, sum = 0;
    for (uint32_t seq = 1; seq <= count; seq++) {
        uint64_t start = clock_ns(), rtt = 0;
        int ttl = 0;
        int r = net_ping(ip, (uint16_t)seq, PING_TIMEOUT_MS, &rtt, &ttl);
        if (r == -E_INTR)
            break;
        sent++;
        if (r == 0) {
            got++;
            sum += rtt;
            min = rtt < min ? rtt : min;
            max = rtt > max ? rtt : max;
            kprintf("%u bytes from %s: seq=%u ttl=%d time=%llu us (%llu ns)\n",
                    NET_PING_DATA + 8, dst, seq, ttl, ull(rtt / NS_PER_US), ull(rtt));
        } else if (r == -E_TIMEDOUT) {
            kprintf("seq=%u: no reply within %u ms\n", seq, PING_TIMEOUT_MS);
        } else {
            kprintf("seq=%u: not sent: %s\n", seq, ws_strerror(r));
        }
        if (seq < count && shell_sleep_until(start + PING_INTERVAL_MS * NS_PER_MS))
            break;
    }
    char rtt[96] = "";
    if (got)
        ksnprintf(rtt, sizeof rtt, "; round trip min/avg/max %llu/%llu/%llu us (%llu/%llu/%llu ns)",
                  ull(min / 1000), ull(sum / got / 1000), ull(max / 1000), ull(min),
                  ull(sum / got), ull(max));
    demo_hang(4, "--- %s: %u sent, %u received, %u %% lost%s\n", dst, sent, got,
              sent ? (sent - got) * 100 / sent : 0, rtt);
    demo_line_begin("ping");
    demo_line_str("to", dst);
    demo_line_u64("sent", sent);
    demo_line_u64("received", got);
    if (got) {
        demo_line_u64("min_ns", min);
        demo_line_u64("avg_ns", sum / got);
        demo_line_u64("max_ns", max);
    }
    demo_line_end();
    return got ? 0 : 1;
}
