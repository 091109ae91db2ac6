/* fault MODE: each dies alone, the kernel and the other processes go on.
 *   efault  system calls with bad pointers: each gets -E_FAULT; exits 0
 *           if all did, 1 if not
 *   badptr  the same, then a store through one: a page fault in ring 3
 *   kernel  a load from kernel memory (the kernel's image at 1 MiB)
 *   div     a division by zero (#DE)
 *   gp      a privileged instruction, hlt (#GP)
 *   ud      an invalid opcode (#UD)
 *   stack   runaway recursion into the user stack's guard page
 *   nosys   an unknown system call number (-E_NOSYS), then exits 0
 *   nullseg not a fault: NULLSEG_CALLS system calls, each made with a
 *           null selector in DS and ES (legal in ring 3), while the PIT
 *           ticks; exits 0 if every one answered, and the kernel must
 *           never run on those segments (kernel/vectors.S, vector128)
 *   df      not a fault either: the direction flag set (std) at every
 *           system call, a write among them; the kernel's C must run
 *           with it clear (vector128 clears it); exits 0 */
#include "user/ring3/lib/ulib.h"

#define KERNEL_ADDRESS 0x00100000u     /* the kernel's image: supervisor pages */
#define UNMAPPED 0x40300000u           /* user range, nothing mapped there */
#define USER_TOP_ADDRESS 0x40400000u   /* the end of the user range (kernel/vm.h) */

static volatile int zero;
int main(int argc, char **argv);

/* Pointers no system call may take: the kernel's, unmapped, read-only
 * where the kernel would write, running past the user range. 0: all
 * refused with -E_FAULT. */
static int bad_pointers_refused(void)
{
    int bad = 0, r;
    r = write((void *)KERNEL_ADDRESS, 4, 0);
    printf("fault: write(kernel address) = %d\n", r);
    bad |= r != -E_FAULT;
    r = write((void *)UNMAPPED, 4, 0);
    printf("fault: write(unmapped) = %d\n", r);
    bad |= r != -E_FAULT;
    r = read((void *)main, 4, 0);
    printf("fault: read(into the program's code) = %d\n", r);
    bad |= r != -E_FAULT;
    r = write((void *)(USER_TOP_ADDRESS - 2), 4, 0);
    printf("fault: write(past the user range) = %d\n", r);
    bad |= r != -E_FAULT;
    r = write(0, 1, 0);
    printf("fault: write(NULL) = %d\n", r);
    bad |= r != -E_FAULT;
    r = spawn((const char *)KERNEL_ADDRESS, 0);
    printf("fault: spawn(kernel address) = %d\n", r);
    bad |= r != -E_FAULT;
    /* wait() checks that the pid is a child before it looks at the
     * pointer, so a child of our own: a pid that is none answers -E_CHILD
     * and would prove nothing about the pointer. */
    int child = spawn("exit", 0);
    r = child < 0 ? child : wait(child, (int *)KERNEL_ADDRESS);
    printf("fault: wait(child, kernel address) = %d\n", r);
    bad |= r != -E_FAULT;
    if (child > 0)
        wait(child, 0);             /* the refused wait left it waitable */
    return bad;
}

/* About 190 PIT ticks of system calls under icount: enough for ticks to
 * land on every instruction of the system call's entry. */
#define NULLSEG_CALLS 3000000u

/* n getpids, each made right after BEFORE (asm text) has put the CPU in
 * an unusual state, which AFTER undoes at the end. The loop lives in
 * registers: nothing in it touches memory through DS (int and iret use
 * SS). Gives how many answers were not our pid. */
#define GETPID_LOOP(before, after, n, wrong, pid)                         \
    __asm__ volatile("1: " before "\n\t"                                  \
                     "movl %[nr], %%eax\n\t"                              \
                     "int $0x80\n\t"                                      \
                     "cmpl %[pid], %%eax\n\t"                             \
                     "je 2f\n\t"                                          \
                     "incl %[wrong]\n"                                     \
                     "2: decl %[n]\n\t"                                   \
                     "jnz 1b\n\t" after                                   \
                     : [wrong] "+r"(wrong), [n] "+r"(n)                   \
                     : [pid] "r"(pid), [nr] "i"(SYS_GETPID)               \
                     : "eax", "memory", "cc")

