/*
 * prog_arming
 *
 * Checks that a recorder tells "armed" calls (made by a thread that has a
 * seccomp filter) from unarmed ones. seccomp filters are per thread: without
 * SECCOMP_FILTER_FLAG_TSYNC only the calling thread gets the filter, and
 * threads created earlier keep running without one.
 *
 *   main thread  getppid                                   unarmed
 *                prctl(PR_SET_NO_NEW_PRIVS, 1)             unarmed
 *                creates thread B, which blocks on a pipe  unarmed
 *                seccomp(SET_MODE_FILTER, 0, allow-all)    unarmed; arms main
 *                getpgid(0), sysinfo                       armed
 *                write 1 byte to the pipe to release B     armed
 *                pthread_join(B), exit                     armed
 *   thread B     read 1 byte from the pipe, then
 *                getsid(0), times                          unarmed (no filter)
 *
 * Marker calls (all arch x86_64):
 *   unarmed:  getppid 1, getsid 1, times 1
 *   armed:    getpgid 1, sysinfo 1
 * Non-marker calls of the main thread after the filter, i.e. also armed:
 *   write 1, futex 0 or 1 (pthread_join; depends on whether B has already
 *   exited), exit_group 1.
 * prctl and seccomp are unarmed too: both enter the kernel before the
 * filter exists, and a recorder checks the filter mode at sys_enter.
 *
 * When the program is started with an allow-all filter already installed
 * (the normal recording mode: the filter is inherited across fork and exec
 * by every thread), every call is armed, all five markers included.
 *
 * Exits 0; 1 with a message on stderr if a call fails.
 */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/times.h>

#include "prog_util.h"

static int release_pipe[2];

static void *thread_b(void *arg)
{
    (void)arg;
    char byte;
    if (read(release_pipe[0], &byte, 1) != 1)
        fail_errno("read (release pipe)");
    if (syscall(SYS_getsid, 0) < 0)
        fail_errno("getsid");
    struct tms t;
    if (syscall(SYS_times, &t) == -1)
        fail_errno("times");
    return NULL;
}

static void install_allow_all_filter(void)
{
    /* Lets an unprivileged caller install a filter (no CAP_SYS_ADMIN). */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        fail_errno("prctl(PR_SET_NO_NEW_PRIVS)");
    struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = {.len = 1, .filter = &allow};
    /* flags = 0: no TSYNC, so only this thread is filtered. */
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
        fail_errno("seccomp(SECCOMP_SET_MODE_FILTER)");
}

int main(void)
{
    if (syscall(SYS_getppid) < 0)
        fail_errno("getppid");

    if (pipe(release_pipe) != 0)
        fail_errno("pipe");
    pthread_t b;
    int err = pthread_create(&b, NULL, thread_b, NULL);
    if (err != 0) {
        errno = err;
        fail_errno("pthread_create");
    }

    install_allow_all_filter();

    if (syscall(SYS_getpgid, 0) < 0)
        fail_errno("getpgid");
    struct sysinfo info;
    if (syscall(SYS_sysinfo, &info) != 0)
        fail_errno("sysinfo");

    if (write(release_pipe[1], "", 1) != 1)
        fail_errno("write (release pipe)");
    err = pthread_join(b, NULL);
    if (err != 0) {
        errno = err;
        fail_errno("pthread_join");
    }
    return 0;
}
