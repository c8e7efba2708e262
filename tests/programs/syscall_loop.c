/*
 * prog_syscall_loop N [OUT]
 *
 * Benchmark load for bench/: makes N raw getppid calls and prints the time
 * the loop alone took, in nanoseconds, as one decimal integer and a newline
 * on stdout, or into the file OUT (created or truncated, after the loop). Process start-up and exit are outside the timed region, so the
 * overhead a recorder adds per syscall is (time recorded - time bare) / N.
 *
 * Marker calls (arch x86_64):  getppid N.
 * The clock is read with clock_gettime(CLOCK_MONOTONIC) through the vDSO (no
 * syscall with clocksource tsc). Non-marker calls besides dynamic start-up
 * and exit: newfstatat 1 and write 1 (printf to stdout), and with OUT
 * openat 1 and close 1.
 * Exits 1 with a message on stderr if getppid fails, 2 on a bad argument.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

#include "prog_util.h"

int main(int argc, char **argv)
{
    long n;
    if (argc < 2 || argc > 3 || parse_long(argv[1], 0, LONG_MAX, &n) != 0)
        usage("N [OUT] (number of getppid calls, >= 0; file for the result)");

    int64_t start = monotonic_ns();
    for (long i = 0; i < n; i++)
        if (syscall(SYS_getppid) < 0)
            fail_errno("getppid");
    int64_t elapsed = monotonic_ns() - start;

    if (argc == 3 && !freopen(argv[2], "w", stdout))
        fail_errno(argv[2]);
    printf("%lld\n", (long long)elapsed);
    return fclose(stdout) == 0 ? 0 : 1;
}
