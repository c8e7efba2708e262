#pragma once
// The ptrace recording backend: stops the target's process tree at every
// syscall entry. Slow, but it shares no mechanism with the eBPF backend (no
// BPF, no cgroup matching), which makes it the oracle that backend is tested
// against.

#include <memory>
#include <mutex>
#include <string>

#include "trace/recorder.h"

namespace sandmine::trace {

/// Records a command with ptrace, following every fork, vfork, clone and exec
/// of its tree, with the eBPF backend's semantics: counting starts at the
/// command's execve, each syscall is counted at its entry as (arch, nr), and
/// it is armed when the calling thread had a seccomp filter at that moment.
///
/// The tree also runs in its own cgroup (sandmine-ptrace-<pid>, by default
/// under the v2 mount), only so that an interrupt can kill all of it at once.
///
/// Where it cannot match sys_enter (the eBPF backend's hook runs after ptrace's
/// entry stop and after seccomp): a call the command's own seccomp filter
/// rejects is counted here but not there; a thread SIGKILLed in the instant
/// it is resumed from an entry stop (a sibling's exit_group) may have that one
/// call counted here only. Without PTRACE_SEIZE a group-stop cannot be kept,
/// so a traced process that gets SIGSTOP goes on running (as under strace -f).
///
/// record() must be the only thing in this process waiting for children while
/// it runs: it reaps with waitpid(-1). One record() at a time per process.
class PtraceRecorder final : public Recorder {
 public:
  /// Checks that this host and process can record with ptrace (root, a cgroup
  /// v2 mount, ptrace not disabled by Yama); the error says what is missing.
  /// cgroup_parent: where to make its cgroup (a directory in the v2 tree;
  /// empty: the v2 mount). Inside an eBPF target, both backends record the
  /// same run: that is how the tests compare them.
  static Result<std::unique_ptr<PtraceRecorder>> create(const std::string& cgroup_parent = "");

  std::string_view backend() const override { return "ptrace"; }
  /// See Recorder::record. Fails with "cannot run <argv0>: ..." when the
  /// command could not be started, and on any tracing error (a syscall that
  /// could not be attributed is an error, never a smaller recording).
  Result<Recording> record(const RunOptions& options) override;
  /// The counts of the running (or last) recording. Thread-safe.
  Result<Counts> snapshot() override;

 private:
  explicit PtraceRecorder(std::string cgroup_parent) : cgroup_parent_(std::move(cgroup_parent)) {}

  std::string cgroup_parent_;
  std::mutex mutex_;
  Counts counts_;  // guarded by mutex_: snapshot() reads it from other threads
};

}  // namespace sandmine::trace
