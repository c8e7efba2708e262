#include "sys/spawn.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "sys/seccomp.h"

extern char** environ;

namespace sandmine::sys {

namespace {

// What the child reports on the error pipe.
struct SetupFailure {
  int stage;
  int errnum;
};
enum Stage { kTraceMe = 1, kFilter, kMove, kExec, kNetns, kStdio };

const char* stage_text(int stage) {
  switch (stage) {
    case kTraceMe:
      return "cannot be traced (PTRACE_TRACEME)";
    case kFilter:
      return "cannot install the recording seccomp filter";
    case kMove:
      return "cannot move into the target cgroup";
    default:
      return "cannot execute";
  }
}

[[noreturn]] void fail(int fd, int stage) {
  SetupFailure f{stage, errno};
  (void)!::write(fd, &f, sizeof f);
  ::_exit(127);
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

Result<std::string> find_executable(const std::string& name) {
  if (name.empty()) return Error{"no command given", ENOENT};
  if (name.find('/') != std::string::npos) {
    if (is_executable_file(name)) return name;
    return Error{"command not found or not executable: " + name, ENOENT};
  }
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (is_executable_file(candidate)) return candidate;
  }
  return Error{"command not found: " + name + " (not on PATH)", ENOENT};
}

Result<Child> spawn(const SpawnSpec& spec) {
  if (spec.argv.empty()) return Error{"no command given", EINVAL};
  // Everything the child needs is prepared here: no allocation after fork.
  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const char* executable = spec.executable.empty() ? argv[0] : spec.executable.c_str();

  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return errno_error("cannot create a pipe");
  UniqueFd read_end(pipefd[0]), write_end(pipefd[1]);

  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return errno_error("cannot fork");
  if (pid == 0) {
    int fd = write_end.get();
    sigset_t all;
    sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) ::signal(sig, SIG_DFL);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    if (spec.new_process_group) ::setpgid(0, 0);
    if ((spec.stdin_fd >= 0 && ::dup2(spec.stdin_fd, 0) < 0) ||
        (spec.stdout_fd >= 0 && ::dup2(spec.stdout_fd, 1) < 0) ||
        (spec.stderr_fd >= 0 && ::dup2(spec.stderr_fd, 2) < 0))
      fail(fd, kStdio);
    if (spec.netns_fd >= 0 && ::setns(spec.netns_fd, CLONE_NEWNET) != 0) fail(fd, kNetns);
    if (spec.traceme) {
      if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) fail(fd, kTraceMe);
      ::raise(SIGSTOP);
    }
    if (spec.allow_all_filter) {
      if (int err = install_allow_all_filter(); err != 0) {
        errno = err;
        fail(fd, kFilter);
      }
    }
    if (spec.cgroup_procs_fd >= 0 && ::write(spec.cgroup_procs_fd, "0", 1) != 1) fail(fd, kMove);
    ::execve(executable, argv.data(), environ);
    fail(fd, kExec);
  }
  write_end.reset();
  Child child(pid, std::move(read_end));
  return child;
}

Status Child::exec_status(bool wait) {
  if (!exec_errors_.valid()) return {};
  if (!wait) {
    int flags = ::fcntl(exec_errors_.get(), F_GETFL);
    ::fcntl(exec_errors_.get(), F_SETFL, flags | O_NONBLOCK);
  }
  SetupFailure f{};
  ssize_t n;
  do {
    n = ::read(exec_errors_.get(), &f, sizeof f);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return {};
  exec_errors_.reset();
  if (n == static_cast<ssize_t>(sizeof f)) {
    errno = f.errnum;
    return errno_error(std::string(stage_text(f.stage)), f.errnum);
  }
  return {};
}

}  // namespace sandmine::sys
