/* The serial shell: line editing, history, and the command table.
 * Commands live in user/cmd_*.c and see the kernel only through
 * <webscale/...> headers. */
#ifndef USER_SHELL_H
#define USER_SHELL_H

#include <stdint.h>

#define SHELL_LINE_MAX 256     /* bytes, with the NUL */
#define SHELL_MAX_ARGS 16

/* Which of the README's command tables a command is in. */
enum shell_section {
    SHELL_BASIC,               /* "What you will see" */
    SHELL_JOBS,                /* "Background jobs" */
    SHELL_DEMO,                /* "The event loop and the demos" */
    SHELL_NET,                 /* "The network" */
    SHELL_HTTPD,               /* "TCP and httpd" */
};

struct shell_cmd {
    const char *name;
    const char *args;          /* usage, e.g. "N [SECONDS]" */
    const char *help;          /* one line, for `help` */
    const char *claim;         /* a demo: the talk's claim it tests, or NULL */
    const char *about;         /* what it shows or measures: `help CMD`, the README */
    enum shell_section section;
    int (*run)(int argc, char **argv);   /* 0, or nonzero after printing an error */
    unsigned flags;            /* enum shell_cmd_flags */
};

enum shell_cmd_flags {
    SHELL_NO_JOB = 1,          /* never in the background (`jobs &`): job control */
};

extern const struct shell_cmd shell_commands[];
extern const int shell_ncommands;

void shell_main(void *arg);
/* cpu_cycles() when the shell started, just before its first prompt. */
extern uint64_t shell_start_cycles;
/* Run one command line as if typed. */
int shell_execute(char *line);

/* Helpers for commands. */
/* Parse a decimal number in [lo, hi]; on error print "cmd: what must be ..." */
int shell_parse_uint(const char *cmd, const char *what, const char *s, uint32_t lo,
                     uint32_t hi, uint32_t *out);
int shell_usage(const struct shell_cmd *c);
/* "CMD [WHAT]": no argument leaves *v as it is, one is parsed into [lo, hi].
 * Returns 0, or 1 after printing the usage or the error (the command's
 * exit status). */
int shell_optional_uint(int argc, char **argv, const char *what, uint32_t lo, uint32_t hi,
                        uint32_t *v);
/* The command should stop now: Ctrl-C for the foreground, `kill %N` for
 * a background job (user/jobs.h). Poll it in loops that do not wait. */
int shell_stop_requested(void);
/* "this shell" or "this job": who runs the calling command, for labels. */
const char *shell_self(void);
/* "Ctrl-C" or "kill %N": what stops the calling command, for its hints. */
const char *shell_stop_key(void);
/* For the job layer, with the output lock held: the prompt is shown and a
 * line is being typed; erase it (all its rows, the cursor left at the
 * prompt row's start), and draw it again (the prompt, the line, the
 * cursor where it was). */
int shell_at_prompt(void);
void shell_erase_input(void);
void shell_redraw_input(void);
/* Sleep ms, or until deadline_ns (TIME_NEVER: until Ctrl-C); returns 1
 * as soon as shell_stop_requested, 0 at the deadline. One sleep, no polling. */
int shell_sleep_interruptible(uint32_t ms);
int shell_sleep_until(uint64_t deadline_ns);
/* "12.345" from a value in thousandths. */
void shell_fmt_milli(char *buf, int size, uint64_t thousandths);

#endif
