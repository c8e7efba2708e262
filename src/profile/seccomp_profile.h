#pragma once
// Reading a Docker/OCI seccomp profile: the JSON `sandmine profile` writes,
// Docker's and Podman's default profiles, a runc config's linux.seccomp.
// The profile is taken as Docker takes it on this host: archMap picks the
// host's architectures, includes/excludes are decided against the host's
// architecture, Docker's default capabilities and the running kernel.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "trace/counts.h"
#include "util/result.h"

namespace sandmine::profile {

/// A seccomp action as a profile spells it: SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, ...
/// errno_ret is what SCMP_ACT_ERRNO and SCMP_ACT_TRACE return (0 otherwise).
struct Action {
  std::string name;
  int errno_ret = 0;
  bool operator==(const Action&) const = default;
  bool allows() const { return name == "SCMP_ACT_ALLOW"; }
};

/// One argument condition of a rule: args[index] op value (valueTwo for
/// SCMP_CMP_MASKED_EQ: (arg & value) == valueTwo).
struct ArgCondition {
  unsigned index = 0;
  std::uint64_t value = 0;
  std::uint64_t value_two = 0;
  std::string op;  ///< SCMP_CMP_EQ, SCMP_CMP_NE, SCMP_CMP_LT, ...
  bool operator==(const ArgCondition&) const = default;
};

/// One entry of syscalls[] that applies on this host.
struct SyscallRule {
  std::vector<std::string> names;
  Action action;
  std::vector<ArgCondition> args;  ///< empty: unconditional
  std::string field;               ///< where it came from, for messages: "syscalls[3]"
};

/// A seccomp profile as it applies on this host.
struct SeccompProfile {
  std::string source;  ///< the file name, for messages
  Action default_action;
  std::vector<std::string> arches;  ///< libseccomp names, in the profile's order
  std::vector<SyscallRule> rules;   ///< in the profile's order; rules excluded on this host left out
  std::vector<std::string> flags;   ///< SECCOMP_FILTER_FLAG_* as listed
  /// What the profile says that sandmine takes differently from the letter
  /// (names that exist on none of its architectures, flags), one line each.
  std::vector<std::string> warnings;
};

/// What includes/excludes are decided against.
struct HostFacts {
  std::string arch;                    ///< libseccomp name of the native architecture
  std::set<std::string> capabilities;  ///< the container's capabilities
  int kernel_major = 0;
  int kernel_minor = 0;
  /// This machine: native arch, Docker's default capabilities, the running kernel.
  static HostFacts current();
};

/// Reads a profile from a file. Errors are one line naming the file and the
/// JSON field: `profile p.json: syscalls[3].names[2]: unknown syscall "foo" on x86_64`.
/// Unknown actions, operators and architectures, wrong types and names that
/// libseccomp knows on no architecture are errors; a name that exists only on
/// architectures the profile does not list is left out with a warning.
Result<SeccompProfile> read_seccomp_profile(const std::string& path);

/// The same from parsed JSON; source names it in messages.
Result<SeccompProfile> parse_seccomp_profile(const nlohmann::json& doc, const std::string& source,
                                             const HostFacts& host = HostFacts::current());

/// The profile in complain mode: every action that does not allow, the
/// default action included, becomes SCMP_ACT_LOG (the call goes through and
/// the kernel writes an audit record).
SeccompProfile complain_mode(SeccompProfile profile);

/// The effective unconditional action of a name, as libseccomp compiles the
/// rules: the first rule without arguments for it wins over every other; with
/// none, the default action when no conditional rule names it either.
/// Empty when conditional rules decide.
std::optional<Action> unconditional_action(const SeccompProfile& profile, const std::string& name);

/// Every (arch, nr) the profile allows unconditionally, on each of its
/// architectures (x32 numbers carry the x32 bit). Syscalls allowed only for
/// some argument values are not in it.
std::set<trace::SyscallKey> allowed_set(const SeccompProfile& profile);

}  // namespace sandmine::profile
