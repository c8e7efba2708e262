#pragma once
// A profile from what was recorded: the union of traces' armed syscalls.

#include <string>
#include <vector>

#include "profile/profile.h"
#include "trace/trace.h"

namespace sandmine::profile {

/// A profile that allows the union of the traces' armed syscalls and denies
/// everything else with EPERM, on the architectures the traces used (the
/// native one first). Numbers libseccomp cannot name cannot be written in a
/// profile: each is reported in warnings.
Profile from_traces(const std::vector<trace::Trace>& traces, std::vector<std::string>& warnings);

}  // namespace sandmine::profile
