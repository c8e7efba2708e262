/*
 * prog_reach_fatal [abort|cancel]
 *
 * Static reachability (sandmine reach): C library paths that end the
 * process, and thread cancellation.
 *
 *   no argument  ordinary dynamic start-up and exit (README.md), nothing else
 *   abort        setrlimit(RLIMIT_CORE, 0) (prlimit64: no core file), then
 *                abort(): the process ends by SIGABRT (rt_sigprocmask to
 *                unblock it, then tgkill to the calling thread, glibc 2.36)
 *   cancel       a thread blocked in read() on an empty pipe is cancelled with
 *                pthread_cancel and joined: glibc unwinds it (loading
 *                libgcc_s.so.1 with dlopen on the way); exits 0 when the join
 *                returns PTHREAD_CANCELED
 *
 * abort is imported, and called only with the argument: what only abort
 * reaches (tgkill among them) is on a fatal path. pthread_cancel is imported
 * too, so the program can request a cancellation and the C library's
 * cancellation paths count as reachable.
 * Exits 0; 1 with a message on stderr when a call fails.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/resource.h>

#include "prog_util.h"

static int fds[2];

static void *reader(void *arg)
{
    (void)arg;
    char c;
    (void)read(fds[0], &c, 1); /* a cancellation point: blocks until cancelled */
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "abort") == 0) {
        struct rlimit none = {0, 0}; /* no core file */
        if (setrlimit(RLIMIT_CORE, &none) != 0)
            fail_errno("setrlimit");
        abort();
    } else if (argc > 1 && strcmp(argv[1], "cancel") == 0) {
        if (pipe(fds) != 0)
            fail_errno("pipe");
        pthread_t t;
        if (pthread_create(&t, NULL, reader, NULL) != 0)
            fail("pthread_create");
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL); /* let it block in read (cancellation acts either way) */
        if (pthread_cancel(t) != 0)
            fail("pthread_cancel");
        void *result;
        if (pthread_join(t, &result) != 0)
            fail("pthread_join");
        if (result != PTHREAD_CANCELED)
            fail("the thread was not cancelled");
    }
    return 0;
}
