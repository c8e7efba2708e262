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

#include "profile/explain.h"
#include "profile/oci.h"
#include "syscalls/syscalls.h"

namespace sandmine::profile {

using nlohmann::json;

namespace {

// "a, b, c" or "a, b, c and 7 more".
std::string some_names(const std::vector<std::string>& names) {
  constexpr std::size_t kShown = 3;
  if (names.size() <= kShown + 1) return fmt::format("{}", fmt::join(names, ", "));
  return fmt::format("{} and {} more", fmt::join(names.begin(), names.begin() + kShown, ", "),
                     names.size() - kShown);
}

bool takes_errno(const Action& a) { return a.name == "SCMP_ACT_ERRNO" || a.name == "SCMP_ACT_TRACE"; }

std::string errno_name(int errnum) {
  const char* name = strerrorname_np(errnum);
  return name ? name : std::to_string(errnum);
}

// Whether libseccomp can put name in a filter for one of the arches: it
// exists there or is reached through a multiplexer (socketcall, ipc on x86).
bool usable_on_any(const std::vector<std::string>& arches, const std::string& name) {
  return std::any_of(arches.begin(), arches.end(), [&](const std::string& arch) {
    return seccomp_syscall_resolve_name_rewrite(seccomp_arch_resolve_name(arch.c_str()), name.c_str()) >= 0;
  });
}

// A rule's names sorted, without duplicates and without the names that exist
// on none of the profile's architectures (the reader warned about those).
std::vector<std::string> sorted_names(const std::vector<std::string>& names,
                                      const std::vector<std::string>& arches) {
  std::vector<std::string> out;
  std::copy_if(names.begin(), names.end(), std::back_inserter(out),
               [&](const std::string& n) { return usable_on_any(arches, n); });
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// The rules that change anything: a rule with the default action does not.
std::vector<const SyscallRule*> effective_rules(const SeccompProfile& p) {
  std::vector<const SyscallRule*> out;
  for (const auto& rule : p.rules)
    if (rule.action != p.default_action) out.push_back(&rule);
  return out;
}

json args_json(const std::vector<ArgCondition>& args) {
  json out = json::array();
  for (const auto& a : args)
    out.push_back({{"index", a.index}, {"value", a.value}, {"valueTwo", a.value_two}, {"op", a.op}});
  return out;
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

Result<std::string> k8s_yaml(const SeccompProfile& p, const ExportOptions& options) {
  if (takes_errno(p.default_action) && p.default_action.errno_ret != EPERM)
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

Result<std::string> systemd_settings(const SeccompProfile& p) {
  auto sb = to_sandbox(p);
  if (!sb)
    return Error{"systemd's SystemCallFilter= takes a plain allow-list: " + sb.error().message, EINVAL};
  std::vector<std::string> arches;
  std::string native = syscalls::native_arch();
  if (sb->allowed.count(native)) arches.push_back(systemd_arch(native));
  for (const auto& [arch, names] : sb->allowed)
    if (arch != native) arches.push_back(systemd_arch(arch));

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
  for (const auto& name : all_names(*sb)) {
    if (!line.empty() && key.size() + line.size() + 1 + name.size() > kWidth) {
      out += key + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + name;
  }
  if (!line.empty()) out += key + line + "\n";
  out += "SystemCallErrorNumber=" + errno_name(sb->default_errno) + "\n";
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

Result<Sandbox> to_sandbox(const SeccompProfile& p) {
  auto not_plain = [&](const std::string& what) {
    return Error{fmt::format("profile {} is not a plain allow-list (defaultAction SCMP_ACT_ERRNO, rules that "
                             "allow without argument conditions): {}",
                             p.source, what),
                 EINVAL};
  };
  if (p.default_action.name != "SCMP_ACT_ERRNO")
    return not_plain("its defaultAction is " + p.default_action.name);
  if (!p.flags.empty()) return not_plain(fmt::format("it sets flags ({})", fmt::join(p.flags, ", ")));
  for (const auto* rule : effective_rules(p)) {
    if (!rule->action.allows())
      return not_plain(
          fmt::format("{} gives {} action {}", rule->field, some_names(rule->names), describe(rule->action)));
    if (!rule->args.empty())
      return not_plain(
          fmt::format("{} allows {} only for some argument values", rule->field, some_names(rule->names)));
  }
  Sandbox sb;
  sb.default_action = p.default_action.name;
  sb.default_errno = p.default_action.errno_ret;
  for (const auto& arch : p.arches) sb.allowed[arch];
  for (const auto& key : allowed_set(p))
    if (auto name = syscalls::name_of(key.arch, key.nr)) sb.allowed[key.arch].insert(*name);
  return sb;
}

Result<Sandbox> merge_profiles(const std::vector<SeccompProfile>& profiles) {
  Sandbox merged;
  for (std::size_t i = 0; i < profiles.size(); ++i) {
    auto sb = to_sandbox(profiles[i]);
    if (!sb) return sb.error();
    if (i == 0) {
      merged.default_action = sb->default_action;
      merged.default_errno = sb->default_errno;
    } else if (sb->default_errno != merged.default_errno) {
      return Error{fmt::format("profile {} denies with {}, profile {} with {}: merged, one of them would "
                               "change; make them agree (defaultErrnoRet)",
                               profiles[0].source, errno_name(merged.default_errno), profiles[i].source,
                               errno_name(sb->default_errno)),
                   EINVAL};
    }
    for (const auto& [arch, names] : sb->allowed) merged.allowed[arch].insert(names.begin(), names.end());
  }
  return merged;
}

json to_docker_json(const SeccompProfile& p) {
  if (auto sb = to_sandbox(p)) return to_oci_json(*sb);
  json doc = {{"defaultAction", p.default_action.name}};
  if (takes_errno(p.default_action)) doc["defaultErrnoRet"] = p.default_action.errno_ret;
  doc["architectures"] = json::array();
  for (const auto& arch : p.arches) doc["architectures"].push_back(syscalls::oci_arch(arch));
  if (!p.flags.empty()) doc["flags"] = p.flags;
  doc["syscalls"] = json::array();
  for (const auto* rule : effective_rules(p)) {
    auto names = sorted_names(rule->names, p.arches);
    if (names.empty()) continue;
    json r = {{"names", names}, {"action", rule->action.name}};
    if (takes_errno(rule->action)) r["errnoRet"] = rule->action.errno_ret;
    if (!rule->args.empty()) r["args"] = args_json(rule->args);
    doc["syscalls"].push_back(std::move(r));
  }
  return doc;
}

Result<std::string> export_profile(const SeccompProfile& profile, ExportFormat format,
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
  // systemd's names (src/shared/seccomp-util.c, seccomp_arch_to_string).
  static const std::pair<std::string_view, std::string_view> kNames[] = {{"x86_64", "x86-64"},
                                                                         {"x86", "x86"},
                                                                         {"x32", "x32"},
                                                                         {"aarch64", "arm64"},
                                                                         {"arm", "arm"},
                                                                         {"mips", "mips"},
                                                                         {"mipsel", "mips-le"},
                                                                         {"mips64", "mips64"},
                                                                         {"mipsel64", "mips64-le"},
                                                                         {"mips64n32", "mips64-n32"},
                                                                         {"mipsel64n32", "mips64-le-n32"},
                                                                         {"ppc", "ppc"},
                                                                         {"ppc64", "ppc64"},
                                                                         {"ppc64le", "ppc64-le"},
                                                                         {"s390", "s390"},
                                                                         {"s390x", "s390x"},
                                                                         {"parisc", "parisc"},
                                                                         {"parisc64", "parisc64"},
                                                                         {"riscv64", "riscv64"},
                                                                         {"loongarch64", "loongarch64"}};
  for (const auto& [ours, theirs] : kNames)
    if (ours == arch) return std::string(theirs);
  return arch;
}

}  // namespace sandmine::profile
