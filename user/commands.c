/* The command table: each command's usage, one line for `help`, and the
 * longer text that `help CMD` prints and README.md's command tables show.
 * This is the one source of that text: tools/commands_table.py writes the
 * README's tables from it (`--write`) and checks them (`make test` does,
 * tests/scenarios/test_help.py). Backquotes mark code for the README;
 * help prints the text without them. {Section} points into the README:
 * there it reads "(see *Section* below)", at the console, where "below"
 * means nothing, "(README: Section)". */
#include <webscale/string.h>
#include "user/shell.h"
#include "user/commands.h"
#include "user/demo.h"
#include "user/jobs.h"
#include "user/lineedit.h"

#define HELP_COLUMN 24   /* where the descriptions start: 80 columns in all */
#define HELP_INDENT 2
/* Bytes: tools/commands_table.py refuses a longer text (httpd's, the
 * longest, has about 1,000). */
#define HELP_TEXT_MAX 2048

const struct shell_cmd shell_commands[] = {
    {
        .name = "help", .args = "[CMD]", .section = SHELL_BASIC, .run = cmd_help,
        .help = "list the commands; help CMD: what CMD measures",
        .about = "each command, its arguments and one line on it; `help CMD`: its usage and what it "
        "shows or measures (the text of README's command tables)",
    },
    {
        .name = "ps", .args = "", .section = SHELL_BASIC, .run = cmd_ps,
        .help = "every thread: state, CPU time, switches, stack high-water; processes",
        .about = "every thread: id, name, state, what it waits on, CPU time, voluntary and involuntary "
        "switches, stack high-water mark; then every process (ring 3): pid, program, parent, its "
        "first thread's id, its threads, pages held / its limit, system calls, CPU time",
    },
    {
        .name = "spawn", .args = "NAME [ARGS]", .section = SHELL_BASIC, .run = cmd_spawn,
        .help = "run a ring-3 program in its own address space; Ctrl-C kills it",
        .about = "run ring-3 program NAME (`user/ring3/NAME.c`) in an address space of its own, in "
        "the foreground: the shell waits, Ctrl-C kills it; then its exit code (or \"was killed\") "
        "and how long it lived, its start (image loaded, stack mapped) included. `spawn NAME &` "
        "runs it as a job: its output marked `[N]`, its console reads refused, `kill %N` ends "
        "it. Without NAME (or a wrong one) the programs are listed {Ring 3}",
    },
    {
        .name = "uptime", .args = "", .section = SHELL_BASIC, .run = cmd_uptime,
        .help = "time since boot, context switches, idle share",
        .about = "time since boot, context switches by reason, idle share",
    },
    {
        .name = "top", .args = "[SECONDS]", .section = SHELL_BASIC, .run = cmd_top,
        .help = "ps, live: CPU share and switches of the last second",
        .about = "`ps`, live: redrawn in place every second (ANSI), each thread's CPU share and "
        "switches/s over the last second, uptime, switches/s, idle %, heap; Ctrl-C, or SECONDS "
        "seconds, stop it",
    },
    {
        .name = "latency", .args = "", .section = SHELL_BASIC, .run = cmd_latency,
        .help = "the talk's speed-of-light table, measured now, and scaled",
        .about = "the talk's \"speed of light\" table measured now: an instruction, a call, a mutex, "
        "an IRQ, event dispatch, yield and preempted switches (the preempted one from the "
        "first instruction of the PIT's interrupt entry, so how late QEMU delivers the tick "
        "is not in it), a loop round trip, a semaphore round trip, a serial byte (polled, by "
        "interrupt), a 1 ms sleep's lateness; each in ns (PIT clock, 838 ns resolution, "
        "batches divided) or cycles (TSC) and scaled by one rule, 1 instruction = 1 s (each "
        "figure divided by the measured instruction's: under `-icount shift=0`, a switch is "
        "~235 instructions = 3 min 54 s, not the talk's ~1 day); a row that measured nothing "
        "says `not measured (why)`; the conclusion quotes the switch rows above it; its "
        "header says that without `-icount` (`make run`) the figures follow the host's speed "
        "and vary from run to run, and under `-icount shift=0` one ns is one instruction and a "
        "boot's figures repeat, except the PIT clock's preempted switch rows (means of 838 ns steps), "
        "which move between runs",
    },
    {
        .name = "threads", .args = "N [SECONDS]", .section = SHELL_BASIC, .run = cmd_threads,
        .help = "N threads count on one core: shares, switches, timeline",
        .about = "N threads counting on one core: each one's share, its preemptions, a tick-by-tick "
        "timeline; Ctrl-C, or SECONDS seconds, stop it",
    },
    {
        .name = "trace", .args = "[dump] [MS]", .section = SHELL_BASIC, .run = cmd_trace,
        .help = "timeline of the last MS ms of context switches (default 100); dump: as text for "
        "tools/trace2view.py",
        .about = "the last MS ms of context switches as a timeline (who held the CPU, when, and why it "
        "changed hands), each thread lettered as its demo names it (`countA` is A) and named in "
        "the legend, ended ones by the name the kernel remembers; a window where only idle ran "
        "says `Nothing happened`; `trace dump [MS]`: the same switches for a program: `T <ns since "
        "boot> <from id> <from name> <to id> <to name> <reason>`, one a line between `trace "
        "dump BEGIN` and `trace dump END`, every thread named (ended ones too: the kernel "
        "remembers the last 128 names); `make trace` turns it into pictures {The "
        "trace as pictures}",
    },
    {
        .name = "sched", .args = "[slice MS | preempt | coop | stats on|off]", .section = SHELL_BASIC, .run = cmd_sched,
        .help = "show or change the scheduler",
        .about = "show or change the time slice and preemptive/cooperative mode, live; `stats off` "
        "skips CPU time, counts and the trace on every switch (then `ps`, `top`, `uptime` and "
        "`threads` say `not measured`; `latency`, `blocking`, `cpu-vs-io` and `scale`, which count "
        "switches, turn it on for their run), `stats on` brings them back and starts the trace again (`trace` then "
        "says it began there)",
    },
    {
        .name = "mem", .args = "", .section = SHELL_BASIC, .run = cmd_mem,
        .help = "heap usage",
        .about = "heap usage: bytes in all, used and free, the largest free block, allocations, frees "
        "and refusals",
    },
    {
        .name = "irqs", .args = "", .section = SHELL_BASIC, .run = cmd_irqs,
        .help = "interrupt counts per line, serial statistics",
        .about = "interrupts per line and serial statistics",
    },
    {
        .name = "net", .args = "", .section = SHELL_NET, .run = cmd_net,
        .help = "the NIC: address, MAC, counters, ARP table, drops by reason",
        .about = "the card, address, MAC; frames and bytes in and out, interrupts, the RX ring's peak "
        "and how often it was full; what each layer accepted and sent (ARP refreshes, port "
        "and protocol unreachables sent and refused by the rate); TCP's segments, handshakes, connections, "
        "SYN backlog, retransmits and resets; the ARP table; drops by reason",
    },
    {
        .name = "ping", .args = "[IP] [COUNT]", .section = SHELL_NET, .run = cmd_ping,
        .help = "ICMP echo round trips (default the gateway 10.0.2.2, 4)",
        .about = "ICMP echo (56 data bytes) once a second, default the gateway 10.0.2.2 and 4 times: "
        "each round trip in us and ns, from handing the request to the card to the interrupt "
        "that brought the reply, then min/avg/max; Ctrl-C stops",
    },
    {
        .name = "httpd", .args = "threads|loop [PORT]", .section = SHELL_HTTPD, .run = cmd_httpd,
        .help = "the same web server, thread per connection or event loop (Ctrl-C stops)",
        .claim = "Apache vs nginx",
        .about = "the same HTTP/1.0 and 1.1 server on PORT (default 80): `threads` runs an acceptor "
        "thread and one thread with a 4 KiB stack per connection; `loop` runs callbacks and a "
        "32-byte struct per connection. `GET /` answers the dashboard {The dashboard}, `/stats.json` its "
        "figures, `/text` a few lines of this server's figures (`HEAD` the same fields without "
        "the body), other paths 404, other methods 405; "
        "request bodies are skipped, pipelined requests answered in order; a request whose "
        "framing cannot be trusted is refused and the connection closed {HTTP framing}; keep-alive "
        "as HTTP/1.1 says. Ctrl-C stops it, closes the connections still open (FIN after what is "
        "queued, never RST: a client whose own FIN is still on its way finishes the close with "
        "the stack) and prints requests, connections, peak connections "
        "at once, TIME-WAIT apart, heap per connection at that peak, request heads held, "
        "context switches of all threads while it ran (idle's wake-ups too, so at low load "
        "most are not the requests') in all and per request, heap before and after. `threads` with no "
        "memory left for a thread closes the new connection, says so once and goes on",
    },
    {
        .name = "loop", .args = "[limit MS | echo [SECONDS] | reset]", .section = SHELL_DEMO, .run = cmd_loop,
        .help = "the event loop: timers, queues, lag, slowest callbacks",
        .claim = "the event loop is just `while True: wait; run callbacks`",
        .about = "pending timers, watchers, queued posts and calls; callbacks run, events/s, busy "
        "share, times it blocked; timer lag last/max/average; stall reports; the slowest "
        "callbacks. `loop echo` reads the console through the readable watcher and echoes it "
        "in capitals through the writable one",
    },
    {
        .name = "blocking", .args = "[N] [MS]", .section = SHELL_DEMO, .run = cmd_blocking,
        .help = "N slow requests: in a row, thread per request, event loop",
        .claim = "blocking vs non-blocking",
        .about = "N requests that each wait MS for a \"slow server\" (a timer), done by one thread in "
        "a row (N x MS), by a thread per request and by loop callbacks (both about MS): total "
        "time, switches, memory (4096-byte stacks vs 52-byte timers), thread time spent "
        "blocked, CPU work, idle share",
    },
    {
        .name = "stall", .args = "[MS]", .section = SHELL_DEMO, .run = cmd_stall,
        .help = "one blocking callback stalls every loop client; threads do not",
        .claim = "one blocking call stalls every connection",
        .about = "8 clients with a 10 ms heartbeat; one callback `china` blocks for MS (default 500): "
        "heartbeat lateness p50/p99/max before and during, skipped beats, the detector naming "
        "`china`; then the same with threads, where the PIT keeps everyone within a slice. Under "
        "`sched coop` the detector gets the CPU only after `china` returned, and says so",
    },
    {
        .name = "spin", .args = "[MS]", .section = SHELL_DEMO, .run = cmd_spin,
        .help = "a thread spins without yielding: try it after 'sched coop'",
        .claim = "cooperative vs preemptive",
        .about = "a thread spins MS without yielding: preemptive, the shell and the loop are late by "
        "at most a slice and a tick (the conclusion quotes the worst lateness and says when "
        "it was more: other threads, or a host that delivered the tick late); after `sched "
        "coop` both freeze for the whole MS. The spinner always stops by itself (as a job, "
        "also at `kill`)",
    },
    {
        .name = "order", .args = "[N]", .section = SHELL_DEMO, .run = cmd_order,
        .help = "the same async requests finish in different orders",
        .claim = "async programs run in unknown order",
        .about = "the same N requests twice; replies arrive after 10 ms plus jitter taken from the "
        "PIT's phase (interrupt timing), parsing runs on the worker pool: two completion "
        "orders side by side, each request with its time from sending to the end of its "
        "parsing (`sent->done`)",
    },
    {
        .name = "cpu-vs-io", .args = "[MS]", .section = SHELL_DEMO, .run = cmd_cpu_vs_io,
        .help = "CPU work over 1/2/4 threads vs IO waits in the loop",
        .claim = "CPU-bound: threads; IO-bound: async",
        .about = "the same CPU work over 1, 2, 4 threads and the worker pool takes the same time "
        "(**the talk's \"two threads are twice as fast\" needs two cores**); four IO waits "
        "take their sum blocking, about the longest in the loop",
    },
    {
        .name = "scale", .args = "[N...] [window MS]", .section = SHELL_DEMO, .run = cmd_scale,
        .help = "N clients, thread per client vs event loop: requests/s, switches, memory",
        .claim = "1000 threads spend their time switching",
        .about = "N clients (default 1, 10, 100, 1000; at most 10,000) each send requests in a loop: "
        "wait 10 ms for the \"network\", then 50 us of CPU work. A thread per client, then a "
        "loop timer per client, each measured over a window (default 1000 ms) after a "
        "warm-up: requests/s, latency p50/p99, switches and switches per request, heap bytes "
        "and bytes per client, CPU share switching (switches x a measured cooperative "
        "switch), overhead (busy minus requests x the measured work) and idle; then "
        "conclusions computed from the rows. Threads that do not fit in the heap are reported "
        "and the row skipped",
    },
    {
        .name = "jobs", .args = "", .section = SHELL_JOBS, .run = cmd_jobs, .flags = SHELL_NO_JOB,
        .help = "background jobs: number, state, thread, command",
        .about = "each job: number, state (`running`, `stopping`, `ended`), its thread (id, "
        "name, scheduler state), how long it has run, the command",
    },
    {
        .name = "kill", .args = "%N | PID", .section = SHELL_JOBS, .run = cmd_kill, .flags = SHELL_NO_JOB,
        .help = "stop background job N, or end process PID (ring 3)",
        .about = "`kill %N`: ask job N to stop and wait up to 2 s for it: `[1] stopped by kill after "
        "2113.350 ms: httpd loop`, and the heap before and after; `kill PID`: end process PID at "
        "its next kernel entry or return to ring 3 (a wait it sleeps in ends at once)",
    },
    {
        .name = "fg", .args = "[%N]", .section = SHELL_JOBS, .run = cmd_fg, .flags = SHELL_NO_JOB,
        .help = "bring job N (default the newest) to the foreground",
        .about = "wait for job N (default the newest) in the foreground: Ctrl-C now stops it",
    },
    {
        .name = "clear", .args = "", .section = SHELL_BASIC, .run = cmd_clear,
        .help = "clear the screen (Ctrl-L does too, keeping the line typed)",
        .about = "clears the terminal (ANSI cursor home, erase screen); the prompt comes back at "
        "the top. Ctrl-L at the prompt does the same and draws the line being typed again",
    },
    {
        .name = "halt", .args = "", .section = SHELL_BASIC, .run = cmd_halt,
        .help = "power off (QEMU ends; make run exits with status 0)",
        .about = "power off: QEMU ends with exit status 3, which the kernel asked for through "
        "`isa-debug-exit` and `tools/machine.py` reads as a clean halt, so `make run` exits "
        "with status 0",
    },
};
const int shell_ncommands = sizeof shell_commands / sizeof shell_commands[0];

