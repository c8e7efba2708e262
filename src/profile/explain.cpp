#include "profile/explain.h"

#include "profile/docker_json.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <seccomp.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "syscalls/argument_names.h"
#include "syscalls/arguments.h"
#include "syscalls/syscalls.h"
#include "util/csv.h"

extern const char kDockerDefaultX86_64Csv[];
extern const char kRiskySyscallsCsv[];
extern const char kCvesCsv[];

namespace sandmine::profile {

using nlohmann::json;

namespace {

// A table compiled into the binary: a broken one is a bug in this build, not user input.
std::vector<CsvRow> embedded_table(const char* text, const std::string& name) {
  auto rows = parse_csv(text, name);
  if (!rows) {
    std::cerr << "sandmine: built with a broken table: " << rows.error().message << "\n";
    std::abort();
  }
  return std::move(rows).value();
}

[[noreturn]] void broken_row(const std::string& table, std::size_t row, const std::string& what) {
  std::cerr << "sandmine: built with a broken table: " << table << ":" << row + 2 << ": " << what << "\n";
  std::abort();
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == sep)
      out.emplace_back();
    else
      out.back() += c;
  }
  return out;
}

constexpr const char* kCompatArches[] = {"x86", "x32"};

// Whether a filter for arch can name the syscall (syscalls::filterable_on).
// libseccomp gives the x86 socket calls pseudo numbers, yet names their real
// numbers, so allowed_set() has them by name.
using syscalls::filterable_on;

// Whether some value of the argument a need names, meeting it, may satisfy c
// (a condition on another argument may hold whatever the need).
bool may_hold(const ArgCondition& c, const ArgumentNeed& need) {
  if (c.index != need.index) return true;
  if (c.op == "SCMP_CMP_EQ") return (c.value & need.mask) == need.value;
  if (c.op == "SCMP_CMP_MASKED_EQ")
    return (c.value_two & ~c.value) == 0 && ((c.value_two ^ need.value) & c.value & need.mask) == 0;
  // NE, LT, LE, GT, GE: some value with the needed bits may hold them.
  return true;
}

// The set of names a value of rule prints with ("enum:family" -> "family"), empty for none.
std::string name_set(const syscalls::ArgumentRule& rule) {
  auto colon = rule.names.find(':');
  return colon == std::string::npos ? "" : rule.names.substr(colon + 1);
}

}  // namespace

Result<ArgumentNeed> parse_argument_need(std::string_view text) {
  std::string t(text);
  auto bad = [&](const std::string& why) {
    return Error{"argument need \"" + t + "\": " + why + " (NAME.ARGUMENT=VALUE or NAME.ARGUMENT&FLAG)"};
  };
  auto dot = t.find('.');
  auto op = t.find_first_of("=&");
  if (dot == std::string::npos || op == std::string::npos || op < dot) return bad("no NAME.ARGUMENT");
  ArgumentNeed need{.syscall = t.substr(0, dot), .text = t};
  std::string argument = t.substr(dot + 1, op - dot - 1), value = t.substr(op + 1);
  const auto* spec = syscalls::argument_spec(need.syscall);
  if (!spec) return bad(need.syscall + " has no mined arguments in data/argument_rules.csv");
  const syscalls::ArgumentRule* rule = nullptr;
  for (const auto& r : spec->rules)
    if (r.argument == argument && r.struct_offset < 0) rule = &r;
  if (!rule) return bad(need.syscall + " has no argument " + argument + " a filter can compare");
  auto set = name_set(*rule);
  std::optional<std::uint64_t> v;
  if (!set.empty() && set.find('{') == std::string::npos) v = syscalls::value_in(set, value);
  if (!v) {
    char* end = nullptr;
    errno = 0;
    unsigned long long n = value.empty() ? 0 : std::strtoull(value.c_str(), &end, 0);
    if (value.empty() || errno != 0 || *end != '\0')
      return bad("\"" + value + "\" is neither a name nor a number");
    v = n;
  }
  need.index = static_cast<unsigned>(rule->index);
  need.value = *v;
  need.mask = t[op] == '&' ? *v : rule->record_mask();
  if ((need.value & ~need.mask) != 0 || (t[op] == '&' && need.value == 0))
    return bad("the value has bits the argument is not compared under");
  return need;
}

