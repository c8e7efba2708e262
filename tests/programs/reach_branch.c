/*
 * prog_reach_branch [ANYTHING]
 *
 * Static reachability (sandmine reach): a program with two syscall
 * instructions of its own, each with a constant number in %eax:
 *
 *   arch     name                   when
 *   x86_64   getppid                always (one call)
 *   x86_64   sched_rr_get_interval  only with an argument (a branch the tests never take)
 *
 * Run without arguments it makes getppid once and ordinary dynamic start-up
 * and exit calls (README.md); sched_rr_get_interval is reachable in its code
 * but never seen. Its own code has no other syscall instruction. Exits 0.
 */
#define _GNU_SOURCE
#include <sys/syscall.h>

#include "prog_util.h"

#if !defined(__x86_64__)
#error "prog_reach_branch is x86_64 code"
#endif

/* A syscall instruction of this program's own, not libc's. */
static inline long own_syscall0(long nr)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "0"(nr) : "rcx", "r11", "memory");
    return ret;
}

static inline long own_syscall2(long nr, long a, long b)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "0"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
    return ret;
}

int main(int argc, char **argv)
{
    (void)argv;
    if (own_syscall0(SYS_getppid) <= 0)
        fail("getppid");
    if (argc > 1) {
        struct timespec ts;
        if (own_syscall2(SYS_sched_rr_get_interval, 0, (long)&ts) != 0)
            fail("sched_rr_get_interval");
    }
    return 0;
}
