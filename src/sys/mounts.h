#pragma once
// Mounts sandmine makes for containers, removed again on destruction.

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

}  // namespace sandmine::sys
