#pragma once
// A profile in the formats that engines, Kubernetes and systemd take: the
// Docker JSON, a runc config's linux.seccomp object, a Security Profiles
// Operator SeccompProfile, systemd unit settings, all from the one model
// (profile/profile.h) as read on this host (includes/excludes decided,
// archMap resolved), so they come out exactly as `sandmine profile` writes
// them.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "profile/profile.h"
#include "util/result.h"

namespace sandmine::profile {

enum class ExportFormat { docker, oci, k8s, systemd };

/// "docker", "oci", "k8s", "systemd".
Result<ExportFormat> parse_export_format(std::string_view name);

struct ExportOptions {
  /// metadata.name of the Kubernetes object: a DNS-1123 subdomain. Empty: made
  /// from the profile's file name.
  std::string name;
  /// systemd: where to add one line per thing the settings cannot say (the
  /// argument rules they drop); may be null.
  std::vector<std::string>* warnings = nullptr;
};

/// The profile as text in a format. k8s refuses profiles whose denials return
/// an errno other than EPERM (the operator's object has no defaultErrnoRet).
/// systemd takes allow-lists whose rules only allow (or answer ENOSYS, as
/// for clone3): SystemCallFilter= allows names, so each name argument rules
/// decide is allowed by name, socket's domain rules become
/// RestrictAddressFamilies=, the namespace flags of clone, unshare and setns
/// RestrictNamespaces=, and the output's comments (and options.warnings) say
/// which argument rules are dropped (docs/commands.md#sandmine-export).
Result<std::string> export_profile(const Profile& profile, ExportFormat format,
                                   const ExportOptions& options = {});

/// systemd's spelling of a libseccomp architecture for SystemCallArchitectures=
/// ("native" for this host's, "x86-64", "arm64", ...).
std::string systemd_arch(const std::string& arch);

}  // namespace sandmine::profile
