/* echo: the blocking echo. read() sleeps until the console has bytes,
 * write() sends them back; a line "exit" ends it, Ctrl-C kills it. */
#include "user/ring3/lib/ulib.h"

int main(int argc, char **argv)
{
    char buf[64], line[8];
    int len = 0;
    printf("echo: type; 'exit' ends (pid %d, blocking read)\n", getpid());
    for (;;) {
        int n = read(buf, sizeof buf, 0);
        if (n < 0) {
            printf("echo: read: %s\n", strerror(n));
            return 1;
        }
        for (int i = 0; i < n; i++) {
            char c = buf[i] == '\r' ? '\n' : buf[i];
            if (c == '\n')
                write("\r", 1, 0);      /* CR LF, as printf sends it */
            write(&c, 1, 0);
            if (c == '\n') {
                line[len < (int)sizeof line ? len : (int)sizeof line - 1] = 0;
                if (len == 4 && strcmp(line, "exit") == 0)
                    return 0;
                len = 0;
            } else if (len < (int)sizeof line - 1) {
                line[len++] = c;
            } else {
                len = sizeof line;     /* too long to be "exit" */
            }
        }
    }
}
