/* The IDT, the common C entry for every interrupt and exception, and the
 * one IRQ tail that every hardware interrupt goes through: handler, EOI,
 * then (and only then) a possible switch to another thread.
 * [Intel SDM vol. 3A, chapter 6 "Interrupt and Exception Handling"] */
#include <webscale/kprintf.h>
#include <webscale/system.h>
#include "boot/gdt.h"
#include "kernel/irq.h"
#include "kernel/process.h"
#include "kernel/sched.h"
#include "kernel/trap.h"
#include "kernel/vm.h"
#include "kernel/x86.h"

#define IDT_ENTRIES 256
#define NUM_EXCEPTIONS 32              /* vectors 0-31 are the CPU's [SDM 3A 6.2] */
#define NUM_VECTORS (NUM_EXCEPTIONS + IRQ_LINES)   /* vectors.S has an entry point for each */
#define IDT_INTERRUPT_GATE_32 0x8E     /* present, ring 0, 32-bit interrupt gate */
#define IDT_USER_INTERRUPT_GATE_32 0xEE /* present, ring 3 may use it, 32-bit interrupt gate */
#define IDT_TASK_GATE 0x85             /* present, ring 0, task gate [SDM 3A 6.11] */
#define VEC_DOUBLE_FAULT 8
#define VEC_PAGE_FAULT 14              /* #PF, CR2 holds the address [SDM 3A 6.15] */
#define EFLAGS_RESERVED 0x2            /* bit 1 is always set */
#define DF_STACK_SIZE 4096
#define BACKTRACE_MAX 16               /* frames printed */

_Static_assert(IRQ_VECTOR_BASE == NUM_EXCEPTIONS, "vectors.S puts IRQ 0 right after the exceptions");
_Static_assert(__builtin_offsetof(struct trapframe, cs) == 44, "vectors.S's TF_CS");

struct idt_entry {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t zero;
    uint8_t type_attr;
    uint16_t offset_hi;
} __attribute__((packed));

struct idt_ptr {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

static struct idt_entry idt[IDT_ENTRIES];
extern uint32_t trap_vectors[NUM_VECTORS];
void vector128(void);
void df_task_entry(void);                      /* dfault.S */
static uint8_t df_stack[DF_STACK_SIZE] __attribute__((aligned(16)));

volatile int irq_nesting;

/* A line nobody registered (irq_register unmasks a line only with its
 * handler, so this runs only for a software `int` on it). */
static void irq_unhandled(void *arg) { }

/* Three tables by IRQ line, not one of structs: vectors.S's fast path
 * indexes them with the vector, scaled by 4 and 8. */
irq_handler_fn irq_handlers[IRQ_LINES] = { [0 ... IRQ_LINES - 1] = irq_unhandled };
void *irq_args[IRQ_LINES];
uint64_t irq_counts[IRQ_LINES];
static const char *irq_names[IRQ_LINES];
static uint32_t spurious_irqs;

static const char *const exception_names[NUM_EXCEPTIONS] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range exceeded", "#UD invalid opcode", "#NM device not available",
    "#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
    "#NP segment not present", "#SS stack-segment fault", "#GP general protection",
    "#PF page fault", "reserved 15", "#MF x87 floating-point error",
    "#AC alignment check", "#MC machine check", "#XM SIMD floating-point",
    "#VE virtualization", "#CP control protection", "reserved 22", "reserved 23",
    "reserved 24", "reserved 25", "reserved 26", "reserved 27", "reserved 28",
    "reserved 29", "reserved 30", "reserved 31",
};

static void idt_set(int v, uint16_t selector, uint32_t off, uint8_t type)
{
    idt[v].offset_lo = off & 0xFFFF;
    idt[v].offset_hi = off >> 16;
    idt[v].selector = selector;
    idt[v].zero = 0;
    idt[v].type_attr = type;
}

