#pragma once
// Syscalls a program may need because of when signals arrive, not because of
// what it does: a recording sees them or not by chance, so profiles add them.

#include <string>
#include <vector>

#include "profile/from_trace.h"
#include "profile/profile.h"

namespace sandmine::profile {

/// A row of data/timing_dependent.csv. arch "*" means every architecture;
/// applies is "always" (every profile) or "runc" (profiles of containers,
/// whose runtime runs Go code after it installs the filter).
struct TimingDependent {
  std::string arch;
  std::string name;
  std::string applies;
  std::string reason;
  std::string source;
};

/// The table (embedded in the binary at build time).
const std::vector<TimingDependent>& timing_dependent();

/// What add_timing_dependent() writes as the comment of the names it adds.
inline constexpr const char* kTimingDependentComment =
    "timing-dependent: needed depending on when signals arrive or the runtime schedules, which a "
    "recording sees only by chance (sandmine data/timing_dependent.csv)";

/// Allows the table's syscalls on the profile's architectures (where the
/// name exists there): the "always" rows, and the "runc" rows too for a
/// container. Under argument rules (args), a name with a mined argument is
/// allowed with its baseline_rules() -- the values that depend on timing, as
/// the argument table says -- plus what was seen; one whose argument has no
/// such values is allowed by name. Either way the result does not depend on
/// whether a recording saw the call, and every rule of these names carries
/// kTimingDependentComment. Returns the names that were not in the profile.
std::set<std::string> add_timing_dependent(Profile& profile, bool container, ArgsMode args = ArgsMode::off);

}  // namespace sandmine::profile
