/*
 * prog_mined_loop N [OUT]
 *
 * prog_syscall_loop with a syscall whose arguments the recorder mines
 * (data/argument_rules.csv): N raw fcntl(1, F_GETFD) calls, timed alone, the
 * nanoseconds printed as one decimal integer and a newline on stdout or into
 * OUT. bench/recorder_bench --loop runs it to measure what recording one
 * argument value costs a call (the recorder's hash lookup).
 *
 * Marker calls (arch x86_64):  fcntl N, each with cmd F_GETFD on descriptor 1
 * (EBADF when stdout is closed: the call is made and recorded either way).
 * Non-marker calls as prog_syscall_loop's. Exits 2 on a bad argument.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

#include "prog_util.h"

int main(int argc, char **argv)
{
    long n;
    if (argc < 2 || argc > 3 || parse_long(argv[1], 0, LONG_MAX, &n) != 0)
        usage("N [OUT] (number of fcntl calls, >= 0; file for the result)");

    int64_t start = monotonic_ns();
    for (long i = 0; i < n; i++)
        syscall(SYS_fcntl, 1, F_GETFD);
    int64_t elapsed = monotonic_ns() - start;

    if (argc == 3 && !freopen(argv[2], "w", stdout))
        fail_errno(argv[2]);
    printf("%lld\n", (long long)elapsed);
    return fclose(stdout) == 0 ? 0 : 1;
}
