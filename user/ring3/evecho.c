/* evecho [SECONDS]: the event-loop echo, the talk's
 *     while True: os.wake_me_if_something_happens(); handle it
 * as a ring-3 program: one wait_events() call blocks until the console has
 * input or the periodic timer fires (or a 5 s timeout passes); input is
 * read without blocking and echoed in capitals, each timer tick counted.
 * Ends after SECONDS (default 5; 0: no limit) of ticks, or at a line
 * "exit". */
#include "user/ring3/lib/ulib.h"

#define TICK_MS 100
#define SECONDS_MAX 3600

int main(int argc, char **argv)
{
    int seconds = 5;
    if (argc > 1 && parse_int("evecho", "SECONDS", argv[1], 0, SECONDS_MAX, &seconds) < 0)
        return 1;
    int ticks = 0, wakes = 0, timeouts = 0, exit_seen = 0;
    char buf[64];
    char line[64];              /* the line being typed, for "exit" */
    int len = 0;
    timer_set(TICK_MS, TICK_MS);
    if (seconds)
        printf("evecho: pid %d, one wait_events() for console and timer, %d s\n", getpid(),
               seconds);
    else
        printf("evecho: pid %d, one wait_events() for console and timer, until 'exit'\n",
               getpid());
    while ((seconds == 0 || ticks < seconds * (1000 / TICK_MS)) && !exit_seen) {
        int ev = wait_events(EV_CONSOLE | EV_TIMER, 5000);
        if (ev < 0) {
            printf("evecho: wait_events: %s\n", strerror(ev));
            return 1;
        }
        wakes++;
        if (ev == 0)
            timeouts++;
        if (ev & EV_TIMER)
            ticks++;
        if (ev & EV_CONSOLE) {
            int n = read(buf, sizeof buf, IO_NONBLOCK);
            for (int i = 0; i < n; i++) {
                char c = buf[i] >= 'a' && buf[i] <= 'z' ? buf[i] - 'a' + 'A' : buf[i];
                if (c == '\r')
                    c = '\n';
                if (c == '\n')
                    write("\r", 1, 0);  /* CR LF, as printf sends it */
                write(&c, 1, 0);
                if (buf[i] == '\r') {
                    line[len] = '\0';
                    exit_seen = strcmp(line, "exit") == 0;
                    len = 0;
                } else if (len < (int)sizeof line - 1) {
                    line[len++] = buf[i];
                }
            }
        }
    }
    timer_set(0, 0);
    printf("evecho: %d wake-ups, %d timer ticks, %d timeouts\n", wakes, ticks, timeouts);
    return 0;
}
