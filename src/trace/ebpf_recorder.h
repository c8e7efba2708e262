#pragma once
// The eBPF recording backend: one raw_tp/sys_enter program counting the
// syscalls of watched cgroup v2 subtrees (targets), several at once.

#include <cstdint>
#include <memory>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sys/cgroup.h"
#include "trace/recorder.h"

namespace sandmine::trace {

/// How to load the recorder.
struct EbpfOptions {
  /// Kernel BTF for CO-RE relocations (a BTFHub file works for kernels without
  /// built-in BTF).
  std::string btf_path = "/sys/kernel/btf/vmlinux";
  /// Targets that can be watched at once (at most SM_MAX_TARGETS, 16).
  int max_targets = 16;
  /// Also attach to raw_syscalls:sys_exit to name the violations of watched
  /// targets (watch()): costs a second program on every syscall's return, so
  /// mining leaves it off.
  bool violations = false;
  /// Record the mined argument values of native syscalls (data/argument_rules.csv).
  /// Off: every syscall is recorded by name only (and costs no lookup).
  bool record_arguments = true;
  /// Distinct (target, armed, syscall, values) the recorder can keep. When it
  /// is full, a syscall with a new value falls back to a name-only rule, and
  /// says so (Tally::values_lost): never a silently smaller set.
  std::uint32_t max_arg_values = 16384;
};

/// A watched cgroup: every process in it or below is recorded. Put a process
/// there before it starts (a container engine's cgroup parent, or a child
/// that moves itself in before exec) and nothing it does is missed.
struct Target {
  std::string name;
  sys::Cgroup cgroup;
  int slot = -1;
};

/// The eBPF backend. Loading it owns a root cgroup (sandmine-<pid>) under the
/// cgroup v2 mount; targets are its children. Destruction detaches the
/// program and removes every cgroup it made.
class EbpfRecorder final : public Recorder {
 public:
  /// Loads and attaches the recorder. Fails with a message saying what is
  /// missing (privileges, BTF, tracepoint, cgroup v2) and how to fix it.
  static Result<std::unique_ptr<EbpfRecorder>> open(const EbpfOptions& options = {});
  ~EbpfRecorder() override;

  std::string_view backend() const override { return "ebpf"; }
  Result<Recording> record(const RunOptions& options) override;
  Result<Counts> snapshot() override;

  /// Starts watching a new cgroup <root>/<name>.
  Result<Target*> add_target(const std::string& name);
  /// Stops watching target, kills what is left in it and removes its cgroup.
  Status remove_target(Target* target);
  /// The target's counts as of now (exact: per-CPU counters summed).
  Result<Counts> snapshot(const Target& target);
  /// Names, from now on, every call the target's armed threads make outside
  /// watch.allowed, and keeps every call to a syscall of watch.arguments with
  /// those bits of its arguments (needs EbpfOptions::violations). Fails when
  /// watch.arguments names more than kMaxArgumentWatches syscalls.
  Status watch(const Target& target, const Watch& watch);
  /// The target's violations as of now.
  Result<Violations> violations(const Target& target);
  /// Ok unless the program failed to count something (a full map, a missed
  /// invocation). A recording taken while this fails is incomplete.
  Status health() const;
  /// Whether loading mounted tracefs (it was not mounted; it is unmounted again on destruction).
  bool mounted_tracefs() const;

  // ---- Executables (sandmine reach) ----
  /// The files the target's processes executed so far (the kernel's final
  /// choice: a script's interpreter), by the path they gave, inside their
  /// root; with how often and when first. Sorted by path.
  Result<std::vector<ExecCount>> execs(const Target& target);

 private:
  struct Impl;
  explicit EbpfRecorder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sandmine::trace
