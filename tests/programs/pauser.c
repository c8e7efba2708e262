/*
 * prog_pauser [IN OUT]
 *
 * With IN and OUT (e.g. fifos) it first opens and dup2s them over stdin and
 * stdout (openat 2, dup2 2), so a harness needs no shell to redirect.
 *
 * Stops between two marker calls so a test can take a snapshot of a
 * recording while the target is still running.
 *
 *   1. getppid
 *   2. write "ready\n" to stdout (one write(2), no stdio buffering)
 *   3. one read(2) of stdin: returns when the harness writes anything
 *      (e.g. "go\n") or closes its end of the pipe (EOF)
 *   4. getpgid(0)
 *   5. exit 0
 *
 * A snapshot taken after "ready" is read and before the harness writes or
 * closes stdin contains getppid and not getpgid.
 *
 * Marker calls (arch x86_64):  getppid 1, getpgid 1.
 * Non-marker calls besides dynamic start-up and exit: write 1, read 1.
 * Exits 1 with a message on stderr if a call fails.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/syscall.h>

#include "prog_util.h"

int main(int argc, char **argv)
{
    /* prog_pauser [IN OUT]: read from IN and write to OUT instead of stdin
     * and stdout (e.g. fifos), so a harness needs no shell to redirect. */
    if (argc == 3) {
        int in = open(argv[1], O_RDONLY);
        if (in < 0 || dup2(in, STDIN_FILENO) < 0)
            fail_errno(argv[1]);
        int out = open(argv[2], O_WRONLY);
        if (out < 0 || dup2(out, STDOUT_FILENO) < 0)
            fail_errno(argv[2]);
    } else if (argc != 1) {
        usage("[IN OUT]");
    }
    if (syscall(SYS_getppid) < 0)
        fail_errno("getppid");

    static const char ready[] = "ready\n";
    if (write(STDOUT_FILENO, ready, sizeof ready - 1) != (ssize_t)(sizeof ready - 1))
        fail_errno("write (stdout)");

    char buf[64];
    if (read(STDIN_FILENO, buf, sizeof buf) < 0)
        fail_errno("read (stdin)");

    if (syscall(SYS_getpgid, 0) < 0)
        fail_errno("getpgid");
    return 0;
}
