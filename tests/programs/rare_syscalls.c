/*
 * prog_rare_syscalls EXEC_TARGET
 *
 * A small process tree -- a thread, a fork, a nested fork and an execve --
 * in which every task makes marker syscalls that glibc start-up and exit
 * never make, so a recorder can be checked for exact sets and counts.
 * EXEC_TARGET is the path of prog_exec_target.
 *
 *   main thread         getppid, getpgid(0); creates T; forks C; waits for
 *                       C; joins T
 *   thread T            sysinfo, then getpriority(PRIO_PROCESS, 0) x 1000
 *   child C  (fork)     forks G; waits for G; times; _exit(0)
 *   grandchild G        execve(EXEC_TARGET) -> sched_get_priority_max(SCHED_FIFO)
 *
 * Marker calls, all arch x86_64, summed over the whole tree:
 *   getppid                   1     (main thread)
 *   getpgid                   1     (main thread)
 *   sysinfo                   1     (thread T)
 *   getpriority            1000     (thread T)
 *   times                     1     (child C)
 *   sched_get_priority_max    1     (grandchild G, after execve)
 *
 * Other calls (libc and process management, not markers): the dynamic
 * start-up of two images (execve x 2, brk, arch_prctl, mmap, mprotect,
 * munmap, openat, read, pread64, newfstatat, close, access,
 * set_tid_address, set_robust_list, rseq, prlimit64, getrandom),
 * pthread_create (rt_sigaction, rt_sigprocmask, clone3), fork (clone x 2,
 * set_robust_list in each child), waitpid (wait4 x 2), thread exit
 * (rt_sigprocmask, madvise, exit), pthread_join (futex, 0 or 1 times
 * depending on timing) and exit_group x 3.
 *
 * Exits 0; nonzero with a message on stderr if any call fails.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/wait.h>

#include "prog_util.h"

enum { GETPRIORITY_CALLS = 1000 };

static void *thread_main(void *arg)
{
    (void)arg;
    struct sysinfo info;
    if (syscall(SYS_sysinfo, &info) != 0)
        fail_errno("sysinfo");
    /* The raw syscall returns 20 - nice (1..40), never a negative value. */
    for (int i = 0; i < GETPRIORITY_CALLS; i++)
        if (syscall(SYS_getpriority, PRIO_PROCESS, 0) < 0)
            fail_errno("getpriority");
    return NULL;
}

/* Wait for pid and fail unless it exited with status 0. */
static void wait_ok(pid_t pid, const char *who)
{
    int status;
    if (waitpid(pid, &status, 0) != pid)
        fail_errno("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s: %s did not exit with status 0 (wait status %#x)\n",
                program_invocation_short_name, who, (unsigned)status);
        _exit(1);
    }
}

/* Child C: runs a grandchild that execs the target, then makes its marker. */
static void child_main(const char *exec_target)
{
    pid_t grandchild = fork();
    if (grandchild < 0)
        fail_errno("fork (grandchild)");
    if (grandchild == 0) {
        char *const argv[] = {(char *)exec_target, NULL};
        execve(exec_target, argv, environ);
        fail_errno(exec_target);
    }
    wait_ok(grandchild, "grandchild");

    struct tms t;
    if (syscall(SYS_times, &t) == -1)
        fail_errno("times");
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        usage("PATH_TO_prog_exec_target");

    if (syscall(SYS_getppid) < 0)
        fail_errno("getppid");
    if (syscall(SYS_getpgid, 0) < 0)
        fail_errno("getpgid");

    pthread_t thread;
    int err = pthread_create(&thread, NULL, thread_main, NULL);
    if (err != 0) {
        errno = err;
        fail_errno("pthread_create");
    }

    pid_t child = fork();
    if (child < 0)
        fail_errno("fork (child)");
    if (child == 0)
        child_main(argv[1]);
    wait_ok(child, "child");

    err = pthread_join(thread, NULL);
    if (err != 0) {
        errno = err;
        fail_errno("pthread_join");
    }
    return 0;
}