void idt_init(void)
{
    /* Interrupt gates clear IF: handlers run with interrupts off and
     * never nest, which keeps the IRQ tail simple. */
    for (int v = 0; v < NUM_VECTORS; v++)
        idt_set(v, SEG_KCODE, trap_vectors[v], IDT_INTERRUPT_GATE_32);
    /* A double fault switches to a task of its own, with its own stack:
     * the usual cause here is a kernel stack overflow, where the CPU could
     * not push the page fault's frame, and would not push this one either. */
    idt_set(VEC_DOUBLE_FAULT, SEG_DF_TSS, 0, IDT_TASK_GATE);
    /* The system call gate: ring 3 may `int 0x80`. Its entry turns
     * interrupts back on once the kernel's segments are loaded (vectors.S
     * says why), so a system call is preempted like any thread. */
    idt_set(T_SYSCALL, SEG_KCODE, (uint32_t)vector128, IDT_USER_INTERRUPT_GATE_32);
    struct idt_ptr p = { sizeof idt - 1, (uint32_t)idt };
    __asm__ volatile("lidt %0" : : "m"(p));
}

uint32_t idt_set_entry(int vector, uint32_t entry)
{
    ASSERT_IRQS_OFF();
    uint32_t old = idt[vector].offset_lo | (uint32_t)idt[vector].offset_hi << 16;
    idt[vector].offset_lo = entry & 0xFFFF;
    idt[vector].offset_hi = entry >> 16;
    return old;
}

void irq_register(int irq, irq_handler_fn fn, void *arg, const char *name)
{
    uint32_t f = irq_save();
    irq_handlers[irq] = fn ? fn : irq_unhandled;
    irq_args[irq] = arg;
    irq_names[irq] = name;
    irq_unmask(irq);
    irq_restore(f);
}

void irq_get_stats(struct irq_stats out[IRQ_LINES], uint32_t *spurious)
{
    for (int i = 0; i < IRQ_LINES; i++) {
        out[i].name = irq_names[i];
        out[i].count = irq_counts[i];
    }
    *spurious = spurious_irqs;
}

/* The IRQ tail of the full path, for the two lines that can be spurious
 * (vectors.S sends them through trap()). The other lines take the fast
 * paths in vectors.S, irq_first_chip and irq_second_chip, which do the
 * same in the same order: count, handler, EOI, then (and only then) a
 * possible switch. */
static void irq_dispatch(struct trapframe *tf)
{
    int irq = tf->vector - IRQ_VECTOR_BASE;
    if ((irq == IRQ_SPURIOUS_MASTER || irq == IRQ_SPURIOUS_SLAVE) && irq_is_spurious(irq)) {
        spurious_irqs++;
        return;
    }
    irq_nesting++;
    irq_counts[irq]++;
    irq_handlers[irq](irq_args[irq]);
    ASSERT_IRQS_OFF();           /* a handler must not turn them on: no nesting */
    irq_nesting--;
    irq_eoi(irq);
    if (need_resched)
        sched_preempt();
}

/* switch.S: where thread_yield, sem_up, sem_down, mutex_lock and
 * mutex_unlock are, [start, end). They build no frame, and their caller's
 * return address is above the EFLAGS they pushed. */
extern const uint32_t irqs_off_calls_range[2];

void backtrace_print(uint32_t eip, uint32_t ebp, int eip_is_return)
{
    uint32_t lo = 0, hi = 0;
    if (current)
        thread_stack_bounds(current, &lo, &hi);
    /* The caller of one of switch.S's calls, which build no frame: found
     * above the EFLAGS the call pushed, and named next, on the same frame. */
    uint32_t frameless_caller = 0;
    for (int depth = 0; depth < BACKTRACE_MAX && eip; depth++) {
        /* A return address is the instruction after the call, which may
         * be the first of the next function (a call to a noreturn function
         * ends its caller): name the function of the call, at eip - 1. */
        int ret = depth > 0 || eip_is_return;
        uint32_t off = 0;
        const char *name = ksym_lookup(eip - ret, &off);
        kprintf("      #%d %08x %s+%#x\n", depth, eip, name ? name : "?", off + ret);
        if (frameless_caller) {
            eip = frameless_caller;
            frameless_caller = 0;
            continue;
        }
        /* Follow the frame-pointer chain only while it stays on this stack. */
        if (ebp < lo || ebp + 8 > hi || (ebp & 3))
            break;
        uint32_t *frame = (uint32_t *)ebp;
        eip = frame[1];
        uint32_t next = frame[0];
        if (eip >= irqs_off_calls_range[0] && eip < irqs_off_calls_range[1] && ebp + 16 <= hi)
            frameless_caller = frame[3];      /* frame[2]: the EFLAGS it pushed */
        if (next <= ebp)
            break;
        ebp = next;
    }
}

