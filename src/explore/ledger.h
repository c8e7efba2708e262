#pragma once
// The per-step bookkeeping of a run, as pure classes over the recorder's
// snapshots (no kernel, no container: unit tests drive them with counts).
//
// StepLedger (mining): after each step, the syscalls whose count grew were
// used in it (its incidence, from which coverage is estimated) and those seen
// for the first time are new in it.
//
// ViolationLedger (the held-out check): after each step, the calls outside
// the profile made during it, with the processes that made them; a call the
// profile decides by its arguments is judged by them (profile/judge.h).

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "profile/judge.h"
#include "profile/profile.h"
#include "trace/counts.h"
#include "trace/snapshot_diff.h"
#include "trace/trace.h"
#include "trace/violations.h"

namespace sandmine::explore {

/// "x86_64:read" (or "x86_64:#999" for a number libseccomp cannot name), as
/// steps list syscalls.
std::string key_name(const trace::SyscallKey& key);

class StepLedger {
 public:
  /// Records a step that just ended, given the armed counts now. Returns its record.
  const trace::StepRecord& record(const std::string& name, const std::string& phase, double started_ms,
                                  double duration_ms, const trace::Tallies& armed);
  /// Calls counted after the last step's snapshot (while the container was
  /// removed) belong to that step.
  void fold_tail(const trace::Tallies& armed);

  const std::vector<trace::StepRecord>& steps() const { return steps_; }
  /// The step that first made a syscall; empty when none did.
  std::optional<std::string> first_step(const trace::SyscallKey& key) const;
  /// The step that first used each argument value.
  const trace::FirstSteps& first_values() const { return first_values_; }
  /// The argument values the last recorded step used first in the run, as
  /// "x86_64:socket 16,3" (the syscall, then its mined values), in key order.
  const std::vector<std::string>& last_new_values() const { return last_new_values_; }
  /// Explore steps in a row, up to the last one, that added no syscall.
  std::size_t quiet_explore_steps() const { return quiet_; }
  /// The last explore step that added a syscall; empty when none did.
  const std::string& last_new_step() const { return last_new_; }

 private:
  std::vector<trace::StepRecord> steps_;
  trace::Tallies last_;  // armed counts at the last snapshot
  std::set<trace::SyscallKey> seen_;
  std::map<trace::SyscallKey, std::string> first_step_;
  trace::FirstSteps first_values_;
  std::vector<std::string> last_new_values_;
  std::size_t quiet_ = 0;
  std::string last_new_;
};

/// How the held-out check runs the profile.
enum class CheckMode { Complain, Enforce };

/// "complain" or "enforce".
std::string to_string(CheckMode mode);

/// A syscall outside the profile, or one call of a syscall the profile
/// decides by its arguments with argument values outside it.
struct CallKey {
  trace::SyscallKey key;
  /// The call's arguments as the recorder kept them (trace::Watch::arguments);
  /// empty for a syscall outside the profile whatever its arguments.
  std::optional<trace::CallArgs> args;
  auto operator<=>(const CallKey&) const = default;
};

/// Calls to one syscall outside the profile (or with one set of argument
/// values outside it).
struct CheckViolation {
  trace::SyscallKey key;
  std::string name;  ///< libseccomp's name, or #nr
  /// For a call the profile decides by its arguments: how it reads
  /// ("socket(AF_NETLINK, SOCK_RAW, 0)", profile::describe_call) and its
  /// arguments; empty otherwise.
  std::string call;
  std::vector<profile::CallArgument> args;
  std::uint64_t count = 0;                        ///< calls (complain: made; enforce: denied)
  std::set<std::string> processes;                ///< task names that made them ("?" when unknown)
  std::map<std::string, std::uint64_t> per_step;  ///< step name -> calls during it
  std::string first_step;
  /// The call when there is one, else the syscall's name: how lines name it.
  const std::string& label() const { return call.empty() ? name : call; }
};

/// The violation rule: what the recorder saw fall outside the profile, each
/// call judged by profile::judge (by its arguments when the profile decides
/// it by them; a call a rule answers with ENOSYS on purpose is none).
/// Complain mode: the calls ran (the profile only logs them), so every armed
/// call sys_enter counted of a syscall outside the profile whatever its
/// arguments is one, exit and exit_group included; a call decided by its
/// arguments is one when its values are outside (sys_exit kept them).
/// Enforce mode: a denied call never reaches sys_enter; sys_exit saw it
/// return the filter's error. A call that failed on its own is not one: an
/// allowed call's values say the filter let it through, whatever it returned.
class ViolationLedger {
 public:
  ViolationLedger(CheckMode mode, profile::Profile profile);

  /// What the recorder must watch for this profile (profile::watch_for).
  const trace::Watch& watch() const { return watch_; }

  /// Takes the counts after a step; returns the calls outside the profile
  /// made during it. counts are only read in complain mode.
  std::uint64_t record(const std::string& step, const trace::Counts& counts, const trace::Violations& seen);

  /// The calls outside the profile made during the last recorded step, by
  /// label (CheckViolation::label), in key order.
  const std::vector<std::pair<std::string, std::uint64_t>>& last_step() const { return last_step_; }
  /// Calls outside the profile so far, per syscall or call.
  const std::map<CallKey, std::uint64_t>& totals() const { return totals_; }
  /// The processes (thread group ids) that made them, as of the last record.
  const std::set<int>& pids() const { return pids_; }
  /// Every syscall (or call) outside the profile, in key order.
  std::vector<CheckViolation> violations() const;

 private:
  CheckViolation describe(const CallKey& key) const;

  CheckMode mode_;
  profile::Profile profile_;
  trace::Watch watch_;
  std::map<CallKey, std::uint64_t> totals_;
  std::set<int> pids_;
  std::map<CallKey, std::set<std::string>> processes_;
  std::map<CallKey, std::map<std::string, std::uint64_t>> per_step_;
  std::map<CallKey, std::string> first_step_;
  std::vector<std::pair<std::string, std::uint64_t>> last_step_;
};

}  // namespace sandmine::explore
