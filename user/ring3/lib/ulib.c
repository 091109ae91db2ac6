/* The ring-3 runtime. A system call is `int 0x80` with the number in eax
 * and arguments in ebx, ecx, edx (<webscale/syscall.h>); the kernel's
 * side is kernel/syscall.c. printf uses the kernel's own formatting
 * engine, and the string functions are the kernel's too (kernel/lib/
 * format.c, string.c: pure code, compiled again for ring 3). */
#include "kernel/lib/format.h"
#include "user/ring3/lib/ulib.h"

#define PRINTF_BUF 128

int syscall3(int n, uint32_t a, uint32_t b, uint32_t c)
{
    int r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c) : "memory");
    return r;
}

void exit(int code)
{
    syscall3(SYS_EXIT, (uint32_t)code, 0, 0);
    for (;;)
        ;
}

int write(const void *buf, size_t len, int flags)
{
    return syscall3(SYS_WRITE, (uint32_t)buf, len, (uint32_t)flags);
}

int read(void *buf, size_t len, int flags)
{
    return syscall3(SYS_READ, (uint32_t)buf, len, (uint32_t)flags);
}

int sleep_ms(uint32_t ms) { return syscall3(SYS_SLEEP, ms, 0, 0); }
int yield(void) { return syscall3(SYS_YIELD, 0, 0, 0); }
int getpid(void) { return syscall3(SYS_GETPID, 0, 0, 0); }

uint64_t clock_ns(void)
{
    uint32_t lo, hi;
    __asm__ volatile("int $0x80" : "=a"(lo), "=d"(hi) : "a"(SYS_CLOCK) : "memory");
    return (uint64_t)hi << 32 | lo;
}

int spawn(const char *name, const char *args)
{
    return syscall3(SYS_SPAWN, (uint32_t)name, (uint32_t)args, 0);
}

int wait(int pid, int *code) { return syscall3(SYS_WAIT, (uint32_t)pid, (uint32_t)code, 0); }

int spawn_wait(const char *name, const char *args, int *code)
{
    int pid = spawn(name, args);
    if (pid < 0)
        return pid;
    return wait(pid, code);
}

int wait_events(int mask, uint32_t timeout_ms)
{
    return syscall3(SYS_WAIT_EVENTS, (uint32_t)mask, timeout_ms, 0);
}

int timer_set(uint32_t ms, uint32_t period_ms) { return syscall3(SYS_TIMER, ms, period_ms, 0); }

/* A new thread's first function: the kernel starts it as if called with
 * (fn, arg) and a return address of 0. */
static void __attribute__((noreturn)) thread_trampoline(void (*fn)(void *), void *arg)
{
    fn(arg);
    thread_exit();
}

int thread_create(void (*fn)(void *), void *arg)
{
    return syscall3(SYS_THREAD, (uint32_t)thread_trampoline, (uint32_t)fn, (uint32_t)arg);
}

void thread_exit(void)
{
    syscall3(SYS_THREAD_EXIT, 0, 0, 0);
    for (;;)
        ;
}

int sbrk_error;

void *sbrk(int32_t increment)
{
    int r = syscall3(SYS_BRK, (uint32_t)increment, 0, 0);
    if (r < 0 && r > -4096) {
        sbrk_error = r;
        return (void *)-1;
    }
    return (void *)r;
}

/* ---- printf: format into a buffer, write it out in pieces ---- */

struct pbuf {
    char buf[PRINTF_BUF];
    int len;
};

static void flush(struct pbuf *b)
{
    if (b->len)
        write(b->buf, b->len, 0);
    b->len = 0;
}

/* The terminal wants CR LF, as kprintf sends it: a raw terminal (tools/
 * gdb/console.py's, a serial line) moves down a row at a bare LF but not
 * back to its first column, and the lines climb down like stairs. */
static void emit(char c, void *ctx)
{
    struct pbuf *b = ctx;
    if (c == '\n')
        emit('\r', ctx);
    if (b->len == PRINTF_BUF)
        flush(b);
    b->buf[b->len++] = c;
}

int printf(const char *fmt, ...)
{
    struct pbuf b;
    b.len = 0;
    va_list ap;
    va_start(ap, fmt);
    int n = format_v(emit, &b, fmt, ap);
    va_end(ap);
    flush(&b);
    return n;
}

int puts(const char *s) { return printf("%s\n", s); }

/* The shell's shell_parse_uint (user/shell.c), signed: digits only, and
 * out of range as soon as the value passes hi, before it can overflow.
 * (An atoi once read "99999999999" as 1215752191, wrapped in 32 bits, and
 * "x" as 0: junk ran as a number nobody typed.) The value grows in
 * 64 bits, negated at the end: -2147483648 fits. */
int parse_int(const char *prog, const char *what, const char *s, int lo, int hi, int *v)
{
    int neg = *s == '-' && lo < 0;
    const char *p = s + neg;
    int64_t n = 0, limit = neg ? -(int64_t)lo : hi;
    if (!*p)
        goto bad;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            goto bad;
        n = n * 10 + (*p - '0');
        if (n > limit)
            goto bad;
    }
    n = neg ? -n : n;
    if (n < lo || n > hi)        /* a negative n against a negative hi too */
        goto bad;
    *v = (int)n;
    return 0;
bad:
    printf("%s: %s must be a whole number from %d to %d, not '%s'\n", prog, what, lo, hi, s);
    return -1;
}

/* Every code of <webscale/errno.h> a system call can return, in the
 * kernel's words (ws_strerror): a background job's console read gets
 * E_PERM, once printed as "unknown error". */
const char *strerror(int err)
{
    switch (err < 0 ? -err : err) {
    case 0: return "success";
    case E_FAULT: return "bad address";
    case E_NOSYS: return "no such system call";
    case E_NOENT: return "no such program";
    case E_NOEXEC: return "not an executable";
    case E_NOMEM: return "out of memory";
    case E_INTR: return "interrupted";
    case E_WOULDBLOCK: return "would block";
    case E_CHILD: return "no such child";
    case E_INVAL: return "invalid argument";
    case E_PERM: return "not allowed";
    case E_BUSY: return "busy";
    case E_TIMEDOUT: return "timed out";
    case E_CONNRESET: return "connection reset";
    }
    return "unknown error";
}
