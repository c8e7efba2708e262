#pragma once
// The Docker/OCI seccomp JSON: what `docker run --security-opt seccomp=`,
// `podman run --security-opt seccomp=` and runc's linux.seccomp accept.

#include <nlohmann/json_fwd.hpp>

#include "profile/sandbox.h"

namespace sandmine::profile {

/// The profile as Docker/OCI seccomp JSON: defaultAction, defaultErrnoRet,
/// the architectures used (natively first) and one allow rule. The format
/// cannot say "this name on that arch only": every listed architecture gets
/// the union of names.
nlohmann::json to_oci_json(const Sandbox& sandbox);

}  // namespace sandmine::profile
