#include "profile/docker_json.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>
#include <tuple>

#include "profile/capabilities.h"
#include "profile/explain.h"
#include "sys/files.h"
#include "syscalls/arch.h"
#include "syscalls/syscalls.h"

namespace sandmine::profile {

using nlohmann::json;

namespace {

constexpr std::string_view kActions[] = {"SCMP_ACT_KILL",  "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS",
                                         "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",       "SCMP_ACT_TRACE",
                                         "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",         "SCMP_ACT_NOTIFY"};
constexpr std::string_view kOperators[] = {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",       "SCMP_CMP_EQ",
                                           "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"};
constexpr std::string_view kFlags[] = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                       "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                                       "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};

constexpr int kMaxErrno = 4095;  // the kernel's MAX_ERRNO: larger values are not errors

template <std::size_t N>
bool one_of(const std::string_view (&list)[N], std::string_view s) {
  return std::find(std::begin(list), std::end(list), s) != std::end(list);
}

template <std::size_t N>
std::string listing(const std::string_view (&list)[N]) {
  return fmt::format("{}", fmt::join(list, ", "));
}

// Docker decides includes/excludes.arches against Go's GOARCH; profiles also
// use libseccomp's names there. Both spellings come from the architecture table.
bool arch_matches(std::string_view entry, std::string_view host_arch) {
  if (entry == host_arch) return true;
  const auto* a = syscalls::find_arch(host_arch);
  return a && !a->go.empty() && a->go == entry;
}

bool is_arch_spelling(std::string_view entry) {
  if (syscalls::is_known_arch(entry)) return true;
  const auto& all = syscalls::architectures();
  return std::any_of(all.begin(), all.end(), [&](const auto& a) { return !a.go.empty() && a.go == entry; });
}

std::optional<int> errno_by_name(const std::string& name) {
  for (int e = 1; e < 256; ++e)
    if (const char* n = strerrorname_np(e); n && name == n) return e;
  return std::nullopt;
}

struct KernelVersion {
  int major = 0;
  int minor = 0;
};

// "6.1" or "6.1.55"; anything else is not a version.
std::optional<KernelVersion> parse_kernel_version(const std::string& s) {
  KernelVersion v;
  char dot = 0;
  std::istringstream in(s);
  if (!(in >> v.major >> dot) || dot != '.' || !(in >> v.minor) || v.major < 0 || v.minor < 0)
    return std::nullopt;
  if (in.peek() != std::char_traits<char>::eof() && in.peek() != '.' && in.peek() != '-') return std::nullopt;
  return v;
}

// One entry of syscalls[] as written (before merging per syscall).
struct RawRule {
  std::vector<std::string> names;
  Action action;
  std::vector<ArgCondition> args;  ///< empty: unconditional
  std::string comment;
  std::string field;
};

// The rules per syscall, as libseccomp compiles them for one name: a rule
// with the default action changes nothing (libseccomp refuses it, runc skips
// it); the first unconditional rule wins over every other; without one, the
// conditional rules decide in order.
std::map<std::string, SyscallPolicy> merge_rules(const std::vector<RawRule>& rules,
                                                 const Action& default_action) {
  std::map<std::string, SyscallPolicy> out;
  for (const auto& rule : rules) {
    if (rule.action == default_action) continue;
    for (const auto& name : rule.names) {
      auto& policy = out[name];
      if (policy.action) continue;
      if (rule.args.empty()) {
        policy.action = rule.action;
        policy.rules.clear();
        policy.comment = rule.comment;
        policy.field = rule.field;
      } else {
        policy.rules.push_back({rule.action, rule.args, rule.comment, rule.field});
        if (policy.field.empty()) policy.field = rule.field;
      }
    }
  }
  return out;
}

// Reads one document; each check fails with "profile SOURCE: FIELD: what".
class Reader {
 public:
  Reader(std::string source, const HostFacts& host) : source_(std::move(source)), host_(host) {}

