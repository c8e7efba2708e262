#pragma once
// What a recorder counted: per (arch, nr), how often and when first, and for
// syscalls whose arguments are mined, the distinct argument values.

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sandmine::trace {

/// A syscall as seccomp sees it: libseccomp architecture name and number
/// (x32 numbers include the x32 bit, as in libseccomp's tables).
struct SyscallKey {
  std::string arch;
  std::int64_t nr = 0;
  auto operator<=>(const SyscallKey&) const = default;
};

/// The mined argument values of one call: one value per row the argument
/// table has for the syscall (syscalls::ArgumentSpec::rules, in index order),
/// each under that row's record mask.
using ArgValues = std::vector<std::uint64_t>;

/// Why a syscall's values are not all there (bits of Tally::values_lost).
/// Either way, a profile must allow the syscall by name only.
enum ValuesLost : std::uint8_t {
  kValuesMapFull = 1,     ///< the recorder's value map was full when a new value came
  kValuesUnreadable = 2,  ///< a value in user memory (clone3's flags) could not be read
  kValuesNotStored = 4,   ///< the map refused a new value for another reason
};

/// How often a syscall was made and when it was first seen.
struct Tally {
  std::uint64_t count = 0;
  std::uint64_t first_ns = 0;  ///< CLOCK_MONOTONIC nanoseconds; 0 when never seen
  /// Calls per distinct value, for syscalls whose arguments are mined
  /// (syscalls::mined_arguments); empty for the others. When values_lost is 0,
  /// the counts add up to count.
  std::map<ArgValues, std::uint64_t> values = {};
  std::uint8_t values_lost = 0;  ///< ValuesLost bits; 0: values is complete
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

/// Adds n calls with these argument values to key's tally (its count is
/// added separately, with add()).
void add_values(Tallies& tallies, const SyscallKey& key, const ArgValues& values, std::uint64_t n);

/// Adds every tally of from into into (counts summed, earliest first seen
/// kept, values merged, lost reasons joined).
void merge_into(Tallies& into, const Tallies& from);

/// "the recorder's value map was full" (and the others), joined by "; ".
std::string describe_values_lost(std::uint8_t lost);

}  // namespace sandmine::trace
