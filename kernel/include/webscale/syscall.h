/* The system call interface between ring-3 programs (user/ring3/) and the
 * kernel (kernel/syscall.c): `int 0x80` with the call's number in eax and
 * its arguments in ebx, ecx, edx, esi; the result comes back in eax (and
 * edx for 64-bit results). A result below 0 is -E_... (<webscale/errno.h>):
 * a pointer that is not the program's own memory gets -E_FAULT, an unknown
 * number -E_NOSYS. Shared by both sides, so it names no kernel type. */
#ifndef WEBSCALE_SYSCALL_H
#define WEBSCALE_SYSCALL_H

#define SYSCALL_VECTOR 0x80

enum syscall_number {
    SYS_EXIT,        /* (code): never returns */
    SYS_WRITE,       /* (buf, len, flags): bytes written to the console */
    SYS_READ,        /* (buf, len, flags): bytes read from the console, >= 1 */
    SYS_SLEEP,       /* (ms): 0, or -E_INTR (Ctrl-C, kill) */
    SYS_YIELD,       /* (): 0 */
    SYS_GETPID,      /* (): this process's id */
    SYS_CLOCK,       /* (): ns since boot, edx:eax */
    SYS_SPAWN,       /* (name, args): a child's pid; args is one string of words */
    SYS_WAIT,        /* (pid, int *code): 0 when the child pid has exited */
    SYS_WAIT_EVENTS, /* (mask, timeout_ms): the ready sources of mask, 0 at the timeout */
    SYS_TIMER,       /* (ms, period_ms): arm this process's timer (0: disarm) */
    SYS_BRK,         /* (increment): the heap's old end, or -E_NOMEM */
    SYS_THREAD,      /* (eip, arg1, arg2): a new thread of this process runs eip(arg1, arg2) */
    SYS_THREAD_EXIT, /* (): ends the calling thread; the last one ends the process (code 0) */
    SYS_COUNT
};

/* The threads one process may have, its first among them: SYS_THREAD
 * past that is -E_NOMEM (no thread slot left). */
#define SYS_THREADS_MAX 4

/* SYS_READ and SYS_WRITE flags. */
#define IO_NONBLOCK 1    /* -E_WOULDBLOCK instead of waiting */

/* SYS_WAIT_EVENTS sources: the talk's os.wake_me_if_something_happens(). */
#define EV_CONSOLE 1     /* the console has a byte to read */
#define EV_TIMER 2       /* this process's timer expired (waiting consumes it) */
#define EV_CHILD 4       /* a child has exited and is waiting for SYS_WAIT */
#define EV_ALL (EV_CONSOLE | EV_TIMER | EV_CHILD)
#define TIMEOUT_NEVER 0xFFFFFFFFu   /* SYS_WAIT_EVENTS: no timeout */

#define SPAWN_ARGS_MAX 128          /* bytes of SYS_SPAWN's args, with the NUL */
#define PROGRAM_NAME_MAX 16         /* bytes of a program's name, with the NUL */
#define EXIT_KILLED (-128)          /* the code of a process the kernel killed */

#endif