  Result<Profile> read(const json& doc) {
    Profile p;
    p.source = source_;
    if (!doc.is_object()) return fail("(document)", "expected a JSON object, got " + describe(doc));

    auto default_action = action_at(doc, "defaultAction", "defaultErrnoRet", "defaultErrno", "");
    if (!default_action) return default_action.error();
    p.default_action = *default_action;

    auto arches = architectures(doc);
    if (!arches) return arches.error();
    p.arches = *arches;

    if (auto st = flags(doc, p); !st) return st.error();
    if (auto st = sandmine_object(doc, p); !st) return st.error();

    if (doc.contains("syscalls") && !doc["syscalls"].is_null()) {
      const json& list = doc["syscalls"];
      if (!list.is_array()) return fail("syscalls", "expected an array, got " + describe(list));
      std::vector<RawRule> rules;
      std::set<std::string> left_out;
      for (std::size_t i = 0; i < list.size(); ++i) {
        std::string field = "syscalls[" + std::to_string(i) + "]";
        auto rule = syscall_rule(list[i], field, p.arches);
        if (!rule) return rule.error();
        if (!rule->has_value()) continue;
        RawRule& r = **rule;
        std::erase_if(r.names, [&](const std::string& name) {
          bool usable = std::any_of(p.arches.begin(), p.arches.end(),
                                    [&](const auto& a) { return syscalls::filterable_on(a, name); });
          if (!usable) left_out.insert(name);
          return !usable;
        });
        rules.push_back(std::move(r));
      }
      p.syscalls = merge_rules(rules, p.default_action);
      if (!left_out.empty())
        p.warnings.push_back(
            fmt::format("profile {}: {} syscall{} exist on none of its architectures ({}) and cannot be "
                        "allowed or denied there: {}",
                        source_, left_out.size(), left_out.size() == 1 ? "" : "s", fmt::join(p.arches, ", "),
                        fmt::join(left_out, ", ")));
    }
    return p;
  }

 private:
  Error fail(const std::string& field, const std::string& what) const {
    return Error{one_line("profile " + source_ + ": " + field + ": " + what), EINVAL};
  }

  // An optional string member ("" when absent or null).
  Result<std::string> string_at(const json& obj, const std::string& key, const std::string& field) const {
    if (!obj.contains(key) || obj[key].is_null()) return std::string();
    if (!obj[key].is_string()) return fail(field, "expected a string, got " + describe(obj[key]));
    return obj[key].get<std::string>();
  }

