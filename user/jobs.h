/* Background jobs: `CMD &` runs a command in a thread of its own while the
 * prompt stays free; `jobs`, `kill %N` and `fg %N` manage them.
 *
 * The interface, for any command (and for a later `spawn`, whose own
 * command runs a ring-3 process and waits for it):
 *
 *   job_start(text, run, argc, argv) starts a thread that calls
 *   run(argc, argv) on copies of the arguments and ends when run returns.
 *   The thread carries the job's number (thread_set_job); every thread it
 *   creates inherits it, so the console marks all their output "[N] ", in
 *   lines that fit 80 columns, and refuses them console reads while they
 *   are in the background (-E_PERM).
 *
 *   A job is asked to stop, never torn down: `kill %N` sets its stop flag
 *   and interrupts its thread (thread_interrupt), so its interruptible
 *   waits end with -E_INTR. run must therefore wait with
 *   shell_sleep_until() (or another interruptible wait) and poll
 *   shell_stop_requested() in long loops, then release what it holds and
 *   return: that is how its memory, sockets and threads come back. A
 *   foreground command obeys Ctrl-C the same way, so a command written for
 *   the foreground already works as a job. */
#ifndef USER_JOBS_H
#define USER_JOBS_H

#include <stddef.h>

#define JOBS_MAX 8                 /* job numbers 1..8: the mark is "[N] ", 4 columns */
#define JOB_MARK_COLUMNS 4

typedef int (*job_fn)(int argc, char **argv);

/* Start run(argc, argv) as a job, text being what `jobs` shows. Returns the
 * job number, or -E_BUSY (all JOBS_MAX in use) or -E_NOMEM (no thread). */
int job_start(const char *text, job_fn run, int argc, char **argv);
/* The job that started run, if it is still running (not yet reported):
 * its number, else 0. Each command runs once at a time, since demos keep
 * their state in statics. */
int job_running(job_fn run);
/* For the calling thread: its job's stop flag, or (in the foreground)
 * Ctrl-C. 0 for a thread that is not a job's. */
int job_stop_requested(int job);
int job_in_foreground(int job);
/* Print "[N] done ..." for every job that ended, and forget it. The shell
 * calls this before each prompt. */
void jobs_report_ended(void);

/* The job writer (console_set_job_writer), and the lock around all output
 * that is written in pieces: the prompt's echo and a job's marked line
 * must not mix. */
void jobs_init(void);
void jobs_output_lock(void);
void jobs_output_unlock(void);
/* The shell shows its prompt (output lock held): whatever line a kernel
 * message left open ended there. */
void jobs_prompt_shown(void);

int cmd_jobs(int argc, char **argv);
/* `kill %N`. A `kill PID` for processes can share the command: its run
 * passes an argument that starts with '%' here. */
int cmd_kill_job(int argc, char **argv);
int cmd_fg(int argc, char **argv);

#endif
