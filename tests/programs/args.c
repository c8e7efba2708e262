/*
 * prog_args [bad-clone3]
 *
 * Makes syscalls with known values of the arguments sandmine mines
 * (data/argument_rules.csv), each with a raw syscall(SYS_x, ...) so libc
 * cannot change the values. Values are given as recorded: under the table's
 * masks (socket type without SOCK_NONBLOCK|SOCK_CLOEXEC, futex op without
 * FUTEX_PRIVATE_FLAG|FUTEX_CLOCK_REALTIME), int arguments under 32 bits.
 *
 * Marker values (x86_64; exact counts, nothing else in the program makes them):
 *   socket       (AF_INET, SOCK_STREAM, 0) x3 (plain, with NONBLOCK|CLOEXEC,
 *                and with garbage in the domain's upper 32 bits),
 *                (AF_UNIX, SOCK_DGRAM, 0) x1 (with CLOEXEC),
 *                (AF_INET6, SOCK_DGRAM, IPPROTO_UDP) x1,
 *                (AF_NETLINK, SOCK_RAW, 0) x1 (with CLOEXEC),
 *                (AF_PACKET, SOCK_DGRAM, 0) x1 (fails without CAP_NET_RAW)
 *   setsockopt   (SOL_SOCKET, SO_REUSEADDR) x2, (IPPROTO_TCP, TCP_NODELAY) x1
 *   getsockopt   (SOL_SOCKET, SO_TYPE) x1
 *   ioctl        FIONBIO x1, FIOCLEX x1, FIONREAD x1, TCGETS x1 (on a pipe: ENOTTY)
 *   prctl        PR_GET_DUMPABLE x2 (once with garbage upper bits), PR_SET_NAME x1, PR_GET_NAME x1
 *   personality  0xffffffff x1
 *   fcntl        F_GETFD x1, F_SETFD x1, F_GETFL x1, F_DUPFD_CLOEXEC x1
 *   kill         0 x1, SIGCHLD x1
 *   tgkill       SIGURG x1
 *   futex        FUTEX_TRYLOCK_PI x1, FUTEX_UNLOCK_PI x1, FUTEX_CMP_REQUEUE_PI x1 (EINVAL)
 *   mmap         PROT_WRITE|PROT_EXEC x1, PROT_READ|PROT_WRITE|PROT_EXEC x1
 *   mprotect     PROT_EXEC x1
 *   madvise      MADV_WILLNEED x1, MADV_DONTFORK x1, MADV_DONTDUMP x1
 *   pipe2        0 x2, O_CLOEXEC x1, O_NOTIFICATION_PIPE x1 (ENOPKG without CONFIG_WATCH_QUEUE)
 *   clone        SIGCHLD x2 (once with garbage upper bits), CLONE_NEWUTS|SIGCHLD x1
 *   clone3       CLONE_CLEAR_SIGHAND x1 (a 64-bit flag; exit_signal SIGCHLD)
 *   unshare      CLONE_FILES x1, CLONE_NEWUTS x1
 *   setns        0 x1, CLONE_NEWNET x1 (both on fd -1: EBADF)
 *   x86 personality (int $0x80, i386 number 136) 0xffffffff x1: recorded by name only
 *
 * Values libc makes too (assert presence only): futex FUTEX_WAKE x2 here
 * (one with FUTEX_PRIVATE_FLAG) and FUTEX_WAIT_BITSET x1 (with PRIVATE and
 * CLOCK_REALTIME, EAGAIN at once), plus whatever pthread_join waits with;
 * mmap PROT_READ, PROT_READ|PROT_EXEC, PROT_NONE x1 each here, plus the
 * loader's; clone3 with glibc's thread flags from pthread_create x1
 * (CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|
 * CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID on glibc 2.36).
 *
 * The children of clone and clone3 exit at once with exit_group(0). The
 * unshares apply to this process only. Needs root for the namespace calls to
 * succeed, but records the same values either way (they are recorded at entry).
 *
 * bad-clone3: only clone3 with a pointer to unmapped memory (EFAULT): its
 * flags cannot be read, so both recorders mark clone3's values lost.
 *
 * Exits 0; 1 with a message on stderr if a call that must work fails.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/netlink.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "prog_util.h"

#define GARBAGE_HIGH 0xdead000000000000UL

static long sys(long nr, unsigned long a, unsigned long b, unsigned long c, unsigned long d, unsigned long e)
{
    return syscall(nr, a, b, c, d, e, 0UL);
}

static void must(long ret, const char *what)
{
    if (ret < 0)
        fail_errno(what);
}

/* A fork-like child that exits at once: clone without CLONE_VM, no new stack. */
static void reap(long pid, const char *what)
{
    if (pid < 0)
        return; /* e.g. EPERM without root: the call was still made */
    if (pid == 0)
        syscall(SYS_exit_group, 0);
    int status = 0;
    if (syscall(SYS_wait4, pid, &status, 0, NULL) != pid)
        fail_errno(what);
}

