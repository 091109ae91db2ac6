/* Processes in ring 3: spawn, wait and exit codes; bad pointers; faults
 * that kill only their process; preemption from ring 3; the ELF loader's
 * refusals; wait-for-events; kill; memory back after 1,000 spawns. */
#include <webscale/errno.h>
#include <webscale/string.h>
#include <webscale/syscall.h>
#include <webscale/system.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "kernel/elf.h"
#include "kernel/ktest.h"
#include "kernel/mem.h"
#include "kernel/page.h"
#include "kernel/process.h"
#include "tests/kernel/util.h"

#define SPAWNS 1000

/* Spawn name with args from the kernel and wait: its exit code. */
static int run(const char *name, const char *args)
{
    struct process *p;
    int pid = process_spawn(name, args, NULL, &p);
    if (pid < 0)
        return pid - 1000;          /* apart from every exit code */
    return process_wait(p, 0);
}

static void test_spawn_wait_exit_codes(void)
{
    KT_ASSERT_EQ(run("exit", "0"), 0);
    KT_ASSERT_EQ(run("exit", "3"), 3);
    KT_ASSERT_EQ(run("exit", "-7"), -7);
    KT_ASSERT_EQ(run("hello", "a b c"), 0);
    KT_ASSERT_EQ(run("spawner", "exit 9"), 0);    /* a ring-3 parent waits for its child */
    struct process *p;
    KT_ASSERT_EQ(process_spawn("nosuch", "", NULL, &p), -E_NOENT);
    char long_args[SPAWN_ARGS_MAX + 1];
    memset(long_args, 'a', SPAWN_ARGS_MAX);
    long_args[SPAWN_ARGS_MAX] = 0;
    KT_ASSERT_EQ(process_spawn("hello", long_args, NULL, &p), -E_INVAL);
}

static void test_bad_pointers_get_efault(void)
{
    KT_ASSERT_EQ(run("fault", "efault"), 0);      /* every call got -E_FAULT */
    KT_ASSERT_EQ(run("fault", "nosys"), 0);       /* unknown numbers: -E_NOSYS */
}

static struct kt_heartbeat hb_state;

/* Each fault kills its process with EXIT_KILLED while a spinner process
 * keeps counting (its CPU time grows) and a kernel thread keeps beating. */
static void test_faults_kill_only_their_process(void)
{
    static const char *const modes[] = { "badptr", "kernel", "div", "gp", "ud", "stack" };
    hb_state.stop = 0;
    thread_t *hb = thread_create("heartbeat", kt_heartbeat, &hb_state);
    struct process *spin;
    KT_ASSERT(hb && process_spawn("spin", "", NULL, &spin) > 0);
    thread_sleep_ms(20);
    for (unsigned i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        uint64_t cpu = sched_cpu_ns(spin->thread);
        uint32_t beats = hb_state.beats;
        KT_ASSERT_EQ(run("fault", modes[i]), EXIT_KILLED);
        thread_sleep_ms(30);
        KT_ASSERT(spin->state == PROC_RUNNING);
        KT_ASSERT(sched_cpu_ns(spin->thread) > cpu + 5 * NS_PER_MS);
        KT_ASSERT(hb_state.beats > beats + 5);
    }
    process_kill_p(spin);
    KT_ASSERT_EQ(process_wait(spin, 0), EXIT_KILLED);
    hb_state.stop = 1;
    KT_ASSERT_EQ(thread_join(hb), 0);
}

/* A spinner that never enters the kernel is preempted at the end of its
 * slices: a kernel thread sleeping 1 ms at a time still gets most of its
 * beats, and the spinner's thread counts involuntary switches. */
