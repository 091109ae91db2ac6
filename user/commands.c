/* The command table: one line of help each. */
#include <webscale/string.h>
#include "user/shell.h"
#include "user/commands.h"
#include "user/demo.h"

#define HELP_COLUMN 24   /* where the descriptions start: 80 columns in all */

const struct shell_cmd shell_commands[] = {
    { "help", "", "list the commands", cmd_help },
    { "ps", "", "every thread: state, CPU time, switches, stack high-water; processes", cmd_ps },
    { "uptime", "", "time since boot, context switches, idle share", cmd_uptime },
    { "top", "[SECONDS]", "ps, live: CPU share and switches of the last second", cmd_top },
    { "latency", "", "the talk's speed-of-light table, measured now, and scaled", cmd_latency },
    { "threads", "N [SECONDS]", "N threads count on one core: shares, switches, timeline", cmd_threads },
    { "trace", "[dump] [MS]", "timeline of the last MS ms of context switches (default 100); dump: as text for tools/trace2view.py", cmd_trace },
    { "sched", "[slice MS | preempt | coop | stats on|off]", "show or change the scheduler",
      cmd_sched },
    { "mem", "", "heap usage", cmd_mem },
    { "irqs", "", "interrupt counts per line, serial statistics", cmd_irqs },
    { "net", "", "the NIC: address, MAC, counters, ARP table, drops by reason", cmd_net },
    { "ping", "[IP] [COUNT]", "ICMP echo round trips (default the gateway 10.0.2.2, 4)", cmd_ping },
    { "httpd", "threads|loop [PORT]", "the same web server, thread per connection or event loop (Ctrl-C stops)", cmd_httpd },
    { "loop", "[limit MS | echo [SECONDS] | reset]", "the event loop: timers, queues, lag, slowest callbacks", cmd_loop },
    { "blocking", "[N] [MS]", "N slow requests: in a row, thread per request, event loop", cmd_blocking },
    { "stall", "[MS]", "one blocking callback stalls every loop client; threads do not", cmd_stall },
    { "spin", "[MS]", "a thread spins without yielding: try it after 'sched coop'", cmd_spin },
    { "order", "[N]", "the same async requests finish in different orders", cmd_order },
    { "cpu-vs-io", "[MS]", "CPU work over 1/2/4 threads vs IO waits in the loop", cmd_cpu_vs_io },
    { "scale", "[N...] [window MS]", "N clients, thread per client vs event loop: requests/s, switches, memory", cmd_scale },
    { "spawn", "NAME [ARGS]", "run a ring-3 program in its own address space; Ctrl-C kills it", cmd_spawn },
    { "kill", "PID", "end a process (ring 3)", cmd_kill },
    { "halt", "", "power off (QEMU exits with status 0)", cmd_halt },
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
