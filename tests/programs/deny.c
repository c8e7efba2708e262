/*
 * prog_deny MODE N
 *
 * Installs its own seccomp filter that denies (MODE errno: SECCOMP_RET_ERRNO
 * with EPERM) or only logs (MODE log: SECCOMP_RET_LOG) two syscalls, then
 * makes them, so a recorder watching a profile without them can be checked
 * against exact counts of violations by name and process.
 *
 *   main       prctl(PR_SET_NO_NEW_PRIVS, 1), seccomp(filter)   unarmed
 *              uname N times                                    armed, outside
 *              sysinfo 2N times                                 armed, outside
 *              mkdir("/proc/sandmine-deny") once: fails (EEXIST  armed, allowed:
 *                or ENOENT or EACCES), an error that is no denial  no violation
 *              fork; wait
 *   child      prctl(PR_SET_NAME, "deny-child")                 armed
 *              uname N times                                    armed, outside
 *              _exit(0)
 *
 * MODE errno: every uname and sysinfo returns -1 with errno EPERM (checked).
 * MODE log: they succeed (checked). Exits 0; 1 with a message otherwise.
 */
#define _GNU_SOURCE
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "prog_util.h"

static void expect_outcome(long rc, int deny, const char *what)
{
    if (deny && !(rc == -1 && errno == EPERM))
        fail(what);
    if (!deny && rc != 0)
        fail_errno(what);
}

int main(int argc, char **argv)
{
    long n;
    if (argc != 3 || (strcmp(argv[1], "errno") != 0 && strcmp(argv[1], "log") != 0) ||
        parse_long(argv[2], 0, 1000000, &n) != 0)
        usage("errno|log N");
    int deny = strcmp(argv[1], "errno") == 0;
    unsigned int action = deny ? (SECCOMP_RET_ERRNO | EPERM) : SECCOMP_RET_LOG;

    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_uname, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sysinfo, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, action),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof filter / sizeof filter[0], .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        fail_errno("prctl(PR_SET_NO_NEW_PRIVS)");
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
        fail_errno("seccomp");

    struct utsname u;
    struct sysinfo si;
    for (long i = 0; i < n; i++)
        expect_outcome(syscall(SYS_uname, &u), deny, "uname");
    for (long i = 0; i < 2 * n; i++)
        expect_outcome(syscall(SYS_sysinfo, &si), deny, "sysinfo");
    if (syscall(SYS_mkdir, "/proc/sandmine-deny", 0700) == 0)
        fail("mkdir in /proc succeeded");

    pid_t child = fork();
    if (child < 0)
        fail_errno("fork");
    if (child == 0) {
        if (prctl(PR_SET_NAME, "deny-child", 0, 0, 0) != 0)
            fail_errno("prctl(PR_SET_NAME)");
        for (long i = 0; i < n; i++)
            expect_outcome(syscall(SYS_uname, &u), deny, "uname (child)");
        _exit(0);
    }
    int status;
    if (waitpid(child, &status, 0) != child)
        fail_errno("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail("the child failed");
    return 0;
}
