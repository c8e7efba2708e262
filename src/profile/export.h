#pragma once
// A profile in the formats that engines, Kubernetes and systemd take: the
// Docker JSON, a runc config's linux.seccomp object, a Security Profiles
// Operator SeccompProfile, systemd unit settings. Profiles are taken as read
// on this host (read_seccomp_profile: includes/excludes decided, archMap
// resolved). Plain allow-lists go through the Sandbox model, so they come
// out exactly as `sandmine profile` writes them; that is also what merging
// takes.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "profile/sandbox.h"
#include "profile/seccomp_profile.h"
#include "util/result.h"

namespace sandmine::profile {

enum class ExportFormat { docker, oci, k8s, systemd };

/// "docker", "oci", "k8s", "systemd".
Result<ExportFormat> parse_export_format(std::string_view name);

/// The profile as a Sandbox when it is a plain allow-list: default action
/// SCMP_ACT_ERRNO, every rule an SCMP_ACT_ALLOW without argument conditions
/// (rules with the default action change nothing), no flags. Per architecture
/// the names allowed_set() gives. Otherwise an error saying what is not.
Result<Sandbox> to_sandbox(const SeccompProfile& profile);

/// The union of plain allow-lists, per architecture. They must return the
/// same errno for what they deny.
Result<Sandbox> merge_profiles(const std::vector<SeccompProfile>& profiles);

/// Docker/OCI JSON of a read profile: a plain allow-list as to_oci_json
/// writes it; any other profile with its rules in order, each rule's names
/// sorted, errno values explicit, rules with the default action left out.
/// The same JSON serves as Docker's profile and as runc's linux.seccomp.
nlohmann::json to_docker_json(const SeccompProfile& profile);

struct ExportOptions {
  /// metadata.name of the Kubernetes object: a DNS-1123 subdomain. Empty: made
  /// from the profile's file name.
  std::string name;
};

/// The profile as text in a format. k8s refuses profiles whose denials return
/// an errno other than EPERM (the operator's object has no defaultErrnoRet);
/// systemd takes plain allow-lists only.
Result<std::string> export_profile(const SeccompProfile& profile, ExportFormat format,
                                   const ExportOptions& options = {});

/// systemd's spelling of a libseccomp architecture for SystemCallArchitectures=
/// ("native" for this host's, "x86-64", "arm64", ...).
std::string systemd_arch(const std::string& arch);

}  // namespace sandmine::profile
