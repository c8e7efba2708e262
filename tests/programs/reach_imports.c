/*
 * prog_reach_imports [fsync|grow]
 *
 * Static reachability (sandmine reach): a program that imports fsync and
 * realloc from the C library but, run without arguments, calls neither.
 * Their syscalls (fsync; mremap, which glibc's realloc makes to grow a
 * block it got from mmap) are reachable through its imports and never seen.
 *
 *   no argument  ordinary dynamic start-up and exit (README.md), nothing else
 *   fsync        fsync(1) once (its result is ignored: stdout may be a pipe)
 *   grow         malloc of 1 MiB (mmap) grown with realloc to 64 MiB (mremap)
 *
 * Exits 0; 1 with a message on stderr when malloc or realloc fails.
 */
#define _GNU_SOURCE
#include "prog_util.h"

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "fsync") == 0) {
        (void)fsync(1);
    } else if (argc > 1 && strcmp(argv[1], "grow") == 0) {
        char *p = malloc(1 << 20);
        if (!p)
            fail("malloc");
        p[0] = 1;
        char *q = realloc(p, 64 << 20);
        if (!q)
            fail("realloc");
        q[(64 << 20) - 1] = 1;
        free(q);
    }
    return 0;
}
