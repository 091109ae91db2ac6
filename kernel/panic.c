/* panic, power-off, error strings. */
#include <webscale/errno.h>
#include <webscale/kprintf.h>
#include <webscale/system.h>
#include "kernel/console.h"
#include "kernel/sched.h"
#include "kernel/trap.h"
#include "kernel/x86.h"

/* QEMU's isa-debug-exit device: writing v makes QEMU exit with (v << 1) | 1.
 * [QEMU hw/misc/debugexit.c] QEMU's own errors (a host forward it cannot
 * bind, a missing file) exit 1, which v = 0 would give too: the kernel
 * writes its status + 1, so a kernel's exit is odd and at least 3, and the
 * launchers tell the two apart (tools/machine.py, guest_status). */
#define DEBUG_EXIT_PORT 0xF4
#define DEBUG_EXIT_BIAS 1
#define PANIC_EXIT_STATUS 0x7E   /* v = 0x7F: QEMU exits with 255 */
/* Bochs has no isa-debug-exit; its "unmapped" device ends the simulation
 * when the word "Shutdown" is written to this port, a byte at a time.
 * Under QEMU nothing answers there, so both writes are safe everywhere. */
#define BOCHS_SHUTDOWN_PORT 0x8900

static void bochs_shutdown(void)
{
    for (const char *p = "Shutdown"; *p; p++)
        outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*p);
}

static int in_panic;

void system_poweroff(int status)
{
    console_flush_polled();
    cli();
    outb(DEBUG_EXIT_PORT, (uint8_t)(status + DEBUG_EXIT_BIAS));
    bochs_shutdown();
    /* Neither QEMU with isa-debug-exit nor Bochs: just stop. */
    for (;;)
        __asm__ volatile("hlt");
}

static int panic_exits(void)
{
    char v[8];
    if (kernel_cmdline_get("test", v, sizeof v) >= 0)
        return 1;
    return kernel_cmdline_get("panic", v, sizeof v) >= 0 && v[0] == 'e';
}

void panic(const char *fmt, ...)
{
    cli();
    if (in_panic++) {
        /* A panic while panicking: do not try anything clever. */
        system_poweroff(PANIC_EXIT_STATUS);
    }
    va_list ap;
    va_start(ap, fmt);
    kprintf("\n*** PANIC in thread '%s': ", current ? current->name : "?");
    kvprintf(fmt, ap);
    va_end(ap);
    kprintf("\n    backtrace of the panic call:\n");
    /* From panic's caller on: its return address, and its caller's frame. */
    const uint32_t *fp = (const uint32_t *)read_ebp();
    backtrace_print(fp[1], fp[0], 1);
    if (panic_exits()) {
        kprintf("*** QEMU exits (status %d)\n", ((PANIC_EXIT_STATUS + DEBUG_EXIT_BIAS) << 1) | 1);
        system_poweroff(PANIC_EXIT_STATUS);
    }
    kprintf("*** System halted. Quit QEMU with Ctrl-A X (or attach GDB: make gdb).\n");
    console_flush_polled();
    for (;;)
        __asm__ volatile("cli; hlt");
}

void assert_fail(const char *expr, const char *file, int line, const char *func)
{
    panic("ASSERT(%s) failed\n    at %s:%d in %s()", expr, file, line, func);
}

const char *ws_strerror(int err)
{
    if (err < 0)
        err = -err;
    switch (err) {
    case 0: return "success";
    case E_NOMEM: return "out of memory";
    case E_INVAL: return "invalid argument";
    case E_WOULDBLOCK: return "would block";
    case E_TIMEDOUT: return "timed out";
    case E_INTR: return "interrupted";
    case E_NOENT: return "no such entry";
    case E_BUSY: return "busy";
    case E_PERM: return "not allowed";
    case E_CONNRESET: return "connection reset";
    case E_FAULT: return "bad address";
    case E_NOSYS: return "no such system call";
    case E_NOEXEC: return "not an executable";
    case E_CHILD: return "no such child";
    }
    return "unknown error";
}
