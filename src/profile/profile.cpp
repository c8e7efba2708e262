#include "profile/profile.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>

#include "syscalls/arch.h"
#include "syscalls/syscalls.h"

namespace sandmine::profile {

namespace {

// "a, b, c" or "a, b, c and 7 more".
std::string some_names(const std::vector<std::string>& names) {
  constexpr std::size_t kShown = 3;
  if (names.size() <= kShown + 1) return fmt::format("{}", fmt::join(names, ", "));
  return fmt::format("{} and {} more", fmt::join(names.begin(), names.begin() + kShown, ", "),
                     names.size() - kShown);
}

bool filterable_on_any(const Profile& p, const std::string& name) {
  return std::any_of(p.arches.begin(), p.arches.end(),
                     [&](const std::string& arch) { return syscalls::filterable_on(arch, name); });
}

}  // namespace

std::string describe(const Action& action) {
  if (!action.takes_errno()) return action.name;
  const char* name = strerrorname_np(action.errno_ret);
  return fmt::format("{} ({})", action.name, name ? name : std::to_string(action.errno_ret));
}

bool ArgCondition::holds(const std::array<std::uint64_t, 6>& args) const {
  if (index >= args.size()) return false;
  std::uint64_t arg = args[index];
  if (op == "SCMP_CMP_EQ") return arg == value;
  if (op == "SCMP_CMP_NE") return arg != value;
  if (op == "SCMP_CMP_LT") return arg < value;
  if (op == "SCMP_CMP_LE") return arg <= value;
  if (op == "SCMP_CMP_GT") return arg > value;
  if (op == "SCMP_CMP_GE") return arg >= value;
  if (op == "SCMP_CMP_MASKED_EQ") return (arg & value) == value_two;
  return false;
}

Profile Profile::allow_all() {
  Profile p;
  p.source = "the recording profile";
  p.default_action = Action::allow();
  // Every ABI of this host: a call through any of them is let through (and
  // recorded), none is killed as a foreign architecture.
  const std::string native = syscalls::native_arch();
  p.arches.push_back(native);
  for (const auto& a : syscalls::architectures())
    if (a.host == native && a.name != native && syscalls::is_known_arch(a.name)) p.arches.push_back(a.name);
  return p;
}

Action decide(const Profile& profile, const std::string& name, const std::array<std::uint64_t, 6>& args) {
  auto it = profile.syscalls.find(name);
  if (it == profile.syscalls.end()) return profile.default_action;
  if (it->second.action) return *it->second.action;
  for (const auto& rule : it->second.rules)
    if (std::all_of(rule.args.begin(), rule.args.end(), [&](const ArgCondition& c) { return c.holds(args); }))
      return rule.action;
  return profile.default_action;
}

std::optional<Action> unconditional_action(const Profile& profile, const std::string& name) {
  auto it = profile.syscalls.find(name);
  if (it == profile.syscalls.end()) return profile.default_action;
  if (it->second.action) return it->second.action;
  if (it->second.rules.empty()) return profile.default_action;
  return std::nullopt;
}

std::set<trace::SyscallKey> allowed_set(const Profile& profile) {
  // Number by number rather than name by name: libseccomp names some calls
  // on x86 by a pseudo number (socket calls also reached through
  // socketcall), but names every real number.
  constexpr std::int64_t kNumbers = 1024;
  std::map<std::string, bool> allows;
  std::set<trace::SyscallKey> out;
  for (const auto& arch : profile.arches) {
    std::int64_t base = syscalls::number_bit(arch);
    for (std::int64_t nr = base; nr < base + kNumbers; ++nr) {
      auto name = syscalls::name_of(arch, nr);
      if (!name) continue;
      auto it = allows.find(*name);
      if (it == allows.end()) {
        auto action = unconditional_action(profile, *name);
        it = allows.emplace(*name, action && action->allows()).first;
      }
      if (it->second) out.insert({arch, nr});
    }
  }
  return out;
}

std::set<std::string> allowed_names(const Profile& profile) {
  std::set<std::string> out;
  if (profile.default_action.allows()) {
    for (const auto& key : allowed_set(profile))
      if (auto name = syscalls::name_of(key.arch, key.nr)) out.insert(*name);
    return out;
  }
  for (const auto& [name, policy] : profile.syscalls)
    if (policy.action && policy.action->allows()) out.insert(name);
  return out;
}

bool conditionally_allowed(const Profile& profile, const SyscallPolicy& policy) {
  return !policy.action && std::any_of(policy.rules.begin(), policy.rules.end(), [&](const ArgRule& r) {
    return r.action.allows() || profile.default_action.allows();
  });
}

std::set<std::string> permitted_names(const Profile& profile) {
  auto out = allowed_names(profile);
  for (const auto& [name, policy] : profile.syscalls)
    if (conditionally_allowed(profile, policy)) out.insert(name);
  return out;
}

Status plain_allow_list(const Profile& p) {
  auto not_plain = [&](const std::string& what) {
    return Error{fmt::format("profile {} is not a plain allow-list (defaultAction SCMP_ACT_ERRNO, rules that "
                             "allow without argument conditions): {}",
                             p.source, what),
                 EINVAL};
  };
  if (p.default_action.name != "SCMP_ACT_ERRNO")
    return not_plain("its defaultAction is " + p.default_action.name);
  if (!p.flags.empty()) return not_plain(fmt::format("it sets flags ({})", fmt::join(p.flags, ", ")));
  std::vector<std::string> conditional;
  std::map<std::string, std::vector<std::string>> other_actions;
  for (const auto& [name, policy] : p.syscalls) {
    if (!policy.action)
      conditional.push_back(name);
    else if (!policy.action->allows())
      other_actions[describe(*policy.action)].push_back(name);
  }
  if (!other_actions.empty()) {
    const auto& [action, names] = *other_actions.begin();
    return not_plain(fmt::format("it gives {} action {}", some_names(names), action));
  }
  if (!conditional.empty())
    return not_plain(fmt::format("it allows {} only for some argument values", some_names(conditional)));
  return {};
}

Profile complain_mode(Profile profile) {
  if (!profile.default_action.allows()) profile.default_action = Action::log();
  auto logged = [](const Action& a) { return a.allows() || a.answers_missing() ? a : Action::log(); };
  for (auto& [name, policy] : profile.syscalls) {
    if (policy.action) policy.action = logged(*policy.action);
    for (auto& rule : policy.rules) rule.action = logged(rule.action);
  }
  return profile;
}

std::set<std::string> allow(Profile& profile, const std::set<std::string>& names,
                            const std::string& comment) {
  std::set<std::string> added;
  for (const auto& name : names) {
    if (!filterable_on_any(profile, name)) continue;
    auto& policy = profile.syscalls[name];
    if (policy.action && policy.action->allows()) continue;
    policy.action = Action::allow();
    policy.rules.clear();
    policy.comment = comment;
    policy.field.clear();
    added.insert(name);
  }
  return added;
}

Result<Profile> union_of(const std::vector<Profile>& profiles) {
  if (profiles.empty()) return Error{"no profiles to unite", EINVAL};
  Profile out;
  out.source = profiles[0].source;
  out.default_action = profiles[0].default_action;
  out.flags = profiles[0].flags;
  for (const auto& p : profiles) {
    if (p.default_action.allows() || p.default_action.name == "SCMP_ACT_LOG")
      return Error{
          fmt::format("profile {} lets every call through by default ({}): only profiles that deny by "
                      "default can be merged",
                      p.source, describe(p.default_action)),
          EINVAL};
    if (p.default_action != out.default_action)
      return Error{
          fmt::format("profile {} denies with {}, profile {} with {}: merged, one of them would "
                      "change; make them agree (defaultAction, defaultErrnoRet)",
                      profiles[0].source, describe(out.default_action), p.source, describe(p.default_action)),
          EINVAL};
    if (p.flags != out.flags)
      return Error{fmt::format("profiles {} and {} set different flags ({} and {})", profiles[0].source,
                               p.source, fmt::join(out.flags, ", "), fmt::join(p.flags, ", ")),
                   EINVAL};
    for (const auto& arch : p.arches)
      if (std::find(out.arches.begin(), out.arches.end(), arch) == out.arches.end())
        out.arches.push_back(arch);
    for (const auto& [syscall, policy] : p.syscalls) {
      const std::string& name = syscall;  // lambdas capture variables, not structured bindings (clang 14)
      auto refuse = [&](const Action& a) {
        return Error{fmt::format("profile {} gives {} action {}: only rules that allow can be merged",
                                 p.source, name, describe(a)),
                     EINVAL};
      };
      if (policy.action && !policy.action->allows()) return refuse(*policy.action);
      for (const auto& rule : policy.rules)
        if (!rule.action.allows()) return refuse(rule.action);
      auto [it, fresh] = out.syscalls.emplace(name, policy);
      if (fresh) continue;
      SyscallPolicy& mine = it->second;
      if (mine.action) continue;  // already allowed whatever the arguments
      if (policy.action) {
        mine = policy;
        continue;
      }
      for (const auto& rule : policy.rules)
        if (std::find(mine.rules.begin(), mine.rules.end(), rule) == mine.rules.end())
          mine.rules.push_back(rule);
    }
  }
  return out;
}

}  // namespace sandmine::profile