std::vector<ArgumentNeed> KernelCve::arguments_of(const std::string& name) const {
  std::vector<ArgumentNeed> out;
  for (const auto& a : arguments)
    if (a.syscall == name) out.push_back(a);
  return out;
}

std::string_view to_string(Allowance a) {
  switch (a) {
    case Allowance::yes:
      return "yes";
    case Allowance::conditional:
      return "conditional";
    case Allowance::no:
      break;
  }
  return "no";
}

const std::vector<DockerDefaultEntry>& docker_default_x86_64() {
  static const std::vector<DockerDefaultEntry> table = [] {
    const std::string name = "data/docker_default_x86_64.csv";
    auto rows = embedded_table(kDockerDefaultX86_64Csv, name);
    std::vector<DockerDefaultEntry> out;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      auto& r = rows[i];
      if (r["conditional"] != "yes" && r["conditional"] != "no")
        broken_row(name, i, "conditional is \"" + r["conditional"] + "\", not yes or no");
      out.push_back({r["name"], r["conditional"] == "yes", r["source"]});
    }
    return out;
  }();
  return table;
}

const std::vector<RiskySyscall>& risky_syscalls() {
  static const std::vector<RiskySyscall> table = [] {
    std::vector<RiskySyscall> out;
    for (auto& r : embedded_table(kRiskySyscallsCsv, "data/risky_syscalls.csv"))
      out.push_back({r["name"], r["category"], r["reason"], r["source"]});
    return out;
  }();
  return table;
}

const std::vector<KernelCve>& kernel_cves() {
  static const std::vector<KernelCve> table = [] {
    const std::string name = "data/cves.csv";
    auto rows = embedded_table(kCvesCsv, name);
    std::vector<KernelCve> out;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      auto& r = rows[i];
      KernelCve cve{r["cve"], {}, false, r["description"], r["source"]};
      for (const auto& requirement : split(r["syscalls"], '|')) {
        cve.needs.push_back(split(requirement, '/'));
        for (const auto& n : cve.needs.back())
          if (n.empty()) broken_row(name, i, "an empty syscall name in \"" + r["syscalls"] + "\"");
      }
      if (r["abi"] != "native" && r["abi"] != "compat")
        broken_row(name, i, "abi is \"" + r["abi"] + "\", not native or compat");
      cve.compat = r["abi"] == "compat";
      if (!r["arguments"].empty())
        for (const auto& term : split(r["arguments"], ' ')) {
          auto need = parse_argument_need(term);
          if (!need) broken_row(name, i, need.error().message);
          bool named = false;
          for (const auto& alternatives : cve.needs)
            named = named ||
                    std::find(alternatives.begin(), alternatives.end(), need->syscall) != alternatives.end();
          if (!named) broken_row(name, i, "argument need " + term + " on a syscall the path does not list");
          cve.arguments.push_back(std::move(*need));
        }
      out.push_back(std::move(cve));
    }
    return out;
  }();
  return table;
}

Allowance ArchSurface::of(const std::string& name) const {
  if (allowed.count(name)) return Allowance::yes;
  if (conditional.count(name)) return Allowance::conditional;
  return Allowance::no;
}

Allowance ArchSurface::of(const std::string& name, const std::vector<ArgumentNeed>& needs) const {
  Allowance a = of(name);
  if (a != Allowance::conditional || needs.empty()) return a;
  auto it = rules.find(name);
  if (it == rules.end()) return a;  // no rules to judge the values by
  if (default_allows) return Allowance::yes;
  for (const auto& rule : it->second)
    if (rule.action.allows() && std::all_of(rule.args.begin(), rule.args.end(), [&](const ArgCondition& c) {
          return std::all_of(needs.begin(), needs.end(),
                             [&](const ArgumentNeed& n) { return may_hold(c, n); });
        }))
      return Allowance::yes;
  return Allowance::no;
}

