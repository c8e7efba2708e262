#pragma once
// The held-out check: start the container under a profile, run the spec's
// validate steps and its stop, and name every call the profile does not
// allow, with the step during which it happened.
//
// The recorder is the judge, not the audit log: it counts armed calls at
// sys_enter (complain mode: the profile only logs, so calls outside it run)
// and denied calls at sys_exit (enforce mode: seccomp skips sys_enter for a
// call it denies). In complain mode the kernel's audit records (type=1326)
// are read from /dev/kmsg too and compared with those counts, so a lost or
// rate-limited record is noticed, never mistaken for a clean run.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "explore/driver.h"
#include "explore/ledger.h"
#include "profile/profile.h"
#include "spec/spec.h"
#include "trace/counts.h"
#include "trace/ebpf_recorder.h"
#include "util/result.h"

namespace sandmine::explore {

/// How to check. complain: the profile's denials become SCMP_ACT_LOG, the
/// workload runs to the end and every call outside the profile is named.
/// enforce: the profile as it is; denied calls are named too.
struct CheckOptions {
  std::string engine = "runc";
  engine::EngineOptions engine_options = {};  ///< how the engine runs the container (its rlimits)
  CheckMode mode = CheckMode::Complain;
  std::string work_dir;   ///< the container's log and engine files go here
  std::string cache_dir;  ///< image cache; empty: the default
  std::function<void(const std::string&)> progress = {};
  /// A recorder shared with other runs (sandmine mine -j); null: the check opens its own.
  std::shared_ptr<trace::EbpfRecorder> recorder = {};
};

/// What the kernel's audit records said (complain mode).
struct AuditCheck {
  bool read = false;           ///< records were read (complain mode)
  std::uint64_t records = 0;   ///< seccomp records of this container's processes
  std::uint64_t expected = 0;  ///< calls the recorder counted for those processes
  bool lost = false;           ///< the kernel dropped records (rate limit, overrun)
  std::string why;             ///< one line when lost
};

/// A check's outcome.
struct CheckResult {
  CheckMode mode = CheckMode::Complain;
  std::vector<StepOutcome> steps;  ///< start, validate steps, stop
  std::vector<CheckViolation> violations;
  AuditCheck audit;
  /// How the container differs from what the profile was mined from
  /// (explore::differences), one line each; empty when the profile does not
  /// say or they agree. A warning: the check's verdict does not depend on it.
  std::vector<std::string> differs;
  bool steps_passed() const;
  /// Every step passed and no call outside the profile was seen.
  bool passed() const { return steps_passed() && violations.empty(); }
};

/// Runs the check of spec under profile. Environment errors are an Error;
/// failing steps and violations are a result.
Result<CheckResult> check(const spec::Spec& spec, const profile::Profile& profile,
                          const CheckOptions& options);

}  // namespace sandmine::explore
