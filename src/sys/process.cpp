#include "sys/process.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include <filesystem>
#include <set>
#include <string>

namespace sandmine::sys {

namespace fs = std::filesystem;

Result<Limit> nofile_limit(pid_t pid) {
  rlimit old{};
  if (::prlimit(pid, RLIMIT_NOFILE, nullptr, &old) != 0)
    return errno_error("cannot read the open-file limit of process " + std::to_string(pid));
  return Limit{.soft = old.rlim_cur, .hard = old.rlim_max};
}

Status set_nofile_limit(pid_t pid, const Limit& limit) {
  rlimit want{.rlim_cur = limit.soft, .rlim_max = limit.hard};
  if (::prlimit(pid, RLIMIT_NOFILE, &want, nullptr) != 0)
    return errno_error("cannot set the open-file limit of process " + std::to_string(pid));
  return {};
}

Result<std::uint64_t> open_descriptors(pid_t pid) {
  std::error_code ec;
  std::uint64_t n = 0;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec))
    ++n;
  if (ec) return Error{"cannot list the descriptors of process " + std::to_string(pid) + ": " + ec.message()};
  return n;
}

Result<std::uint64_t> lowest_free_descriptor(pid_t pid) {
  std::error_code ec;
  std::set<std::uint64_t> open;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec))
    open.insert(std::stoull(it->path().filename().string()));
  if (ec) return Error{"cannot list the descriptors of process " + std::to_string(pid) + ": " + ec.message()};
  std::uint64_t free = 0;
  while (open.count(free)) ++free;
  return free;
}

Status send_signal(pid_t pid, int sig) {
  if (::kill(pid, sig) != 0) return errno_error("cannot signal process " + std::to_string(pid));
  return {};
}

bool reap_child(pid_t pid, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    pid_t got = ::waitpid(pid, nullptr, WNOHANG);
    if (got == pid || (got < 0 && errno == ECHILD)) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace sandmine::sys