  // An optional array of strings (empty when absent or null).
  Result<std::vector<std::string>> strings_at(const json& obj, const std::string& key,
                                              const std::string& field) const {
    std::vector<std::string> out;
    if (!obj.contains(key) || obj[key].is_null()) return out;
    const json& list = obj[key];
    if (!list.is_array()) return fail(field, "expected an array of strings, got " + describe(list));
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_string())
        return fail(field + "[" + std::to_string(i) + "]", "expected a string, got " + describe(list[i]));
      out.push_back(list[i].get<std::string>());
    }
    return out;
  }

  // An optional unsigned integer member.
  Result<std::optional<std::uint64_t>> unsigned_at(const json& obj, const std::string& key,
                                                   const std::string& field) const {
    if (!obj.contains(key) || obj[key].is_null()) return std::optional<std::uint64_t>();
    const json& v = obj[key];
    if (v.is_number_unsigned()) return std::optional<std::uint64_t>(v.get<std::uint64_t>());
    if (v.is_number_integer()) {
      if (v.get<std::int64_t>() < 0) return fail(field, "expected a non-negative integer, got " + v.dump());
      return std::optional<std::uint64_t>(static_cast<std::uint64_t>(v.get<std::int64_t>()));
    }
    return fail(field, "expected a non-negative integer, got " + describe(v));
  }

  static std::string describe(const json& v) {
    if (v.is_string()) return "the string " + v.dump();
    if (v.is_number_float()) return "the fractional number " + v.dump();
    if (v.is_number()) return "the number " + v.dump();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_null()) return "null";
    return v.is_array() ? "an array" : "an object";
  }

  // An action and its errno: action_key, errno_key (number), errno_name_key
  // (Podman's "errno": "EPERM"), under prefix for field paths.
  Result<Action> action_at(const json& obj, const std::string& action_key, const std::string& errno_key,
                           const std::string& errno_name_key, const std::string& prefix) const {
    std::string field = prefix + action_key;
    if (!obj.contains(action_key) || obj[action_key].is_null())
      return fail(field, "missing (e.g. SCMP_ACT_ALLOW)");
    if (!obj[action_key].is_string())
      return fail(field, "expected a string, got " + describe(obj[action_key]));
    Action a;
    a.name = obj[action_key].get<std::string>();
    if (!one_of(kActions, a.name))
      return fail(field, "unknown action \"" + a.name + "\" (expected one of " + listing(kActions) + ")");

    auto number = unsigned_at(obj, errno_key, prefix + errno_key);
    if (!number) return number.error();
    auto name = string_at(obj, errno_name_key, prefix + errno_name_key);
    if (!name) return name.error();
    std::optional<int> errnum;
    if (*number) {
      if (**number > kMaxErrno)
        return fail(prefix + errno_key, "errno " + std::to_string(**number) + " is out of range (0 to 4095)");
      errnum = static_cast<int>(**number);
    } else if (!name->empty()) {
      errnum = errno_by_name(*name);
      if (!errnum) return fail(prefix + errno_name_key, "unknown errno name \"" + *name + "\" (e.g. EPERM)");
    }
    // runc returns EPERM when an errno-taking action gives none.
    if (a.name == "SCMP_ACT_ERRNO" || a.name == "SCMP_ACT_TRACE") a.errno_ret = errnum.value_or(EPERM);
    if (a.name == "SCMP_ACT_KILL") a.name = "SCMP_ACT_KILL_THREAD";  // the same action, one spelling
    return a;
  }

  Result<std::vector<std::string>> architectures(const json& doc) const {
    auto listed = strings_at(doc, "architectures", "architectures");
    if (!listed) return listed.error();
    std::vector<std::string> out;
    auto add = [&](const std::string& oci, const std::string& field) -> Status {
      auto arch = syscalls::arch_from_oci(oci);
      if (!arch) return fail(field, arch.error().message);
      if (std::find(out.begin(), out.end(), *arch) == out.end()) out.push_back(*arch);
      return {};
    };
    for (std::size_t i = 0; i < listed->size(); ++i)
      if (auto st = add((*listed)[i], "architectures[" + std::to_string(i) + "]"); !st) return st.error();

    if (doc.contains("archMap") && !doc["archMap"].is_null()) {
      const json& map = doc["archMap"];
      if (!map.is_array()) return fail("archMap", "expected an array, got " + describe(map));
      if (!listed->empty() && !map.empty())
        return fail("archMap",
                    "the profile has both architectures and archMap; Docker takes one or the other");
      // Docker takes the entry of the host's architecture and its
      // subarchitectures; every entry is checked all the same.
      for (std::size_t i = 0; i < map.size(); ++i) {
        std::string field = "archMap[" + std::to_string(i) + "]";
        if (!map[i].is_object()) return fail(field, "expected an object, got " + describe(map[i]));
        auto main = string_at(map[i], "architecture", field + ".architecture");
        if (!main) return main.error();
        if (main->empty()) return fail(field + ".architecture", "missing (e.g. SCMP_ARCH_X86_64)");
        auto main_arch = syscalls::arch_from_oci(*main);
        if (!main_arch) return fail(field + ".architecture", main_arch.error().message);
        auto subs = strings_at(map[i], "subArchitectures", field + ".subArchitectures");
        if (!subs) return subs.error();
        for (std::size_t j = 0; j < subs->size(); ++j)
          if (auto sub = syscalls::arch_from_oci((*subs)[j]); !sub)
            return fail(field + ".subArchitectures[" + std::to_string(j) + "]", sub.error().message);
        if (*main_arch != host_.arch) continue;
        if (auto st = add(*main, field + ".architecture"); !st) return st.error();
        for (std::size_t j = 0; j < subs->size(); ++j)
          if (auto st = add((*subs)[j], field + ".subArchitectures[" + std::to_string(j) + "]"); !st)
            return st.error();
      }
    }
    // No architecture at all: runc gives libseccomp an empty list, which
    // filters the native architecture only.
    if (out.empty()) out.push_back(host_.arch);
    return out;
  }

  Status flags(const json& doc, Profile& p) const {
    auto listed = strings_at(doc, "flags", "flags");
    if (!listed) return listed.error();
    for (std::size_t i = 0; i < listed->size(); ++i)
      if (!one_of(kFlags, (*listed)[i]))
        return fail("flags[" + std::to_string(i) + "]",
                    "unknown flag \"" + (*listed)[i] + "\" (expected one of " + listing(kFlags) + ")");
    p.flags = *listed;
    return {};
  }

  // An optional object of strings (empty when absent or null).
  Result<std::map<std::string, std::string>> string_map_at(const json& obj, const std::string& key,
                                                           const std::string& field) const {
    std::map<std::string, std::string> out;
    if (!obj.contains(key) || obj[key].is_null()) return out;
    const json& map = obj[key];
    if (!map.is_object()) return fail(field, "expected an object of strings, got " + describe(map));
    for (const auto& [k, v] : map.items()) {
      if (!v.is_string()) return fail(field + "." + k, "expected a string, got " + describe(v));
      out[k] = v.get<std::string>();
    }
    return out;
  }

  // sandmine's own top-level object (Docker, Podman and runc ignore it):
  // what the profile was mined from, or which recording run it is for.
  Status sandmine_object(const json& doc, Profile& p) const {
    if (!doc.contains("sandmine") || doc["sandmine"].is_null()) return {};
    const json& own = doc["sandmine"];
    if (!own.is_object()) return fail("sandmine", "expected an object, got " + describe(own));
    auto recording = string_at(own, "recording", "sandmine.recording");
    if (!recording) return recording.error();
    p.recording = *recording;
    if (!own.contains("minedFrom") || own["minedFrom"].is_null()) return {};
    const json& from = own["minedFrom"];
    const std::string at = "sandmine.minedFrom";
    if (!from.is_object()) return fail(at, "expected an object, got " + describe(from));
    MinedFrom m;
    for (auto [key, out] :
         {std::pair{"name", &m.name}, std::pair{"engine", &m.engine}, std::pair{"image", &m.image},
          std::pair{"configFilesNote", &m.config_files_note}}) {
      auto v = string_at(from, key, at + "." + key);
      if (!v) return v.error();
      *out = *v;
    }
    auto command = strings_at(from, "command", at + ".command");
    if (!command) return command.error();
    m.command = *command;
    auto env = string_map_at(from, "env", at + ".env");
    if (!env) return env.error();
    m.env = *env;
    auto files = string_map_at(from, "configFiles", at + ".configFiles");
    if (!files) return files.error();
    m.config_files = *files;
    p.mined_from = std::move(m);
    return {};
  }

  // Whether a rule's includes or excludes (key) let it apply on this host.
  Result<bool> condition_holds(const json& rule, const std::string& key, const std::string& field) const {
    if (!rule.contains(key) || rule[key].is_null()) return true;
    const json& cond = rule[key];
    if (!cond.is_object()) return fail(field, "expected an object, got " + describe(cond));
    bool include = key == "includes";
    auto arches = strings_at(cond, "arches", field + ".arches");
    if (!arches) return arches.error();
    for (std::size_t i = 0; i < arches->size(); ++i)
      if (!is_arch_spelling((*arches)[i]))
        return fail(field + ".arches[" + std::to_string(i) + "]",
                    "unknown architecture \"" + (*arches)[i] + "\" (e.g. amd64 or x86_64)");
    auto caps = strings_at(cond, "caps", field + ".caps");
    if (!caps) return caps.error();
    auto min_kernel = string_at(cond, "minKernel", field + ".minKernel");
    if (!min_kernel) return min_kernel.error();
    std::optional<KernelVersion> min;
    if (!min_kernel->empty()) {
      min = parse_kernel_version(*min_kernel);
      if (!min)
        return fail(field + ".minKernel", "\"" + *min_kernel + "\" is not a kernel version (e.g. 4.8)");
    }

    bool arch_listed = std::any_of(arches->begin(), arches->end(),
                                   [&](const auto& a) { return arch_matches(a, host_.arch); });
    bool kernel_at_least =
        min && std::pair(host_.kernel_major, host_.kernel_minor) >= std::pair(min->major, min->minor);
    if (include) {
      // Docker: every listed capability must be held, the host's
      // architecture listed, the kernel at least minKernel.
      if (!arches->empty() && !arch_listed) return false;
      for (const auto& c : *caps)
        if (!host_.capabilities.count(c)) return false;
      if (min && !kernel_at_least) return false;
      return true;
    }
    // Excluded when the host's architecture is listed, any listed capability
    // is held, or the kernel is at least minKernel.
    if (arch_listed) return false;
    for (const auto& c : *caps)
      if (host_.capabilities.count(c)) return false;
    if (min && kernel_at_least) return false;
    return true;
  }

  // One entry of syscalls[]: the rule, or none when it does not apply here.
  Result<std::optional<RawRule>> syscall_rule(const json& entry, const std::string& field,
                                              const std::vector<std::string>& arches) const {
    if (!entry.is_object()) return fail(field, "expected an object, got " + describe(entry));
    RawRule rule;
    rule.field = field;

    auto names = strings_at(entry, "names", field + ".names");
    if (!names) return names.error();
    auto name = string_at(entry, "name", field + ".name");
    if (!name) return name.error();
    bool has_names = entry.contains("names") && !entry["names"].is_null();
    if (has_names && !name->empty())
      return fail(field, "has both name and names; Docker takes one or the other");
    if (!has_names && name->empty()) return fail(field, "has no names (e.g. \"names\": [\"read\"])");
    if (has_names && names->empty()) return fail(field + ".names", "is empty");
    rule.names = has_names ? *names : std::vector<std::string>{*name};
    for (std::size_t i = 0; i < rule.names.size(); ++i)
      if (!syscalls::known_anywhere(rule.names[i]))
        return fail(has_names ? field + ".names[" + std::to_string(i) + "]" : field + ".name",
                    fmt::format("unknown syscall \"{}\" on {}", rule.names[i], fmt::join(arches, ", ")));

    auto action = action_at(entry, "action", "errnoRet", "errno", field + ".");
    if (!action) return action.error();
    rule.action = *action;

    auto comment = string_at(entry, "comment", field + ".comment");
    if (!comment) return comment.error();
    rule.comment = *comment;

    if (entry.contains("args") && !entry["args"].is_null()) {
      const json& args = entry["args"];
      if (!args.is_array()) return fail(field + ".args", "expected an array, got " + describe(args));
      for (std::size_t i = 0; i < args.size(); ++i) {
        std::string at = field + ".args[" + std::to_string(i) + "]";
        if (!args[i].is_object()) return fail(at, "expected an object, got " + describe(args[i]));
        ArgCondition c;
        auto index = unsigned_at(args[i], "index", at + ".index");
        if (!index) return index.error();
        if (!*index) return fail(at + ".index", "missing (0 to 5)");
        if (**index > 5) return fail(at + ".index", std::to_string(**index) + " is out of range (0 to 5)");
        c.index = static_cast<unsigned>(**index);
        auto value = unsigned_at(args[i], "value", at + ".value");
        if (!value) return value.error();
        c.value = value->value_or(0);
        auto value_two = unsigned_at(args[i], "valueTwo", at + ".valueTwo");
        if (!value_two) return value_two.error();
        c.value_two = value_two->value_or(0);
        auto op = string_at(args[i], "op", at + ".op");
        if (!op) return op.error();
        if (op->empty()) return fail(at + ".op", "missing (e.g. SCMP_CMP_EQ)");
        if (!one_of(kOperators, *op))
          return fail(at + ".op",
                      "unknown operator \"" + *op + "\" (expected one of " + listing(kOperators) + ")");
        c.op = *op;
        rule.args.push_back(c);
      }
    }

    auto included = condition_holds(entry, "includes", field + ".includes");
    if (!included) return included.error();
    auto not_excluded = condition_holds(entry, "excludes", field + ".excludes");
    if (!not_excluded) return not_excluded.error();
    if (!*included || !*not_excluded) return std::optional<RawRule>();
    return std::optional<RawRule>(std::move(rule));
  }

  std::string source_;
  const HostFacts& host_;
};

}  // namespace

