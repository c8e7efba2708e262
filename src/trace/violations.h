#pragma once
// Naming what a profile denies (or, in complain mode, would deny): the
// recorder watches a target against the set of syscalls its profile allows.

#include <linux/filter.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "trace/counts.h"

namespace sandmine::trace {

/// What a target runs under, as the recorder needs it to name violations.
struct Watch {
  /// Every (arch, nr) the profile allows unconditionally. A syscall outside
  /// this set, made by an armed thread of the target, is a violation.
  std::set<SyscallKey> allowed;
};

/// Calls to one syscall outside the profile by processes named comm, seen
/// where they return (raw_syscalls:sys_exit: seccomp skips sys_enter for a
/// call it denies, not sys_exit). exit and exit_group never return: in
/// complain mode they appear only in the sys_enter counts.
struct Violation {
  SyscallKey key;
  std::string comm;         ///< the task's name when it made the calls
  std::uint64_t count = 0;   ///< calls that returned
  /// Of those, how many returned an error (-4095..-1). Under an enforcing
  /// profile every call outside it does (the filter's errno): these are its
  /// denials. A call that returned success was not denied: either the
  /// profile only logs (complain mode), or the thread was armed during the
  /// call (the seccomp() call that installs the filter).
  std::uint64_t denied = 0;
};

/// Violations of a target: one row per (arch, nr, comm), sorted; the thread
/// group ids that made them (to attribute audit records by pid).
struct Violations {
  std::vector<Violation> rows;
  std::set<int> pids;
};

}  // namespace sandmine::trace
