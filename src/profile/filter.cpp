#include "profile/filter.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "sys/fd.h"

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
Status add_rule(scmp_filter_ctx ctx, const SyscallRule& rule, const std::string& name, std::uint32_t action,
                const std::string& source) {
  int nr = seccomp_syscall_resolve_name(name.c_str());
  auto refused = [&](int rc) {
    return Error{"profile " + source + ": " + rule.field + ": libseccomp refused the rule for " + name +
                     ": " + std::strerror(-rc),
                 -rc};
  };
  auto conditions = conditions_of(rule.args);
  bool repeated = false;
  for (std::size_t i = 0; i < rule.args.size(); ++i)
    for (std::size_t j = i + 1; j < rule.args.size(); ++j)
      if (rule.args[i].index == rule.args[j].index) repeated = true;
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

// The program libseccomp generates, through a memory file.
Result<std::vector<sock_filter>> export_program(scmp_filter_ctx ctx) {
  sys::UniqueFd fd(::memfd_create("sandmine-seccomp", MFD_CLOEXEC));
  if (!fd.valid()) return errno_error("cannot create a memory file for the seccomp filter");
  if (int rc = seccomp_export_bpf(ctx, fd.get()); rc != 0)
    return Error{std::string("libseccomp cannot generate the filter: ") + std::strerror(-rc), -rc};
  off_t size = ::lseek(fd.get(), 0, SEEK_END);
  if (size < 0) return errno_error("cannot size the exported seccomp filter");
  if (size == 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0)
    return Error{"libseccomp exported a seccomp filter of " + std::to_string(size) + " bytes", EINVAL};
  std::vector<sock_filter> program(static_cast<std::size_t>(size) / sizeof(sock_filter));
  auto* bytes = reinterpret_cast<char*>(program.data());
  for (off_t done = 0; done < size;) {
    ssize_t n = ::pread(fd.get(), bytes + done, static_cast<std::size_t>(size - done), done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return errno_error("cannot read the exported seccomp filter");
    done += n;
  }
  if (program.size() > BPF_MAXINSNS)
    return Error{"the profile's seccomp filter has " + std::to_string(program.size()) +
                     " instructions; the kernel takes at most " + std::to_string(BPF_MAXINSNS),
                 E2BIG};
  return program;
}

}  // namespace

std::string_view mode_name(FilterMode mode) { return mode == FilterMode::complain ? "complain" : "enforce"; }

Result<std::vector<sock_filter>> compile_filter(const SeccompProfile& written, FilterMode mode) {
  const SeccompProfile profile = mode == FilterMode::complain ? complain_mode(written) : written;
  auto default_action = action_value(profile.default_action, profile.source, "defaultAction");
  if (!default_action) return default_action.error();

  Context ctx(seccomp_init(*default_action), &seccomp_release);
  if (!ctx) return Error{"libseccomp cannot create a filter", ENOMEM};
  // A call through an architecture the profile does not list must get what
  // any call outside the profile gets. runc (1.1, libcontainer/seccomp) never
  // sets this attribute, so under runc, Docker and Podman such a call gets
  // libseccomp's default, SCMP_ACT_KILL_THREAD: the thread dies of SIGSYS.
  // sandmine run gives it the default action instead (EPERM for the profiles
  // sandmine writes, a log record in complain mode); libseccomp also sends
  // x32 numbers there when x86_64 is listed without x32.
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

  // Names in the order they first appear; each gets the rules libseccomp
  // would keep (unconditional_action()'s semantics): its first unconditional
  // rule, else its conditional ones. Rules with the default action change
  // nothing and libseccomp refuses them.
  std::vector<std::string> names;
  for (const auto& rule : profile.rules)
    for (const auto& name : rule.names)
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  for (const auto& name : names) {
    bool usable = std::any_of(profile.arches.begin(), profile.arches.end(), [&](const std::string& arch) {
      return seccomp_syscall_resolve_name_rewrite(seccomp_arch_resolve_name(arch.c_str()), name.c_str()) >= 0;
    });
    if (!usable) continue;  // exists on none of the architectures (the reader warned)
    auto names_it = [&](const SyscallRule& r) {
      return r.action != profile.default_action &&
             std::find(r.names.begin(), r.names.end(), name) != r.names.end();
    };
    auto first_unconditional =
        std::find_if(profile.rules.begin(), profile.rules.end(),
                     [&](const SyscallRule& r) { return names_it(r) && r.args.empty(); });
    for (const auto& rule : profile.rules) {
      if (!names_it(rule)) continue;
      if (first_unconditional != profile.rules.end() && &rule != &*first_unconditional) continue;
      auto action = action_value(rule.action, profile.source, rule.field + ".action");
      if (!action) return action.error();
      if (auto st = add_rule(ctx.get(), rule, name, *action, profile.source); !st) return st.error();
    }
  }
  return export_program(ctx.get());
}

}  // namespace sandmine::profile
