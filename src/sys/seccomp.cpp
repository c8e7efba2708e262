#include "sys/seccomp.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>
#include <string>

#include "sys/files.h"

namespace sandmine::sys {

int install_allow_all_filter() noexcept {
  // One instruction; nothing to compile, so no library call after fork.
  static sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  static sock_fprog prog = {1, allow};
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return errno;
  return 0;
}

int thread_seccomp_mode(int pid, int tid) {
  auto status = read_file("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/status");
  if (!status) return -1;
  auto pos = status->find("\nSeccomp:");
  if (pos == std::string::npos) return -1;
  return static_cast<int>(std::strtol(status->c_str() + pos + 9, nullptr, 10));
}

}  // namespace sandmine::sys
