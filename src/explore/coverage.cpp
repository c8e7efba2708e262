#include "explore/coverage.h"

#include <map>
#include <set>

namespace sandmine::explore {

namespace {

constexpr const char* kMethod =
    "sampling units: the explore steps (start and stop count as observed, not as units); "
    "sample coverage: Chao & Jost 2012 for incidence data, 1 - (Q1/U)*(T-1)Q1/((T-1)Q1+2Q2); "
    "richness: Chao2 (Chao 1987), observed + (T-1)/T*Q1^2/(2Q2), or (T-1)/T*Q1(Q1-1)/2 when Q2 = 0";

constexpr const char* kFamilyMethod =
    "sampling units: step families (a hand-written explore step alone; generated steps by family, "
    "their name up to the first space)";

}  // namespace

std::vector<DiscoveryPoint> discovery_curve(const std::vector<trace::StepRecord>& steps) {
  std::vector<DiscoveryPoint> out;
  std::size_t cumulative = 0;
  for (const auto& s : steps) {
    cumulative += s.new_syscalls.size();
    out.push_back({.step = s.name,
                   .phase = s.phase,
                   .end_ms = s.started_ms + s.duration_ms,
                   .added = s.new_syscalls.size(),
                   .cumulative = cumulative});
  }
  return out;
}

trace::CoverageEstimate estimate_coverage(const std::vector<std::vector<std::string>>& explore_incidence,
                                          std::size_t observed) {
  trace::CoverageEstimate c;
  c.method = kMethod;
  c.steps = explore_incidence.size();
  std::map<std::string, std::size_t> units_using;  // syscall -> explore steps that used it
  for (const auto& used : explore_incidence) {
    // A step lists a syscall once; a repeated name must not count twice.
    std::set<std::string> distinct(used.begin(), used.end());
    c.incidences += distinct.size();
    for (const auto& name : distinct) ++units_using[name];
  }
  c.observed_in_steps = units_using.size();
  c.observed = std::max(observed, c.observed_in_steps);
  for (const auto& [name, k] : units_using) {
    if (k == 1) ++c.q1;
    if (k == 2) ++c.q2;
  }
  if (c.steps < 2) {
    c.note = "not estimable: needs at least 2 explore steps (sampling units), the run had " +
             std::to_string(c.steps);
    return c;
  }
  if (c.incidences == 0) {
    c.note = "not estimable: the explore steps used no syscall";
    return c;
  }
  const double t = static_cast<double>(c.steps), u = static_cast<double>(c.incidences);
  const double q1 = static_cast<double>(c.q1), q2 = static_cast<double>(c.q2);
  const double f0 = c.q2 > 0 ? (t - 1) / t * q1 * q1 / (2 * q2) : (t - 1) / t * q1 * (q1 - 1) / 2;
  // t*f0/(t*f0 + q1) is (T-1)Q1/((T-1)Q1 + 2Q2) when Q2 > 0, and its
  // bias-corrected counterpart (T-1)(Q1-1)/((T-1)(Q1-1) + 2) when Q2 = 0.
  const double weight = c.q1 > 0 ? t * f0 / (t * f0 + q1) : 1.0;
  c.sample_coverage = 1 - q1 / u * weight;
  c.unseen_estimate = f0;
  c.chao2 = static_cast<double>(c.observed) + f0;
  return c;
}

std::string step_family(const std::string& step_name) {
  if (!step_name.starts_with("auto/")) return step_name;
  std::string name = step_name;
  if (auto hash = name.rfind(" #"); hash != std::string::npos &&
                                    name.find_first_not_of("0123456789", hash + 2) == std::string::npos &&
                                    hash + 2 < name.size())
    name.erase(hash);
  return name.substr(0, name.find(' '));
}

trace::CoverageEstimate estimate_coverage_by_family(const std::vector<trace::StepRecord>& steps) {
  std::vector<std::string> order;
  std::map<std::string, std::set<std::string>> units;
  std::set<std::string> all;
  for (const auto& s : steps) {
    all.insert(s.used.begin(), s.used.end());
    all.insert(s.new_syscalls.begin(), s.new_syscalls.end());
    if (s.phase != "explore") continue;
    auto family = step_family(s.name);
    auto [it, fresh] = units.try_emplace(family);
    if (fresh) order.push_back(family);
    it->second.insert(s.used.begin(), s.used.end());
  }
  std::vector<std::vector<std::string>> incidence;
  for (const auto& f : order) incidence.emplace_back(units[f].begin(), units[f].end());
  auto c = estimate_coverage(incidence, all.size());
  c.method = std::string(kFamilyMethod) + "; " + c.method.substr(c.method.find("sample coverage"));
  if (auto at = c.note.find("explore steps"); at != std::string::npos)
    c.note.replace(at, 13, "step families");
  return c;
}

trace::CoverageEstimate estimate_coverage(const std::vector<trace::StepRecord>& steps) {
  std::vector<std::vector<std::string>> incidence;
  std::set<std::string> all;
  for (const auto& s : steps) {
    all.insert(s.used.begin(), s.used.end());
    // new_syscalls is a subset of used; older traces without used still count what they added.
    all.insert(s.new_syscalls.begin(), s.new_syscalls.end());
    if (s.phase == "explore") incidence.push_back(s.used);
  }
  return estimate_coverage(incidence, all.size());
}

}  // namespace sandmine::explore