std::set<std::string> ArchSurface::names() const {
  std::set<std::string> out = allowed;
  out.insert(conditional.begin(), conditional.end());
  return out;
}

Allowance Surface::of(const std::string& arch, const std::string& name) const {
  auto it = arches.find(arch);
  return it == arches.end() ? Allowance::no : it->second.of(name);
}

Allowance Surface::of(const std::string& arch, const std::string& name,
                      const std::vector<ArgumentNeed>& needs) const {
  auto it = arches.find(arch);
  return it == arches.end() ? Allowance::no : it->second.of(name, needs);
}

Surface surface_of(const Profile& profile) {
  Surface s;
  for (const auto& arch : profile.arches) s.arches[arch];
  for (const auto& key : allowed_set(profile))
    if (auto name = syscalls::name_of(key.arch, key.nr)) s.arches[key.arch].allowed.insert(*name);
  // Names that rules with argument conditions decide: let through for some
  // values when such a rule allows, or when the default does.
  std::set<std::string> conditional;
  for (const auto& [name, policy] : profile.syscalls)
    if (conditionally_allowed(profile, policy)) conditional.insert(name);
  for (auto& [arch, surface] : s.arches) {
    surface.default_allows = profile.default_action.allows();
    for (const auto& name : conditional)
      if (filterable_on(arch, name)) {
        surface.conditional.insert(name);
        surface.rules[name] = profile.syscalls.at(name).rules;
      }
  }
  return s;
}

Allowance reachable(const KernelCve& cve, const Surface& surface) {
  std::vector<std::string> arches;
  if (cve.compat)
    arches.assign(std::begin(kCompatArches), std::end(kCompatArches));
  else
    arches.push_back("x86_64");
  Allowance best = Allowance::no;
  for (const auto& arch : arches) {
    Allowance path = Allowance::yes;  // the weakest of the requirements
    for (const auto& alternatives : cve.needs) {
      Allowance met = Allowance::no;  // the strongest of the alternatives
      for (const auto& name : alternatives)
        met = std::max(met, surface.of(arch, name, cve.arguments_of(name)));
      path = std::min(path, met);
    }
    best = std::max(best, path);
  }
  return best;
}

Baseline docker_baseline() {
  Baseline b{"docker", "Docker 20.10 default", "data/docker_default_x86_64.csv", Surface{}, ""};
  for (const char* arch : {"x86_64", "x86", "x32"}) {
    auto& surface = b.surface->arches[arch];
    for (const auto& e : docker_default_x86_64())
      if (filterable_on(arch, e.name)) (e.conditional ? surface.conditional : surface.allowed).insert(e.name);
  }
  return b;
}

Baseline podman_baseline(const std::string& path) {
  Baseline b{"podman", "Podman/CRI-O default", path, std::nullopt, ""};
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    b.unavailable = path + " is not installed (containers-common installs it)";
    return b;
  }
  auto p = read_profile(path);
  if (!p) {
    b.unavailable = p.error().message;
    return b;
  }
  b.surface = surface_of(*p);
  return b;
}

Comparison compare_x86_64(const Surface& profile, const Surface& baseline) {
  auto names_of = [](const Surface& s) {
    auto it = s.arches.find("x86_64");
    return it == s.arches.end() ? std::set<std::string>() : it->second.names();
  };
  auto p = names_of(profile), b = names_of(baseline);
  Comparison c;
  c.profile_count = p.size();
  c.baseline_count = b.size();
  for (const auto& n : p) {
    if (b.count(n))
      ++c.common;
    else
      c.only_in_profile.insert(n);
  }
  c.share = b.empty() ? 0 : static_cast<double>(p.size()) / static_cast<double>(b.size());
  return c;
}

