#include "profile/from_trace.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <bit>
#include <map>
#include <set>

#include "profile/filter.h"
#include "syscalls/syscalls.h"

namespace sandmine::profile {

namespace {

using syscalls::ArgumentSpec;
using syscalls::Compare;
using Tuple = std::vector<std::uint64_t>;

constexpr std::uint64_t kIntMask = 0xffffffffu;

// What the traces say of one syscall name.
struct Seen {
  bool native = false;          // made through the native architecture (whose arguments are mined)
  std::set<std::string> other;  // architectures it was also made through
  std::uint8_t lost = 0;        // ValuesLost bits of any trace
  bool fields_differ = false;   // recorded under another version of the argument table
  std::set<Tuple> values;       // the native calls' value combinations
};

// Whether a trace's fields are the table's rows (same arguments, read and
// compared the same way): values recorded otherwise cannot be compared.
bool same_fields(const std::vector<trace::ArgumentField>& fields, const ArgumentSpec& spec) {
  if (fields.size() != spec.rules.size()) return false;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const auto& f = fields[i];
    const auto& r = spec.rules[i];
    if (f.index != r.index || f.struct_offset != r.struct_offset || f.compare != r.compare ||
        f.mask != r.record_mask())
      return false;
  }
  return true;
}

// The value a rule compares, from a recorded one: flags rows compare only
// their bits; the others were recorded as they are compared.
std::uint64_t compared(const syscalls::ArgumentRule& rule, std::uint64_t recorded) {
  return rule.compare == Compare::flags ? recorded & rule.mask : recorded;
}

// The combinations a rule set must allow: the values seen at positions, as
// compared, plus each always-allowed value in place of what was seen.
std::set<Tuple> allowed_tuples(const ArgumentSpec& spec, const std::vector<std::size_t>& positions,
                               const std::set<Tuple>& recorded) {
  std::set<Tuple> out;
  for (const auto& tuple : syscalls::project(recorded, positions)) {
    Tuple t(tuple.size());
    for (std::size_t i = 0; i < positions.size(); ++i) t[i] = compared(spec.rules[positions[i]], tuple[i]);
    out.insert(t);
  }
  std::set<Tuple> with_always = out;
  for (std::size_t i = 0; i < positions.size(); ++i)
    for (std::uint64_t v : spec.rules[positions[i]].always)
      for (Tuple t : out) {
        t[i] = v;
        with_always.insert(t);
      }
  return with_always;
}

// Whether the tuples allow every value anyway: one flags argument with every
// combination of its bits seen.
bool covers_everything(const ArgumentSpec& spec, const std::vector<std::size_t>& positions,
                       const std::set<Tuple>& tuples) {
  if (positions.size() != 1) return false;
  const auto& rule = spec.rules[positions[0]];
  if (rule.compare != Compare::flags) return false;
  int bits = std::popcount(rule.mask);
  return bits < 16 && tuples.size() == (std::size_t{1} << bits);
}

std::vector<ArgRule> rules_of(const ArgumentSpec& spec, const std::vector<std::size_t>& positions,
                              const std::set<Tuple>& tuples) {
  std::vector<ArgRule> rules;
  for (const auto& t : tuples) rules.push_back({Action::allow(), conditions_for(spec, positions, t), "", ""});
  return rules;
}

std::string arches_text(const std::set<std::string>& arches) {
  return fmt::format("{}", fmt::join(arches, ", "));
}

// clone3 cannot be filtered by its flags: it gets ENOSYS, and clone (which
// the C library falls back to) is allowed with the namespace flags seen in
// either; clone's rule compares the namespace bits clone can carry.
void clone3_falls_back_to_clone(Profile& p, const std::set<Tuple>& clone3_values,
                                std::vector<std::string>& warnings) {
  const ArgumentSpec* clone = syscalls::argument_spec("clone");
  if (!clone || clone->rules.size() != 1 || clone->rules[0].compare != Compare::flags) {
    warnings.push_back("clone3 is allowed by name only: the argument table has no flags rule for clone");
    return;
  }
  const std::uint64_t bits = clone->rules[0].mask;
  auto it = p.syscalls.find("clone");
  bool clone_by_name = it != p.syscalls.end() && it->second.action && it->second.action->allows();
  if (!clone_by_name) {  // else clone is allowed whatever its flags: nothing to add
    std::set<Tuple> flags;
    if (it != p.syscalls.end())
      for (const auto& rule : it->second.rules)
        for (const auto& c : rule.args)
          if (c.index == 0 && c.op == "SCMP_CMP_MASKED_EQ" && c.value == bits) flags.insert({c.value_two});
    for (const auto& t : clone3_values) flags.insert({t.at(0) & bits});
    auto& policy = p.syscalls["clone"];  // allowed now even when only clone3 was seen
    policy.action.reset();
    policy.rules = rules_of(*clone, {0}, flags);
  }
  p.syscalls["clone3"] = SyscallPolicy{.action = Action::error(ENOSYS), .comment = kClone3Comment};
}

}  // namespace

std::string to_string(ArgsMode mode) {
  switch (mode) {
    case ArgsMode::off:
      return "off";
    case ArgsMode::safe:
      return "safe";
    case ArgsMode::strict:
      return "strict";
  }
  return "?";
}

std::optional<ArgsMode> args_mode_from_string(std::string_view text) {
  if (text == "off") return ArgsMode::off;
  if (text == "safe") return ArgsMode::safe;
  if (text == "strict") return ArgsMode::strict;
  return std::nullopt;
}

