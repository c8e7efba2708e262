#pragma once
// Mounts sandmine makes for containers, removed again on destruction.

#include <cstdint>
#include <string>
#include <utility>

#include "util/result.h"

namespace sandmine::sys {

/// An overlay of a read-only lower directory with a writable upper one,
/// mounted at target. Destruction unmounts it (lazily if busy).
class OverlayMount {
 public:
  static Result<OverlayMount> mount(const std::string& lower, const std::string& upper,
                                    const std::string& work, const std::string& target);
  OverlayMount(OverlayMount&& o) noexcept : target_(std::exchange(o.target_, {})) {}
  OverlayMount& operator=(OverlayMount&&) = delete;
  OverlayMount(const OverlayMount&) = delete;
  ~OverlayMount();
  const std::string& target() const { return target_; }

 private:
  explicit OverlayMount(std::string target) : target_(std::move(target)) {}
  std::string target_;
};

/// A tmpfs of its own at target (a container's writable layer), whose size
/// can be changed while it is in use. Destruction unmounts it (lazily if busy).
class TmpfsMount {
 public:
  /// Mounts a tmpfs at target (an existing directory), mode 0755, with the
  /// kernel's default size limit (half of RAM; pages are used only as written).
  static Result<TmpfsMount> mount(const std::string& target);
  TmpfsMount(TmpfsMount&& o) noexcept : target_(std::exchange(o.target_, {})) {}
  TmpfsMount& operator=(TmpfsMount&&) = delete;
  TmpfsMount(const TmpfsMount&) = delete;
  ~TmpfsMount();
  const std::string& target() const { return target_; }

 private:
  explicit TmpfsMount(std::string target) : target_(std::move(target)) {}
  std::string target_;
};

/// A file system's size and use, from statfs(2), in bytes.
struct FsUsage {
  std::uint64_t size = 0;
  std::uint64_t used = 0;
};
Result<FsUsage> fs_usage(const std::string& path);

/// Remounts the tmpfs at target with a size limit of bytes (rounded up to
/// pages by the kernel). The kernel refuses a limit below what is in use;
/// the limit equal to it leaves the file system full: every further
/// allocation fails with ENOSPC.
Status resize_tmpfs(const std::string& target, std::uint64_t bytes);

}  // namespace sandmine::sys
