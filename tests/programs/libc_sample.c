/*
 * prog_libc_sample MODE
 *
 * Calls a few C library functions, chosen by MODE, so that the syscalls the
 * recorder sees can be checked against sandmine's table of the C library
 * (src/reach/libc_table.h): every one must be in the table's sets of the
 * functions the mode calls, of the start-up and exit path
 * (__libc_start_main, __cxa_finalize), of the library's own init code and of
 * the dynamic loader. The functions each mode calls:
 *
 *   none    nothing
 *   stdio   fopen, fgets, fclose, fprintf (stdout), fflush
 *   grow    malloc, realloc, free (1 MiB grown to 64 MiB: mmap, mremap)
 *   fsync   fsync
 *   dir     opendir, readdir, closedir
 *   sleep   nanosleep, clock_gettime
 *   pipe    pipe, write, read, close
 *   fork    fork, waitpid, _exit
 *   thread  pthread_create, pthread_join
 *   sort    qsort
 *
 * Exits 0; 1 with a message on stderr when a call fails; 2 for an unknown mode.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <sys/wait.h>

#include "prog_util.h"

static int compare(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

static void *thread_body(void *arg)
{
    return arg;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: prog_libc_sample MODE\n");
        return PROG_EXIT_USAGE;
    }
    const char *mode = argv[1];
    if (strcmp(mode, "none") == 0) {
    } else if (strcmp(mode, "stdio") == 0) {
        FILE *f = fopen("/proc/self/stat", "r");
        if (!f)
            fail_errno("fopen");
        char line[256];
        if (!fgets(line, sizeof line, f))
            fail("fgets");
        fclose(f);
        fprintf(stdout, "%d\n", (int)strlen(line) > 0);
        fflush(stdout);
    } else if (strcmp(mode, "grow") == 0) {
        char *p = malloc(1 << 20);
        if (!p)
            fail("malloc");
        p[0] = 1;
        char *q = realloc(p, 64 << 20);
        if (!q)
            fail("realloc");
        q[(64 << 20) - 1] = 1;
        free(q);
    } else if (strcmp(mode, "fsync") == 0) {
        (void)fsync(1);
    } else if (strcmp(mode, "dir") == 0) {
        DIR *d = opendir("/");
        if (!d)
            fail_errno("opendir");
        while (readdir(d))
            ;
        closedir(d);
    } else if (strcmp(mode, "sleep") == 0) {
        struct timespec ts = {0, 1000000};
        if (nanosleep(&ts, NULL) != 0)
            fail_errno("nanosleep");
        if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
            fail_errno("clock_gettime");
    } else if (strcmp(mode, "pipe") == 0) {
        int fds[2];
        char c = 'x';
        if (pipe(fds) != 0)
            fail_errno("pipe");
        if (write(fds[1], &c, 1) != 1 || read(fds[0], &c, 1) != 1)
            fail_errno("pipe write or read");
        close(fds[0]);
        close(fds[1]);
    } else if (strcmp(mode, "fork") == 0) {
        pid_t pid = fork();
        if (pid < 0)
            fail_errno("fork");
        if (pid == 0)
            _exit(0);
        int status;
        if (waitpid(pid, &status, 0) != pid)
            fail_errno("waitpid");
    } else if (strcmp(mode, "thread") == 0) {
        pthread_t t;
        if (pthread_create(&t, NULL, thread_body, NULL) != 0)
            fail("pthread_create");
        if (pthread_join(t, NULL) != 0)
            fail("pthread_join");
    } else if (strcmp(mode, "sort") == 0) {
        int v[64];
        for (int i = 0; i < 64; ++i)
            v[i] = (i * 37) % 64;
        qsort(v, 64, sizeof v[0], compare);
        if (v[0] != 0)
            fail("qsort");
    } else {
        fprintf(stderr, "prog_libc_sample: unknown mode %s\n", mode);
        return PROG_EXIT_USAGE;
    }
    return 0;
}
