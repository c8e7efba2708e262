#pragma once
// The Docker/OCI seccomp JSON: what `docker run --security-opt seccomp=`,
// `podman run --security-opt seccomp=` and runc's linux.seccomp take.
//
// Reading takes a profile as Docker takes it on this host: archMap picks the
// host's architectures, includes/excludes are decided against the host's
// architecture, Docker's default capabilities and the running kernel, and
// the rules are merged per syscall the way libseccomp compiles them.

#include <set>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "profile/profile.h"
#include "util/result.h"

namespace sandmine::profile {

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
Result<Profile> read_profile(const std::string& path);

/// The same from parsed JSON; source names it in messages.
Result<Profile> parse_profile(const nlohmann::json& doc, const std::string& source,
                              const HostFacts& host = HostFacts::current());

/// The profile as Docker/OCI seccomp JSON, the same for Docker, Podman and
/// runc's linux.seccomp: defaultAction (and defaultErrnoRet when it returns
/// an errno), the architectures in order, flags when set, then the rules:
/// names allowed whatever their arguments in one rule (a rule of their own
/// per comment), names with another unconditional action one rule per
/// action, then one rule per argument alternative. Names sorted in each.
/// Last, when the profile has them, sandmine's own "sandmine" object: what it
/// was mined from ("minedFrom") and the recording run it is for
/// ("recording"); Docker, Podman and runc ignore it.
nlohmann::json to_docker_json(const Profile& profile);

}  // namespace sandmine::profile
