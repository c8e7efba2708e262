#pragma once
// The sandbox rule model every profile format goes through: per architecture,
// the syscalls allowed; everything else gets the default action.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "trace/trace.h"
#include "util/result.h"

namespace sandmine::profile {

/// A seccomp sandbox: allow-list per libseccomp architecture, default deny.
struct Sandbox {
  std::map<std::string, std::set<std::string>> allowed;  ///< arch -> syscall names
  std::string default_action = "SCMP_ACT_ERRNO";
  int default_errno = 1;  ///< EPERM
};

/// Builds the union of the traces' armed syscalls. Numbers libseccomp cannot
/// name cannot be written in a profile; each is reported in warnings.
Sandbox from_traces(const std::vector<trace::Trace>& traces, std::vector<std::string>& warnings);

/// All allowed names over all architectures (what the Docker/OCI format can say).
std::set<std::string> all_names(const Sandbox& sandbox);

}  // namespace sandmine::profile