HostFacts HostFacts::current() {
  HostFacts h;
  h.arch = syscalls::native_arch();
  for (auto cap : kDefaultCapabilities) h.capabilities.insert(std::string(cap));
  if (auto release = sys::read_file("/proc/sys/kernel/osrelease"))
    if (auto v = parse_kernel_version(*release)) {
      h.kernel_major = v->major;
      h.kernel_minor = v->minor;
    }
  return h;
}

Result<Profile> parse_profile(const json& doc, const std::string& source, const HostFacts& host) {
  return Reader(source, host).read(doc);
}

Result<Profile> read_profile(const std::string& path) {
  auto text = sys::read_file(path);
  if (!text)
    return Error{"profile " + path + ": cannot read it: " + std::strerror(text.error().errnum),
                 text.error().errnum};
  json doc;
  try {
    doc = json::parse(*text);
  } catch (const json::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 3, column 5: ...";
    // a number too large for a double is out_of_range (406), not a parse_error.
    std::string what = e.what();
    if (auto bracket = what.find("] "); what.starts_with("[json.exception.") && bracket != std::string::npos)
      what.erase(0, bracket + 2);
    return Error{one_line("profile " + path + ": not valid JSON: " + what), EINVAL};
  }
  return parse_profile(doc, path);
}

namespace {

json action_json(json rule, const Action& a) {
  rule["action"] = a.name;
  if (a.takes_errno()) rule["errnoRet"] = a.errno_ret;
  return rule;
}

json args_json(const std::vector<ArgCondition>& args) {
  json out = json::array();
  for (const auto& a : args)
    out.push_back({{"index", a.index}, {"value", a.value}, {"valueTwo", a.value_two}, {"op", a.op}});
  return out;
}

// Groups of unconditional names: plain allows first, then by comment, then
// other actions.
struct GroupKey {
  bool allows = true;
  std::string action;
  int errno_ret = 0;
  std::string comment;
  auto operator<=>(const GroupKey& o) const {
    if (allows != o.allows) return allows ? std::strong_ordering::less : std::strong_ordering::greater;
    return std::tie(action, errno_ret, comment) <=> std::tie(o.action, o.errno_ret, o.comment);
  }
};

}  // namespace

