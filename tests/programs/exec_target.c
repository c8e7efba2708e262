/*
 * prog_exec_target
 *
 * The program that prog_rare_syscalls execs as its grandchild: it checks that
 * a recorder follows a process across fork + execve.
 *
 * Marker calls (arch x86_64):
 *   sched_get_priority_max(SCHED_FIFO)   1
 *
 * Everything else is ordinary dynamic start-up and exit (execve, brk,
 * arch_prctl, mmap, openat, ..., exit_group): see README.md in this folder.
 * Exits 0, or 1 with a message on stderr if the call fails.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/syscall.h>

#include "prog_util.h"

int main(void)
{
    if (syscall(SYS_sched_get_priority_max, SCHED_FIFO) < 0)
        fail_errno("sched_get_priority_max");
    return 0;
}
