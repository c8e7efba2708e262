#pragma once
// tracefs: where it is mounted, and mounting it for the duration of a recording.

#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace sandmine::sys {

/// The tracefs mount point named in a /proc/self/mountinfo text, if any.
std::optional<std::string> find_tracefs_mount(std::string_view mountinfo);

/// tracefs, mounted. If it was missing, ensure() mounts it at /sys/kernel/tracing
/// and destruction unmounts it again, so nothing is left behind.
class Tracefs {
 public:
  static Result<Tracefs> ensure();

  Tracefs(Tracefs&& o) noexcept : path_(std::move(o.path_)), ours_(std::exchange(o.ours_, false)) {}
  Tracefs& operator=(Tracefs&&) = delete;
  Tracefs(const Tracefs&) = delete;
  ~Tracefs();

  const std::string& path() const { return path_; }
  /// True when this object mounted it (it was not mounted before).
  bool mounted_here() const { return ours_; }

 private:
  Tracefs(std::string path, bool ours) : path_(std::move(path)), ours_(ours) {}
  std::string path_;
  bool ours_ = false;
};

}  // namespace sandmine::sys
