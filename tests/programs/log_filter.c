/*
 * prog_log_filter N_NATIVE [N_I386]
 *
 * Installs a seccomp filter that logs uname (SECCOMP_RET_LOG) and allows
 * everything else, then calls uname N_NATIVE times through the native entry
 * and N_I386 times through `int $0x80`. Each logged call leaves one audit
 * record (type=1326, code=0x7ffc0000) in the kernel log when "log" is in
 * /proc/sys/kernel/seccomp/actions_logged, unless the kernel's printk rate
 * limit drops it.
 *
 * Logged calls (the only ones the filter logs):
 *   arch     name    nr    count      how
 *   x86_64   uname   63    N_NATIVE   syscall(SYS_uname, buf)
 *   x86      uname   122   N_I386     int $0x80, eax = 122, compat=1
 * ("x86" is libseccomp's name for AUDIT_ARCH_I386.) The buffer of the i386
 * calls is mapped below 4 GiB (MAP_32BIT), since only the low 32 bits of
 * registers reach an i386 syscall.
 *
 * Sets no_new_privs first, so it needs no privileges. Exits 0; 1 with a
 * message on stderr if a call fails; PROG_EXIT_USAGE for bad arguments.
 */
#define _GNU_SOURCE
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "prog_util.h"

#if defined(__x86_64__)

enum { I386_NR_uname = 122 };

static int int80_uname(struct utsname *low_buf)
{
    long ret = I386_NR_uname;
    __asm__ __volatile__("int $0x80"
                         : "+a"(ret)
                         : "b"((unsigned int)(uintptr_t)low_buf)
                         : "r8", "r9", "r10", "r11", "memory", "cc");
    return (int)ret;
}

int main(int argc, char **argv)
{
    long n_native, n_i386 = 0;
    if (argc < 2 || argc > 3 || parse_long(argv[1], 0, 1000000, &n_native) != 0 ||
        (argc == 3 && parse_long(argv[2], 0, 1000000, &n_i386) != 0))
        usage("N_NATIVE [N_I386]");

    struct utsname *low_buf = mmap(NULL, sizeof(struct utsname), PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (low_buf == MAP_FAILED)
        fail_errno("mmap MAP_32BIT");

    struct sock_filter filter[] = {
        /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 2),
        /* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_uname, 3, 4),
        /* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 3),
        /* 5 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        /* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, I386_NR_uname, 0, 1),
        /* 7 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_LOG),
        /* 8 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof(filter) / sizeof(filter[0]), filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        fail_errno("prctl(PR_SET_NO_NEW_PRIVS)");
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
        fail_errno("seccomp(SECCOMP_SET_MODE_FILTER)");

    struct utsname buf;
    for (long i = 0; i < n_native; i++)
        if (syscall(SYS_uname, &buf) != 0)
            fail_errno("uname");
    for (long i = 0; i < n_i386; i++) {
        int ret = int80_uname(low_buf);
        if (ret != 0) {
            errno = -ret;
            fail_errno("int $0x80 uname (is IA32 emulation enabled?)");
        }
    }
    return 0;
}

#else

int main(void)
{
    fail("prog_log_filter logs x86_64 and i386 calls: only meaningful on x86_64");
}

#endif
