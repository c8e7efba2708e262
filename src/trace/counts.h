#pragma once
// What a recorder counted: per (arch, nr), how often and when first.

#include <compare>
#include <cstdint>
#include <map>
#include <string>

namespace sandmine::trace {

/// A syscall as seccomp sees it: libseccomp architecture name and number
/// (x32 numbers include the x32 bit, as in libseccomp's tables).
struct SyscallKey {
  std::string arch;
  std::int64_t nr = 0;
  auto operator<=>(const SyscallKey&) const = default;
};

/// How often a syscall was made and when it was first seen.
struct Tally {
  std::uint64_t count = 0;
  std::uint64_t first_ns = 0;  ///< CLOCK_MONOTONIC nanoseconds; 0 when never seen
};

using Tallies = std::map<SyscallKey, Tally>;

/// One target's counts at one moment. armed: the calling thread had a seccomp
/// filter (the mined profile will see the call); unarmed: it had none.
struct Counts {
  Tallies armed;
  Tallies unarmed;
};

/// Adds one call (or n calls) seen at time ns to a tally map.
void add(Tallies& tallies, const SyscallKey& key, std::uint64_t n, std::uint64_t ns);

/// Adds every tally of from into into (counts summed, earliest first seen kept).
void merge_into(Tallies& into, const Tallies& from);

}  // namespace sandmine::trace
