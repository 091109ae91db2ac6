/* threads [fault|exit]: three more threads of this process (one address
 * space, a user stack each) add into one shared counter, yielding to each
 * other; the first waits for them and checks the sum, and a fifth thread
 * is refused (a process has at most 4). Exits 0 when all is right.
 *   fault  one thread divides by zero: the whole process dies
 *   exit   the first thread returns 7 while the others still run: the
 *          process ends with 7, the others with it */
#include "user/ring3/lib/ulib.h"

#define WORKERS (SYS_THREADS_MAX - 1)   /* with the first thread, all a process may have */
#define ROUNDS 100

static volatile int counter, done, zero;
static const char *mode = "";

static void add_one(void)
{
    __asm__ volatile("lock incl %0" : "+m"(counter));   /* one instruction: no lost update */
}

static void worker(void *arg)
{
    int id = (int)arg;
    for (int i = 0; i < ROUNDS; i++) {
        add_one();
        yield();
        if (id == 1 && i == ROUNDS / 2 && strcmp(mode, "fault") == 0) {
            uint32_t q;
            __asm__ volatile("divl %2" : "=a"(q) : "a"(1), "r"(zero), "d"(0));
        }
    }
    __asm__ volatile("lock incl %0" : "+m"(done));
}

int main(int argc, char **argv)
{
    mode = argc > 1 ? argv[1] : "";
    /* A word it does not know is refused, not run as no word at all. */
    if (argc > 2 || (argc == 2 && strcmp(mode, "fault") != 0 && strcmp(mode, "exit") != 0)) {
        printf("usage: threads [fault|exit]\n");
        return 2;
    }
    for (int i = 1; i <= WORKERS; i++) {
        int t = thread_create(worker, (void *)i);
        if (t < 0) {
            printf("threads: thread %d: %s\n", i, strerror(t));
            return 1;
        }
    }
    int extra = thread_create(worker, (void *)99);
    /* The kernel refuses it with -E_NOMEM (no thread slot left): say
     * why, as "out of memory" alone would mislead. */
    printf("threads: %d more threads; a fifth refused, a process has at most %d: %s\n",
           WORKERS, SYS_THREADS_MAX, strerror(extra));
    if (extra != -E_NOMEM)
        return 2;
    if (strcmp(mode, "exit") == 0)
        return 7;
    while (done < WORKERS)
        yield();
    printf("threads: counter %d of %d\n", counter, WORKERS * ROUNDS);
    return counter == WORKERS * ROUNDS ? 0 : 3;
}