static void test_ring3_spinner_is_preempted(void)
{
    hb_state.stop = 0;
    hb_state.beats = 0;
    struct process *spin;
    KT_ASSERT(process_spawn("spin", "", NULL, &spin) > 0);
    thread_t *hb = thread_create("heartbeat", kt_heartbeat, &hb_state);
    KT_ASSERT(hb);
    thread_sleep_ms(200);
    hb_state.stop = 1;
    KT_ASSERT_EQ(thread_join(hb), 0);
    /* 1 ms sleeps behind a spinner with 10 ms slices: about one a slice. */
    KT_ASSERT(hb_state.beats >= 10);
    KT_ASSERT(spin->thread->involuntary >= 10);
    KT_ASSERT(sched_cpu_ns(spin->thread) > 100 * NS_PER_MS);
    process_kill_p(spin);
    KT_ASSERT_EQ(process_wait(spin, 0), EXIT_KILLED);
}

extern volatile uint64_t sched_switch_count;

/* CR3 is loaded only when the next thread belongs to another process:
 * one process among kernel threads keeps its directory loaded through
 * every switch (kernel threads run on any); two spinning processes make
 * the switches between them reload it. */
static void test_cr3_loaded_only_for_another_process(void)
{
    struct process *a, *b;
    hb_state.stop = 0;
    KT_ASSERT(process_spawn("spin", "", NULL, &a) > 0);
    thread_t *hb = thread_create("heartbeat", kt_heartbeat, &hb_state);
    KT_ASSERT(hb);
    thread_sleep_ms(5);
    uint32_t loads = vm_cr3_loads;
    uint64_t switches = sched_switch_count;
    thread_sleep_ms(100);
    kprintf("# one process: %llu switches, %u CR3 loads\n",
            (unsigned long long)(sched_switch_count - switches), vm_cr3_loads - loads);
    /* The heartbeat gets the CPU at each slice's end: 2 switches a slice. */
    KT_ASSERT(sched_switch_count - switches > 15);
    KT_ASSERT_EQ(vm_cr3_loads - loads, 0);
    hb_state.stop = 1;
    KT_ASSERT_EQ(thread_join(hb), 0);

    KT_ASSERT(process_spawn("spin", "", NULL, &b) > 0);
    thread_sleep_ms(5);
    loads = vm_cr3_loads;
    uint32_t ran_a = a->thread->involuntary, ran_b = b->thread->involuntary;
    thread_sleep_ms(100);
    uint32_t turns = a->thread->involuntary - ran_a + b->thread->involuntary - ran_b;
    kprintf("# two processes: %u preemptions, %u CR3 loads\n", turns, vm_cr3_loads - loads);
    KT_ASSERT(turns >= 8);                       /* 10 ms slices in 100 ms */
    KT_ASSERT_RANGE(vm_cr3_loads - loads, turns - 2, turns + 4);
    process_kill_p(a);
    process_kill_p(b);
    KT_ASSERT_EQ(process_wait(a, 0), EXIT_KILLED);
    KT_ASSERT_EQ(process_wait(b, 0), EXIT_KILLED);
}

/* SYS_YIELD takes its own way through vector128 (kernel/vectors.S): the
 * call counted, the switch, the kill at its end; from a kernel thread it
 * says -E_NOSYS as every number does. */
static void test_yield_system_call(void)
{
    struct process *a, *b;
    KT_ASSERT(process_spawn("bench", "ns partner", NULL, &a) > 0);
    KT_ASSERT(process_spawn("bench", "ns partner", NULL, &b) > 0);
    thread_sleep_ms(10);
    uint32_t calls_a = a->syscalls, calls_b = b->syscalls;
    thread_sleep_ms(20);
    kprintf("# two yielding processes in 20 ms: %u and %u system calls\n",
            a->syscalls - calls_a, b->syscalls - calls_b);
    KT_ASSERT(a->syscalls - calls_a > 100);
    KT_ASSERT(b->syscalls - calls_b > 100);
    process_kill_p(a);
    process_kill_p(b);
    KT_ASSERT_EQ(process_wait(a, 0), EXIT_KILLED);
    KT_ASSERT_EQ(process_wait(b, 0), EXIT_KILLED);

    int32_t r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(SYS_YIELD) : "memory");
    KT_ASSERT_EQ(r, -E_NOSYS);
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(SYS_GETPID) : "memory");
    KT_ASSERT_EQ(r, -E_NOSYS);
}

