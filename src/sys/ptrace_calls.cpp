#include "sys/ptrace_calls.h"

#include <sys/ptrace.h>
#include <sys/wait.h>

namespace sandmine::sys {

pid_t wait_any_traced(int& status) { return ::waitpid(-1, &status, __WALL); }

void kill_thread(pid_t tid) { ::kill(tid, SIGKILL); }

int ptrace_set_options(pid_t tid, long options) {
  return static_cast<int>(::ptrace(PTRACE_SETOPTIONS, tid, nullptr, options));
}

int ptrace_syscall_info(pid_t tid, __ptrace_syscall_info& info) {
  return ::ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof info, &info) < 0 ? -1 : 0;
}

int ptrace_event_message(pid_t tid, unsigned long& message) {
  return static_cast<int>(::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &message));
}

int ptrace_siginfo(pid_t tid, siginfo_t& info) {
  return static_cast<int>(::ptrace(PTRACE_GETSIGINFO, tid, nullptr, &info));
}

int ptrace_resume_to_syscall(pid_t tid, int signal) {
  return static_cast<int>(::ptrace(PTRACE_SYSCALL, tid, nullptr, signal));
}

}  // namespace sandmine::sys