/* DS and ES null at each call. The kernel's return leaves them at the
 * user data segment, so they are nulled again before each one. */
static uint32_t null_segment_calls(void)
{
    uint32_t pid = (uint32_t)getpid(), wrong = 0, n = NULLSEG_CALLS;
    GETPID_LOOP("xorl %%eax, %%eax\n\tmovw %%ax, %%ds\n\tmovw %%ax, %%es",
                "movw %%ss, %%ax\n\tmovw %%ax, %%ds\n\tmovw %%ax, %%es", /* SS: the user data segment */
                n, wrong, pid);
    return wrong;
}

/* DF_CALLS getpids and a write, each made with the direction flag set. */
#define DF_CALLS 100000u
static uint32_t direction_flag_calls(void)
{
    uint32_t pid = (uint32_t)getpid(), wrong = 0, n = DF_CALLS;
    GETPID_LOOP("std", "cld", n, wrong, pid);
    static const char line[] = "fault: written with the direction flag set\n";
    int r;
    __asm__ volatile("std\n\t"
                     "int $0x80\n\t"
                     "cld"
                     : "=a"(r)
                     : "a"(SYS_WRITE), "b"(line), "c"(sizeof line - 1), "d"(0)
                     : "memory", "cc");
    return wrong + (r != (int)(sizeof line - 1));
}

static int recurse(int depth)
{
    volatile char frame[256];
    frame[0] = (char)depth;
    if (zero)                       /* never: the compiler cannot know */
        return 0;
    return recurse(depth + 1) + frame[0];
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "efault") == 0) {
        return bad_pointers_refused();
    } else if (strcmp(mode, "badptr") == 0) {
        if (bad_pointers_refused())
            return 1;
        printf("fault: now a store through %p\n", (void *)UNMAPPED);
        *(volatile int *)UNMAPPED = 1;
    } else if (strcmp(mode, "kernel") == 0) {
        printf("fault: loading from kernel address %p\n", (void *)KERNEL_ADDRESS);
        printf("fault: read %x\n", *(volatile uint32_t *)KERNEL_ADDRESS);
    } else if (strcmp(mode, "div") == 0) {
        /* divl itself: the compiler turns 1 / x into compares, no division */
        uint32_t q;
        __asm__ volatile("divl %2" : "=a"(q) : "a"(1), "r"(zero), "d"(0));
        printf("fault: 1 / 0 = %u\n", q);
    } else if (strcmp(mode, "gp") == 0) {
        __asm__ volatile("hlt");
    } else if (strcmp(mode, "ud") == 0) {
        __asm__ volatile("ud2");
    } else if (strcmp(mode, "stack") == 0) {
        printf("fault: %d\n", recurse(0));
    } else if (strcmp(mode, "nosys") == 0) {
        printf("fault: system call 999 = %d (%s)\n", syscall3(999, 0, 0, 0),
               strerror(syscall3(999, 0, 0, 0)));
        return 0;
    } else if (strcmp(mode, "nullseg") == 0) {
        uint32_t wrong = null_segment_calls();
        printf("fault: %u system calls with null DS and ES, %u wrong answers\n",
               NULLSEG_CALLS, wrong);
        return wrong != 0;
    } else if (strcmp(mode, "df") == 0) {
        uint32_t wrong = direction_flag_calls();
        printf("fault: %u system calls with the direction flag set, %u wrong answers\n",
               DF_CALLS + 1, wrong);
        return wrong != 0;
    } else {
        printf("fault: MODE is efault, badptr, kernel, div, gp, ud, stack, nosys, nullseg or df\n");
        return 2;
    }
    printf("fault: still alive after '%s'?\n", mode);
    return 1;
}