static void test_kill_interrupts_a_sleeping_process(void)
{
    struct process *p;
    KT_ASSERT(process_spawn("events", "sleep 1000000", NULL, &p) > 0);
    thread_sleep_ms(10);
    uint64_t t0 = clock_ns();
    process_kill_p(p);
    KT_ASSERT_EQ(process_wait(p, 0), EXIT_KILLED);
    KT_ASSERT(clock_ns() - t0 < 5 * NS_PER_MS);
    KT_ASSERT_EQ(run("events", "sleep 5"), 0);
}

/* Threads of one process share its address space (a counter they add
 * into), each with its own user stack; a fault in one kills them all;
 * the first one's exit ends the others; all their pages come back. */
static void test_threads_of_one_process(void)
{
    struct mem_stats m0, m1;
    struct page_stats p0, p1;
    mem_get_stats(&m0);
    page_get_stats(&p0);
    KT_ASSERT_EQ(run("threads", ""), 0);
    KT_ASSERT_EQ(run("threads", "fault"), EXIT_KILLED);
    KT_ASSERT_EQ(run("threads", "exit"), 7);
    mem_get_stats(&m1);
    page_get_stats(&p1);
    KT_ASSERT_EQ(m1.used, m0.used);
    KT_ASSERT_EQ(p1.free, p0.free);
}

static void test_wait_events_wakes_on_each_source(void)
{
    KT_ASSERT_EQ(run("events", ""), 0);           /* a bit per failed check */
}

/* Copy hello's image, break one thing, hand it to the loader. */
static uint8_t *image_copy(const struct program *hello)
{
    uint8_t *img = kmalloc(hello->size);
    KT_ASSERT(img);
    memcpy(img, hello->image, hello->size);
    return img;
}

static int spawn_broken(const struct program *hello, uint32_t offset, uint32_t value, int width)
{
    uint8_t *img = image_copy(hello);
    if (width == 1)
        img[offset] = (uint8_t)value;
    else if (width == 2)
        memcpy(img + offset, &value, 2);
    else
        memcpy(img + offset, &value, 4);
    struct process *p;
    int r = process_spawn_image("broken", img, hello->size, "", NULL, &p);
    if (r > 0)
        r = process_wait(p, 0) + 1000;
    kfree(img);
    return r;
}

static void test_bad_elf_is_refused(void)
{
    const struct program *hello = program_find("hello");
    KT_ASSERT(hello);
    struct mem_stats m0, m1;
    struct page_stats p0, p1;
    mem_get_stats(&m0);
    page_get_stats(&p0);
    uint32_t phoff;
    memcpy(&phoff, hello->image + 28, 4);
    /* ELF header offsets [System V ABI 4-3]; the first program header at phoff. */
    KT_ASSERT_EQ(spawn_broken(hello, 0, 0x7E, 1), -E_NOEXEC);          /* magic */
    KT_ASSERT_EQ(spawn_broken(hello, 4, 2, 1), -E_NOEXEC);             /* 64-bit class */
    KT_ASSERT_EQ(spawn_broken(hello, 16, 3, 2), -E_NOEXEC);            /* ET_DYN */
    KT_ASSERT_EQ(spawn_broken(hello, 18, 62, 2), -E_NOEXEC);           /* x86-64 */
    KT_ASSERT_EQ(spawn_broken(hello, 24, 0x100000, 4), -E_NOEXEC);     /* entry in the kernel */
    KT_ASSERT_EQ(spawn_broken(hello, 28, 0xFFFFFFF0, 4), -E_NOEXEC);   /* phoff past the end */
    KT_ASSERT_EQ(spawn_broken(hello, 44, 200, 2), -E_NOEXEC);          /* phnum */
    KT_ASSERT_EQ(spawn_broken(hello, phoff + 8, 0x100000, 4), -E_NOEXEC);  /* vaddr: kernel */
    KT_ASSERT_EQ(spawn_broken(hello, phoff + 8, 0x403FF000, 4), -E_NOEXEC); /* into the stack */
    KT_ASSERT_EQ(spawn_broken(hello, phoff + 4, 0x7FFFFFFF, 4), -E_NOEXEC); /* offset past end */
    KT_ASSERT_EQ(spawn_broken(hello, phoff + 16, 0x7FFFFFFF, 4), -E_NOEXEC); /* filesz > memsz */
    KT_ASSERT_EQ(spawn_broken(hello, phoff + 20, 0xFFFFFFF0, 4), -E_NOEXEC); /* memsz wraps */
    struct process *p;
    KT_ASSERT_EQ(process_spawn_image("short", hello->image, 20, "", NULL, &p), -E_NOEXEC);
    /* And the image itself is fine: the same path runs it. */
    KT_ASSERT_EQ(spawn_broken(hello, 0, 0x7F, 1), 1000);
    mem_get_stats(&m1);
    page_get_stats(&p1);
    KT_ASSERT_EQ(m1.used, m0.used);
    KT_ASSERT_EQ(p1.free, p0.free);
}

