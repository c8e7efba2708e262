#pragma once
// Syscalls a program may need because of when signals arrive, not because of
// what it does: a recording sees them or not by chance, so profiles add them.

#include <string>
#include <vector>

#include "profile/sandbox.h"

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

/// Adds the table's syscalls to every architecture the sandbox allows
/// anything on (where the name exists there): the "always" rows, and the
/// "runc" rows too for a container. Returns what it added, per arch, that the
/// traces had not already seen.
std::map<std::string, std::set<std::string>> add_timing_dependent(Sandbox& sandbox, bool container);

}  // namespace sandmine::profile
