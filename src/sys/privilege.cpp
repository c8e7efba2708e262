#include "sys/privilege.h"

#include <linux/capability.h>

#include <cstdint>
#include <sstream>

#include "sys/files.h"

namespace sandmine::sys {

bool has_capability(int cap) {
  auto status = read_file("/proc/self/status");
  if (!status) return false;
  std::istringstream in(*status);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    std::uint64_t mask = std::stoull(line.substr(7), nullptr, 16);
    return (mask >> cap) & 1;
  }
  return false;
}

Status require_recording_privileges() {
  if (has_capability(CAP_SYS_ADMIN)) return {};
  return Error{
      "recording needs root (CAP_SYS_ADMIN) to load eBPF programs and manage cgroups; "
      "run sandmine as root or with sudo",
      EPERM};
}

}  // namespace sandmine::sys
