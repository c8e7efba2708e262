#include "profile/from_trace.h"

#include <algorithm>

#include "syscalls/syscalls.h"

namespace sandmine::profile {

Profile from_traces(const std::vector<trace::Trace>& traces, std::vector<std::string>& warnings) {
  Profile p;
  p.source = traces.size() == 1 ? "the trace" : "the traces";
  p.default_action = Action::error(EPERM);
  std::set<std::string> arches;
  for (const auto& t : traces)
    for (const auto& e : t.syscalls) {
      if (e.name.empty()) {
        warnings.push_back(e.arch + " syscall number " + std::to_string(e.nr) +
                           " has no name in libseccomp and cannot be allowed in the profile "
                           "(the kernel has no such call: it fails with ENOSYS unconfined, EPERM "
                           "under the profile)");
        continue;
      }
      arches.insert(e.arch);
      p.syscalls[e.name].action = Action::allow();
    }
  const std::string native = syscalls::native_arch();
  if (arches.count(native)) p.arches.push_back(native);
  for (const auto& arch : arches)
    if (arch != native) p.arches.push_back(arch);
  return p;
}

}  // namespace sandmine::profile
