#pragma once
// Ctrl-C and friends while a target runs: SIGINT, SIGTERM and SIGHUP are
// caught, remembered, and kill the target cgroup at once (cgroup.kill, written
// from the handler), so a recorder's wait returns and it can save what it has.

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

/// fd of a cgroup.kill file the handler writes "1" to; -1 disarms. The caller
/// keeps the fd open while armed.
void arm_interrupt_kill(int cgroup_kill_fd);

}  // namespace sandmine::sys
