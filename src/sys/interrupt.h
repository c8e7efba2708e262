#pragma once
// Ctrl-C and friends while a target runs: SIGINT, SIGTERM and SIGHUP are
// caught, remembered, and kill every armed cgroup at once (cgroup.kill,
// written from the handler), so whatever waits on the target returns and
// can save what it has.

#include <string>

#include "sys/fd.h"
#include "util/result.h"

namespace sandmine::sys {

/// While alive, SIGINT, SIGTERM and SIGHUP are caught instead of killing sandmine.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
};

/// The first caught signal, or 0.
int interrupt_signal();

/// While armed, a caught signal kills every process in a cgroup and below
/// (its cgroup.kill, written from the handler). Several can be armed at once
/// (up to 64). When a signal came before arming, arming kills at once.
class KillSwitch {
 public:
  KillSwitch() = default;
  /// Arms the cgroup at path (an absolute directory of the v2 tree).
  static Result<KillSwitch> arm(const std::string& cgroup_path);
  KillSwitch(KillSwitch&& o) noexcept;
  KillSwitch& operator=(KillSwitch&& o) noexcept;
  KillSwitch(const KillSwitch&) = delete;
  KillSwitch& operator=(const KillSwitch&) = delete;
  ~KillSwitch() { disarm(); }
  /// Stops killing the cgroup on a signal. Idempotent.
  void disarm();

 private:
  UniqueFd fd_;
  int slot_ = -1;
};

}  // namespace sandmine::sys
