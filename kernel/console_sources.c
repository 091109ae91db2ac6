/* The console's two event sources for the loop: console_readable (input
 * is waiting: console_read_nonblock returns bytes) and console_writable
 * (the output ring has room: console_write_nonblock takes bytes). The
 * readiness tests look at the UART's rings and its ISR notifies, for now:
 * the console is the UART until kernel/console.c stands between them. */
#include <webscale/console.h>
#include <webscale/loop.h>
#include "drivers/uart16550.h"

static int readable(void *arg) { return uart_rx_available() > 0; }
static int writable(void *arg) { return uart_tx_space() > 0; }

struct loop_source console_readable = LOOP_SOURCE_INIT("console readable", readable, NULL);
struct loop_source console_writable = LOOP_SOURCE_INIT("console writable", writable, NULL);

/* From the UART's ISR: bytes arrived (1) or output room freed (0). */
static void uart_ready(int rx)
{
    loop_source_notify(rx ? &console_readable : &console_writable);
}

void console_sources_init(void) { uart_set_notify(uart_ready); }
