#pragma once
// summary.md: a mining run for a pull request, in Markdown.

#include <string>

#include "explore/check.h"
#include "explore/miner.h"
#include "profile/profile.h"
#include "spec/spec.h"

namespace sandmine::report {

/// The run's numbers (time, syscalls allowed, per step) and the profile's size
/// next to Docker's default; profile is what profile.json says (null: no
/// profile, the run failed); held_out the validate steps under it (null: none ran).
std::string summary_markdown(const spec::Spec& spec, const explore::MineResult& result,
                             const profile::Profile* profile, const explore::CheckResult* held_out);

}  // namespace sandmine::report
