#pragma once
// Starting a target: fork, set the child up for recording, exec.

#include <linux/filter.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "sys/fd.h"
#include "util/result.h"

namespace sandmine::sys {

/// How to start a child. Between fork and exec the child, in this order:
/// redirects stdio, joins the network namespace, stops for its tracer
/// (traceme), installs the recording filter, moves itself into the cgroup, execs. Filter before move: the
/// write that moves it is the last syscall outside the target, so the first one recorded is the execve.
/// With seccomp_filter (a profile, which need not allow write) the parent
/// moves the child instead, once the child has installed the filter; the
/// child waits for that without a syscall, so again execve comes first.
struct SpawnSpec {
  std::vector<std::string> argv = {};  ///< passed as is, argv[0] included
  std::string executable = {};         ///< the file to execute; empty: argv[0]
  int cgroup_procs_fd = -1;            ///< cgroup.procs to move into, or -1
  bool allow_all_filter = false;       ///< install an allow-all seccomp filter
  /// A seccomp filter (classic BPF, as libseccomp exports it) to install
  /// instead, after setting no_new_privs; empty: none.
  std::vector<sock_filter> seccomp_filter = {};
  bool traceme = false;            ///< PTRACE_TRACEME, then stop with SIGSTOP
  int netns_fd = -1;               ///< join this network namespace (setns) first, or -1
  int stdin_fd = -1;               ///< dup2 over stdin, or -1 to inherit
  int stdout_fd = -1;              ///< dup2 over stdout, or -1 to inherit
  int stderr_fd = -1;              ///< dup2 over stderr, or -1 to inherit
  bool new_process_group = false;  ///< setpgid(0, 0): a timeout can kill the whole group
};

/// A started child and the pipe on which it reports a failed setup or exec.
class Child {
 public:
  Child(pid_t pid, UniqueFd exec_errors) : pid_(pid), exec_errors_(std::move(exec_errors)) {}
  pid_t pid() const { return pid_; }
  /// Waits for the child to end (retrying on EINTR); its wait status.
  Result<int> wait();
  /// Why the child failed before running the command, once it has exec'd or
  /// died (wait: block until then). Ok when it exec'd (or, without wait, when
  /// nothing was reported yet).
  Status exec_status(bool wait);

 private:
  pid_t pid_;
  UniqueFd exec_errors_;
};

/// Forks and starts spec.argv as described by spec.
Result<Child> spawn(const SpawnSpec& spec);

/// Finds an executable like execvp: a name with a slash as is, else on PATH.
Result<std::string> find_executable(const std::string& name);

}  // namespace sandmine::sys
