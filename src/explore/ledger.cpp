#include "explore/ledger.h"

#include <algorithm>

#include "syscalls/syscalls.h"

namespace sandmine::explore {

std::string key_name(const trace::SyscallKey& key) {
  return key.arch + ":" + syscalls::name_of(key.arch, key.nr).value_or("#" + std::to_string(key.nr));
}

const trace::StepRecord& StepLedger::record(const std::string& name, const std::string& phase,
                                            double started_ms, double duration_ms,
                                            const trace::Tallies& armed) {
  trace::StepRecord rec{.name = name, .phase = phase, .started_ms = started_ms, .duration_ms = duration_ms};
  auto diff = trace::diff_snapshots(last_, armed);
  trace::note_first_steps(first_values_, diff, name);
  last_new_values_.clear();
  for (const auto& [key, values] : diff.new_values)
    for (const auto& v : values) {
      std::string text = key_name(key) + " ";
      for (std::size_t i = 0; i < v.size(); ++i) text += (i ? "," : "") + std::to_string(v[i]);
      last_new_values_.push_back(std::move(text));
    }
  for (const auto& key : diff.used) rec.used.push_back(key_name(key));
  for (const auto& key : diff.new_syscalls)
    if (seen_.insert(key).second) {
      first_step_[key] = name;
      rec.new_syscalls.push_back(key_name(key));
    }
  std::sort(rec.used.begin(), rec.used.end());
  std::sort(rec.new_syscalls.begin(), rec.new_syscalls.end());
  rec.total = seen_.size();
  last_ = armed;
  if (phase == "explore") {
    quiet_ = rec.new_syscalls.empty() ? quiet_ + 1 : 0;
    if (!rec.new_syscalls.empty()) last_new_ = name;
  }
  steps_.push_back(std::move(rec));
  return steps_.back();
}

void StepLedger::fold_tail(const trace::Tallies& armed) {
  if (steps_.empty()) return;
  auto& last = steps_.back();
  auto diff = trace::diff_snapshots(last_, armed);
  trace::note_first_steps(first_values_, diff, last.name);
  for (const auto& key : diff.used) {
    std::string name = key_name(key);
    if (std::find(last.used.begin(), last.used.end(), name) == last.used.end()) last.used.push_back(name);
    if (seen_.insert(key).second) {
      first_step_[key] = last.name;
      last.new_syscalls.push_back(name);
    }
  }
  std::sort(last.used.begin(), last.used.end());
  std::sort(last.new_syscalls.begin(), last.new_syscalls.end());
  last.total = seen_.size();
  last_ = armed;
}

std::optional<std::string> StepLedger::first_step(const trace::SyscallKey& key) const {
  auto it = first_step_.find(key);
  if (it == first_step_.end()) return std::nullopt;
  return it->second;
}

std::string to_string(CheckMode mode) { return mode == CheckMode::Complain ? "complain" : "enforce"; }

ViolationLedger::ViolationLedger(CheckMode mode, profile::Profile profile)
    : mode_(mode), profile_(std::move(profile)), watch_(profile::watch_for(profile_)) {}

std::uint64_t ViolationLedger::record(const std::string& step, const trace::Counts& counts,
                                      const trace::Violations& seen) {
  std::map<CallKey, std::uint64_t> totals;
  for (const auto& row : seen.rows) {
    bool outside = row.args ? profile::judge(profile_, row.key, *row.args) == profile::Verdict::outside
                            : profile::outside_by_name(profile_, row.key);
    if (!outside) continue;
    CallKey key{row.key, row.args};
    if (mode_ == CheckMode::Complain) {
      // Calls decided by their arguments ran and returned: sys_exit counted
      // each; the others are counted at sys_enter, below.
      if (row.args) totals[key] += row.count;
      processes_[key].insert(row.comm);
    } else if (row.denied) {
      totals[key] += row.denied;
      processes_[key].insert(row.comm);
    }
  }
  if (mode_ == CheckMode::Complain)
    for (const auto& [key, tally] : counts.armed)
      if (!watch_.arguments.contains(key) && profile::outside_by_name(profile_, key))
        totals[{key, std::nullopt}] = tally.count;
  pids_ = seen.pids;
  std::uint64_t during = 0;
  last_step_.clear();
  for (const auto& [key, n] : totals) {
    auto before = totals_.find(key);
    std::uint64_t was = before == totals_.end() ? 0 : before->second;
    if (n <= was) continue;
    per_step_[key][step] += n - was;
    first_step_.emplace(key, step);
    during += n - was;
    last_step_.emplace_back(describe(key).label(), n - was);
  }
  totals_ = std::move(totals);
  return during;
}

CheckViolation ViolationLedger::describe(const CallKey& key) const {
  CheckViolation v{
      .key = key.key,
      .name = syscalls::name_of(key.key.arch, key.key.nr).value_or("#" + std::to_string(key.key.nr))};
  if (key.args) {
    auto masks = watch_.arguments.find(key.key);
    trace::CallArgs m = masks == watch_.arguments.end() ? trace::CallArgs{} : masks->second;
    v.call = profile::describe_call(key.key, *key.args, m);
    v.args = profile::call_arguments(key.key, *key.args, m);
  }
  return v;
}

std::vector<CheckViolation> ViolationLedger::violations() const {
  std::vector<CheckViolation> out;
  for (const auto& [key, n] : totals_) {
    CheckViolation v = describe(key);
    v.count = n;
    if (auto it = processes_.find(key); it != processes_.end()) v.processes = it->second;
    if (v.processes.empty()) v.processes.insert("?");
    if (auto it = per_step_.find(key); it != per_step_.end()) v.per_step = it->second;
    if (auto it = first_step_.find(key); it != first_step_.end()) v.first_step = it->second;
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace sandmine::explore
