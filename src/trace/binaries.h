#pragma once
// What a target ran, for trace.json's "binaries": the files its processes
// executed (the recorder's exec map: every execve, exact) and the shared
// objects they mapped (samples of /proc/PID/maps: what the dynamic loader
// and dlopen brought in while the process was alive at a sample).

#include <map>
#include <set>
#include <string>
#include <vector>

#include "trace/ebpf_recorder.h"
#include "trace/trace.h"
#include "util/result.h"

namespace sandmine::trace {

/// Collects a target's binaries while it runs.
class BinaryLog {
 public:
  /// root_prefix: the host directory that is the target's root file system
  /// (the image's rootfs), taken off mapped paths that show it; empty when
  /// the target runs in the host's root.
  explicit BinaryLog(std::string root_prefix = "") : root_prefix_(std::move(root_prefix)) {}

  /// Notes what every process of target maps now. Cheap (a few procfs reads
  /// per process); call it after each step. Processes that exit meanwhile
  /// are skipped.
  void sample(const Target& target);

  /// The binaries: every executed path (with its count) and, for each,
  /// the files seen mapped by processes running it; executables seen running
  /// but never executed in the target (execs 0) too. Sorted by path.
  /// Fails when the recorder lost executions (its map was full).
  /// start_ns: when the target started (CLOCK_MONOTONIC, as the trace's first_seen_ms count from).
  Result<std::vector<BinaryRecord>> finish(EbpfRecorder& recorder, const Target& target,
                                           std::uint64_t start_ns);

 private:
  std::string root_prefix_;
  std::map<std::string, std::set<std::string>> mapped_;  // exe -> mapped files
};

}  // namespace sandmine::trace
