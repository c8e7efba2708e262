#pragma once
// Naming what a profile denies (or, in complain mode, would deny): the
// recorder watches a target against the set of syscalls its profile allows.

#include <linux/filter.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "trace/counts.h"

namespace sandmine::trace {

/// The six argument registers of a call (seccomp_data.args).
using CallArgs = std::array<std::uint64_t, 6>;

/// What a target runs under, as the recorder needs it to name violations
/// (profile::watch_for makes it from a profile).
struct Watch {
  /// Every (arch, nr) the profile lets through whatever the arguments (or
  /// answers on purpose, profile::Verdict::answered): never named. A syscall
  /// outside this set and outside arguments, made by an armed thread of the
  /// target, is a violation.
  std::set<SyscallKey> allowed;
  /// The syscalls the profile decides by their arguments, with the bits of
  /// each argument to keep (0: not kept). Every returning call to one of
  /// them is kept with those bits of its arguments, allowed or not: user
  /// space decides (profile::judge). At most kMaxArgumentWatches entries.
  std::map<SyscallKey, CallArgs> arguments;
};

/// How many syscalls one watch can decide by their arguments
/// (SM_ARG_WATCH_MAX in bpf/recorder.h).
constexpr std::size_t kMaxArgumentWatches = 64;

/// Calls to one syscall outside the profile by processes named comm, seen
/// where they return (raw_syscalls:sys_exit: seccomp skips sys_enter for a
/// call it denies, not sys_exit); for a syscall the profile decides by its
/// arguments (Watch::arguments), every call with the same kept argument
/// values, allowed or not. exit and exit_group never return: in complain
/// mode they appear only in the sys_enter counts. A new child's return from
/// clone, clone3, fork or vfork (0) is not counted: the call was its parent's.
struct Violation {
  SyscallKey key;
  std::string comm;         ///< the task's name when it made the calls
  std::uint64_t count = 0;  ///< calls that returned
  /// Of those, how many returned an error (-4095..-1). Under an enforcing
  /// profile every call outside it does (the filter's errno): these are its
  /// denials. A call that returned success was not denied: either the
  /// profile only logs (complain mode), or the thread was armed during the
  /// call (the seccomp() call that installs the filter).
  std::uint64_t denied = 0;
  /// For a syscall in Watch::arguments: its arguments under the watched
  /// masks (bits not kept are 0), one row per distinct value; empty otherwise.
  std::optional<CallArgs> args;
};

/// Violations of a target: one row per (arch, nr, comm, args), sorted; the thread
/// group ids that made them (to attribute audit records by pid).
struct Violations {
  std::vector<Violation> rows;
  std::set<int> pids;
};

}  // namespace sandmine::trace
