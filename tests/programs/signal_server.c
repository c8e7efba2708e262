/*
 * prog_signal_server
 *
 * A process that catches SIGUSR1, SIGHUP and SIGTERM and waits for signals
 * forever. Each handler makes one marker call of its own, so a recording
 * shows which signal's step ran which handler:
 *
 *   SIGUSR1  sysinfo   (in the handler)
 *   SIGHUP   times     (in the handler)
 *   SIGTERM  exit_group 0 (the graceful stop)
 *
 * It installs the handlers (rt_sigaction 3) and then loops in pause(2).
 * SigCgt in /proc/PID/status shows signals 1, 10 and 15 once it is ready.
 *
 * Marker calls (arch x86_64): sysinfo 1 per SIGUSR1, times 1 per SIGHUP.
 * Non-marker calls besides dynamic start-up and exit: rt_sigaction,
 * pause, rt_sigreturn.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/times.h>

#include "prog_util.h"

static void on_usr1(int sig)
{
    (void)sig;
    struct sysinfo info;
    syscall(SYS_sysinfo, &info);
}

static void on_hup(int sig)
{
    (void)sig;
    struct tms t;
    syscall(SYS_times, &t);
}

static void on_term(int sig)
{
    (void)sig;
    _exit(0);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_usr1;
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        fail_errno("sigaction SIGUSR1");
    sa.sa_handler = on_hup;
    if (sigaction(SIGHUP, &sa, NULL) != 0)
        fail_errno("sigaction SIGHUP");
    sa.sa_handler = on_term;
    if (sigaction(SIGTERM, &sa, NULL) != 0)
        fail_errno("sigaction SIGTERM");
    for (;;)
        pause();
}
