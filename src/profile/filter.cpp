#include "profile/filter.h"

#include <seccomp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "sys/files.h"

namespace sandmine::profile {

namespace {

using Context = std::unique_ptr<void, decltype(&seccomp_release)>;

Result<std::uint32_t> action_value(const Action& a, const std::string& source, const std::string& field) {
  if (a.name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (a.name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (a.name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(static_cast<std::uint32_t>(a.errno_ret));
  if (a.name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(static_cast<std::uint32_t>(a.errno_ret));
  if (a.name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (a.name == "SCMP_ACT_KILL_THREAD" || a.name == "SCMP_ACT_KILL") return SCMP_ACT_KILL_THREAD;
  if (a.name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (a.name == "SCMP_ACT_NOTIFY")
    return Error{"profile " + source + ": " + field +
                     ": SCMP_ACT_NOTIFY needs a seccomp agent to answer the calls, which sandmine run does "
                     "not provide (use --mode complain, or another action)",
                 EINVAL};
  return Error{"profile " + source + ": " + field + ": unknown action \"" + a.name + "\"", EINVAL};
}

scmp_compare operator_of(const std::string& op) {
  if (op == "SCMP_CMP_NE") return SCMP_CMP_NE;
  if (op == "SCMP_CMP_LT") return SCMP_CMP_LT;
  if (op == "SCMP_CMP_LE") return SCMP_CMP_LE;
  if (op == "SCMP_CMP_EQ") return SCMP_CMP_EQ;
  if (op == "SCMP_CMP_GE") return SCMP_CMP_GE;
  if (op == "SCMP_CMP_GT") return SCMP_CMP_GT;
  if (op == "SCMP_CMP_MASKED_EQ") return SCMP_CMP_MASKED_EQ;
  return _SCMP_CMP_MIN;  // the reader accepts only the operators above
}

std::vector<scmp_arg_cmp> conditions_of(const std::vector<ArgCondition>& args) {
  std::vector<scmp_arg_cmp> out;
  out.reserve(args.size());
  for (const auto& a : args) out.push_back({a.index, operator_of(a.op), a.value, a.value_two});
  return out;
}

// Adds one rule for a syscall; conditions on the same argument twice become
// one rule per condition, as runc adds them (libseccomp cannot AND them).
Status add_rule(scmp_filter_ctx ctx, const std::vector<ArgCondition>& args, const std::string& name,
                std::uint32_t action, const std::string& source, const std::string& field) {
  int nr = seccomp_syscall_resolve_name(name.c_str());
  auto refused = [&](int rc) {
    return Error{"profile " + source + ": " + field + ": libseccomp refused the rule for " + name + ": " +
                     std::strerror(-rc),
                 -rc};
  };
  auto conditions = conditions_of(args);
  bool repeated = false;
  for (std::size_t i = 0; i < args.size(); ++i)
    for (std::size_t j = i + 1; j < args.size(); ++j)
      if (args[i].index == args[j].index) repeated = true;
  if (!repeated) {
    int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(conditions.size()),
                                    conditions.empty() ? nullptr : conditions.data());
    if (rc != 0) return refused(rc);
    return {};
  }
  for (const auto& c : conditions)
    if (int rc = seccomp_rule_add_array(ctx, action, nr, 1, &c); rc != 0) return refused(rc);
  return {};
}

// The program libseccomp generates.
Result<std::vector<sock_filter>> export_program(scmp_filter_ctx ctx) {
  auto bytes = sys::capture([&](int fd) { return seccomp_export_bpf(ctx, fd); }, "the seccomp filter");
  if (!bytes)
    return Error{"libseccomp cannot generate the filter: " + bytes.error().message, bytes.error().errnum};
  if (bytes->empty() || bytes->size() % sizeof(sock_filter) != 0)
    return Error{"libseccomp exported a seccomp filter of " + std::to_string(bytes->size()) + " bytes",
                 EINVAL};
  std::vector<sock_filter> program(bytes->size() / sizeof(sock_filter));
  std::memcpy(program.data(), bytes->data(), bytes->size());
  if (program.size() > BPF_MAXINSNS)
    return Error{"the profile's seccomp filter has " + std::to_string(program.size()) +
                     " instructions; the kernel takes at most " + std::to_string(BPF_MAXINSNS),
                 E2BIG};
  return program;
}

}  // namespace

std::string_view mode_name(FilterMode mode) { return mode == FilterMode::complain ? "complain" : "enforce"; }

Result<std::vector<sock_filter>> compile_filter(const Profile& written, FilterMode mode,
                                                const FilterOptions& options) {
  const Profile profile = mode == FilterMode::complain ? complain_mode(written) : written;
  auto default_action = action_value(profile.default_action, profile.source, "defaultAction");
  if (!default_action) return default_action.error();

  Context ctx(seccomp_init(*default_action), &seccomp_release);
  if (!ctx) return Error{"libseccomp cannot create a filter", ENOMEM};
  if (int rc =
          seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, static_cast<std::uint32_t>(options.optimize));
      rc != 0)
    return Error{"libseccomp cannot set optimization level " + std::to_string(options.optimize) + ": " +
                     std::strerror(-rc),
                 -rc};
  // A call through an architecture the profile does not list must get what
  // any call outside the profile gets. runc (1.1, libcontainer/seccomp) never
  // sets this attribute, so under runc, Docker and Podman such a call gets
  // libseccomp's default, SCMP_ACT_KILL_THREAD: the thread dies of SIGSYS.
  // sandmine run gives it the default action instead (EPERM for the profiles
  // sandmine writes, a log record in complain mode); libseccomp also sends
  // x32 numbers there when x86_64 is listed without x32.
  if (options.bad_arch_default)
    if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, *default_action); rc != 0)
      return Error{std::string("libseccomp cannot set the bad-architecture action: ") + std::strerror(-rc),
                   -rc};

  // Exactly the profile's architectures: libseccomp starts with the native one.
  bool native_listed = false;
  std::uint32_t native = seccomp_arch_native();
  for (const auto& arch : profile.arches) {
    std::uint32_t token = seccomp_arch_resolve_name(arch.c_str());
    if (token == native) {
      native_listed = true;
      continue;
    }
    if (int rc = seccomp_arch_add(ctx.get(), token); rc != 0 && rc != -EEXIST)
      return Error{"profile " + profile.source + ": architectures: libseccomp cannot filter " + arch +
                       " here: " + std::strerror(-rc),
                   -rc};
  }
  if (!native_listed)
    if (int rc = seccomp_arch_remove(ctx.get(), SCMP_ARCH_NATIVE); rc != 0)
      return Error{std::string("libseccomp cannot drop the native architecture: ") + std::strerror(-rc), -rc};

  // Per name, as the model has it: one unconditional action, or its argument
  // rules. Rules with the default action change nothing and libseccomp
  // refuses them.
  for (const auto& [name, policy] : profile.syscalls) {
    if (policy.action) {
      if (*policy.action == profile.default_action) continue;
      auto action = action_value(*policy.action, profile.source, policy.field + ".action");
      if (!action) return action.error();
      if (auto st = add_rule(ctx.get(), {}, name, *action, profile.source, policy.field); !st)
        return st.error();
      continue;
    }
    for (const auto& rule : policy.rules) {
      if (rule.action == profile.default_action) continue;
      auto action = action_value(rule.action, profile.source, rule.field + ".action");
      if (!action) return action.error();
      if (auto st = add_rule(ctx.get(), rule.args, name, *action, profile.source, rule.field); !st)
        return st.error();
    }
  }
  return export_program(ctx.get());
}

}  // namespace sandmine::profile
