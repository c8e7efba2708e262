#pragma once
// The eBPF recording backend: one raw_tp/sys_enter program counting the
// syscalls of watched cgroup v2 subtrees (targets), several at once.

#include <cstdint>
#include <memory>
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
  /// Attach to raw_syscalls:sys_exit at once, to name the violations of
  /// watched targets (watch()). Off: it is attached when the first target is
  /// watched and detached when the last watched target is removed; it costs
  /// a second program on every syscall's return meanwhile (for every target,
  /// watched or not, and for the whole host), so mining alone never pays it.
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

/// A cgroup one level below a split target: a container an engine started
/// with the split target as its cgroup parent. The program gave it a slot of
/// its own on its first syscall.
struct Child {
  std::uint64_t cgroup_id = 0;
  std::string name;  ///< the cgroup's directory name (Docker: the container's id)
  int slot = -1;
  std::uint64_t first_ns = 0;  ///< its first syscall (CLOCK_MONOTONIC nanoseconds)
};

/// A file a target's processes opened, by the path they gave, with how often
/// for reading only (O_RDONLY) and for writing, and when first.
struct OpenedFile {
  std::string path;
  std::uint64_t reads = 0;
  std::uint64_t writes = 0;
  std::uint64_t first_ns = 0;
};

/// The eBPF backend. Loading it owns a root cgroup (sandmine-<pid>) under the
/// cgroup v2 mount; targets are its children. Destruction detaches the
/// program and removes every cgroup it made. Targets may be added, watched,
/// read and removed from several threads at once (sandmine mine -j).
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
  /// those bits of its arguments (attaches sys_exit if it is not yet). Fails
  /// when watch.arguments names more than kMaxArgumentWatches syscalls.
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

  // ---- Split targets (sandmine record) ----
  /// From now on, each cgroup made one level below target (a container whose
  /// engine got target as its cgroup parent) is counted in a slot of its own,
  /// taken on its first syscall; calls in target itself stay in target's.
  /// When no slot is free, its calls are not counted and health() fails.
  Status split(const Target& target);
  /// The children of a split target seen so far, in the order they appeared.
  Result<std::vector<Child>> children(const Target& target);
  /// A child's counts as of now.
  Result<Counts> snapshot(const Child& child);
  /// The files a child's processes executed.
  Result<std::vector<ExecCount>> execs(const Child& child);
  /// Frees a child's slot (its counts are gone). Only once its cgroup is gone.
  Status release(const Child& child);

  // ---- Files opened ----
  /// Notes (on) or stops noting every path the target's processes open
  /// (open, openat, openat2), reading or writing; a split target's children
  /// inherit the setting when they appear.
  /// Attaches the open, openat and openat2 tracepoints on first use.
  Status capture_opens(const Target& target, bool on);
  /// The paths noted so far, sorted. Fails when some could not be noted.
  Result<std::vector<OpenedFile>> opened(const Target& target);
  Result<std::vector<OpenedFile>> opened(const Child& child);

 private:
  Result<Counts> snapshot_slot(int slot);
  Result<std::vector<ExecCount>> execs_slot(int slot);
  struct Impl;
  explicit EbpfRecorder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sandmine::trace
