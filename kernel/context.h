/* The saved context of a paused thread, as switch.S leaves it on the
 * thread's own stack: the four callee-saved registers of the i386 System V
 * ABI, then the address switch_context returns to. The offsets are
 * declared once here; switch.S and the GDB helpers (tools/gdb/) use them,
 * and the C side checks them at compile time. */
#ifndef KERNEL_CONTEXT_H
#define KERNEL_CONTEXT_H

#define CONTEXT_EDI   0
#define CONTEXT_ESI   4
#define CONTEXT_EBX   8
#define CONTEXT_EBP  12
#define CONTEXT_EIP  16
#define CONTEXT_SIZE 20

/* A new thread starts at thread_entry + THREAD_ENTRY_FIRST (switch.S). */
#define THREAD_ENTRY_FIRST 1

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

struct context {
    uint32_t edi;   /* pushed last, so lowest */
    uint32_t esi;
    uint32_t ebx;
    uint32_t ebp;
    uint32_t eip;   /* pushed by the call to switch_context */
};

_Static_assert(offsetof(struct context, edi) == CONTEXT_EDI, "switch.S pushes edi last");
_Static_assert(offsetof(struct context, esi) == CONTEXT_ESI, "switch.S layout");
_Static_assert(offsetof(struct context, ebx) == CONTEXT_EBX, "switch.S layout");
_Static_assert(offsetof(struct context, ebp) == CONTEXT_EBP, "switch.S pushes ebp first");
_Static_assert(offsetof(struct context, eip) == CONTEXT_EIP, "return address above the pushes");
_Static_assert(sizeof(struct context) == CONTEXT_SIZE, "switch.S layout");

/* Save the running thread's context on its stack, store that stack pointer
 * in *save, and resume the thread whose context is at load. Returns when
 * somebody switches back to the saved thread. Interrupts must be off. */
void switch_context(struct context **save, struct context *load);
#endif

#endif