json to_docker_json(const Profile& p) {
  json doc = {{"defaultAction", p.default_action.name}};
  if (p.default_action.takes_errno()) doc["defaultErrnoRet"] = p.default_action.errno_ret;
  doc["architectures"] = json::array();
  for (const auto& arch : p.arches) doc["architectures"].push_back(syscalls::oci_arch(arch));
  if (!p.flags.empty()) doc["flags"] = p.flags;
  doc["syscalls"] = json::array();

  std::map<GroupKey, std::pair<Action, std::vector<std::string>>> groups;
  for (const auto& [name, policy] : p.syscalls) {
    if (!policy.action || *policy.action == p.default_action) continue;
    GroupKey key{policy.action->allows(), policy.action->name, policy.action->errno_ret, policy.comment};
    auto& g = groups[key];
    g.first = *policy.action;
    g.second.push_back(name);  // in name order: the map is sorted
  }
  for (const auto& [key, group] : groups) {
    json rule = action_json({{"names", group.second}}, group.first);
    if (!key.comment.empty()) rule["comment"] = key.comment;
    doc["syscalls"].push_back(std::move(rule));
  }
  for (const auto& [name, policy] : p.syscalls) {
    if (policy.action) continue;
    for (const auto& r : policy.rules) {
      if (r.action == p.default_action) continue;
      json rule = action_json({{"names", {name}}}, r.action);
      rule["args"] = args_json(r.args);
      if (!r.comment.empty()) rule["comment"] = r.comment;
      doc["syscalls"].push_back(std::move(rule));
    }
  }
  if (p.mined_from || !p.recording.empty()) {
    json own = json::object();
    if (!p.recording.empty()) own["recording"] = p.recording;
    if (p.mined_from) own["minedFrom"] = mined_from_json(*p.mined_from);
    doc["sandmine"] = std::move(own);
  }
  return doc;
}

}  // namespace sandmine::profile
