/*
 * prog_busy_loop [SECONDS]
 *
 * A busy bystander: runs OUTSIDE the recorded target at the same time, and
 * the recorder must attribute none of its calls to the target.
 *
 * Marker calls (arch x86_64):
 *   getppid   unbounded: in a tight loop until SECONDS have passed (then
 *             exit 0), or until killed if SECONDS is omitted.
 *
 * The clock is read with clock_gettime(CLOCK_MONOTONIC), which the vDSO
 * serves without a syscall on this machine (clocksource tsc). Everything
 * else is ordinary dynamic start-up and exit. Exits 1 with a message on
 * stderr if getppid fails, 2 on a bad argument.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

#include "prog_util.h"

int main(int argc, char **argv)
{
    long seconds = 0;
    if (argc > 2 || (argc == 2 && parse_long(argv[1], 1, 86400, &seconds) != 0))
        usage("[SECONDS (1..86400; default: until killed)]");

    int64_t deadline = seconds ? monotonic_ns() + (int64_t)seconds * 1000000000 : 0;
    for (unsigned long i = 1;; i++) {
        if (syscall(SYS_getppid) < 0)
            fail_errno("getppid");
        /* The vDSO clock read is far cheaper than a syscall; 1 in 256 is noise. */
        if (deadline && i % 256 == 0 && monotonic_ns() >= deadline)
            return 0;
    }
}
