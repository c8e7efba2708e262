#pragma once
// When a container is quiescent: what a step did has run its course. No
// fixed sleeps: the container's cgroup is sampled until, over a whole window,
// its threads stayed the same and none was running or in uninterruptible
// sleep, its CPU time grew by at most a small amount, and (when the recorder's
// counts are known) it made at most a few syscalls. A cap bounds the wait for
// containers that are never idle (their timers keep them busy).

#include <chrono>
#include <cstdint>
#include <string>

#include "explore/generate/target.h"

namespace sandmine::explore::generate {

/// The rule. The defaults let a server's own timers (a tick every 100 ms)
/// pass as quiet, while a handler still at work does not.
struct QuietRule {
  std::chrono::milliseconds interval{10};  ///< between samples
  std::chrono::milliseconds window{100};   ///< how long it must stay quiet
  std::chrono::milliseconds cap{3000};     ///< the longest wait
  std::uint64_t max_cpu_usec = 3000;       ///< CPU time the window may use (3% of one CPU)
  std::uint64_t max_syscalls = 50;         ///< syscalls the window may make
};

/// How a wait ended.
struct Quiescence {
  bool quiet = false;
  std::chrono::milliseconds waited{0};
  std::string busy;  ///< when not quiet: what was still moving at the cap, one line
};

/// Samples target until it is quiet by rule, the cap has passed, or deadline.
Quiescence wait_quiescent(Target& target, const QuietRule& rule,
                          std::chrono::steady_clock::time_point deadline);

}  // namespace sandmine::explore::generate