/* The line under a page fault's registers: where, and whether that is the
 * guard page below a stack (a thread's kernel stack, or the user stack of
 * the process that runs now). */
static void report_fault_address(uint32_t cr2, int from_user)
{
    struct thread *t = thread_by_guard(cr2);
    if (t) {
        kprintf("    cr2 %08x: stack overflow into the guard page of thread '%s'\n", cr2,
                t->name);
        kprintf("    (id %d): its kernel stack is %u bytes at %p\n", t->id, t->stack_size,
                (void *)t->stack);
        /* The sentinel, the check before guard pages, stays: a second line. */
        uint32_t word = *(uint32_t *)t->stack;
        if (word == STACK_SENTINEL)
            kprintf("    its sentinel (the lowest word) is intact: the guard page caught it\n");
        else
            kprintf("    its sentinel (the lowest word) is trampled: %#x\n", word);
    } else if (current && current->proc && cr2 >= USER_GUARD_LO && cr2 < USER_STACK_LO) {
        kprintf("    cr2 %08x: stack overflow into the guard page below the user stack\n",
                cr2);
    } else if (from_user && cr2 >= current->proc->heap_lo && cr2 < current->proc->brk) {
        kprintf("    cr2 %08x: a heap page, and no free page in the pool for it\n", cr2);
    } else {
        kprintf("    cr2 %08x (the address that faulted%s)\n", cr2,
                !from_user ? "" : cr2 < USER_BASE || cr2 >= USER_TOP ? ": not user memory"
                                                                     : ": not mapped");
    }
}

void trap_report(const struct trapframe *tf)
{
    uint32_t off = 0;
    int user = trap_from_user(tf);
    const char *fn = user ? NULL : ksym_lookup(tf->eip, &off);
    const char *what = tf->vector < NUM_EXCEPTIONS ? exception_names[tf->vector] : "interrupt";
    if (user)
        kprintf("\n*** CPU exception %u (%s) in ring 3: process %d '%s'\n", tf->vector, what,
                current->proc->pid, current->proc->name);
    else
        kprintf("\n*** CPU exception %u (%s) in thread '%s' (id %d)%s\n", tf->vector, what,
                current ? current->name : "?", current ? current->id : -1,
                irq_nesting ? " inside an IRQ handler" : "");
    if (user)
        kprintf("    error code 0x%08x   eip %08x (in the program)   eflags %08x\n", tf->err,
                tf->eip, tf->eflags);
    else
        kprintf("    error code 0x%08x   eip %08x <%s+%#x>   eflags %08x\n", tf->err, tf->eip,
                fn ? fn : "?", off, tf->eflags);
    kprintf("    eax %08x  ebx %08x  ecx %08x  edx %08x\n", tf->eax, tf->ebx, tf->ecx,
            tf->edx);
    /* From ring 0 the interrupted code's esp is just above the three words
     * the CPU pushed; from ring 3 the CPU saved it in the frame. */
    kprintf("    esi %08x  edi %08x  ebp %08x  esp %08x\n", tf->esi, tf->edi, tf->ebp,
            user ? tf->esp : (uint32_t)&tf->eflags + 4);
    if (tf->vector == VEC_PAGE_FAULT)
        report_fault_address(read_cr2(), user);
    if (user)
        return;          /* the kernel's symbols say nothing about a program */
    kprintf("    backtrace:\n");
    backtrace_print(tf->eip, tf->ebp, 0);
}

/* ---- the double fault's task ---- */

void trap_init_double_fault(void)
{
    df_tss.eip = (uint32_t)df_task_entry;
    df_tss.esp = (uint32_t)df_stack + DF_STACK_SIZE;
    df_tss.eflags = EFLAGS_RESERVED;            /* interrupts off */
    df_tss.cs = SEG_KCODE;
    df_tss.ss = SEG_KDATA;
    df_tss.ds = df_tss.es = df_tss.fs = df_tss.gs = SEG_UDATA;
    df_tss.cr3 = (uint32_t)kernel_pgdir;
}

