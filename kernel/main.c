/* kmain: bring the machine up in dependency order, start the first
 * thread (the shell, or the test runner), then become the idle thread. */
#include <webscale/console.h>
#include <webscale/kprintf.h>
#include <webscale/loop.h>
#include <webscale/system.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "boot/gdt.h"
#include "kernel/clock.h"
#include "kernel/cmdline.h"
#include "kernel/devices.h"
#include "kernel/ktest.h"
#include "kernel/mem.h"
#include "kernel/multiboot.h"
#include "kernel/page.h"
#include "kernel/process.h"
#include "kernel/sched.h"
#include "kernel/trap.h"
#include "kernel/vm.h"
#include "kernel/x86.h"

#define ANSI_WRAP_ON "\033[?7h"   /* DECAWM set: auto-wrap at the margin */

#define ONE_MIB 0x100000u
/* The share of RAM (1/N) kept out of the heap as the page pool: page
 * tables and processes' pages. */
#define PAGE_POOL_SHARE 8
#define SHELL_STACK 16384

/* user/shell.c */
void shell_main(void *arg);

static void start_tests(void *arg)
{
    ktest_run(arg);
}

static uint64_t entry_cycles;

uint64_t boot_entry_cycles(void) { return cpu_has_tsc() ? entry_cycles : 0; }

void kmain(uint32_t magic, struct multiboot_info *mbi)
{
    cpu_detect();               /* first, so the TSC (if any) can time the boot */
    entry_cycles = cpu_cycles();
    gdt_init();
    devices_init_console();
    /* SeaBIOS sends ESC[?7l (line wrap off) and nothing turns it back on:
       every line wider than the terminal would be cut. VT100: DECAWM on. */
    kprintf(ANSI_WRAP_ON "\nwebscale: booting\n");
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC)
        panic("not loaded by a multiboot loader (eax = %#x)", magic);
    cmdline_init(mbi->flags & MULTIBOOT_INFO_CMDLINE ? (const char *)mbi->cmdline : "");
    if (!(mbi->flags & MULTIBOOT_INFO_MEMORY))
        panic("the boot loader did not say how much memory there is");
    uint32_t mem_top = ONE_MIB + mbi->mem_upper * 1024u;

    idt_init();
    devices_init_irq_controller();
    /* The page pool at the top of RAM, the heap below it. */
    uint32_t pool = PAGE_ROUND_DOWN(mem_top - mem_top / PAGE_POOL_SHARE);
    page_init(pool, PAGE_ROUND_DOWN(mem_top) - pool);
    mem_init(pool);
    vm_init(mem_top);
    trap_init_double_fault();
    sched_init();
    process_init();
    clock_init(HZ);
    devices_init_console_irq();
    sti();

    struct mem_stats ms;
    mem_get_stats(&ms);
    /* Two lines: what the kernel prints fits an 80-column terminal. */
    struct page_stats ps;
    page_get_stats(&ps);
    kprintf("webscale: %u KiB RAM: %u KiB heap, %u KiB of pages (paging on)\n",
            mem_top / 1024, (unsigned)(ms.total / 1024), ps.total * PAGE_SIZE / 1024);
    kprintf("webscale: PIT %u Hz, slice %u ms\n", clock_hz(), sched_slice_ms());
    kprintf("webscale: CPU: %s\n", cpu_description());
    if (kernel_cmdline()[0])
        kprintf("webscale: command line '%s'\n", kernel_cmdline());

    if (loop_start() < 0)
        panic("no memory for the event loop's threads");
    devices_init_net();         /* the NE2000, if there is one; the stack runs in the loop */

    static char spec[64];
    thread_t *first;
    if (kernel_cmdline_get("test", spec, sizeof spec) >= 0)
        first = thread_create_ex("ktest", start_tests, spec, SHELL_STACK, THREAD_DETACHED);
    else
        first = thread_create_ex("shell", shell_main, NULL, SHELL_STACK, THREAD_DETACHED);
    if (!first)
        panic("no memory for the first thread");

    sched_idle();
}
