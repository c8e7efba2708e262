#pragma once
// The trace document (trace.json): what was recorded, named, ready for profiles.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "trace/counts.h"
#include "util/result.h"

namespace sandmine::trace {

/// One syscall of a trace: arch and number as seccomp sees them, the name
/// libseccomp gives (empty when it has none), how often, when first.
struct SyscallEntry {
  std::string arch;
  std::string name;
  std::int64_t nr = 0;
  std::uint64_t count = 0;
  double first_seen_ms = 0;  ///< since the target started
  std::string first_step;    ///< the explore step that first made it, when steps were run
};

/// What was recorded: a command (sandmine trace) or a container (sandmine mine).
struct TraceTarget {
  std::string kind = "command";
  std::string engine;  ///< container: runc, docker, podman
  std::string image;   ///< container: the image's recipe hash or reference
  std::vector<std::string> command;
  std::optional<int> exit_code;  ///< the command's exit code, when it exited
  int exit_signal = 0;           ///< the signal that killed it, 0 if none
  double duration_ms = 0;
};

/// One step of a mining run and what it added.
struct StepRecord {
  std::string name;   ///< "start", an explore step's name, "stop"
  std::string phase;  ///< start, explore, stop
  double started_ms = 0;
  double duration_ms = 0;
  int exit_code = 0;                      ///< run and exec steps
  std::vector<std::string> new_syscalls;  ///< "arch:name" first seen during this step
  std::size_t total = 0;                  ///< distinct armed syscalls after it
};

/// A trace.json document.
struct Trace {
  int version = 1;
  std::string backend;
  bool partial = false;        ///< recording was interrupted; syscalls is a lower bound
  std::string partial_reason;  ///< why, when partial
  TraceTarget target;
  std::vector<SyscallEntry> syscalls;  ///< armed: what the profile must allow
  std::vector<SyscallEntry> unarmed;   ///< made before a filter was installed: information only
  std::vector<StepRecord> steps;       ///< mining: per step, in order
};

/// Names and orders counts (by arch, then name, then number); times are made
/// relative to start_ns.
std::vector<SyscallEntry> entries_from(const Tallies& tallies, std::uint64_t start_ns);

nlohmann::json to_json(const Trace& trace);

/// Parses and validates a trace document; errors name source and field.
Result<Trace> trace_from_json(const nlohmann::json& doc, const std::string& source);

/// Reads and validates a trace.json file.
Result<Trace> read_trace(const std::string& path);

}  // namespace sandmine::trace
