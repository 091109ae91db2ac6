/* The saved context of a paused thread, as switch.S leaves it on the
 * thread's own stack: its ebp (the frame chain GDB and `ws bt` follow),
 * then the address switch_context returns to. The other callee-saved
 * registers of the i386 System V ABI (ebx, esi, edi) are in the frame of
 * the C function that called switch_to(): see below. The offsets are
 * declared once here; switch.S and the GDB helpers (tools/gdb/) use them,
 * and the C side checks them at compile time. */
#ifndef KERNEL_CONTEXT_H
#define KERNEL_CONTEXT_H

#define CONTEXT_EBP   0
#define CONTEXT_EIP   4
#define CONTEXT_SIZE  8

/* A new thread starts at thread_entry + THREAD_ENTRY_FIRST (switch.S). */
#define THREAD_ENTRY_FIRST 1

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

struct context {
    uint32_t ebp;   /* pushed by switch_context */
    uint32_t eip;   /* pushed by the call to switch_context */
};

_Static_assert(offsetof(struct context, ebp) == CONTEXT_EBP, "switch.S pushes ebp");
_Static_assert(offsetof(struct context, eip) == CONTEXT_EIP, "return address above the push");
_Static_assert(sizeof(struct context) == CONTEXT_SIZE, "switch.S layout");

/* switch.S; its arguments in eax and edx: call it only through switch_to. */
void switch_context(void);

/* Save the running thread's context on its stack, store that stack pointer
 * in *save, and resume the thread whose context is at load. Returns when
 * somebody switches back to the saved thread. Interrupts must be off.
 *
 * Why inline assembly and not a plain call: a call would oblige
 * switch_context to save ebx, esi and edi for us (callee-saved), although
 * the function we are in saved them in its prologue already. Listing them
 * as clobbered makes the compiler keep what it needs of them in its own
 * frame, across the switch, and switch_context saves only ebp (which GCC
 * keeps for the frame pointer and will not take as a clobber). eax, ecx
 * and edx die in any call. */
static inline __attribute__((always_inline)) void switch_to(struct context **save,
                                                            struct context *load)
{
    __asm__ volatile("call switch_context"
                     : "+a"(save), "+d"(load)
                     :
                     : "ebx", "ecx", "esi", "edi", "memory", "cc");
}
#endif

#endif
