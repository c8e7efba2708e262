/*
 * prog_reach_fatal [abort]
 *
 * Static reachability (sandmine reach): a C library path that ends the
 * process. The program imports abort and, besides the start-up and exit
 * path, only strcmp, setrlimit, write and _exit (no stdio: fprintf and
 * strerror reach signal calls of their own through the message catalogs),
 * so what only abort makes (rt_sigprocmask, tgkill, getpid, gettid, ...) is
 * reachable only on a fatal path.
 *
 *   no argument  ordinary dynamic start-up and exit (README.md), nothing else
 *   abort        setrlimit(RLIMIT_CORE, 0) (prlimit64: no core file), then
 *                abort(): the process ends by SIGABRT (rt_sigprocmask to
 *                unblock it, then tgkill to the calling thread, glibc 2.36)
 *
 * Exits 0; 1 with a message on stderr when setrlimit fails.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "abort") == 0) {
        struct rlimit none = {0, 0};
        if (setrlimit(RLIMIT_CORE, &none) != 0) {
            static const char msg[] = "prog_reach_fatal: setrlimit failed\n";
            (void)!write(2, msg, sizeof msg - 1);
            _exit(1);
        }
        abort();
    }
    return 0;
}