/* A process's pages are bounded: memhog's heap ends in -E_NOMEM (it exits
 * 0 when it saw that), and the kernel's pages are all back after it. */
static void test_memory_is_bounded_per_process(void)
{
    struct page_stats p0, p1;
    page_get_stats(&p0);
    KT_ASSERT_EQ(run("memhog", ""), 0);
    page_get_stats(&p1);
    KT_ASSERT_EQ(p1.free, p0.free);
    KT_ASSERT_EQ(p1.failures, p0.failures);       /* the limit, not the pool, said no */
}

static void test_memory_comes_back_after_1000_spawns(void)
{
    struct mem_stats m0, m1;
    struct page_stats p0, p1;
    KT_ASSERT_EQ(run("exit", "0"), 0);            /* the first one's heap growth, if any */
    mem_get_stats(&m0);
    page_get_stats(&p0);
    for (int i = 0; i < SPAWNS; i++)
        KT_ASSERT_EQ(run(i % 2 ? "exit" : "hello", "1"), i % 2);
    mem_get_stats(&m1);
    page_get_stats(&p1);
    kprintf("# %d spawns: heap used %u -> %u bytes, pages free %u -> %u of %u\n", SPAWNS,
            (unsigned)m0.used, (unsigned)m1.used, p0.free, p1.free, p1.total);
    KT_ASSERT_EQ(m1.used, m0.used);
    KT_ASSERT_EQ(p1.free, p0.free);
    KT_ASSERT_EQ(p1.used[PAGE_PROCESS], 0);
    KT_ASSERT_EQ(mem_check(), 0);
}

static const struct ktest_case process_cases[] = {
    { "spawn_wait_exit_codes", test_spawn_wait_exit_codes },
    { "bad_pointers_get_efault", test_bad_pointers_get_efault },
    { "faults_kill_only_their_process", test_faults_kill_only_their_process },
    { "ring3_spinner_is_preempted", test_ring3_spinner_is_preempted },
    { "cr3_loaded_only_for_another_process", test_cr3_loaded_only_for_another_process },
    { "yield_system_call", test_yield_system_call },
    { "kill_interrupts_a_sleeping_process", test_kill_interrupts_a_sleeping_process },
    { "threads_of_one_process", test_threads_of_one_process },
    { "wait_events_wakes_on_each_source", test_wait_events_wakes_on_each_source },
    { "bad_elf_is_refused", test_bad_elf_is_refused },
    { "memory_is_bounded_per_process", test_memory_is_bounded_per_process },
    { "memory_comes_back_after_1000_spawns", test_memory_comes_back_after_1000_spawns },
};
KTEST_SUITE(process, process_cases);