std::vector<ArgCondition> conditions_for(const ArgumentSpec& spec, const std::vector<std::size_t>& positions,
                                         const std::vector<std::uint64_t>& values) {
  std::vector<ArgCondition> out;
  for (std::size_t i = 0; i < positions.size(); ++i) {
    const auto& rule = spec.rules[positions[i]];
    const unsigned index = static_cast<unsigned>(rule.index);
    const std::uint64_t v = values[i];
    switch (rule.compare) {
      case Compare::flags:
        out.push_back({index, rule.mask, v & rule.mask, "SCMP_CMP_MASKED_EQ"});
        break;
      case Compare::masked:
        out.push_back({index, rule.record_mask(), v, "SCMP_CMP_MASKED_EQ"});
        break;
      case Compare::exact:
        // The kernel reads an int's low 32 bits: whatever the upper half holds,
        // the call is the same one.
        if (rule.is_int)
          out.push_back({index, kIntMask, v & kIntMask, "SCMP_CMP_MASKED_EQ"});
        else
          out.push_back({index, v, 0, "SCMP_CMP_EQ"});
        break;
    }
  }
  return out;
}

std::vector<ArgRule> baseline_rules(const std::string& name, ArgsMode args) {
  if (args == ArgsMode::off) return {};
  const ArgumentSpec* spec = syscalls::argument_spec(name);
  if (!spec) return {};
  auto positions = syscalls::positions_in_tier(
      *spec, args == ArgsMode::safe ? syscalls::Tier::safe : syscalls::Tier::strict);
  if (positions.size() != 1) return {};
  const auto& rule = spec->rules[positions[0]];
  std::set<Tuple> tuples;
  for (std::uint64_t v : rule.always) tuples.insert({v});
  if (rule.compare == Compare::flags) tuples.insert({0});
  return rules_of(*spec, positions, tuples);
}

Profile from_traces(const std::vector<trace::Trace>& traces, std::vector<std::string>& warnings,
                    const FromTraceOptions& options) {
  Profile p;
  p.source = traces.size() == 1 ? "the trace" : "the traces";
  p.default_action = Action::error(EPERM);
  const std::string native = syscalls::native_arch();
  std::set<std::string> arches;
  std::map<std::string, Seen> seen;
  for (const auto& t : traces)
    for (const auto& e : t.syscalls) {
      if (e.name.empty()) {
        warnings.push_back(e.arch + " syscall number " + std::to_string(e.nr) +
                           " has no name in libseccomp and cannot be allowed in the profile "
                           "(the kernel has no such call: it fails with ENOSYS unconfined, EPERM "
                           "under the profile)");
        continue;
      }
      arches.insert(e.arch);
      auto& s = seen[e.name];
      if (e.arch != native) {
        s.other.insert(e.arch);
        continue;
      }
      s.native = true;
      s.lost |= e.values_lost;
      const ArgumentSpec* spec = syscalls::argument_spec(e.name);
      if (spec && !e.arguments.empty() && !same_fields(e.arguments, *spec)) s.fields_differ = true;
      if (spec && e.arguments.empty() && e.count > 0) s.fields_differ = true;  // recorded without values
      for (const auto& v : e.values) s.values.insert(v.args);
    }
  if (arches.count(native)) p.arches.push_back(native);
  for (const auto& arch : arches)
    if (arch != native) p.arches.push_back(arch);
  for (const auto& [name, s] : seen) p.syscalls[name].action = Action::allow();
  if (options.args == ArgsMode::off) return p;

  const auto tier = options.args == ArgsMode::safe ? syscalls::Tier::safe : syscalls::Tier::strict;
  std::optional<std::set<Tuple>> clone3_values;
  for (const auto& [syscall, s] : seen) {
    const std::string& name = syscall;  // lambdas capture variables, not structured bindings (clang 14)
    const ArgumentSpec* spec = syscalls::argument_spec(name);
    if (!spec || !s.native) continue;
    auto positions = syscalls::positions_in_tier(*spec, tier);
    if (positions.empty()) continue;
    auto by_name = [&](const std::string& why) {
      warnings.push_back(name + " is allowed by name only: " + why);
    };
    if (s.lost) {
      by_name("its argument values are incomplete (" + trace::describe_values_lost(s.lost) + ")");
      continue;
    }
    if (!s.other.empty()) {
      by_name("it was also called through " + arches_text(s.other) + ", whose arguments are not mined");
      continue;
    }
    if (s.fields_differ) {
      by_name("its values were recorded under another version of the argument table (record again)");
      continue;
    }
    if (name == "clone3") {
      clone3_values = syscalls::project(s.values, positions);
      continue;
    }
    auto tuples = allowed_tuples(*spec, positions, s.values);
    if (tuples.empty() || covers_everything(*spec, positions, tuples)) continue;
    if (tuples.size() > options.max_rules) {
      by_name(fmt::format("{} combinations of argument values were seen, more than {} rules", tuples.size(),
                          options.max_rules));
      continue;
    }
    auto& policy = p.syscalls[name];
    policy.action.reset();
    policy.rules = rules_of(*spec, positions, tuples);
  }
  if (clone3_values) clone3_falls_back_to_clone(p, *clone3_values, warnings);

  // The kernel takes filters of up to 4096 instructions: the syscalls with
  // the most rules go back to their names until the filter fits.
  for (;;) {
    auto program = compile_filter(p, FilterMode::enforce);
    if (program || program.error().errnum != E2BIG) break;
    auto most = std::max_element(p.syscalls.begin(), p.syscalls.end(), [](const auto& a, const auto& b) {
      return a.second.rules.size() < b.second.rules.size();
    });
    if (most == p.syscalls.end() || most->second.rules.empty()) break;
    warnings.push_back(
        fmt::format("{} is allowed by name only: with its {} argument rules the filter would "
                    "exceed the kernel's 4096 instructions",
                    most->first, most->second.rules.size()));
    most->second.rules.clear();
    most->second.action = Action::allow();
  }
  return p;
}

}  // namespace sandmine::profile
