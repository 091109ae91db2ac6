/* The boot wiring: which driver implements which kernel interface on this
 * machine (QEMU's PC: 8259A PICs, 8254 PIT, 16550 UART on COM1, and a
 * network card: an RTL8139 on PCI or an NE2000 at 0x300, whichever QEMU
 * was given, tools/machine.py --nic). It is the only file under kernel/ that includes driver
 * headers; everything else reaches the hardware through the interfaces
 * the kernel declares and the drivers implement: kernel/irq.h (the
 * controller), kernel/clock.h (the timer), kernel/console.h (a console
 * port), kernel/net/netdev.h (a network card).
 *
 * A second network card: write drivers/yourcard.c, filling a struct netdev
 * (send, rx_next/rx_release, set_notify, get_stats, MAC) and counting its
 * drops by NETDEV_DROP_* reason; probe it in devices_init_net below. */
#include <webscale/kprintf.h>
#include "drivers/ne2k.h"
#include "drivers/rtl8139.h"
#include "drivers/uart16550.h"
#include "kernel/console.h"
#include "kernel/devices.h"
#include "kernel/irq.h"
#include "kernel/net/net.h"

void devices_init_console(void)
{
    uart_init_early();
    console_attach(&uart_console_port);
}

void devices_init_irq_controller(void) { irq_controller_init(); }

void devices_init_console_irq(void) { uart_init_irq(); }

/* The RTL8139 first: a PCI card is found by its ID, without touching
 * ports that may belong to something else; the NE2000 probe pokes 0x300. */
void devices_init_net(void)
{
    struct netdev *dev = rtl8139_init();
    if (!dev)
        dev = ne2k_init();
    if (!dev)
        kprintf("webscale: no RTL8139 on PCI, no NE2000 at %#x: no network\n", NE2K_IOBASE);
    net_init(dev);
}
