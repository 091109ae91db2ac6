/* Multiboot v1 header and the first instructions of the kernel.
 * [Multiboot Specification 0.6.96, 3.1 "OS image format", 3.2 "Machine state"]
 *
 * The loader (GRUB, or QEMU's -kernel) jumps to _start in 32-bit protected
 * mode with paging off, interrupts off, EAX = the multiboot magic and
 * EBX = the physical address of the multiboot information structure. */

#define MULTIBOOT_MAGIC        0x1BADB002
#define MULTIBOOT_PAGE_ALIGN   (1 << 0)   /* modules on page boundaries */
#define MULTIBOOT_MEMORY_INFO  (1 << 1)   /* we want mem_lower/mem_upper */
#define MULTIBOOT_FLAGS        (MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO)

#define BOOT_STACK_SIZE 8192

    .section .multiboot, "a"
    .balign 4
    .long MULTIBOOT_MAGIC
    .long MULTIBOOT_FLAGS
    .long -(MULTIBOOT_MAGIC + MULTIBOOT_FLAGS)

    .section .text.entry, "ax"
    .global _start
    .type _start, @function
_start:
    cli
    cld
    movl $boot_stack_top, %esp
    xorl %ebp, %ebp             /* backtraces stop at a zero frame pointer */
    pushl %ebx                  /* struct multiboot_info * */
    pushl %eax                  /* magic */
    call kmain                  /* never returns: kmain becomes the idle thread */
1:  hlt
    jmp 1b
    .size _start, . - _start

    /* The boot stack becomes the idle thread's stack. The page below it
     * is its guard: kernel/thread.c unmaps it once paging is on. */
    .section .bss
    .balign 4096
    .global boot_stack_guard, boot_stack, boot_stack_top
boot_stack_guard:
    .space 4096
boot_stack:
    .space BOOT_STACK_SIZE
boot_stack_top:
