#include "trace/snapshot_diff.h"

namespace sandmine::trace {

SnapshotDiff diff_snapshots(const Tallies& before, const Tallies& after) {
  SnapshotDiff diff;
  for (const auto& [key, tally] : after) {
    auto prev = before.find(key);
    const Tally* old = prev == before.end() ? nullptr : &prev->second;
    if (!old) diff.new_syscalls.push_back(key);
    if (!old || tally.count > old->count) diff.used.push_back(key);
    if ((tally.values_lost & ~(old ? old->values_lost : 0)) != 0) diff.newly_lost.push_back(key);
    for (const auto& [values, n] : tally.values) {
      const std::uint64_t* old_n = nullptr;
      if (old)
        if (auto v = old->values.find(values); v != old->values.end()) old_n = &v->second;
      if (!old_n) diff.new_values[key].push_back(values);
      if (!old_n || n > *old_n) diff.used_values[key].push_back(values);
    }
  }
  return diff;  // std::map iteration order: every list is already sorted
}

void note_first_steps(FirstSteps& firsts, const SnapshotDiff& diff, const std::string& step) {
  for (const auto& [key, values] : diff.new_values) {
    auto& steps = firsts[key];
    for (const auto& v : values) steps.emplace(v, step);
  }
}

}  // namespace sandmine::trace
