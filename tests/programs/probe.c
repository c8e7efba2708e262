/*
 * prog_probe [-n REPEAT] NAME...
 * prog_probe --list
 *
 * Makes each named syscall REPEAT times (default 1) with raw syscall(2), in
 * the order given, then prints one line per NAME: "NAME ERRNO", the errno of
 * its last call (0 when it succeeded). The calls are harmless: they query,
 * or fail on a path that does not exist or on fd -1 (ENOENT, EBADF), so
 * without a filter none fails with EPERM (1) when run as root, and under a
 * profile that denies them with EPERM each prints 1.
 *
 * NAME is one of the table below (--list prints it, one per line: the
 * libseccomp names of the x86_64 calls), or one of three calls through other
 * ABIs, which an x86_64-only profile must deny:
 *   i386_getpid    int $0x80, eax = 20  (arch x86, getpid)
 *   i386_getppid   int $0x80, eax = 64  (arch x86, getppid)
 *   x32_getpid     syscall(__X32_SYSCALL_BIT | 39)  (arch x32, getpid;
 *                  ENOSYS (38) without a filter on kernels without X32_ABI)
 *
 * Marker calls: every NAME, REPEAT times, arch x86_64 unless listed above.
 * glibc's start-up and exit never make any of them (the table avoids access,
 * which the dynamic loader makes). Other calls (not markers): dynamic
 * start-up and exit (README.md), and printing the result: newfstatat, write
 * (one or more), ioctl when stdout is a character device. Nothing is printed
 * before the last call, so no write comes between them.
 *
 * Exits 0 whatever the calls return; 2 on bad arguments (unknown NAME).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/utsname.h>

#include "prog_util.h"

#if defined(__x86_64__)

#define MISSING "/nonexistent-sandmine-probe/x"

/* Scratch space every call may write into (large enough for each). */
static char scratch[4096] __attribute__((aligned(64)));

static long do_uname(void) { return syscall(SYS_uname, scratch); }
static long do_getcwd(void) { return syscall(SYS_getcwd, scratch, sizeof scratch); }
static long do_sysinfo(void) { return syscall(SYS_sysinfo, scratch); }
static long do_getrusage(void) { return syscall(SYS_getrusage, RUSAGE_SELF, scratch); }
static long do_times(void) { return syscall(SYS_times, scratch); }
static long do_getpriority(void) { return syscall(SYS_getpriority, PRIO_PROCESS, 0); }
static long do_umask(void) { return syscall(SYS_umask, 022); }
static long do_getitimer(void) { return syscall(SYS_getitimer, ITIMER_REAL, scratch); }
static long do_sched_yield(void) { return syscall(SYS_sched_yield); }
static long do_sched_getscheduler(void) { return syscall(SYS_sched_getscheduler, 0); }
static long do_getpgrp(void) { return syscall(SYS_getpgrp); }
static long do_getsid(void) { return syscall(SYS_getsid, 0); }
static long do_getresuid(void)
{
    return syscall(SYS_getresuid, scratch, scratch + 8, scratch + 16);
}
static long do_getresgid(void)
{
    return syscall(SYS_getresgid, scratch, scratch + 8, scratch + 16);
}
static long do_getgroups(void) { return syscall(SYS_getgroups, 0, NULL); }
static long do_capget(void)
{
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    return syscall(SYS_capget, &header, NULL);
}
static long do_personality(void) { return syscall(SYS_personality, 0xffffffffUL); }
static long do_mkdir(void) { return syscall(SYS_mkdir, MISSING, 0700); }
static long do_rmdir(void) { return syscall(SYS_rmdir, MISSING); }
static long do_chdir(void) { return syscall(SYS_chdir, "."); }
static long do_fchdir(void) { return syscall(SYS_fchdir, -1); }
static long do_statfs(void) { return syscall(SYS_statfs, "/", scratch); }
static long do_syncfs(void) { return syscall(SYS_syncfs, -1); }
static long do_gettid(void) { return syscall(SYS_gettid); }
static long do_alarm(void) { return syscall(SYS_alarm, 0); }
static long do_prctl(void) { return syscall(SYS_prctl, PR_GET_DUMPABLE, 0, 0, 0, 0); }
static long do_ioprio_get(void) { return syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0); }
static long do_getpgid(void) { return syscall(SYS_getpgid, 0); }
static long do_getppid(void) { return syscall(SYS_getppid); }
static long do_getuid(void) { return syscall(SYS_getuid); }
static long do_geteuid(void) { return syscall(SYS_geteuid); }
static long do_getgid(void) { return syscall(SYS_getgid); }
static long do_getegid(void) { return syscall(SYS_getegid); }
static long do_sched_get_priority_max(void)
{
    return syscall(SYS_sched_get_priority_max, SCHED_FIFO);
}
static long do_sched_get_priority_min(void)
{
    return syscall(SYS_sched_get_priority_min, SCHED_FIFO);
}
static long do_getcpu(void) { return syscall(SYS_getcpu, scratch, NULL, NULL); }
static long do_time(void) { return syscall(SYS_time, NULL); }
static long do_readlink(void) { return syscall(SYS_readlink, MISSING, scratch, sizeof scratch); }
static long do_flock(void) { return syscall(SYS_flock, -1, LOCK_SH); }
static long do_fsync(void) { return syscall(SYS_fsync, -1); }
static long do_fdatasync(void) { return syscall(SYS_fdatasync, -1); }
static long do_dup(void) { return syscall(SYS_dup, -1); }
static long do_sched_getparam(void) { return syscall(SYS_sched_getparam, 0, scratch); }
static long do_sched_getaffinity(void) { return syscall(SYS_sched_getaffinity, 0, 128, scratch); }
static long do_sigaltstack(void) { return syscall(SYS_sigaltstack, NULL, scratch); }
static long do_getxattr(void) { return syscall(SYS_getxattr, MISSING, "user.probe", NULL, 0); }
static long do_faccessat(void) { return syscall(SYS_faccessat, AT_FDCWD, "/", F_OK); }
static long do_chmod(void) { return syscall(SYS_chmod, MISSING, 0700); }
static long do_truncate(void) { return syscall(SYS_truncate, MISSING, 0); }
static long do_rt_sigpending(void) { return syscall(SYS_rt_sigpending, scratch, 8); }
static long do_getrlimit(void) { return syscall(SYS_getrlimit, RLIMIT_NOFILE, scratch); }
static long do_clock_getres(void) { return syscall(SYS_clock_getres, CLOCK_MONOTONIC, scratch); }
static long do_gettimeofday(void) { return syscall(SYS_gettimeofday, scratch, NULL); }