/* Runs in the double fault's task (dfault.S), interrupts off. kernel_tss
 * holds the state the CPU saved of the code that faulted. Report it; then
 * make that task resume at thread_kill_current on the top of the dead
 * thread's own stack (nothing on it is needed any more) and return. */
void double_fault(void)
{
    struct tss *s = &kernel_tss;
    uint32_t cr2 = read_cr2(), off = 0;
    const char *fn = ksym_lookup(s->eip, &off);
    kprintf("\n*** CPU exception %u (%s) in thread '%s' (id %d)%s\n", VEC_PAGE_FAULT,
            exception_names[VEC_PAGE_FAULT], current ? current->name : "?",
            current ? current->id : -1, irq_nesting ? " inside an IRQ handler" : "");
    kprintf("    not delivered: no stack left for its frame, so a double fault (#DF)\n");
    kprintf("    eip %08x <%s+%#x>   esp %08x  ebp %08x  eflags %08x\n", s->eip,
            fn ? fn : "?", off, s->esp, s->ebp, s->eflags);
    report_fault_address(cr2, 0);
    kprintf("    backtrace:\n");
    backtrace_print(s->eip, s->ebp, 0);
    if (irq_nesting || sched_busy || !current || current == idle_thread ||
        !thread_by_guard(cr2))
        panic("double fault in %s", irq_nesting ? "an IRQ handler" : sched_busy ? "the scheduler"
                                    : !thread_by_guard(cr2) ? "the kernel" : "the idle thread");
    kprintf("*** thread '%s' killed; the others go on\n", current->name);
    uint32_t *top = (uint32_t *)(current->stack + current->stack_size);
    *--top = 0;                                 /* a return address that ends backtraces */
    s->esp = (uint32_t)top;
    s->ebp = 0;
    s->eip = (uint32_t)thread_kill_current;
    s->eflags = EFLAGS_RESERVED;
    s->cs = SEG_KCODE;
    s->ss = SEG_KDATA;
    s->ds = s->es = s->fs = s->gs = SEG_UDATA;
    s->cr3 = vm_cr3;                            /* a task switch never saves CR3 */
}

static void exception(struct trapframe *tf)
{
    /* A ring-3 program's first touch of a heap page: map it, go on. */
    if (tf->vector == VEC_PAGE_FAULT && trap_from_user(tf) &&
        process_fault_in(current->proc, read_cr2()) == 1)
        return;
    /* A fault in an IRQ handler, in the scheduler, or with no thread to
     * blame leaves the kernel in an unknown state: stop everything. */
    if (irq_nesting || sched_busy || !current || current == idle_thread) {
        trap_report(tf);
        panic("CPU exception %u in %s", tf->vector,
              irq_nesting ? "an IRQ handler" : sched_busy ? "the scheduler" : "the idle thread");
    }
    trap_report(tf);
    if (current->proc)
        kprintf("*** process %d '%s' killed; the kernel and the others go on\n",
                current->proc->pid, current->proc->name);
    else
        kprintf("*** thread '%s' killed; the others go on\n", current->name);
    thread_kill_current();
}

void trap_bad_segments(uint32_t selector)
{
    panic("IRQ fast path: entered from ring 0 with a segment register holding %#x, "
          "not the kernel's %#x", selector, (uint32_t)SEG_UDATA);
}

void trap_return_to_user(struct trapframe *tf)
{
    if (current->proc->killed)
        process_exit(THREAD_KILLED);
}

void trap(struct trapframe *tf)
{
    if (tf->vector >= IRQ_VECTOR_BASE && tf->vector < IRQ_VECTOR_BASE + IRQ_LINES)
        irq_dispatch(tf);
    else if (tf->vector < NUM_EXCEPTIONS)
        exception(tf);
    else
        panic("trap: unexpected vector %u", tf->vector);
    if (trap_from_user(tf))
        trap_return_to_user(tf);
}
