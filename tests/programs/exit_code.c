/*
 * prog_exit_code CODE [SIGNAL]
 *
 * For exit-status pass-through tests: exits with CODE (0..255), or, when
 * SIGNAL is given, dies of that signal (CODE is then ignored). SIGNAL is a
 * number or a name with or without the SIG prefix (TERM, SIGKILL, 9, ...)
 * and must be one whose default action terminates the process.
 *
 * Makes no marker calls. With SIGNAL it resets the signal to its default
 * action and unblocks it first (the harness may have it ignored or blocked),
 * then raise()s it: rt_sigaction 1, rt_sigprocmask 1, gettid 1, getpid 1,
 * tgkill 1 after dynamic start-up, and no exit_group. If the signal does
 * not kill the process (e.g. SIGCHLD), it prints a message and exits 1.
 * Bad arguments exit 2.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <strings.h>

#include "prog_util.h"

/* Signal number for "9", "TERM" or "SIGTERM"; -1 if unknown. */
static int parse_signal(const char *s)
{
    long n;
    if (parse_long(s, 1, SIGRTMAX, &n) == 0)
        return (int)n;
    if (strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    for (int sig = 1; sig < SIGRTMIN; sig++) {
        const char *abbrev = sigabbrev_np(sig);
        if (abbrev && strcasecmp(s, abbrev) == 0)
            return sig;
    }
    return -1;
}

int main(int argc, char **argv)
{
    static const char synopsis[] = "CODE (0..255) [SIGNAL (name or number)]";
    long code;
    if (argc < 2 || argc > 3 || parse_long(argv[1], 0, 255, &code) != 0)
        usage(synopsis);
    if (argc == 2)
        return (int)code;

    int sig = parse_signal(argv[2]);
    if (sig < 0)
        usage(synopsis);

    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);

    fprintf(stderr, "%s: signal %s did not terminate the process\n",
            program_invocation_short_name, argv[2]);
    return 1;
}
