#include "sys/spawn.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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
enum Stage { kTraceMe = 1, kFilter, kMove, kExec, kNetns, kStdio, kNoNewPrivs, kProfileFilter };

// The word a child under a profile's filter and its parent hand the move
// into the cgroup over with (see spawn()): the child sets kFiltered once its
// seccomp() has returned, the parent kMoved (or kAbandoned) after the move.
enum MoveState { kStarting = 0, kFiltered, kMoved, kAbandoned };

const char* stage_text(int stage) {
  switch (stage) {
    case kTraceMe:
      return "cannot be traced (PTRACE_TRACEME)";
    case kFilter:
      return "cannot install the recording seccomp filter";
    case kMove:
      return "cannot move into the target cgroup";
    case kNetns:
      return "cannot join the network namespace";
    case kStdio:
      return "cannot redirect standard input or output";
    case kNoNewPrivs:
      return "cannot set no_new_privs (needed to install the profile's seccomp filter)";
    case kProfileFilter:
      return "cannot install the profile's seccomp filter";
    default:
      return "cannot execute";
  }
}

[[noreturn]] void fail(int fd, int stage) {
  SetupFailure f{stage, errno};
  (void)!::write(fd, &f, sizeof f);
  ::_exit(127);
}

// Spins until the parent has written the move state: the child is under the
// profile's filter, which need not allow any syscall but execve.
int await_move(const int* state) {
  int s;
  while ((s = __atomic_load_n(state, __ATOMIC_ACQUIRE)) == kFiltered) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  return s;
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

  // A profile's filter (sandmine run) is installed after no_new_privs, in
  // place of the recording filter. It may allow nothing the child does
  // after it but execve -- a mined profile has the write that moves the
  // child into the cgroup only if the command itself writes -- so the
  // parent makes that move once the child's seccomp() has returned, while
  // the child spins without syscalls. The order stays: filter, move, exec;
  // execve is the first call recorded. (A child that stops for its tracer
  // cannot be waited for here: it moves itself, and needs write.)
  const bool profile_filter = !spec.seccomp_filter.empty();
  if (spec.seccomp_filter.size() > BPF_MAXINSNS)
    return Error{"the seccomp filter has " + std::to_string(spec.seccomp_filter.size()) +
                     " instructions; the kernel takes at most " + std::to_string(BPF_MAXINSNS),
                 E2BIG};
  sock_fprog profile_prog{static_cast<unsigned short>(spec.seccomp_filter.size()),
                          const_cast<sock_filter*>(spec.seccomp_filter.data())};
  const bool parent_moves = profile_filter && spec.cgroup_procs_fd >= 0 && !spec.traceme;
  struct SharedWord {
    int* word = nullptr;
    ~SharedWord() {
      if (word) ::munmap(word, sizeof *word);
    }
  } move_state;
  if (parent_moves) {
    void* page = ::mmap(nullptr, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return errno_error("cannot map memory shared with the child");
    move_state.word = static_cast<int*>(page);
    *move_state.word = kStarting;
  }

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
    if (profile_filter) {
      if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(fd, kNoNewPrivs);
      if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &profile_prog) != 0) fail(fd, kProfileFilter);
      if (parent_moves) {
        __atomic_store_n(move_state.word, kFiltered, __ATOMIC_RELEASE);
        if (await_move(move_state.word) != kMoved) ::_exit(127);
      }
    } else if (spec.allow_all_filter) {
      if (int err = install_allow_all_filter(); err != 0) {
        errno = err;
        fail(fd, kFilter);
      }
    }
    if (!parent_moves && spec.cgroup_procs_fd >= 0 && ::write(spec.cgroup_procs_fd, "0", 1) != 1)
      fail(fd, kMove);
    ::execve(executable, argv.data(), environ);
    fail(fd, kExec);
  }
  write_end.reset();
  int child_reports_fd = read_end.get();
  Child child(pid, std::move(read_end));
  if (parent_moves) {
    // Not before the child's seccomp() has returned: moved during the call,
    // the child would be seen returning from it armed, in the target.
    for (;;) {
      if (__atomic_load_n(move_state.word, __ATOMIC_ACQUIRE) == kFiltered) break;
      pollfd report{child_reports_fd, POLLIN, 0};
      if (::poll(&report, 1, 0) > 0) {
        // It failed (reported on the pipe) or died before its filter was in.
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
        if (auto st = child.exec_status(true); !st) return st.error();
        return Error{"the command's process died before its seccomp filter was installed", ECHILD};
      }
      ::sched_yield();
    }
    std::string pid_text = std::to_string(pid);
    ssize_t n = ::write(spec.cgroup_procs_fd, pid_text.data(), pid_text.size());
    int err = errno;
    bool moved = n == static_cast<ssize_t>(pid_text.size());
    __atomic_store_n(move_state.word, moved ? kMoved : kAbandoned, __ATOMIC_RELEASE);
    if (!moved) {
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      return errno_error(stage_text(kMove), n < 0 ? err : EIO);
    }
  }
  return child;
}

Result<int> Child::wait() {
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0)
    if (errno != EINTR) return errno_error("cannot wait for process " + std::to_string(pid_));
  return status;
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
