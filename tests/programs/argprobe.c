/*
 * prog_argprobe CALL...
 *
 * Makes each CALL once, in the order given, with raw syscall(2), and prints
 * one line per CALL: "CALL ERRNO", the errno it failed with (0 when it
 * succeeded), and " (expected E)" after it when it did not fail with E. A CALL is NAME:V1[:V2[:V3]][=EXPECTED]: the values of the
 * syscall's mined arguments (data/argument_rules.csv), in index order, as
 * numbers (decimal, or hex with 0x; all 64 bits are passed as given, so
 * 0xdead00000002 puts garbage in the upper half of an int argument). With
 * =EXPECTED the call must fail with that errno (0: succeed); the program
 * exits 1 when any does not, after printing every line. The other arguments
 * are harmless: descriptors -1 (EBADF unless the filter refuses first),
 * pointers to scratch memory, a pid that does not exist.
 *
 *   socket:DOMAIN:TYPE:PROTOCOL    socket(2); a descriptor it returns is closed
 *   clone:FLAGS                    raw clone(2) without a stack (a fork); the child
 *                                  _exits at once and is waited for
 *   clone3:FLAGS                   clone3(2), exit signal SIGCHLD, likewise
 *   unshare:FLAGS                  unshare(2) in this process
 *   setns:NSTYPE                   setns(-1, NSTYPE)
 *   personality:PERSONA            personality(2); the old persona is restored
 *   pipe2:FLAGS                    pipe2(2); descriptors closed
 *   mmap:PROT                      a private anonymous page; unmapped
 *   mprotect:PROT                  on a page of its own
 *   futex:OP                       on a zeroed word, val 1 (waits return EAGAIN
 *                                  at once), second word zeroed, val3 0xffffffff
 *   ioctl:REQUEST                  ioctl(-1, REQUEST, scratch)
 *   prctl:OPTION                   prctl(OPTION, 0, 0, 0, 0): use query options
 *   fcntl:CMD                      fcntl(-1, CMD, 0)
 *   setsockopt:LEVEL:OPTNAME       setsockopt(-1, ...), an int of 1
 *   getsockopt:LEVEL:OPTNAME       getsockopt(-1, ...)
 *   kill:SIG / tkill:SIG / tgkill:SIG   to pid 0x7ffffff0, which does not exist
 *   madvise:ADVICE                 on a page of its own
 *   thread:0                       pthread_create(3) and pthread_join: the C
 *                                  library's own way to a thread (clone3, then
 *                                  clone when clone3 fails with ENOSYS); the
 *                                  errno is pthread_create's result
 *   fork:0                         fork(3); the child _exits, the parent waits
 *
 * Marker calls: the named syscalls, once each, arch x86_64 (clone and
 * clone3 also return in the child, which then calls exit_group; the parent
 * wait4s it). Other calls: dynamic start-up and exit, mmap/munmap/mprotect/
 * madvise/personality/close/wait4 around the calls as said above, and
 * printing (newfstatat, write, ioctl when stdout is a terminal).
 *
 * Exits 0 when every expectation held, 1 when one did not, 2 on bad
 * arguments.
 */
#define _GNU_SOURCE
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "prog_util.h"

#if defined(__x86_64__)

#define NO_PID 0x7ffffff0L
#define MAX_VALUES 3

static char scratch[4096] __attribute__((aligned(64)));

struct call {
    const char *name;
    int values; /* how many values NAME takes */
};

static const struct call kCalls[] = {
    {"socket", 3},     {"clone", 1},      {"clone3", 1},   {"unshare", 1},  {"setns", 1},
    {"personality", 1}, {"pipe2", 1},     {"mmap", 1},     {"mprotect", 1}, {"futex", 1},
    {"ioctl", 1},      {"prctl", 1},      {"fcntl", 1},    {"setsockopt", 2}, {"getsockopt", 2},
    {"kill", 1},       {"tkill", 1},      {"tgkill", 1},   {"madvise", 1},  {"thread", 1},
    {"fork", 1},
};

static void *thread_body(void *arg)
{
    return arg;
}

/* The child of clone/clone3 leaves at once; the parent waits for it. */
static long fork_like(long ret)
{
    if (ret == 0)
        _exit(0);
    if (ret > 0)
        waitpid((pid_t)ret, NULL, __WALL);
    return ret;
}

static void *page(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        fail_errno("mmap of a scratch page");
    return p;
}

