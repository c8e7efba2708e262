#include "sys/process.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>

#include "sys/files.h"

#include <filesystem>
#include <set>
#include <string>

namespace sandmine::sys {

namespace fs = std::filesystem;

namespace {

// The real, effective and saved ids of pid's "Uid:" or "Gid:" line, when all
// three are the same.
std::optional<unsigned> single_id(const std::string& status, const char* field) {
  auto at = status.find(field);
  if (at == std::string::npos) return std::nullopt;
  unsigned r = 0, e = 0, s = 0;
  if (std::sscanf(status.c_str() + at + std::strlen(field), "%u %u %u", &r, &e, &s) != 3 || r != e || e != s)
    return std::nullopt;
  return r;
}

// prlimit on pid. The kernel allows it to a caller with CAP_SYS_RESOURCE or
// to one whose ids are pid's own; without the capability (a container or a
// CI runner may drop it), a thread of its own takes pid's uid and gid first:
// the raw setresgid and setresuid change only the calling thread's
// credentials, and they end with it.
int prlimit_as_owner(pid_t pid, const rlimit* want, rlimit* old) {
  if (::prlimit(pid, RLIMIT_NOFILE, want, old) == 0) return 0;
  if (errno != EPERM) return -1;
  auto status = read_file("/proc/" + std::to_string(pid) + "/status");
  if (!status) return -1;
  auto uid = single_id(*status, "Uid:"), gid = single_id(*status, "Gid:");
  if (!uid || !gid) {
    errno = EPERM;
    return -1;
  }
  int result = -1, err = 0;
  std::thread owner([&] {
    if (::syscall(SYS_setresgid, *gid, *gid, *gid) != 0 || ::syscall(SYS_setresuid, *uid, *uid, *uid) != 0) {
      err = errno;
      return;
    }
    result = ::prlimit(pid, RLIMIT_NOFILE, want, old);
    err = errno;
  });
  owner.join();
  errno = err;
  return result;
}

}  // namespace

Result<Limit> nofile_limit(pid_t pid) {
  rlimit old{};
  if (prlimit_as_owner(pid, nullptr, &old) != 0)
    return errno_error("cannot read the open-file limit of process " + std::to_string(pid));
  return Limit{.soft = old.rlim_cur, .hard = old.rlim_max};
}

Status set_nofile_limit(pid_t pid, const Limit& limit) {
  rlimit want{.rlim_cur = limit.soft, .rlim_max = limit.hard};
  if (prlimit_as_owner(pid, &want, nullptr) != 0)
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

Result<std::optional<int>> poll_child(pid_t pid) {
  int status = 0;
  pid_t got;
  do got = ::waitpid(pid, &status, WNOHANG);
  while (got < 0 && errno == EINTR);
  if (got < 0) return errno_error("cannot wait for process " + std::to_string(pid));
  if (got == 0) return std::optional<int>{};
  return std::optional<int>{status};
}

}  // namespace sandmine::sys
