#include "sys/mounts.h"

#include <sys/mount.h>
#include <sys/statfs.h>

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

namespace sandmine::sys {

Result<TmpfsMount> TmpfsMount::mount(const std::string& target) {
  if (::mount("tmpfs", target.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0)
    return errno_error("cannot mount a tmpfs at " + target);
  return TmpfsMount(target);
}

TmpfsMount::~TmpfsMount() {
  if (!target_.empty() && ::umount2(target_.c_str(), 0) != 0) ::umount2(target_.c_str(), MNT_DETACH);
}

Result<FsUsage> fs_usage(const std::string& path) {
  struct statfs st {};
  if (::statfs(path.c_str(), &st) != 0) return errno_error("cannot statfs " + path);
  auto block = static_cast<std::uint64_t>(st.f_bsize);
  return FsUsage{.size = st.f_blocks * block, .used = (st.f_blocks - st.f_bfree) * block};
}

Status resize_tmpfs(const std::string& target, std::uint64_t bytes) {
  std::string options = "size=" + std::to_string(bytes);
  if (::mount("tmpfs", target.c_str(), "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV, options.c_str()) != 0)
    return errno_error("cannot resize the tmpfs at " + target + " to " + std::to_string(bytes) + " bytes");
  return {};
}

}  // namespace sandmine::sys
