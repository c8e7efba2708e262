#include "profile/sandbox.h"

namespace sandmine::profile {

Sandbox from_traces(const std::vector<trace::Trace>& traces, std::vector<std::string>& warnings) {
  Sandbox sb;
  for (const auto& t : traces)
    for (const auto& e : t.syscalls) {
      if (e.name.empty()) {
        warnings.push_back(e.arch + " syscall number " + std::to_string(e.nr) +
                           " has no name in libseccomp and cannot be allowed in the profile "
                           "(the kernel has no such call: it fails with ENOSYS unconfined, EPERM "
                           "under the profile)");
        continue;
      }
      sb.allowed[e.arch].insert(e.name);
    }
  return sb;
}

std::set<std::string> all_names(const Sandbox& sandbox) {
  std::set<std::string> names;
  for (const auto& [arch, set] : sandbox.allowed) names.insert(set.begin(), set.end());
  return names;
}

}  // namespace sandmine::profile
