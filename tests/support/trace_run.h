#pragma once
// Recording through the sandmine binary, and what a recording leaves behind.

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/run.h"

namespace sandmine::test {

using ArchName = std::pair<std::string, std::string>;
using CountMap = std::map<ArchName, std::uint64_t>;

/// A finished `sandmine trace` and its trace.json.
struct Traced {
  Outcome run;
  nlohmann::json doc;
  CountMap armed() const;
  CountMap unarmed() const;
  std::set<ArchName> armed_set() const;
};

/// Runs `sandmine trace --backend B -o <tmp> [extra...] -- argv...`.
Traced trace(const std::string& backend, const std::vector<std::string>& argv,
             const std::vector<std::string>& extra = {}, const std::string& input = "");

/// Names of the (arch, name) pairs, for readable failure messages.
std::string describe(const std::set<ArchName>& set);
std::string describe_names(const std::set<std::string>& names);

/// What sandmine may have left behind: sandmine* cgroups under the v2 mount
/// (and v1 hierarchies), loaded BPF programs named sys_enter, mounts under a
/// sandmine-* folder (container overlays). Empty when clean.
std::vector<std::string> leftovers();

/// Whether a sandmine cgroup or container name ending in -<pid> belongs to
/// another process that is still running (work in progress, not a leak).
bool owned_by_another_live_process(const std::string& name);

/// Containers in a runc state root that are not another live process's.
std::vector<std::string> runc_leftovers(const std::string& root = "/run/sandmine/runc");

}  // namespace sandmine::test