/* text without the README's backquotes and bold marks, into buf, each
 * {Section} as "(README: Section)". */
static void plain(char *buf, int size, const char *text)
{
    int n = 0;
    for (const char *p = text; *p && n < size - 1; p++) {
        const char *put = NULL;
        if (*p == '{')
            put = "(README: ";
        else if (*p == '}')
            put = ")";
        else if (*p != '`' && !(p[0] == '*' && (p[1] == '*' || (p > text && p[-1] == '*'))))
            buf[n++] = *p;
        for (; put && *put && n < size - 1; put++)
            buf[n++] = *put;
    }
    buf[n] = 0;
}

/* "label: text", text wrapped under a two-column indent. */
static void help_text(const char *label, const char *text)
{
    static char buf[HELP_TEXT_MAX];
    plain(buf, sizeof buf, text);
    int used = kprintf("%s: ", label);
    demo_hang_text(used, HELP_INDENT, buf);
}

static int help_one(const char *name)
{
    const struct shell_cmd *c = shell_find(name);
    if (!c) {
        kprintf("help: no command '%s' (type 'help' for the list)\n", name);
        return 1;
    }
    kprintf("usage: %s%s%s\n", c->name, c->args[0] ? " " : "", c->args);
    help_text("in short", c->help);
    if (c->claim)
        help_text("the talk's claim", c->claim);
    help_text(c->section == SHELL_DEMO || c->section == SHELL_HTTPD ? "measures" : "shows",
              c->about);
    return 0;
}

int cmd_help(int argc, char **argv)
{
    if (argc == 2)
        return help_one(argv[1]);
    if (argc > 2)
        return shell_usage(shell_find("help"));
    for (int i = 0; i < shell_ncommands; i++) {
        const struct shell_cmd *c = &shell_commands[i];
        int used = kprintf("  %s %s", c->name, c->args);
        demo_wrap(HELP_COLUMN, used, c->help);
    }
    demo_say("Keys: Left/Right, Home/End (Ctrl-A/Ctrl-E), Backspace, Delete, Ctrl-K (to the "
             "end), Ctrl-U (line), Ctrl-W (word), Ctrl-L (redraw), Up/Down (history), Ctrl-C "
             "(stop). CMD & runs it in the background. Quit QEMU: Ctrl-A X.\n");
    return 0;
}

const struct shell_cmd *shell_find(const char *name)
{
    for (int i = 0; i < shell_ncommands; i++)
        if (strcmp(shell_commands[i].name, name) == 0)
            return &shell_commands[i];
    return 0;
}

int cmd_clear(int argc, char **argv)
{
    kprintf("%s", LE_CLEAR_SCREEN);
    return 0;
}
