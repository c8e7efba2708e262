#include "sys/mounts.h"

#include <sys/mount.h>

namespace sandmine::sys {

Result<OverlayMount> OverlayMount::mount(const std::string& lower, const std::string& upper,
                                         const std::string& work, const std::string& target) {
  std::string options = "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work;
  if (::mount("overlay", target.c_str(), "overlay", 0, options.c_str()) != 0)
    return errno_error("cannot mount an overlay of " + lower + " at " + target);
  return OverlayMount(target);
}

OverlayMount::~OverlayMount() {
  if (!target_.empty() && ::umount2(target_.c_str(), 0) != 0) ::umount2(target_.c_str(), MNT_DETACH);
}

}  // namespace sandmine::sys