Explanation explain(const Profile& profile, std::vector<Baseline> baselines) {
  return {profile.source,      profile.default_action, profile.arches,     profile.warnings,
          surface_of(profile), std::move(baselines),   profile.mined_from, allowed_values(profile)};
}

std::vector<std::string> mined_from_lines(const MinedFrom& m) {
  std::vector<std::string> out{
      fmt::format("name: {}", m.name),
      fmt::format("engine: {}", m.engine),
      fmt::format("image: {}", m.image),
      fmt::format("command: {}", json(m.command).dump()),
  };
  out.push_back(fmt::format("environment: {} variables (values as SHA-256)", m.env.size()));
  for (const auto& [name, digest] : m.env) out.push_back(fmt::format("  {} {}", name, digest));
  out.push_back(fmt::format("configuration files read at start: {}", m.config_files.size()));
  for (const auto& [path, digest] : m.config_files) out.push_back(fmt::format("  {} {}", path, digest));
  if (!m.config_files_note.empty()) out.push_back("  (incomplete: " + m.config_files_note + ")");
  return out;
}

json mined_from_json(const MinedFrom& m) {
  json j = {{"name", m.name},       {"engine", m.engine}, {"image", m.image},
            {"command", m.command}, {"env", json(m.env)}, {"configFiles", json(m.config_files)}};
  if (!m.config_files_note.empty()) j["configFilesNote"] = m.config_files_note;
  return j;
}

