#pragma once
// What `sandmine mine` does with one spec, as one call: mine the container,
// build the profile from the trace (the timing-dependent additions
// included), check it on the held-out validate steps, and, on request only,
// fold the calls the check found into the profile and check again.
//
// The stages that need the kernel (mining, checking) come in as functions,
// so the chain itself is tested without privileges.

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "explore/check.h"
#include "explore/miner.h"
#include "profile/from_trace.h"
#include "profile/profile.h"
#include "reach/analysis.h"
#include "spec/spec.h"
#include "util/result.h"

namespace sandmine::explore {

/// The stages of the chain. reach is needed only with
/// PipelineOptions::allow_reachable_safe.
struct Stages {
  std::function<Result<MineResult>()> mine;
  std::function<Result<CheckResult>(const profile::Profile&)> check;
  std::function<Result<reach::ReachReport>(const trace::Trace&)> reach = {};
};

/// How to run the chain.
struct PipelineOptions {
  MineOptions mine;
  CheckMode check_mode = CheckMode::Complain;
  /// Fold the calls the held-out check found outside the profile into it (a
  /// rule whose comment says so) and check again.
  bool include_validate = false;
  /// The profile's file, as messages and the profile's source name it.
  std::string profile_path = "profile.json";
  /// Which argument rules the profile gets (docs/recording.md).
  profile::ArgsMode args = profile::ArgsMode::safe;
  /// Also allow what the binaries the container ran can reach but mining did
  /// not see, when it is neither risky nor on a kernel CVE path
  /// (reach::reachable_safe), in a rule whose comment says so; before the
  /// held-out check, which then tests the profile as written.
  bool allow_reachable_safe = false;
  /// Where the static analysis keeps its C library tables ("" : no cache).
  std::string reach_cache = reach::kDefaultReachCacheDir;
};

/// The comment of the rule --allow reachable-safe adds.
inline constexpr const char* kReachableSafeComment =
    "added from static analysis (--allow reachable-safe): reachable from the binaries the container ran, "
    "never seen, neither risky nor on a kernel CVE path";

/// The comment of the rule --include-validate adds.
inline constexpr const char* kIncludeValidateComment =
    "added by --include-validate: seen only in the held-out validate steps";

/// What came of it.
struct PipelineResult {
  MineResult mined;
  /// The profile; empty when mining did not complete (a profile from a broken
  /// run would deny what the container needs).
  std::optional<profile::Profile> profile;
  std::vector<std::string> warnings;        ///< from building the profile
  std::set<std::string> timing_added;       ///< timing-dependent names the trace had not seen
  std::optional<CheckResult> held_out;      ///< the last held-out check; empty when none ran
  std::set<std::string> folded;             ///< names --include-validate folded in
  std::set<std::string> reachable_added;    ///< names --allow reachable-safe added
  std::optional<reach::ReachReport> reach;  ///< the static analysis, when it ran
  /// The held-out check could not run (an environment error after mining):
  /// one line. What was mined is still in mined and profile.
  std::string check_error;
  /// --allow reachable-safe could not analyse the binaries (one line): the
  /// profile is what was mined, without the additions, and no check ran.
  std::string reach_error;
};

/// The real stages: mine() and check() of spec with options, and the static
/// analysis of the trace's binaries in the image's root file system (from
/// the image cache).
Stages real_stages(const spec::Spec& spec, const PipelineOptions& options);

/// Runs the chain. An error only when mining could not start (nothing was
/// recorded); everything after that is in the result.
Result<PipelineResult> mine_and_check(const spec::Spec& spec, const PipelineOptions& options,
                                      const Stages& stages);

/// The exit code the result means: 2 when mining failed, was interrupted, or
/// the static analysis or the check could not run; 1 when the held-out check failed; 0 otherwise.
int exit_code(const PipelineResult& result, bool interrupted);

}  // namespace sandmine::explore
