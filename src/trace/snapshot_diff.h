#pragma once
// What changed between two snapshots of one target: which syscalls and which
// argument values a step used, and which it used first. Pure functions over
// Tallies, so any loop that snapshots a recorder (mining, checking) can
// attribute calls and values to steps the same way.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "trace/counts.h"

namespace sandmine::trace {

/// The change from one snapshot to a later one of the same target (both
/// cumulative: counts only grow).
struct SnapshotDiff {
  std::vector<SyscallKey> used;          ///< count grew, or absent before; sorted
  std::vector<SyscallKey> new_syscalls;  ///< absent before (a subset of used); sorted
  /// Per syscall, the values whose count grew or that were absent before; sorted.
  std::map<SyscallKey, std::vector<ArgValues>> used_values;
  /// Per syscall, the values absent before (a subset of used_values); sorted.
  std::map<SyscallKey, std::vector<ArgValues>> new_values;
  /// Syscalls whose values_lost gained a reason between the snapshots.
  std::vector<SyscallKey> newly_lost;
};

/// Compares before with after. A key or value in before but not in after (a
/// snapshot of another target, or counts that went back) is ignored: the
/// diff says only what after added.
SnapshotDiff diff_snapshots(const Tallies& before, const Tallies& after);

/// For each (syscall, value), the step that first used it.
using FirstSteps = std::map<SyscallKey, std::map<ArgValues, std::string>>;

/// Notes step as the first user of every value in diff.new_values that firsts
/// does not have yet (a value keeps the first step that used it).
void note_first_steps(FirstSteps& firsts, const SnapshotDiff& diff, const std::string& step);

}  // namespace sandmine::trace
