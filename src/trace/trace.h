#pragma once
// The trace document (trace.json): what was recorded, named, ready for profiles.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "syscalls/arguments.h"
#include "trace/counts.h"
#include "trace/snapshot_diff.h"
#include "util/result.h"

namespace sandmine::trace {

/// How one mined argument's values were taken, copied from the argument table
/// (data/argument_rules.csv) when they were recorded: a trace says itself what
/// its values mean.
struct ArgumentField {
  int index = 0;           ///< the argument's position, 0..5
  std::string name;        ///< "domain"
  int struct_offset = -1;  ///< >= 0: the 64-bit word at this offset of the struct the argument points to
  syscalls::Compare compare = syscalls::Compare::exact;
  std::uint64_t mask = 0;  ///< every value was recorded under this mask (ArgumentRule::record_mask)
  std::uint64_t bits = 0;  ///< flags: the bits a rule allows only when seen; 0 otherwise
};

/// One distinct combination of mined argument values of a syscall.
struct ValueEntry {
  ArgValues args;  ///< one per ArgumentField, in their order
  std::uint64_t count = 0;
  std::string first_step;  ///< the step that first made a call with these values, when steps were run
};

/// One syscall of a trace: arch and number as seccomp sees them, the name
/// libseccomp gives (empty when it has none), how often, when first.
struct SyscallEntry {
  std::string arch;
  std::string name;
  std::int64_t nr = 0;
  std::uint64_t count = 0;
  double first_seen_ms = 0;  ///< since the target started
  std::string first_step;    ///< the explore step that first made it, when steps were run
  /// The mined arguments (syscalls::mined_arguments); empty: recorded by name only.
  std::vector<ArgumentField> arguments = {};
  /// The distinct values seen, sorted by args. Complete (their counts add up
  /// to count) unless values_lost says why not; then a profile must allow the
  /// syscall by name only.
  std::vector<ValueEntry> values = {};
  std::uint8_t values_lost = 0;  ///< ValuesLost bits
};

/// What was recorded: a command (sandmine trace) or a container (sandmine mine).
struct TraceTarget {
  std::string kind = "command";
  std::string name;    ///< container: the spec's name
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
  /// "arch:name" made during this step (its count grew), sorted: the step's
  /// incidence, from which coverage is estimated. new_syscalls is a subset.
  std::vector<std::string> used;
};

/// How complete a mining run is, from its per-step incidence
/// (explore/coverage.h; method and limits in docs/coverage.md).
struct CoverageEstimate {
  std::size_t steps = 0;                  ///< T: explore steps, the sampling units
  std::size_t incidences = 0;             ///< U: over those steps, the sum of syscalls each used
  std::size_t observed = 0;               ///< distinct armed syscalls of the run (start and stop included)
  std::size_t observed_in_steps = 0;      ///< distinct syscalls the explore steps used
  std::size_t q1 = 0;                     ///< syscalls used in exactly one explore step
  std::size_t q2 = 0;                     ///< ... in exactly two
  std::optional<double> sample_coverage;  ///< Chao & Jost 2012; empty when not estimable
  std::optional<double> unseen_estimate;  ///< syscalls the explore workload uses but no step made
  std::optional<double> chao2;            ///< observed + unseen_estimate
  std::string method;                     ///< the formulas, one line
  std::string note;                       ///< why the estimates are missing, when they are
};

/// How `sandmine mine --until-saturated K` ended.
struct Saturation {
  int wanted = 0;      ///< K: consecutive explore steps without a new syscall
  int max_rounds = 0;  ///< the cap on rounds of the explore list
  int rounds = 0;      ///< rounds run (round r > 1 names its steps "name#r")
  bool saturated = false;
  std::string reason;  ///< why it stopped, one line
};

/// How one `auto` step of a mining run went (docs/explore-auto.md): its
/// generated steps are steps of their own in Trace::steps.
struct AutoRecord {
  std::string step;          ///< the spec's auto step, by its name
  std::size_t steps = 0;     ///< generated steps run
  double budget_s = 0;       ///< its time budget, in seconds
  double seconds = 0;        ///< from the start of its first generated step to the end of its last
  std::string stop;          ///< which rule ended it: budget, quiet, exhausted, failed, interrupted
  std::string detail;        ///< the generator's own line on it
  std::size_t captured = 0;  ///< client connections the spec's own steps made before it (the fuzzer's seeds)
};

/// An executable the target ran (execve), inside its root file system, and
/// the shared objects its processes were seen to map (samples of
/// /proc/PID/maps: what the dynamic loader or dlopen brought in).
struct BinaryRecord {
  std::string path;                     ///< as the container sees it: /usr/sbin/nginx
  std::uint64_t execs = 0;              ///< times it was exec'd (0: seen running only)
  std::optional<double> first_exec_ms;  ///< its first exec, since the target started (as first_seen_ms)
  std::vector<std::string> mapped;      ///< executable file mappings seen, sorted (container paths)
};

/// A trace.json document.
struct Trace {
  int version = 1;
  std::string backend;
  bool partial = false;        ///< recording was interrupted; syscalls is a lower bound
  std::string partial_reason;  ///< why, when partial
  TraceTarget target;
  std::vector<SyscallEntry> syscalls;        ///< armed: what the profile must allow
  std::vector<SyscallEntry> unarmed;         ///< made before a filter was installed: information only
  std::vector<StepRecord> steps;             ///< mining: per step, in order
  std::optional<CoverageEstimate> coverage;  ///< mining: estimated from steps
  std::optional<CoverageEstimate> coverage_by_family;  ///< mining: the same with step families as units
  std::optional<Saturation> saturation;                ///< mining with --until-saturated
  std::vector<AutoRecord> generated;                   ///< mining: one per auto step run
  std::vector<BinaryRecord> binaries;  ///< what ran, by path (sorted); empty when not recorded
};

/// Names and orders counts (by arch, then name, then number); times are made
/// relative to start_ns. A tally with values (or values lost) gets its
/// arguments described from the argument table.
std::vector<SyscallEntry> entries_from(const Tallies& tallies, std::uint64_t start_ns);

/// Sets each value's first_step from firsts (diff_snapshots and
/// note_first_steps over a run's snapshots); values firsts lacks get otherwise.
void set_value_steps(std::vector<SyscallEntry>& entries, const FirstSteps& firsts,
                     const std::string& otherwise);

/// One line per syscall whose values are incomplete, naming it and why
/// ("x86_64 ioctl: the recorder's map of argument values was full: ..."): what a
/// command prints after recording, so a fall-back to a name-only rule is never silent.
std::vector<std::string> lost_values_report(const Trace& trace);

nlohmann::json to_json(const Trace& trace);

/// Parses and validates a trace document; errors name source and field.
Result<Trace> trace_from_json(const nlohmann::json& doc, const std::string& source);

/// Reads and validates a trace.json file.
Result<Trace> read_trace(const std::string& path);

}  // namespace sandmine::trace
