/*
 * prog_int80
 *
 * A 64-bit process that also makes i386-ABI syscalls through `int $0x80`
 * (needs a kernel with IA32_EMULATION, not disabled by ia32_emulation=0).
 * The same name under two ABIs must be recorded as two (arch, name) entries.
 *
 * Marker calls:
 *   arch     name     count   how
 *   x86_64   getppid    1     syscall(SYS_getppid)
 *   x86      getpid     1     int $0x80, eax = 20 (i386 number)
 *   x86      getppid    3     int $0x80, eax = 64 (i386 number)
 * ("x86" is libseccomp's name for AUDIT_ARCH_I386.)
 *
 * No other i386 calls are made; everything else is ordinary x86_64 dynamic
 * start-up and exit (see README.md in this folder). Exits 0; 1 with a
 * message on stderr if a call fails or the two ABIs disagree.
 */
#define _GNU_SOURCE
#include <sys/syscall.h>

#include "prog_util.h"

#if defined(__x86_64__)

enum { I386_NR_getpid = 20, I386_NR_getppid = 64 };

/*
 * A syscall without arguments through the i386 entry point. Only the low
 * 32 bits of registers are passed, so no pointer arguments are ever used.
 * Depending on the kernel version the compat entry may zero r8-r11 on return,
 * so they are declared clobbered.
 */
static int int80_syscall0(int nr)
{
    long ret = nr;
    __asm__ __volatile__("int $0x80"
                         : "+a"(ret)
                         :
                         : "r8", "r9", "r10", "r11", "memory", "cc");
    return (int)ret;
}

int main(void)
{
    long ppid = syscall(SYS_getppid);
    if (ppid < 0)
        fail_errno("getppid");

    int pid32 = int80_syscall0(I386_NR_getpid);
    if (pid32 <= 0) {
        errno = -pid32;
        fail_errno("int $0x80 getpid (is IA32 emulation enabled?)");
    }

    for (int i = 0; i < 3; i++) {
        int ppid32 = int80_syscall0(I386_NR_getppid);
        if (ppid32 < 0) {
            errno = -ppid32;
            fail_errno("int $0x80 getppid");
        }
        if (ppid32 != ppid)
            fail("int $0x80 getppid disagrees with the native getppid");
    }
    return 0;
}

#else

int main(void)
{
    fail("int $0x80 is only meaningful on x86_64");
}

#endif
