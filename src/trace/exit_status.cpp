#include <sys/wait.h>

#include <cstring>

#include "trace/recorder.h"

namespace sandmine::trace {

ExitStatus ExitStatus::from_wait(int wstatus) {
  if (WIFSIGNALED(wstatus)) return ExitStatus{0, WTERMSIG(wstatus)};
  return ExitStatus{WEXITSTATUS(wstatus), 0};
}

std::string ExitStatus::signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

}  // namespace sandmine::trace
