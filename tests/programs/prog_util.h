/*
 * Helpers shared by the test programs in this folder.
 *
 * They make syscalls only on the failure path (write to stderr, then
 * exit_group), so they never add to a program's documented set on success.
 * Failures use _exit() so they are also safe in a forked child.
 */
#ifndef SANDMINE_TEST_PROG_UTIL_H
#define SANDMINE_TEST_PROG_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

/* Exit status for bad command-line arguments (distinct from a failed call). */
#define PROG_EXIT_USAGE 2

/* Report "<prog>: <what>: <strerror(errno)>" and exit 1. */
static inline void fail_errno(const char *what)
{
    int err = errno;
    fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, strerror(err));
    _exit(1);
}

/* Report "<prog>: <what>" and exit 1. */
static inline void fail(const char *what)
{
    fprintf(stderr, "%s: %s\n", program_invocation_short_name, what);
    _exit(1);
}

/* Report a usage error and exit PROG_EXIT_USAGE. */
static inline void usage(const char *synopsis)
{
    fprintf(stderr, "usage: %s %s\n", program_invocation_short_name, synopsis);
    _exit(PROG_EXIT_USAGE);
}

/* Parse a whole decimal integer in [min, max]; returns 0 on success. */
static inline int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* CLOCK_MONOTONIC in nanoseconds, through the vDSO: no syscall with clocksource tsc. */
static inline int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