static void *thread_body(void *arg)
{
    return arg;
}

static void sockets(void)
{
    long tcp = sys(SYS_socket, AF_INET, SOCK_STREAM, 0, 0, 0);
    must(tcp, "socket(AF_INET, SOCK_STREAM)");
    long fds[6];
    fds[0] = sys(SYS_socket, AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, 0, 0);
    fds[1] = sys(SYS_socket, GARBAGE_HIGH | AF_INET, SOCK_STREAM, 0, 0, 0); /* the kernel reads an int */
    fds[2] = sys(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, 0, 0);
    fds[3] = sys(SYS_socket, AF_INET6, SOCK_DGRAM, IPPROTO_UDP, 0, 0);
    fds[4] = sys(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE, 0, 0);
    fds[5] = sys(SYS_socket, AF_PACKET, SOCK_DGRAM, 0, 0, 0);
    must(fds[1], "socket with garbage in the upper half of domain");

    int one = 1;
    must(sys(SYS_setsockopt, tcp, SOL_SOCKET, SO_REUSEADDR, (unsigned long)&one, sizeof one), "SO_REUSEADDR");
    must(sys(SYS_setsockopt, tcp, SOL_SOCKET, SO_REUSEADDR, (unsigned long)&one, sizeof one), "SO_REUSEADDR");
    must(sys(SYS_setsockopt, tcp, IPPROTO_TCP, TCP_NODELAY, (unsigned long)&one, sizeof one), "TCP_NODELAY");
    int type = 0;
    socklen_t len = sizeof type;
    must(sys(SYS_getsockopt, tcp, SOL_SOCKET, SO_TYPE, (unsigned long)&type, (unsigned long)&len), "SO_TYPE");

    must(sys(SYS_ioctl, tcp, FIONBIO, (unsigned long)&one, 0, 0), "FIONBIO");
    must(sys(SYS_ioctl, tcp, FIOCLEX, 0, 0, 0), "FIOCLEX");
    must(sys(SYS_fcntl, tcp, F_GETFD, 0, 0, 0), "F_GETFD");
    must(sys(SYS_fcntl, tcp, F_SETFD, FD_CLOEXEC, 0, 0), "F_SETFD");
    must(sys(SYS_fcntl, tcp, F_GETFL, 0, 0, 0), "F_GETFL");
    long dup = sys(SYS_fcntl, tcp, F_DUPFD_CLOEXEC, 100, 0, 0);
    must(dup, "F_DUPFD_CLOEXEC");

    syscall(SYS_close, dup);
    syscall(SYS_close, tcp);
    for (int i = 0; i < 6; i++)
        if (fds[i] >= 0)
            syscall(SYS_close, fds[i]);
}

static void pipes(void)
{
    int p[2], q[2], r[2], s[2];
    must(sys(SYS_pipe2, (unsigned long)p, 0, 0, 0, 0), "pipe2");
    must(sys(SYS_pipe2, (unsigned long)q, 0, 0, 0, 0), "pipe2");
    must(sys(SYS_pipe2, (unsigned long)r, O_CLOEXEC, 0, 0, 0), "pipe2(O_CLOEXEC)");
    long notification = sys(SYS_pipe2, (unsigned long)s, O_EXCL /* O_NOTIFICATION_PIPE */, 0, 0, 0);
    int n = 0;
    must(sys(SYS_ioctl, p[0], FIONREAD, (unsigned long)&n, 0, 0), "FIONREAD");
    char termios_buf[64];
    if (sys(SYS_ioctl, p[0], TCGETS, (unsigned long)termios_buf, 0, 0) == 0)
        fail("TCGETS on a pipe succeeded");
    int *fds[] = {p, q, r};
    for (int i = 0; i < 3; i++) {
        syscall(SYS_close, fds[i][0]);
        syscall(SYS_close, fds[i][1]);
    }
    if (notification == 0) {
        syscall(SYS_close, s[0]);
        syscall(SYS_close, s[1]);
    }
}

static void process_calls(void)
{
    must(sys(SYS_prctl, PR_GET_DUMPABLE, 0, 0, 0, 0), "PR_GET_DUMPABLE");
    must(sys(SYS_prctl, GARBAGE_HIGH | PR_GET_DUMPABLE, 0, 0, 0, 0), "PR_GET_DUMPABLE with garbage upper bits");
    must(sys(SYS_prctl, PR_SET_NAME, (unsigned long)"prog_args", 0, 0, 0), "PR_SET_NAME");
    char name[16];
    must(sys(SYS_prctl, PR_GET_NAME, (unsigned long)name, 0, 0, 0), "PR_GET_NAME");
    must(sys(SYS_personality, 0xffffffffUL, 0, 0, 0, 0), "personality(query)");

    long pid = syscall(SYS_getpid);
    long tid = syscall(SYS_gettid);
    must(sys(SYS_kill, pid, 0, 0, 0, 0), "kill(0)");
    must(sys(SYS_kill, pid, SIGCHLD, 0, 0, 0), "kill(SIGCHLD)"); /* ignored by default */
    must(sys(SYS_tgkill, pid, tid, SIGURG, 0, 0), "tgkill(SIGURG)");  /* ignored by default */

    must(sys(SYS_setns, (unsigned long)-1, 0, 0, 0, 0) == 0 ? -1 : 0, "setns(-1) succeeded");
    must(sys(SYS_setns, (unsigned long)-1, CLONE_NEWNET, 0, 0, 0) == 0 ? -1 : 0, "setns(-1) succeeded");
    must(sys(SYS_unshare, CLONE_FILES, 0, 0, 0, 0), "unshare(CLONE_FILES)");
    sys(SYS_unshare, CLONE_NEWUTS, 0, 0, 0, 0); /* EPERM without root */
}

