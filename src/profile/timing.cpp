#include "profile/timing.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "syscalls/syscalls.h"
#include "util/csv.h"

extern const char kTimingDependentCsv[];

namespace sandmine::profile {

const std::vector<TimingDependent>& timing_dependent() {
  static const std::vector<TimingDependent> table = [] {
    auto rows = parse_csv(kTimingDependentCsv, "data/timing_dependent.csv");
    if (!rows) {  // a build-time file: a broken one is a bug in this build, not user input
      std::cerr << "sandmine: built with a broken table: " << rows.error().message << "\n";
      std::abort();
    }
    std::vector<TimingDependent> out;
    for (auto& r : *rows) out.push_back({r["arch"], r["name"], r["applies"], r["reason"], r["source"]});
    return out;
  }();
  return table;
}

std::set<std::string> add_timing_dependent(Profile& profile, bool container, ArgsMode args) {
  std::set<std::string> names;
  for (const auto& arch : profile.arches)
    for (const auto& t : timing_dependent()) {
      if (t.arch != "*" && t.arch != arch) continue;
      if (t.applies != "always" && !(container && t.applies == "runc")) continue;
      if (syscalls::number_of(arch, t.name)) names.insert(t.name);
    }
  std::set<std::string> added;
  for (const auto& name : names) {
    auto it = profile.syscalls.find(name);
    if (it == profile.syscalls.end()) {
      added.insert(name);
      auto& policy = profile.syscalls[name];
      policy.rules = baseline_rules(name, args);
      if (policy.rules.empty()) policy.action = Action::allow();
    }
    auto& policy = profile.syscalls[name];
    if (policy.action && !policy.action->allows()) continue;  // the profile denies it on purpose
    if (!policy.action)
      for (auto& rule : baseline_rules(name, args))
        if (std::find(policy.rules.begin(), policy.rules.end(), rule) == policy.rules.end())
          policy.rules.push_back(rule);
    policy.comment = kTimingDependentComment;
    for (auto& rule : policy.rules) rule.comment = kTimingDependentComment;
  }
  return added;
}

}  // namespace sandmine::profile
