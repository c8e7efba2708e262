#include "sys/tracefs.h"

#include <sys/mount.h>

#include <sstream>

#include "sys/files.h"

namespace sandmine::sys {

namespace {
constexpr const char* kTracefsPath = "/sys/kernel/tracing";
}

std::optional<std::string> find_tracefs_mount(std::string_view mountinfo) {
  std::istringstream in{std::string(mountinfo)};
  std::string line;
  while (std::getline(in, line)) {
    auto sep = line.find(" - ");
    if (sep == std::string::npos) continue;
    std::istringstream tail(line.substr(sep + 3));
    std::string fstype;
    tail >> fstype;
    if (fstype != "tracefs") continue;
    std::istringstream head(line.substr(0, sep));
    std::string id, parent, dev, root, mountpoint;
    head >> id >> parent >> dev >> root >> mountpoint;
    return mountpoint;
  }
  return std::nullopt;
}

Result<Tracefs> Tracefs::ensure() {
  auto text = read_file("/proc/self/mountinfo");
  if (!text) return text.error();
  if (auto mount = find_tracefs_mount(*text)) return Tracefs(*mount, false);
  if (::mount("nodev", kTracefsPath, "tracefs", 0, nullptr) != 0)
    return errno_error(std::string("tracefs is not mounted and mounting it at ") + kTracefsPath +
                       " failed (run as root)");
  return Tracefs(kTracefsPath, true);
}

Tracefs::~Tracefs() {
  if (ours_) ::umount2(path_.c_str(), MNT_DETACH);
}

}  // namespace sandmine::sys
