/* ASSERT(expr): a contract checked while the kernel runs.
 *
 * A comment that says "interrupts off" or "the thread is blocked" is a wish;
 * ASSERT makes it a check. When expr is false the kernel panics with the
 * expression's text, the file, the line and the function:
 *
 *   *** PANIC in thread 'shell': ASSERT(t->state == THREAD_BLOCKED) failed
 *       at kernel/sched.c:142 in sched_wake()
 *
 * The check is one compare and a branch that is predicted not taken; the
 * message and the panic live out of line. Built with -DWS_NO_ASSERT (make
 * bench NO_ASSERT=1) every ASSERT compiles to nothing, and expr is not
 * evaluated, so it must have no side effects. */
#ifndef WEBSCALE_ASSERT_H
#define WEBSCALE_ASSERT_H

void assert_fail(const char *expr, const char *file, int line, const char *func)
    __attribute__((noreturn, cold));

#ifdef WS_NO_ASSERT
/* sizeof: expr is compiled (its names count as used) but never run. */
#define ASSERT(expr) ((void)sizeof(!(expr)))
#else
#define ASSERT(expr)                                                        \
    do {                                                                    \
        if (__builtin_expect(!(expr), 0))                                   \
            assert_fail(#expr, __FILE__, __LINE__, __func__);               \
    } while (0)
#endif

#endif
