#include "profile/export.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <seccomp.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "profile/allowed_values.h"
#include "profile/docker_json.h"
#include "profile/explain.h"
#include "syscalls/arch.h"
#include "syscalls/argument_names.h"
#include "syscalls/syscalls.h"
#include "util/csv.h"

extern const char kSystemdNamespacesCsv[];

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

// A namespace type of RestrictNamespaces= and its CLONE_NEW* bit
// (data/systemd_namespaces.csv).
struct NamespaceType {
  std::uint64_t flag = 0;
  std::string name;
};

const std::vector<NamespaceType>& systemd_namespaces() {
  static const std::vector<NamespaceType> table = [] {
    const std::string name = "data/systemd_namespaces.csv";
    auto rows = parse_csv(kSystemdNamespacesCsv, name);
    if (!rows) {
      std::fprintf(stderr, "sandmine: built with a broken table: %s\n", rows.error().message.c_str());
      std::abort();
    }
    std::vector<NamespaceType> out;
    for (auto& r : *rows) {
      auto flag = syscalls::value_in("clone_flag", r["flag"]);
      if (!flag) {
        std::fprintf(stderr, "sandmine: built with a broken table: %s: %s is no clone flag\n", name.c_str(),
                     r["flag"].c_str());
        std::abort();
      }
      out.push_back({*flag, r["type"]});
    }
    return out;
  }();
  return table;
}

bool allowed_at_all(const Profile& p, const std::string& name) {
  auto it = p.syscalls.find(name);
  if (it == p.syscalls.end()) return false;
  if (it->second.action) return it->second.action->allows();
  return std::any_of(it->second.rules.begin(), it->second.rules.end(),
                     [](const ArgRule& r) { return r.action.allows(); });
}

bool decided_by_rules(const Profile& p, const std::string& name) {
  auto it = p.syscalls.find(name);
  return it != p.syscalls.end() && !it->second.action && !it->second.rules.empty();
}

// The address families socket's rules allow, when every allowing rule pins
// the domain to one named family; else why not.
Result<std::vector<std::string>> socket_families(const Profile& p) {
  std::set<std::uint64_t> families;
  for (const auto& rule : p.syscalls.at("socket").rules) {
    if (!rule.action.allows()) continue;
    std::optional<std::uint64_t> family;
    for (const auto& c : rule.args) {
      if (c.index != 0) continue;
      if (c.op == "SCMP_CMP_EQ")
        family = c.value;
      else if (c.op == "SCMP_CMP_MASKED_EQ" && (c.value & 0xffffffffu) == 0xffffffffu)
        family = c.value_two;
      else
        return Error{"a rule compares the domain with " + c.op + " under another mask"};
    }
    if (!family) return Error{"a rule allows every domain"};
    families.insert(*family & 0xffffffffu);
  }
  std::vector<std::string> names;
  for (auto f : families) {
    auto n = syscalls::name_in("family", f);
    if (!n) return Error{fmt::format("family {:#x} has no name", f)};
    names.push_back(*n);
  }
  return names;
}

// The CLONE_NEW* bits a call of name may carry under its policy: flags is
// the argument's index; setns's nstype names one kind (0: any).
std::uint64_t namespace_bits(const Profile& p, const std::string& name, unsigned flags) {
  const std::uint64_t all = [] {
    std::uint64_t b = 0;
    for (const auto& n : systemd_namespaces()) b |= n.flag;
    return b;
  }();
  if (!allowed_at_all(p, name)) return 0;
  const auto& policy = p.syscalls.at(name);
  if (policy.action) return all;
  std::uint64_t bits = 0;
  for (const auto& rule : policy.rules) {
    if (!rule.action.allows()) continue;
    std::uint64_t may = all;  // the bits a call this rule lets through may have
    for (const auto& c : rule.args) {
      if (c.index != flags) continue;
      std::uint64_t v = c.op == "SCMP_CMP_MASKED_EQ" ? c.value_two : c.value;
      if (name == "setns") {
        if ((c.op == "SCMP_CMP_EQ" || c.op == "SCMP_CMP_MASKED_EQ") && v != 0) may &= v;
      } else if (c.op == "SCMP_CMP_MASKED_EQ") {
        may &= ~c.value | c.value_two;  // a bit outside the mask is free
      } else if (c.op == "SCMP_CMP_EQ") {
        may &= v;
      }
    }
    bits |= may;
  }
  return bits & all;
}