static void futexes(void)
{
    static int word, pi_word, other;
    sys(SYS_futex, (unsigned long)&word, FUTEX_WAKE, 1, 0, 0);
    sys(SYS_futex, (unsigned long)&word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, 0, 0);
    if (syscall(SYS_futex, &word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME, 1, NULL, NULL,
                FUTEX_BITSET_MATCH_ANY) == 0)
        fail("FUTEX_WAIT_BITSET on a changed word returned 0");
    must(sys(SYS_futex, (unsigned long)&pi_word, FUTEX_TRYLOCK_PI | FUTEX_PRIVATE_FLAG, 0, 0, 0), "FUTEX_TRYLOCK_PI");
    must(sys(SYS_futex, (unsigned long)&pi_word, FUTEX_UNLOCK_PI | FUTEX_PRIVATE_FLAG, 0, 0, 0), "FUTEX_UNLOCK_PI");
    /* Source and target the same futex: refused with EINVAL (the CVE-2014-3153 fix). */
    syscall(SYS_futex, &other, FUTEX_CMP_REQUEUE_PI | FUTEX_PRIVATE_FLAG, 1, (void *)1, &other, 0);
}

static void memory(void)
{
    const unsigned long anon = MAP_PRIVATE | MAP_ANONYMOUS;
    long prots[] = {PROT_READ, PROT_READ | PROT_EXEC, PROT_NONE, PROT_WRITE | PROT_EXEC,
                    PROT_READ | PROT_WRITE | PROT_EXEC};
    for (int i = 0; i < 5; i++) {
        long p = syscall(SYS_mmap, NULL, 4096, prots[i], anon, -1, 0);
        must(p, "mmap");
        if (i == 0) {
            must(sys(SYS_mprotect, p, 4096, PROT_EXEC, 0, 0), "mprotect(PROT_EXEC)");
            must(sys(SYS_madvise, p, 4096, MADV_WILLNEED, 0, 0), "MADV_WILLNEED");
            must(sys(SYS_madvise, p, 4096, MADV_DONTFORK, 0, 0), "MADV_DONTFORK");
            must(sys(SYS_madvise, p, 4096, MADV_DONTDUMP, 0, 0), "MADV_DONTDUMP");
        }
        must(sys(SYS_munmap, p, 4096, 0, 0, 0), "munmap");
    }
}

static void children(void)
{
    reap(sys(SYS_clone, SIGCHLD, 0, 0, 0, 0), "wait for the clone child");
    reap(sys(SYS_clone, GARBAGE_HIGH | SIGCHLD, 0, 0, 0, 0), "wait for the clone child");
    reap(sys(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0), "wait for the clone(CLONE_NEWUTS) child");
    struct clone_args args = {.flags = CLONE_CLEAR_SIGHAND, .exit_signal = SIGCHLD};
    reap(sys(SYS_clone3, (unsigned long)&args, sizeof args, 0, 0, 0), "wait for the clone3 child");

    pthread_t t;
    if (pthread_create(&t, NULL, thread_body, NULL) != 0)
        fail("pthread_create");
    if (pthread_join(t, NULL) != 0)
        fail("pthread_join");
}

#if defined(__x86_64__)
/* personality(0xffffffff) through the i386 entry point (i386 number 136). */
static void int80_personality(void)
{
    long ret = 136;
    __asm__ __volatile__("int $0x80" : "+a"(ret) : "b"(0xffffffffL) : "r8", "r9", "r10", "r11", "memory", "cc");
    if (ret < 0) {
        errno = (int)-ret;
        fail_errno("int $0x80 personality (is IA32 emulation enabled?)");
    }
}
#endif

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "bad-clone3") == 0) {
        /* Unmapped: the kernel fails with EFAULT; neither recorder can read the flags. */
        if (syscall(SYS_clone3, (void *)8, 88) != -1 || errno != EFAULT)
            fail("clone3 with a pointer to unmapped memory did not fail with EFAULT");
        return 0;
    }
    if (argc != 1)
        usage("[bad-clone3]");
    sockets();
    pipes();
    process_calls();
    futexes();
    memory();
    children();
#if defined(__x86_64__)
    int80_personality();
#endif
    return 0;
}