/* A syscall without arguments through the i386 entry point (see int80.c). */
static long int80_syscall0(int nr)
{
    long ret = nr;
    __asm__ __volatile__("int $0x80" : "+a"(ret) : : "r8", "r9", "r10", "r11", "memory", "cc");
    if (ret < 0 && ret > -4096) {
        errno = (int)-ret;
        return -1;
    }
    return ret;
}
static long do_i386_getpid(void) { return int80_syscall0(20); }
static long do_i386_getppid(void) { return int80_syscall0(64); }
static long do_x32_getpid(void) { return syscall(0x40000000L | SYS_getpid); }

struct probe {
    const char *name;
    long (*call)(void);
};

/* clang-format off */
#define PROBE(n) {#n, do_##n}

/* The x86_64 table: libseccomp names. */
static const struct probe table[] = {
    PROBE(uname),          PROBE(getcwd),          PROBE(sysinfo),
    PROBE(getrusage),      PROBE(times),           PROBE(getpriority),
    PROBE(umask),          PROBE(getitimer),       PROBE(sched_yield),
    PROBE(sched_getscheduler), PROBE(getpgrp),     PROBE(getsid),
    PROBE(getresuid),      PROBE(getresgid),       PROBE(getgroups),
    PROBE(capget),         PROBE(personality),     PROBE(mkdir),
    PROBE(rmdir),          PROBE(chdir),           PROBE(fchdir),
    PROBE(statfs),         PROBE(syncfs),          PROBE(gettid),
    PROBE(alarm),          PROBE(prctl),           PROBE(ioprio_get),
    PROBE(getpgid),        PROBE(getppid),         PROBE(getuid),
    PROBE(geteuid),        PROBE(getgid),          PROBE(getegid),
    PROBE(sched_get_priority_max), PROBE(sched_get_priority_min), PROBE(getcpu),
    PROBE(time),           PROBE(readlink),        PROBE(flock),
    PROBE(fsync),          PROBE(fdatasync),       PROBE(dup),
    PROBE(sched_getparam), PROBE(sched_getaffinity), PROBE(sigaltstack),
    PROBE(getxattr),       PROBE(faccessat),       PROBE(chmod),
    PROBE(truncate),       PROBE(rt_sigpending),   PROBE(getrlimit),
    PROBE(clock_getres),   PROBE(gettimeofday),
};

/* Calls through other ABIs: not in --list. */
static const struct probe other_abis[] = {
    PROBE(i386_getpid), PROBE(i386_getppid), PROBE(x32_getpid),
};
/* clang-format on */

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_NAMES 256

static const struct probe *find(const char *name)
{
    for (size_t i = 0; i < COUNT(table); i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    for (size_t i = 0; i < COUNT(other_abis); i++)
        if (strcmp(other_abis[i].name, name) == 0)
            return &other_abis[i];
    return NULL;
}

int main(int argc, char **argv)
{
    static const char synopsis[] = "[-n REPEAT] NAME... | --list";
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < COUNT(table); i++)
            printf("%s\n", table[i].name);
        return 0;
    }

    long repeat = 1;
    int first = 1;
    if (argc > 2 && strcmp(argv[1], "-n") == 0) {
        if (parse_long(argv[2], 1, 1000000, &repeat) != 0)
            usage(synopsis);
        first = 3;
    }
    if (argc - first > MAX_NAMES)
        usage(synopsis);

    const struct probe *probes[MAX_NAMES];
    int errors[MAX_NAMES];
    int n = 0;
    for (int i = first; i < argc; i++) {
        probes[n] = find(argv[i]);
        if (!probes[n]) {
            fprintf(stderr, "%s: unknown syscall name %s (see --list)\n",
                    program_invocation_short_name, argv[i]);
            usage(synopsis);
        }
        n++;
    }

    /* Every call first, then the printing. */
    for (int i = 0; i < n; i++) {
        errors[i] = 0;
        for (long r = 0; r < repeat; r++) {
            errno = 0;
            errors[i] = probes[i]->call() < 0 ? errno : 0;
        }
    }
    for (int i = 0; i < n; i++)
        printf("%s %d\n", probes[i]->name, errors[i]);
    return 0;
}

#else

int main(void) { fail("prog_probe's table is for x86_64"); }

#endif
