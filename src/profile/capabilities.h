#pragma once
// The capabilities a container gets by default: Docker's and Podman's set,
// which runc's generated spec also uses. A profile's includes/excludes.caps
// conditions are decided against it, as Docker decides them.

#include <array>
#include <string_view>

namespace sandmine::profile {

/// Docker's default capability set (moby oci/caps/defaults.go).
inline constexpr std::array<std::string_view, 14> kDefaultCapabilities = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE"};

}  // namespace sandmine::profile
