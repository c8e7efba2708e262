#pragma once
// What this process may do: effective capabilities.

#include "util/result.h"

namespace sandmine::sys {

/// Whether capability number cap (linux/capability.h) is in this process's effective set.
bool has_capability(int cap);

/// Ok when this process may load BPF tracing programs, install seccomp filters
/// without no_new_privs and manage cgroups (CAP_SYS_ADMIN); otherwise says so.
Status require_recording_privileges();

}  // namespace sandmine::sys
