#pragma once
// The paper's loop: start the container under the recorder, drive it with the
// spec's steps, snapshot after each step, stop it, and keep what it did.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "explore/driver.h"
#include "profile/profile.h"
#include "spec/spec.h"
#include "trace/ebpf_recorder.h"
#include "trace/trace.h"
#include "util/result.h"

namespace sandmine::explore {

/// How to mine.
struct MineOptions {
  std::string engine = "runc";
  /// How the engine runs the container (its rlimits).
  engine::EngineOptions engine_options;
  std::string work_dir;   ///< container log and engine state go here
  std::string cache_dir;  ///< image cache; empty: the default
  /// 0: the explore steps once. K > 0: rounds of them (round r names its steps
  /// "name#r") until K consecutive explore steps add no syscall, or max_rounds.
  int until_saturated = 0;
  int max_rounds = 5;
  /// One line per event for a person watching (step n/m, elapsed, syscalls so far).
  std::function<void(const std::string&)> progress = {};
  /// A recorder shared with other runs (sandmine mine -j); null: mining opens its own.
  std::shared_ptr<trace::EbpfRecorder> recorder = {};
};

/// A mining run: the trace (with per-step records, coverage estimate and,
/// with until_saturated, how the rounds ended) and every step's outcome.
struct MineResult {
  trace::Trace trace;
  std::vector<StepOutcome> steps;
  double image_seconds = 0;   ///< building or finding the image
  double mining_seconds = 0;  ///< from starting the container until it was removed
  bool failed = false;        ///< a step failed: trace is what was seen until then
  std::string failure;        ///< the first failing step's message, one line
  /// What the container was started from (image, command, environment, the
  /// configuration files it read until ready), for the profile.
  profile::MinedFrom mined_from;
};

/// Mines spec. Environment errors (no runc, no image, cannot record) are an
/// Error; a failing step is a MineResult with failed set, so what was
/// recorded can still be saved.
Result<MineResult> mine(const spec::Spec& spec, const MineOptions& options);

}  // namespace sandmine::explore