static long make(const char *name, const uint64_t *v)
{
    long r;
    if (!strcmp(name, "socket")) {
        r = syscall(SYS_socket, v[0], v[1], v[2]);
        if (r >= 0)
            close((int)r);
        return r;
    }
    if (!strcmp(name, "clone"))
        return fork_like(syscall(SYS_clone, v[0], 0L, NULL, NULL, 0L));
    if (!strcmp(name, "clone3")) {
        struct clone_args args;
        memset(&args, 0, sizeof args);
        args.flags = v[0];
        args.exit_signal = SIGCHLD;
        return fork_like(syscall(SYS_clone3, &args, sizeof args));
    }
    if (!strcmp(name, "unshare"))
        return syscall(SYS_unshare, v[0]);
    if (!strcmp(name, "setns"))
        return syscall(SYS_setns, -1L, v[0]);
    if (!strcmp(name, "personality")) {
        int old = personality(0xffffffff);
        r = syscall(SYS_personality, v[0]);
        personality((unsigned long)old);
        return r;
    }
    if (!strcmp(name, "pipe2")) {
        int fds[2];
        r = syscall(SYS_pipe2, fds, v[0]);
        if (r == 0) {
            close(fds[0]);
            close(fds[1]);
        }
        return r;
    }
    if (!strcmp(name, "mmap")) {
        r = syscall(SYS_mmap, NULL, 4096L, v[0], (long)(MAP_PRIVATE | MAP_ANONYMOUS), -1L, 0L);
        if (r != -1)
            munmap((void *)r, 4096);
        return r == -1 ? -1 : 0;
    }
    if (!strcmp(name, "mprotect")) {
        void *p = page();
        r = syscall(SYS_mprotect, p, 4096L, v[0]);
        munmap(p, 4096);
        return r;
    }
    if (!strcmp(name, "madvise")) {
        void *p = page();
        r = syscall(SYS_madvise, p, 4096L, v[0]);
        munmap(p, 4096);
        return r;
    }
    if (!strcmp(name, "futex")) {
        static uint32_t word, word2;
        word = 0;
        word2 = 0;
        return syscall(SYS_futex, &word, v[0], 1L, NULL, &word2, 0xffffffffL);
    }
    if (!strcmp(name, "ioctl"))
        return syscall(SYS_ioctl, -1L, v[0], scratch);
    if (!strcmp(name, "prctl"))
        return syscall(SYS_prctl, v[0], 0L, 0L, 0L, 0L);
    if (!strcmp(name, "fcntl"))
        return syscall(SYS_fcntl, -1L, v[0], 0L);
    if (!strcmp(name, "setsockopt")) {
        int one = 1;
        return syscall(SYS_setsockopt, -1L, v[0], v[1], &one, (long)sizeof one);
    }
    if (!strcmp(name, "getsockopt")) {
        socklen_t len = sizeof scratch;
        return syscall(SYS_getsockopt, -1L, v[0], v[1], scratch, &len);
    }
    if (!strcmp(name, "kill"))
        return syscall(SYS_kill, NO_PID, v[0]);
    if (!strcmp(name, "tkill"))
        return syscall(SYS_tkill, NO_PID, v[0]);
    if (!strcmp(name, "tgkill"))
        return syscall(SYS_tgkill, NO_PID, NO_PID, v[0]);
    if (!strcmp(name, "thread")) {
        pthread_t t;
        int rc = pthread_create(&t, NULL, thread_body, NULL);
        if (rc != 0) {
            errno = rc;
            return -1;
        }
        pthread_join(t, NULL);
        return 0;
    }
    if (!strcmp(name, "fork")) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        if (pid > 0)
            waitpid(pid, NULL, 0);
        return pid < 0 ? -1 : 0;
    }
    return -2;
}

static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    char buf[32];
    char *end;
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    *out = strtoull(buf, &end, 0);
    return errno != 0 || *end != '\0' ? -1 : 0;
}

#define SYNOPSIS "NAME:V1[:V2[:V3]][=EXPECTED]... (see the header of argprobe.c)"

int main(int argc, char **argv)
{
    if (argc < 2)
        usage(SYNOPSIS);
    int results[argc];
    bool failed = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *colon = strchr(arg, ':');
        if (!colon)
            usage(SYNOPSIS);
        size_t name_len = (size_t)(colon - arg);
        const struct call *c = NULL;
        for (size_t k = 0; k < sizeof kCalls / sizeof kCalls[0]; k++)
            if (strlen(kCalls[k].name) == name_len && !strncmp(kCalls[k].name, arg, name_len))
                c = &kCalls[k];
        if (!c)
            usage(SYNOPSIS);
        uint64_t v[MAX_VALUES] = {0, 0, 0};
        int n = 0;
        const char *p = colon + 1;
        const char *eq = strchr(p, '=');
        const char *stop = eq ? eq : p + strlen(p);
        while (p < stop) {
            const char *next = memchr(p, ':', (size_t)(stop - p));
            const char *e = next ? next : stop;
            if (n == MAX_VALUES || parse_u64(p, (size_t)(e - p), &v[n]) != 0)
                usage(SYNOPSIS);
            n++;
            p = next ? next + 1 : stop;
        }
        if (n != c->values)
            usage(SYNOPSIS);
        char name[16];
        memcpy(name, arg, name_len);
        name[name_len] = '\0';
        errno = 0;
        long r = make(name, v);
        results[i] = r < 0 ? errno : 0;
        if (eq) {
            uint64_t want;
            if (parse_u64(eq + 1, strlen(eq + 1), &want) != 0)
                usage(SYNOPSIS);
            if ((uint64_t)results[i] != want)
                failed = true;
        }
    }
    /* Printed only after the last call: no write comes between them. */
    for (int i = 1; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        int len = eq ? (int)(eq - argv[i]) : (int)strlen(argv[i]);
        if (eq && strtoull(eq + 1, NULL, 0) != (uint64_t)results[i])
            printf("%.*s %d (expected %s)\n", len, argv[i], results[i], eq + 1);
        else
            printf("%.*s %d\n", len, argv[i], results[i]);
    }
    return failed ? 1 : 0;
}

#else
int main(void)
{
    fail("prog_argprobe: x86_64 only");
    return 1;
}
#endif
