/* The command table: one line of help each. */
#include <webscale/string.h>
#include "user/shell.h"
#include "user/commands.h"
#include "user/demo.h"
#include "user/jobs.h"

#define HELP_COLUMN 24   /* where the descriptions start: 80 columns in all */

const struct shell_cmd shell_commands[] = {
    { "help", "", "list the commands", cmd_help, 0 },
    { "ps", "", "every thread: state, CPU time, switches, stack high-water", cmd_ps, 0 },
    { "uptime", "", "time since boot, context switches, idle share", cmd_uptime, 0 },
    { "top", "[SECONDS]", "ps, live: CPU share and switches of the last second", cmd_top, 0 },
    { "latency", "", "the talk's speed-of-light table, measured now, and scaled", cmd_latency, 0 },
    { "threads", "N [SECONDS]", "N threads count on one core: shares, switches, timeline", cmd_threads, 0 },
    { "trace", "[dump] [MS]", "timeline of the last MS ms of context switches (default 100); dump: as text for tools/trace2view.py", cmd_trace, 0 },
    { "sched", "[slice MS | preempt | coop]", "show or change the scheduler", cmd_sched, 0 },
    { "mem", "", "heap usage", cmd_mem, 0 },
    { "irqs", "", "interrupt counts per line, serial statistics", cmd_irqs, 0 },
    { "net", "", "the NIC: address, MAC, counters, ARP table, drops by reason", cmd_net, 0 },
    { "ping", "[IP] [COUNT]", "ICMP echo round trips (default the gateway 10.0.2.2, 4)", cmd_ping, 0 },
    { "httpd", "threads|loop [PORT]", "the same web server, thread per connection or event loop (Ctrl-C stops)", cmd_httpd, 0 },
    { "loop", "[limit MS | echo [SECONDS] | reset]", "the event loop: timers, queues, lag, slowest callbacks", cmd_loop, 0 },
    { "blocking", "[N] [MS]", "N slow requests: in a row, thread per request, event loop", cmd_blocking, 0 },
    { "stall", "[MS]", "one blocking callback stalls every loop client; threads do not", cmd_stall, 0 },
    { "spin", "[MS]", "a thread spins without yielding: try it after 'sched coop'", cmd_spin, 0 },
    { "order", "[N]", "the same async requests finish in different orders", cmd_order, 0 },
    { "cpu-vs-io", "[MS]", "CPU work over 1/2/4 threads vs IO waits in the loop", cmd_cpu_vs_io, 0 },
    { "scale", "[N...] [window MS]", "N clients, thread per client vs event loop: requests/s, switches, memory", cmd_scale, 0 },
    { "jobs", "", "background jobs: number, state, thread, command", cmd_jobs, SHELL_NO_JOB },
    { "kill", "%N", "stop background job N; its memory comes back", cmd_kill, SHELL_NO_JOB },
    { "fg", "[%N]", "bring job N (default the newest) to the foreground", cmd_fg, SHELL_NO_JOB },
    { "halt", "", "power off (QEMU exits with status 0)", cmd_halt, 0 },
};
const int shell_ncommands = sizeof shell_commands / sizeof shell_commands[0];

int cmd_help(int argc, char **argv)
{
    for (int i = 0; i < shell_ncommands; i++) {
        const struct shell_cmd *c = &shell_commands[i];
        int used = kprintf("  %s %s", c->name, c->args);
        demo_wrap(HELP_COLUMN, used, c->help);
    }
    demo_say("Keys: Backspace, Ctrl-U (line), Ctrl-W (word), Up/Down (history), "
             "Ctrl-C (stop). Quit QEMU: Ctrl-A X.\n");
    return 0;
}

const struct shell_cmd *shell_find(const char *name)
{
    for (int i = 0; i < shell_ncommands; i++)
        if (strcmp(shell_commands[i].name, name) == 0)
            return &shell_commands[i];
    return 0;
}
