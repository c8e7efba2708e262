#include "profile/export.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <seccomp.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "profile/docker_json.h"
#include "profile/explain.h"
#include "syscalls/arch.h"
#include "syscalls/syscalls.h"

namespace sandmine::profile {

using nlohmann::json;

namespace {

std::string errno_name(int errnum) {
  const char* name = strerrorname_np(errnum);
  return name ? name : std::to_string(errnum);
}

bool dns_name_char(char c) {
  return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c));
}

bool valid_object_name(const std::string& s) {
  if (s.empty() || s.size() > 253 || !dns_name_char(s.front()) || !dns_name_char(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return dns_name_char(c) || c == '-' || c == '.'; });
}

// A Kubernetes object name from a file name: "Nginx_Profile.json" -> "nginx-profile".
std::string object_name_from(const std::string& path) {
  std::string out;
  for (char c : std::filesystem::path(path).stem().string()) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out += dns_name_char(l) || l == '.' ? l : '-';
  }
  while (!out.empty() && !dns_name_char(out.front())) out.erase(out.begin());
  while (!out.empty() && !dns_name_char(out.back())) out.pop_back();
  if (out.size() > 253) out.resize(253);
  return out.empty() ? "sandmine-profile" : out;
}

Result<std::string> k8s_yaml(const Profile& p, const ExportOptions& options) {
  if (p.default_action.takes_errno() && p.default_action.errno_ret != EPERM)
    return Error{fmt::format("profile {}: denied calls return {}, but a Security Profiles Operator "
                             "SeccompProfile has no defaultErrnoRet (they would return EPERM); use the "
                             "plain profile as a Localhost profile instead (--format docker)",
                             p.source, errno_name(p.default_action.errno_ret)),
                 EINVAL};
  std::string name = options.name.empty() ? object_name_from(p.source) : options.name;
  if (!valid_object_name(name))
    return Error{"name \"" + name +
                     "\" is not a Kubernetes object name (lower-case letters, digits, '-' and '.', "
                     "beginning and ending with a letter or digit)",
                 EINVAL};

  // Plain allow-lists as one rule, like the JSON formats.
  json doc = to_docker_json(p);
  YAML::Emitter y;
  y << YAML::BeginMap;
  y << YAML::Key << "apiVersion" << YAML::Value << "security-profiles-operator.x-k8s.io/v1beta1";
  y << YAML::Key << "kind" << YAML::Value << "SeccompProfile";
  y << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap << YAML::Key << "name" << YAML::Value << name
    << YAML::EndMap;
  y << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "defaultAction" << YAML::Value << p.default_action.name;
  y << YAML::Key << "architectures" << YAML::Value << YAML::BeginSeq;
  for (const auto& a : doc["architectures"]) y << a.get<std::string>();
  y << YAML::EndSeq;
  if (!p.flags.empty()) y << YAML::Key << "flags" << YAML::Value << p.flags;
  y << YAML::Key << "syscalls" << YAML::Value << YAML::BeginSeq;
  for (const auto& rule : doc["syscalls"]) {
    y << YAML::BeginMap;
    y << YAML::Key << "action" << YAML::Value << rule["action"].get<std::string>();
    if (rule.contains("errnoRet")) y << YAML::Key << "errnoRet" << YAML::Value << rule["errnoRet"].get<int>();
    y << YAML::Key << "names" << YAML::Value << rule["names"].get<std::vector<std::string>>();
    if (rule.contains("args")) {
      y << YAML::Key << "args" << YAML::Value << YAML::BeginSeq;
      for (const auto& a : rule["args"])
        y << YAML::BeginMap << YAML::Key << "index" << YAML::Value << a["index"].get<unsigned>() << YAML::Key
          << "value" << YAML::Value << a["value"].get<std::uint64_t>() << YAML::Key << "valueTwo"
          << YAML::Value << a["valueTwo"].get<std::uint64_t>() << YAML::Key << "op" << YAML::Value
          << a["op"].get<std::string>() << YAML::EndMap;
      y << YAML::EndSeq;
    }
    y << YAML::EndMap;
  }
  y << YAML::EndSeq << YAML::EndMap << YAML::EndMap;

  return fmt::format(
             "# A Security Profiles Operator SeccompProfile: kubectl apply -f this file in the pod's\n"
             "# namespace; the object's status.localhostProfile is then the path for\n"
             "#   securityContext.seccompProfile: {{type: Localhost, localhostProfile: <that path>}}\n"
             "# Without the operator: copy the plain profile (sandmine export {} --format docker) to\n"
             "# /var/lib/kubelet/seccomp/profiles/{}.json on every node and set\n"
             "#   securityContext:\n"
             "#     seccompProfile:\n"
             "#       type: Localhost\n"
             "#       localhostProfile: profiles/{}.json\n",
             p.source, name, name) +
         y.c_str() + "\n";
}

Result<std::string> systemd_settings(const Profile& p) {
  if (auto plain = plain_allow_list(p); !plain)
    return Error{"systemd's SystemCallFilter= takes a plain allow-list: " + plain.error().message, EINVAL};
  std::vector<std::string> arches;
  for (const auto& arch : p.arches) arches.push_back(systemd_arch(arch));

  std::string out = fmt::format(
      "# systemd settings (systemd.exec(5)) from {}\n"
      "# for a unit's [Service] section or a drop-in such as /etc/systemd/system/UNIT.d/seccomp.conf.\n"
      "# systemd always lets through the few calls a process needs to start and end (execve, exit,\n"
      "# rt_sigreturn, ...).\n"
      "[Service]\n"
      "SystemCallArchitectures={}\n",
      p.source, fmt::join(arches, " "));
  // Repeated SystemCallFilter= allow-lists add up, so long lists wrap.
  constexpr std::size_t kWidth = 100;
  const std::string key = "SystemCallFilter=";
  std::string line;
  for (const auto& name : allowed_names(p)) {
    if (!line.empty() && key.size() + line.size() + 1 + name.size() > kWidth) {
      out += key + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + name;
  }
  if (!line.empty()) out += key + line + "\n";
  out += "SystemCallErrorNumber=" + errno_name(p.default_action.errno_ret) + "\n";
  return out;
}

}  // namespace

Result<ExportFormat> parse_export_format(std::string_view name) {
  if (name == "docker") return ExportFormat::docker;
  if (name == "oci") return ExportFormat::oci;
  if (name == "k8s") return ExportFormat::k8s;
  if (name == "systemd") return ExportFormat::systemd;
  return Error{"unknown format \"" + std::string(name) + "\" (expected docker, oci, k8s or systemd)", EINVAL};
}

Result<std::string> export_profile(const Profile& profile, ExportFormat format,
                                   const ExportOptions& options) {
  switch (format) {
    case ExportFormat::docker:
    case ExportFormat::oci:
      return to_docker_json(profile).dump(2) + "\n";
    case ExportFormat::k8s:
      return k8s_yaml(profile, options);
    case ExportFormat::systemd:
      return systemd_settings(profile);
  }
  return Error{"unknown format", EINVAL};
}

std::string systemd_arch(const std::string& arch) {
  if (arch == syscalls::native_arch()) return "native";
  const auto* a = syscalls::find_arch(arch);
  return a && !a->systemd.empty() ? a->systemd : arch;
}

}  // namespace sandmine::profile
