#ifndef USER_COMMANDS_H
#define USER_COMMANDS_H

#include <webscale/kprintf.h>

int cmd_help(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_uptime(int argc, char **argv);
int cmd_threads(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_latency(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_sched(int argc, char **argv);
int cmd_mem(int argc, char **argv);
int cmd_irqs(int argc, char **argv);
int cmd_net(int argc, char **argv);
int cmd_ping(int argc, char **argv);
int cmd_httpd(int argc, char **argv);
int cmd_halt(int argc, char **argv);
int cmd_clear(int argc, char **argv);
int cmd_loop(int argc, char **argv);
int cmd_blocking(int argc, char **argv);
int cmd_stall(int argc, char **argv);
int cmd_spin(int argc, char **argv);
int cmd_order(int argc, char **argv);
int cmd_cpu_vs_io(int argc, char **argv);
int cmd_scale(int argc, char **argv);
int cmd_spawn(int argc, char **argv);
int cmd_kill(int argc, char **argv);
void ps_processes(void);

/* The first columns of ps and top, the same in both (id, name, state,
 * what it waits on): 46 columns, so that each table fits 80. */
struct thread_info;
#define THREAD_COLUMNS_HEAD "  ID NAME        STATE    WAITS ON           "
void print_thread_columns(const struct thread_info *t);
/* A thread's NAME column (ps, top, jobs) is this wide. A name may be 15
 * characters (THREAD_NAME_MAX - 1: "%7 cpu-vs-io", "httpd-accept"), more
 * than ps's 80 columns have room for, so a longer one is cut to fit, a '~'
 * for its last character: the columns after it stay under their heads. */
#define NAME_COLUMN 11
const char *fit_name(char buf[NAME_COLUMN + 1], const char *name);
/* After a table of CPU times or switch counts (ps, top, uptime): "not
 * measured" while `sched stats` is off, or what an off spell left out. */
void print_stats_note(const char *columns);
/* For a demo whose figures are the scheduler's counts (switches, idle
 * time): with `sched stats off` they would all read 0, so the demo turns
 * the bookkeeping on for its run, saying so, and stats_restore(was) puts
 * the setting back. Returns the setting it found. */
int stats_on_for_run(const char *cmd);
void stats_restore(int was);

/* The command's own table entry, for its usage line. */
const struct shell_cmd *shell_find(const char *name);

#endif
