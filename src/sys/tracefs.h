#pragma once
// tracefs: where it is mounted, and mounting it for the duration of a recording.

#include <optional>
#include <string>
#include <string_view>

#include "sys/fd.h"
#include "util/result.h"

namespace sandmine::sys {

/// The tracefs mount point named in a /proc/self/mountinfo text, if any.
std::optional<std::string> find_tracefs_mount(std::string_view mountinfo);

/// tracefs, mounted. If it was missing, ensure() mounts it at /sys/kernel/tracing
/// and the last sandmine using it unmounts it again, so nothing is left
/// behind: every user holds a shared flock on /run/sandmine/tracefs.users, and
/// on destruction the one that gets it exclusively unmounts what a sandmine
/// mounted (noted in /run/sandmine/tracefs.mounted). Mounting and unmounting
/// are serialised by /run/sandmine/tracefs.lock. Concurrent runs never
/// lose it under each other.
class Tracefs {
 public:
  static Result<Tracefs> ensure();

  Tracefs(Tracefs&& o) noexcept
      : path_(std::move(o.path_)), ours_(std::exchange(o.ours_, false)), lock_(std::move(o.lock_)) {}
  Tracefs& operator=(Tracefs&&) = delete;
  Tracefs(const Tracefs&) = delete;
  ~Tracefs();

  const std::string& path() const { return path_; }
  /// True when a sandmine mounted it (it was missing): the last one done unmounts it.
  bool mounted_here() const { return ours_; }

 private:
  Tracefs(std::string path, bool ours, UniqueFd lock)
      : path_(std::move(path)), ours_(ours), lock_(std::move(lock)) {}
  std::string path_;
  bool ours_ = false;
  UniqueFd lock_;  // the shared flock while this object lives
};

}  // namespace sandmine::sys