namespace {

// Left-aligned columns two spaces apart, indented; the first row is the header.
std::string table(const std::vector<std::vector<std::string>>& rows, const std::string& indent = "  ") {
  std::vector<std::size_t> width;
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  std::string out;
  for (const auto& row : rows) {
    std::string line = indent;
    for (std::size_t i = 0; i < row.size(); ++i)
      line += i + 1 == row.size() ? row[i] : fmt::format("{:<{}}  ", row[i], width[i]);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

// Words joined by spaces, wrapped before width, each line indented.
std::string wrapped(const std::vector<std::string>& words, const std::string& indent,
                    std::size_t width = 100) {
  std::string out, line;
  for (const auto& w : words) {
    if (!line.empty() && indent.size() + line.size() + 1 + w.size() > width) {
      out += indent + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + w;
  }
  if (!line.empty()) out += indent + line + "\n";
  return out;
}

std::string cell(Allowance a) {
  return a == Allowance::yes ? "yes" : a == Allowance::conditional ? "cond" : "-";
}

std::string needs_text(const KernelCve& cve) {
  std::vector<std::string> parts;
  for (const auto& alternatives : cve.needs) parts.push_back(fmt::format("{}", fmt::join(alternatives, "/")));
  std::vector<std::string> values;
  for (const auto& a : cve.arguments) values.push_back(a.text);
  return fmt::format("{}{}{}", fmt::join(parts, " + "), cve.compat ? " (32-bit)" : "",
                     values.empty() ? "" : fmt::format(" [{}]", fmt::join(values, " ")));
}

std::string percent(double share) { return fmt::format("{:.1f}%", 100 * share); }

// How many rows a surface lets through (at all), and how many of those only conditionally.
template <class Rows, class Allowed>
std::string tally(const Rows& rows, Allowed allowed) {
  int open = 0, conditional = 0;
  for (const auto& r : rows) {
    Allowance a = allowed(r);
    if (a != Allowance::no) ++open;
    if (a == Allowance::conditional) ++conditional;
  }
  return conditional ? fmt::format("{} ({} conditional)", open, conditional) : std::to_string(open);
}

// The argument rules, a table per syscall, and the names every call of which
// gets one answer (clone3's ENOSYS).
std::string values_text(const AllowedValues& v) {
  if (v.syscalls.empty() && v.answered.empty())
    return "\nArgument rules: none (every allowed name is allowed for all values)\n";
  std::string out =
      fmt::format("\nArgument rules (the values each rule lets through; a call no rule matches gets {}):\n",
                  describe(v.otherwise));
  for (const auto& s : v.syscalls) {
    bool other_actions =
        std::any_of(s.rules.begin(), s.rules.end(), [](const ValueRule& r) { return !r.action.allows(); });
    out += fmt::format("  {}: {} rule{}\n", s.syscall, s.rules.size(), s.rules.size() == 1 ? "" : "s");
    std::vector<std::vector<std::string>> rows(1);
    for (const auto& c : s.columns) rows[0].push_back(c.text);
    if (other_actions) rows[0].push_back("action");
    for (const auto& r : s.rules) {
      std::vector<std::string> row;
      for (const auto& cell : r.cells) row.push_back(cell.text);
      if (other_actions) row.push_back(describe(r.action));
      rows.push_back(row);
    }
    out += table(rows, "    ");
  }
  for (const auto& a : v.answered)
    out += fmt::format("  {}: every call gets {}{}\n", a.syscall, describe(a.action),
                       a.comment.empty() ? "" : ": " + a.comment);
  return out;
}

json allowance_json(const std::optional<Surface>& s, Allowance a) {
  if (!s) return nullptr;
  return std::string(to_string(a));
}

}  // namespace

std::string explain_text(const Explanation& e) {
  std::string out = fmt::format("profile {}: default action {}; architectures {}\n", e.source,
                                describe(e.default_action), fmt::join(e.arches, ", "));
  for (const auto& w : e.warnings) out += "warning: " + w + "\n";
  if (e.mined_from) {
    out +=
        "\nMined from (a profile holds for this configuration; sandmine check warns when a container "
        "differs):\n";
    for (const auto& line : mined_from_lines(*e.mined_from)) out += "  " + line + "\n";
  } else {
    out += "\nMined from: not recorded in the profile\n";
  }

  out += "\nAllowed syscalls per architecture (* only for some argument values):\n";
  for (const auto& arch : e.arches) {
    const auto& s = e.surface.arches.at(arch);
    std::vector<std::string> words;
    for (const auto& n : s.names()) words.push_back(s.conditional.count(n) ? n + "*" : n);
    out += fmt::format("  {}: {}{}\n", arch, words.size(),
                       s.conditional.empty() ? "" : fmt::format(" ({} conditional)", s.conditional.size()));
    out += wrapped(words, "    ");
  }

  out += values_text(e.values);

  out += "\nNext to the default profiles (names on x86_64):\n";
  std::vector<std::vector<std::string>> rows{
      {"default", "allows", "also in profile", "only in profile", "profile's size"}};
  std::vector<std::string> notes;
  for (const auto& b : e.baselines) {
    if (!b.surface) {
      rows.push_back({b.title, "n/a", "n/a", "n/a", "n/a"});
      notes.push_back(fmt::format("  {}: not available: {}\n", b.title, b.unavailable));
      continue;
    }
    auto c = compare_x86_64(e.surface, *b.surface);
    rows.push_back({b.title, std::to_string(c.baseline_count), std::to_string(c.common),
                    std::to_string(c.only_in_profile.size()), percent(c.share)});
    if (!c.only_in_profile.empty())
      notes.push_back(fmt::format("  only in the profile, not in the {}:\n{}", b.title,
                                  wrapped({c.only_in_profile.begin(), c.only_in_profile.end()}, "    ")));
  }
  out += table(rows);
  for (const auto& n : notes) out += n;

  const auto& risky = risky_syscalls();
  out +=
      fmt::format("\nRisky syscalls (data/risky_syscalls.csv, {} rows) let through: profile {}", risky.size(),
                  tally(risky, [&](const auto& r) { return e.surface.of("x86_64", r.name); }));
  for (const auto& b : e.baselines)
    out += fmt::format(
        ", {} {}", b.key,
        b.surface ? tally(risky, [&](const auto& r) { return b.surface->of("x86_64", r.name); }) : "n/a");
  out += "\n";
  rows = {{"syscall", "category", "profile"}};
  for (const auto& b : e.baselines) rows[0].push_back(b.key);
  for (const auto& r : risky) {
    std::vector<std::string> row{r.name, r.category, cell(e.surface.of("x86_64", r.name))};
    bool any = row[2] != "-";
    for (const auto& b : e.baselines) {
      row.push_back(b.surface ? cell(b.surface->of("x86_64", r.name)) : "n/a");
      any = any || (row.back() != "-" && row.back() != "n/a");
    }
    if (any) rows.push_back(row);
  }
  out += rows.size() > 1 ? table(rows) : "  none is let through by any of them\n";
  bool first = true;
  for (const auto& r : risky) {
    if (e.surface.of("x86_64", r.name) == Allowance::no) continue;
    if (first) out += "  why the ones the profile lets through matter:\n";
    first = false;
    out += fmt::format("    {}: {} [{}]\n", r.name, r.reason, r.source);
  }

  const auto& cves = kernel_cves();
  out += fmt::format("\nKernel CVEs whose way in is open (data/cves.csv, {} rows): profile {}", cves.size(),
                     tally(cves, [&](const auto& c) { return reachable(c, e.surface); }));
  for (const auto& b : e.baselines)
    out +=
        fmt::format(", {} {}", b.key,
                    b.surface ? tally(cves, [&](const auto& c) { return reachable(c, *b.surface); }) : "n/a");
  out +=
      "\n  open: every syscall on its path is allowed (one of a/b; on x86 or x32 for 32-bit paths);\n"
      "  [values]: the argument values the path needs; a syscall allowed for some values opens it\n"
      "  only when a rule lets those values through;\n"
      "  cond: only through a syscall allowed for some argument values, with no rules to judge by\n"
      "  (Docker's default from its table allows clone only without namespace flags)\n";
  rows = {{"cve", "needs", "profile"}};
  for (const auto& b : e.baselines) rows[0].push_back(b.key);
  for (const auto& c : cves) {
    std::vector<std::string> row{c.id, needs_text(c), cell(reachable(c, e.surface))};
    for (const auto& b : e.baselines) row.push_back(b.surface ? cell(reachable(c, *b.surface)) : "n/a");
    rows.push_back(row);
  }
  out += table(rows);
  first = true;
  for (const auto& c : cves) {
    if (reachable(c, e.surface) == Allowance::no) continue;
    if (first) out += "  open under the profile:\n";
    first = false;
    out += fmt::format("    {}: {} [{}]\n", c.id, c.description, c.source);
  }
  return out;
}

json explain_json(const Explanation& e) {
  json doc;
  doc["profile"] = e.source;
  doc["default_action"] = {{"action", e.default_action.name}};
  if (e.default_action.name == "SCMP_ACT_ERRNO" || e.default_action.name == "SCMP_ACT_TRACE")
    doc["default_action"]["errno"] = e.default_action.errno_ret;
  doc["warnings"] = e.warnings;
  doc["mined_from"] = e.mined_from ? mined_from_json(*e.mined_from) : json(nullptr);
  doc["architectures"] = json::array();
  for (const auto& arch : e.arches) {
    const auto& s = e.surface.arches.at(arch);
    auto names = s.names();
    doc["architectures"].push_back(
        {{"arch", arch}, {"count", names.size()}, {"names", names}, {"conditional", s.conditional}});
  }
  doc["argument_rules"] = allowed_values_json(e.values);
  doc["defaults"] = json::array();
  for (const auto& b : e.baselines) {
    json d = {{"key", b.key}, {"title", b.title}, {"source", b.source}, {"available", b.surface.has_value()}};
    if (!b.surface) {
      d["reason"] = b.unavailable;
    } else {
      auto c = compare_x86_64(e.surface, *b.surface);
      d["allowed_x86_64"] = c.baseline_count;
      d["common"] = c.common;
      d["only_in_profile"] = c.only_in_profile;
      d["share"] = c.share;
    }
    doc["defaults"].push_back(d);
  }
  doc["risky"] = json::array();
  for (const auto& r : risky_syscalls()) {
    json row = {{"name", r.name},
                {"category", r.category},
                {"reason", r.reason},
                {"source", r.source},
                {"profile", to_string(e.surface.of("x86_64", r.name))}};
    for (const auto& b : e.baselines)
      row[b.key] = allowance_json(b.surface, b.surface ? b.surface->of("x86_64", r.name) : Allowance::no);
    doc["risky"].push_back(row);
  }
  doc["cves"] = json::array();
  for (const auto& c : kernel_cves()) {
    json row = {{"id", c.id},
                {"needs", c.needs},
                {"arguments", json::array()},
                {"abi", c.compat ? "compat" : "native"},
                {"description", c.description},
                {"source", c.source},
                {"profile", to_string(reachable(c, e.surface))}};
    for (const auto& a : c.arguments)
      row["arguments"].push_back({{"syscall", a.syscall},
                                  {"index", a.index},
                                  {"mask", fmt::format("{:#x}", a.mask)},
                                  {"value", fmt::format("{:#x}", a.value)},
                                  {"text", a.text}});
    for (const auto& b : e.baselines)
      row[b.key] = allowance_json(b.surface, b.surface ? reachable(c, *b.surface) : Allowance::no);
    doc["cves"].push_back(row);
  }
  return doc;
}

bool ProfileDiff::empty() const {
  return !default_action && arches_added.empty() && arches_removed.empty() && arches.empty();
}

bool ProfileDiff::allows_more() const {
  auto runs = [](const Action& a) { return a.allows() || a.name == "SCMP_ACT_LOG"; };
  if (default_action && runs(default_action->second) && !runs(default_action->first)) return true;
  for (const auto& [arch, c] : arches)
    if (!c.added.empty() || !c.changed.empty()) return true;
  return false;
}

namespace {

// The rules that decide a name conditionally, as (action, conditions): two
// profiles let it through alike when these match.
std::vector<ArgRule> deciding_rules(const Profile& p, const std::string& name) {
  auto it = p.syscalls.find(name);
  return it == p.syscalls.end() ? std::vector<ArgRule>{} : it->second.rules;
}

}  // namespace

ProfileDiff diff_profiles(const Profile& a, const Profile& b) {
  ProfileDiff d;
  if (a.default_action != b.default_action) d.default_action = std::pair(a.default_action, b.default_action);
  auto listed = [](const Profile& p, const std::string& arch) {
    return std::find(p.arches.begin(), p.arches.end(), arch) != p.arches.end();
  };
  for (const auto& arch : b.arches)
    if (!listed(a, arch)) d.arches_added.push_back(arch);
  for (const auto& arch : a.arches)
    if (!listed(b, arch)) d.arches_removed.push_back(arch);

  Surface sa = surface_of(a), sb = surface_of(b);
  std::set<std::string> arches;
  for (const auto& [arch, s] : sa.arches) arches.insert(arch);
  for (const auto& [arch, s] : sb.arches) arches.insert(arch);
  for (const auto& arch : arches) {
    ProfileDiff::ArchChanges c;
    auto na = sa.arches[arch].names(), nb = sb.arches[arch].names();
    std::set_difference(nb.begin(), nb.end(), na.begin(), na.end(), std::inserter(c.added, c.added.end()));
    std::set_difference(na.begin(), na.end(), nb.begin(), nb.end(),
                        std::inserter(c.removed, c.removed.end()));
    for (const auto& n : na) {
      if (!nb.count(n)) continue;
      Allowance x = sa.of(arch, n), y = sb.of(arch, n);
      if (x != y || (x == Allowance::conditional && deciding_rules(a, n) != deciding_rules(b, n)))
        c.changed.insert(n);
    }
    if (!c.added.empty() || !c.removed.empty() || !c.changed.empty()) d.arches[arch] = std::move(c);
  }
  return d;
}

}  // namespace sandmine::profile
