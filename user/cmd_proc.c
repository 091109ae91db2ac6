/* spawn, kill, and the processes part of ps: ring-3 programs seen from
 * the shell (which itself runs in ring 0, a kernel thread). */
#include <webscale/errno.h>
#include <webscale/kprintf.h>
#include <webscale/process.h>
#include <webscale/sched.h>
#include <webscale/string.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "user/commands.h"
#include "user/jobs.h"
#include "user/demo.h"
#include "user/shell.h"

#define PROC_MAX 32

static void list_programs(void)
{
    char names[256];
    int len = 0;
    names[0] = 0;
    for (int i = 0; program_name(i) && len < (int)sizeof names; i++)
        len += ksnprintf(names + len, sizeof names - len, " %s", program_name(i));
    demo_say("programs (user/ring3/):%s\n", names);
}

/* spawn NAME [ARGS]: in the foreground. The shell waits (interruptibly:
 * it is the foreground thread), and a Ctrl-C kills the process, which the
 * shell then waits for to the end. */
int cmd_spawn(int argc, char **argv)
{
    if (argc < 2) {
        shell_usage(shell_find(argv[0]));
        list_programs();
        return 1;
    }
    /* A job's process is not the console's: Ctrl-C does not reach it, and
     * under `sched coop` a program that never enters the kernel (spin)
     * would keep the CPU from the prompt for good, `kill` untypeable. */
    int job = thread_job(thread_current());
    if (job && !job_in_foreground(job) && !sched_preemptive()) {
        demo_say("spawn: not as a job under 'sched coop': the process could keep the CPU for "
                 "good; run it in the foreground (Ctrl-C kills it) or 'sched preempt' first\n");
        return 1;
    }
    char args[SPAWN_ARGS_MAX];
    int len = 0;
    args[0] = 0;
    for (int i = 2; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (len + n + 2 > sizeof args) {
            kprintf("spawn: the arguments are longer than %u bytes\n", SPAWN_ARGS_MAX - 1);
            return 1;
        }
        memcpy(args + len, argv[i], n);
        len += n;
        args[len++] = i + 1 < argc ? ' ' : 0;
        args[len] = 0;
    }
    /* The clock starts before process_start: the child's life begins in
     * it (its image loaded, its stack mapped), and it may even run, exit
     * and be waitable before process_start returns here (a PIT tick in
     * between), which a clock started after it once reported as 0 us. */
    uint64_t t0 = clock_ns();
    int pid = process_start(argv[1], args);
    if (pid < 0) {
        /* E_NOENT's own words, "no such entry", name no file system's
         * entry here: the name is not one of the embedded programs. */
        if (pid == -E_NOENT) {
            kprintf("spawn: no program '%s'\n", argv[1]);
            list_programs();
        } else {
            kprintf("spawn: cannot start '%s': %s\n", argv[1], ws_strerror(pid));
        }
        return 1;
    }
    int code = 0;
    /* In the foreground Ctrl-C kills it, from the interrupt. As a job
     * (spawn NAME &) it is not the console's: Ctrl-C belongs to the
     * prompt, and kill %N interrupts this wait instead. */
    int foreground = thread_job(thread_current()) == 0;
    if (foreground)
        process_set_foreground(pid);
    if (process_wait_pid(pid, &code, 1) == -E_INTR) {
        process_kill(pid);
        process_wait_pid(pid, &code, 0);   /* to its end: the interrupt is still pending */
    }
    if (foreground)
        process_set_foreground(0);
    uint64_t us = (clock_ns() - t0) / NS_PER_US;
    if (code == EXIT_KILLED)
        kprintf("spawn: process %d '%s' was killed after %llu us\n", pid, argv[1],
                (unsigned long long)us);
    else
        kprintf("spawn: process %d '%s' exited with code %d after %llu us\n", pid, argv[1],
                code, (unsigned long long)us);
    kprintf("@demo spawn pid=%d code=%d run_us=%llu\n", pid, code, (unsigned long long)us);
    return code == 0 ? 0 : 1;
}

/* kill %N is the job layer's (user/jobs.c); kill PID ends a process. */
int cmd_kill(int argc, char **argv)
{
    uint32_t pid;
    if (argc == 2 && argv[1][0] == '%')
        return cmd_kill_job(argc, argv);
    if (argc != 2)
        return shell_usage(shell_find(argv[0]));
    if (shell_parse_uint(argv[0], "PID", argv[1], 1, 1u << 30, &pid) < 0)
        return 1;
    if (process_kill((int)pid) < 0) {
        kprintf("kill: no process %u\n", pid);
        return 1;
    }
    kprintf("kill: process %u will end at its next kernel entry\n", pid);
    return 0;
}

/* ps's second table: the processes, each with its thread's id. */
void ps_processes(void)
{
    static struct process_info info[PROC_MAX];
    int n = process_snapshot(info, PROC_MAX);
    if (n == 0) {
        kprintf("no processes (ring 3): 'spawn NAME' starts one\n");
        return;
    }
    kprintf(" PID PROGRAM     PARENT THREAD THR STATE      PAGES   SYSCALLS    CPU ms\n");
    for (int i = 0; i < n && i < PROC_MAX; i++) {
        struct process_info *p = &info[i];
        char cpu[24];
        shell_fmt_milli(cpu, sizeof cpu, p->cpu_ns / NS_PER_US);
        kprintf("%4d %-11s %6d %6d %3d %-8s %4u/%-4u %8u %9s\n", p->pid, p->name, p->parent,
                p->thread_id, p->threads, p->state, p->pages, p->page_limit, p->syscalls, cpu);
    }
    if (n > PROC_MAX)
        kprintf("(%d more processes not shown)\n", n - PROC_MAX);
}
