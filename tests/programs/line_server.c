/*
 * prog_line_server PORT
 *
 * A line protocol on 0.0.0.0:PORT, one connection at a time, the client
 * speaking first:
 *
 *   HELLO\n        -> HI\n
 *   PUT <n>\n<n bytes>
 *                  -> OK\n once the n bytes came; for n above 65536 it first
 *                     checks the memory it has (the marker call sysinfo) and
 *                     answers TOO BIG\n without reading them
 *   QUIT\n         -> BYE\n, and the connection ends
 *   anything else  -> ERR\n
 *
 * n is read with strtoul: "-1" is a very large n. A connection that stays
 * silent for a second is closed.
 *
 * Marker calls (arch x86_64): sysinfo once per PUT with n > 65536.
 * Non-marker calls besides dynamic start-up and exit: rt_sigaction,
 * socket, setsockopt, bind, listen, accept, read, write, close.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>

#include "prog_util.h"

static char buf[65536];
static size_t len;

static int fill(int c)
{
    if (len == sizeof buf)
        return 0;
    ssize_t n = read(c, buf + len, sizeof buf - len);
    if (n <= 0)
        return 0;
    len += (size_t)n;
    return 1;
}

static void say(int c, const char *text) { (void)!write(c, text, strlen(text)); }

static void consume(size_t n)
{
    memmove(buf, buf + n, len - n);
    len -= n;
}

static void serve(int c)
{
    len = 0;
    for (;;) {
        char *nl;
        while (!(nl = memchr(buf, '\n', len)))
            if (!fill(c))
                return;
        size_t line = (size_t)(nl - buf);
        if (line == 5 && memcmp(buf, "HELLO", 5) == 0) {
            consume(line + 1);
            say(c, "HI\n");
        } else if (line == 4 && memcmp(buf, "QUIT", 4) == 0) {
            say(c, "BYE\n");
            return;
        } else if (line > 4 && memcmp(buf, "PUT ", 4) == 0) {
            *nl = 0;
            unsigned long n = strtoul(buf + 4, NULL, 10);
            consume(line + 1);
            if (n > 65536) {
                struct sysinfo info;
                syscall(SYS_sysinfo, &info);
                say(c, "TOO BIG\n");
                continue;
            }
            /* Read and drop n bytes. */
            while (len < n) {
                n -= len;
                len = 0;
                if (!fill(c))
                    return;
            }
            consume(n);
            say(c, "OK\n");
        } else {
            consume(line + 1);
            say(c, "ERR\n");
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 2)
        usage("PORT");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) != 0)
        fail_errno("sigaction");
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        fail_errno("socket");
    int one = 1;
    if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
        fail_errno("setsockopt");
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)atoi(argv[1]));
    if (bind(s, (struct sockaddr *)&addr, sizeof addr) != 0)
        fail_errno("bind");
    if (listen(s, 128) != 0)
        fail_errno("listen");
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        struct timeval tv = {1, 0};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        serve(c);
        close(c);
    }
}
