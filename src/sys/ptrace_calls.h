#pragma once
// The ptrace calls of the ptrace recorder (the oracle backend), one thin
// function each. They return what the kernel returns and leave errno as it
// set it: the recorder's loop tells ESRCH (the thread is being killed) and
// EINTR from real failures.

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/types.h>

namespace sandmine::sys {

/// waitpid(-1, &status, __WALL): the next stop or end of any traced thread.
pid_t wait_any_traced(int& status);

/// Sends SIGKILL to one thread.
void kill_thread(pid_t tid);

/// PTRACE_SETOPTIONS.
int ptrace_set_options(pid_t tid, long options);

/// PTRACE_GET_SYSCALL_INFO (Linux 5.3): the syscall of a syscall stop.
int ptrace_syscall_info(pid_t tid, __ptrace_syscall_info& info);

/// PTRACE_GETEVENTMSG: the new thread of a fork/clone event, the former id at exec.
int ptrace_event_message(pid_t tid, unsigned long& message);

/// PTRACE_GETSIGINFO: the signal of a signal-delivery stop (EINVAL: a group stop).
int ptrace_siginfo(pid_t tid, siginfo_t& info);

/// PTRACE_SYSCALL: resume tid to its next syscall stop, delivering signal.
int ptrace_resume_to_syscall(pid_t tid, int signal);

}  // namespace sandmine::sys
