#include "profile/judge.h"

#include <fmt/format.h>

#include <algorithm>

#include "syscalls/argument_names.h"
#include "syscalls/arguments.h"
#include "syscalls/syscalls.h"

namespace sandmine::profile {

namespace {

// How many numbers per architecture to look at (allowed_set() does the same).
constexpr std::int64_t kNumbers = 1024;

bool lists_arch(const Profile& p, const std::string& arch) {
  return std::find(p.arches.begin(), p.arches.end(), arch) != p.arches.end();
}

Verdict of_action(const Action& action, bool from_rule) {
  if (action.allows()) return Verdict::allowed;
  if (from_rule && action.answers_missing()) return Verdict::answered;
  return Verdict::outside;
}

std::string hex(std::uint64_t v) { return fmt::format("{:#x}", v); }

}  // namespace

std::string to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::allowed:
      return "allowed";
    case Verdict::answered:
      return "answered";
    case Verdict::outside:
      break;
  }
  return "outside";
}

std::optional<Verdict> judge_name(const Profile& profile, const trace::SyscallKey& key) {
  if (!lists_arch(profile, key.arch)) return Verdict::outside;
  auto name = syscalls::name_of(key.arch, key.nr);
  if (!name) return of_action(profile.default_action, false);
  auto it = profile.syscalls.find(*name);
  if (it == profile.syscalls.end()) return of_action(profile.default_action, false);
  if (it->second.action) return of_action(*it->second.action, true);
  if (it->second.rules.empty()) return of_action(profile.default_action, false);
  return std::nullopt;
}

bool outside_by_name(const Profile& profile, const trace::SyscallKey& key) {
  auto v = judge_name(profile, key);
  return !v || *v == Verdict::outside;
}

Verdict judge(const Profile& profile, const trace::SyscallKey& key, const trace::CallArgs& args) {
  if (auto v = judge_name(profile, key)) return *v;
  const auto& policy = profile.syscalls.at(*syscalls::name_of(key.arch, key.nr));
  for (const auto& rule : policy.rules)
    if (std::all_of(rule.args.begin(), rule.args.end(), [&](const ArgCondition& c) { return c.holds(args); }))
      return of_action(rule.action, true);
  return of_action(profile.default_action, false);
}

trace::Watch watch_for(const Profile& profile) {
  trace::Watch w;
  std::map<std::string, std::optional<trace::CallArgs>> by_name;  // name -> masks when arguments decide
  for (const auto& arch : profile.arches) {
    std::int64_t base = syscalls::number_bit(arch);
    for (std::int64_t nr = base; nr < base + kNumbers; ++nr) {
      auto name = syscalls::name_of(arch, nr);
      if (!name) continue;
      trace::SyscallKey key{arch, nr};
      auto verdict = judge_name(profile, key);
      if (verdict) {
        if (*verdict != Verdict::outside) w.allowed.insert(key);
        continue;
      }
      auto [it, fresh] = by_name.emplace(*name, std::nullopt);
      if (fresh) {
        trace::CallArgs masks{};
        for (const auto& rule : profile.syscalls.at(*name).rules)
          for (const auto& c : rule.args)
            if (c.index < masks.size()) masks[c.index] |= c.op == "SCMP_CMP_MASKED_EQ" ? c.value : ~0ULL;
        // What the argument table records, so the call reads as `sandmine trace` shows it.
        if (const auto* spec = syscalls::argument_spec(*name))
          for (const auto& r : spec->rules)
            if (r.struct_offset < 0) masks[static_cast<std::size_t>(r.index)] |= r.record_mask();
        it->second = masks;
      }
      w.arguments[key] = *it->second;
    }
  }
  return w;
}

std::vector<CallArgument> call_arguments(const trace::SyscallKey& key, const trace::CallArgs& args,
                                         const trace::CallArgs& masks) {
  std::vector<CallArgument> out;
  auto name = syscalls::name_of(key.arch, key.nr);
  const auto* spec = name ? syscalls::argument_spec(*name) : nullptr;
  // The mined values of the call, for names that depend on another argument (sockopt.{1}).
  std::vector<std::uint64_t> mined;
  if (spec)
    for (const auto& r : spec->rules)
      mined.push_back(r.struct_offset < 0 ? args[static_cast<std::size_t>(r.index)] & r.record_mask() : 0);
  for (unsigned i = 0; i < args.size(); ++i) {
    const syscalls::ArgumentRule* row = nullptr;
    std::size_t position = 0;
    if (spec)
      for (std::size_t p = 0; p < spec->rules.size(); ++p)
        if (spec->rules[p].index == static_cast<int>(i) && spec->rules[p].struct_offset < 0) {
          row = &spec->rules[p];
          position = p;
        }
    if (!row && masks[i] == 0) continue;
    CallArgument a{.index = i, .name = row ? row->argument : "arg" + std::to_string(i), .value = args[i]};
    // A value the profile compares beyond what the table records prints in hex, whole.
    bool only_recorded_bits = row && (args[i] & ~row->record_mask()) == 0;
    a.text = only_recorded_bits ? syscalls::format_value(*spec, position, mined) : hex(args[i]);
    out.push_back(std::move(a));
  }
  return out;
}

std::string describe_call(const trace::SyscallKey& key, const trace::CallArgs& args,
                          const trace::CallArgs& masks) {
  std::string name = syscalls::name_of(key.arch, key.nr).value_or("#" + std::to_string(key.nr));
  const auto* spec = syscalls::argument_spec(name);
  auto list = call_arguments(key, args, masks);
  // Positional when the shown arguments are the first ones and the table names
  // them all ("socket(AF_INET, SOCK_STREAM, 0)"), as format_call() prints them.
  bool positional = spec != nullptr;
  for (std::size_t i = 0; i < list.size(); ++i) {
    bool mined =
        spec && std::any_of(spec->rules.begin(), spec->rules.end(), [&](const syscalls::ArgumentRule& r) {
          return r.index == static_cast<int>(list[i].index) && r.struct_offset < 0;
        });
    positional = positional && mined && list[i].index == i;
  }
  std::string out = name + "(";
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i) out += ", ";
    if (!positional) out += list[i].name + "=";
    out += list[i].text;
  }
  return out + ")";
}

}  // namespace sandmine::profile
