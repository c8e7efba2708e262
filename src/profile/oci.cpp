#include "profile/oci.h"

#include <nlohmann/json.hpp>

#include "syscalls/syscalls.h"

namespace sandmine::profile {

using nlohmann::json;

json to_oci_json(const Sandbox& sandbox) {
  json arches = json::array();
  std::string native = syscalls::native_arch();
  if (sandbox.allowed.count(native)) arches.push_back(syscalls::oci_arch(native));
  for (const auto& [arch, names] : sandbox.allowed)
    if (arch != native) arches.push_back(syscalls::oci_arch(arch));
  auto names = all_names(sandbox);
  json doc = {{"defaultAction", sandbox.default_action},
              {"defaultErrnoRet", sandbox.default_errno},
              {"architectures", arches},
              {"syscalls", json::array()}};
  if (!names.empty())
    doc["syscalls"].push_back({{"names", json(std::vector<std::string>(names.begin(), names.end()))},
                               {"action", "SCMP_ACT_ALLOW"}});
  return doc;
}

}  // namespace sandmine::profile
