#include "explore/generate/container_target.h"

namespace sandmine::explore::generate {

Status ContainerTarget::restart() {
  if (!hooks_.restart) return Error{"this run cannot restart its container", ENOTSUP};
  return hooks_.restart();
}

std::uint64_t total_syscalls(const trace::Counts& counts) {
  std::uint64_t n = 0;
  for (const auto* tallies : {&counts.armed, &counts.unarmed})
    for (const auto& [key, tally] : *tallies) n += tally.count;
  return n;
}

}  // namespace sandmine::explore::generate
