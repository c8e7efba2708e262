/*
 * prog_reach_cancel [cancel]
 *
 * Static reachability (sandmine reach): thread cancellation. The program
 * imports pthread_cancel, so it can request a cancellation and the C
 * library's cancellation paths count as reachable.
 *
 *   no argument  ordinary dynamic start-up and exit (README.md), nothing else
 *   cancel       a thread blocked in read() on an empty pipe is cancelled with
 *                pthread_cancel and joined: glibc unwinds it (loading
 *                libgcc_s.so.1 with dlopen on the way); exits 0 when the join
 *                returns PTHREAD_CANCELED
 *
 * Exits 0; 1 with a message on stderr when a call fails.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "prog_util.h"

static int fds[2];

static void *reader(void *arg)
{
    (void)arg;
    char c;
    (void)!read(fds[0], &c, 1); /* a cancellation point: blocks until cancelled */
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "cancel") == 0) {
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