std::string wrap_comment(const std::string& text, const std::string& first, const std::string& rest) {
  constexpr std::size_t kWidth = 100;
  std::string out, line = first;
  std::size_t start = 0;
  bool empty = true;
  while (start < text.size()) {
    auto space = text.find(' ', start);
    std::string word = text.substr(start, space == std::string::npos ? std::string::npos : space - start);
    start = space == std::string::npos ? text.size() : space + 1;
    if (!empty && line.size() + 1 + word.size() > kWidth) {
      out += line + "\n";
      line = rest;
      empty = true;
    }
    line += (empty ? "" : " ") + word;
    empty = false;
  }
  return out + line + "\n";
}

Result<std::string> systemd_settings(const Profile& p, std::vector<std::string>* warnings) {
  // systemd's filter allows names: every name the profile allows for some
  // values is allowed for all, and clone3's ENOSYS answer becomes an allow
  // (an allow-list gives every name it leaves out one errno).
  Profile names_only = p;
  std::vector<std::string> answered;
  for (auto& [name, policy] : names_only.syscalls) {
    if (policy.action && policy.action->answers_missing()) {
      answered.push_back(name);
      policy.action = Action::allow();
    } else if (!policy.action && std::all_of(policy.rules.begin(), policy.rules.end(),
                                             [](const ArgRule& r) { return r.action.allows(); })) {
      policy.action = Action::allow();
      policy.rules.clear();
    }
  }
  if (auto plain = plain_allow_list(names_only); !plain)
    return Error{"systemd's SystemCallFilter= takes a plain allow-list: " + plain.error().message, EINVAL};
  std::vector<std::string> arches;
  for (const auto& arch : p.arches) arches.push_back(systemd_arch(arch));

  // What the argument rules map to.
  std::optional<std::vector<std::string>> families;
  std::string families_not;
  if (decided_by_rules(p, "socket") && allowed_at_all(p, "socket")) {
    auto f = socket_families(p);
    if (f)
      families = *f;
    else
      families_not = f.error().message;
  }
  std::optional<std::vector<std::string>> namespaces;
  const std::vector<std::pair<std::string, unsigned>> ns_calls = {{"clone", 0}, {"setns", 1}, {"unshare", 0}};
  if (std::any_of(ns_calls.begin(), ns_calls.end(),
                  [&](const auto& c) { return decided_by_rules(p, c.first); })) {
    std::uint64_t bits = 0;
    for (const auto& [name, index] : ns_calls) bits |= namespace_bits(p, name, index);
    std::vector<std::string> types;
    for (const auto& n : systemd_namespaces())
      if (bits & n.flag) types.push_back(n.name);
    std::sort(types.begin(), types.end());
    if (types.size() < systemd_namespaces().size()) namespaces = types;
  }

  std::vector<std::string> kept, dropped, dropped_names;
  if (families) kept.push_back(fmt::format("RestrictAddressFamilies= from socket's domain rules"));
  if (namespaces)
    kept.push_back(
        "RestrictNamespaces= from the namespace flags clone, unshare and setns may use (systemd allows any "
        "combination of the listed types, in any of the three)");
  for (const auto& s : allowed_values(p).syscalls) {
    if (!allowed_at_all(p, s.syscall)) continue;
    std::vector<std::string> columns;
    for (const auto& c : s.columns) {
      bool mapped = (s.syscall == "socket" && families && c.index == 0) ||
                    (namespaces &&
                     ((s.syscall == "clone" && c.index == 0) || (s.syscall == "unshare" && c.index == 0) ||
                      (s.syscall == "setns" && c.index == 1)));
      if (!mapped) columns.push_back(c.text);
    }
    if (columns.empty()) continue;
    std::string why = s.syscall == "socket" && !families_not.empty()
                          ? " (no RestrictAddressFamilies=: " + families_not + ")"
                          : "";
    dropped.push_back(fmt::format("{} {}: {} rule{}{}", s.syscall,
                                  fmt::format("{}", fmt::join(columns, ", ")), s.rules.size(),
                                  s.rules.size() == 1 ? "" : "s", why));
    dropped_names.push_back(s.syscall);
  }
  // RestrictNamespaces= has no time namespace: a rule keeping CLONE_NEWTIME
  // out of unshare is lost.
  if (namespaces && decided_by_rules(p, "unshare")) {
    const auto* spec = syscalls::argument_spec("unshare");
    auto time = syscalls::value_in("clone_flag", "CLONE_NEWTIME");
    if (spec && time && !spec->rules.empty() && (spec->rules[0].mask & *time)) {
      dropped.push_back("unshare CLONE_NEWTIME: RestrictNamespaces= has no time namespace type");
      if (std::find(dropped_names.begin(), dropped_names.end(), "unshare") == dropped_names.end())
        dropped_names.push_back("unshare");
    }
  }

  std::string out = fmt::format(
      "# systemd settings (systemd.exec(5)) from {}\n"
      "# for a unit's [Service] section or a drop-in such as /etc/systemd/system/UNIT.d/seccomp.conf.\n"
      "# systemd always lets through the few calls a process needs to start and end (execve, exit,\n"
      "# rt_sigreturn, ...).\n",
      p.source);
  bool has_rules = !kept.empty() || !dropped.empty() || !answered.empty();
  if (has_rules) {
    out +=
        "# SystemCallFilter= takes names only: a name the profile allows for some argument values is\n"
        "# allowed here for all of them.\n";
    for (const auto& k : kept) out += wrap_comment(k, "# Kept: ", "#   ");
    if (!dropped.empty()) {
      out += "# Dropped (every value of these arguments is let through):\n";
      for (const auto& d : dropped) out += "#   " + d + "\n";  // one line each, whatever its length
    }
    for (const auto& a : answered)
      out +=
          wrap_comment(a + ": the profile answers ENOSYS so the C library falls back to clone; an allow-list "
                           "cannot give one name an errno of its own, so it is allowed by name, whatever its "
                           "flags.",
                       "# ", "# ");
    if (warnings) {
      if (!dropped_names.empty())
        warnings->push_back(fmt::format(
            "systemd cannot express the argument rules of {} and drops them (SystemCallFilter= allows "
            "names only); they are listed in the output's comments",
            fmt::join(dropped_names, ", ")));
      for (const auto& a : answered)
        warnings->push_back(a + " is allowed by name: systemd cannot answer it ENOSYS in an allow-list");
    }
  }
  out += fmt::format("[Service]\nSystemCallArchitectures={}\n", fmt::join(arches, " "));
  // Repeated SystemCallFilter= allow-lists add up, so long lists wrap.
  constexpr std::size_t kWidth = 100;
  const std::string key = "SystemCallFilter=";
  std::string line;
  for (const auto& name : allowed_names(names_only)) {
    if (!line.empty() && key.size() + line.size() + 1 + name.size() > kWidth) {
      out += key + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + name;
  }
  if (!line.empty()) out += key + line + "\n";
  out += "SystemCallErrorNumber=" + errno_name(p.default_action.errno_ret) + "\n";
  if (families)
    out += "RestrictAddressFamilies=" +
           (families->empty() ? std::string("none") : fmt::format("{}", fmt::join(*families, " "))) + "\n";
  if (namespaces)
    out += "RestrictNamespaces=" +
           (namespaces->empty() ? std::string("yes") : fmt::format("{}", fmt::join(*namespaces, " "))) + "\n";
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
      return systemd_settings(profile, options.warnings);
  }
  return Error{"unknown format", EINVAL};
}

std::string systemd_arch(const std::string& arch) {
  if (arch == syscalls::native_arch()) return "native";
  const auto* a = syscalls::find_arch(arch);
  return a && !a->systemd.empty() ? a->systemd : arch;
}

}  // namespace sandmine::profile
