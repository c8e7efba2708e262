#include "report/check_report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "util/json.h"

namespace sandmine::report {

namespace {

// "start 2, index-again 1": calls per step, in the order the steps ran.
std::string steps_of(const explore::CheckViolation& v, const explore::CheckResult& result) {
  std::vector<std::string> parts;
  for (const auto& step : result.steps)
    if (auto it = v.per_step.find(step.name); it != v.per_step.end())
      parts.push_back(fmt::format("{} {}", step.name, it->second));
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

nlohmann::json call_arguments_json(const std::vector<profile::CallArgument>& args) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& a : args)
    out.push_back(
        {{"index", a.index}, {"name", a.name}, {"value", fmt::format("{:#x}", a.value)}, {"text", a.text}});
  return out;
}

nlohmann::json check_json(const std::string& spec_name, const std::string& profile, const std::string& engine,
                          const explore::CheckResult& result) {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : result.steps) {
    nlohmann::json j = {{"name", s.name}, {"phase", s.phase}, {"ok", s.ok}};
    if (!s.failure.empty()) j["failure"] = s.failure;
    if (!s.ok && !s.output.empty()) j["output"] = s.output;
    steps.push_back(std::move(j));
  }
  nlohmann::json violations = nlohmann::json::array();
  for (const auto& v : result.violations) {
    nlohmann::json row = {{"arch", v.key.arch}, {"nr", v.key.nr},           {"syscall", v.name},
                          {"count", v.count},   {"processes", v.processes}, {"first_step", v.first_step},
                          {"steps", v.per_step}};
    if (!v.call.empty()) {
      row["call"] = v.call;
      row["args"] = call_arguments_json(v.args);
    }
    violations.push_back(std::move(row));
  }
  nlohmann::json j = {{"spec", spec_name},         {"profile", profile},
                      {"engine", engine},          {"mode", explore::to_string(result.mode)},
                      {"passed", result.passed()}, {"steps", steps},
                      {"violations", violations}};
  if (result.audit.read)
    j["audit"] = {{"records", result.audit.records},
                  {"expected", result.audit.expected},
                  {"lost", result.audit.lost},
                  {"why", result.audit.why}};
  j["differs_from_mined"] = result.differs;
  repair_utf8(j);  // process names and step output need not be UTF-8
  return j;
}

std::vector<std::string> violation_lines(const explore::CheckResult& result) {
  std::vector<std::string> lines;
  for (const auto& v : result.violations)
    lines.push_back(
        fmt::format("{} {} x{} by {} ({}{})", v.key.arch, v.label(), v.count, fmt::join(v.processes, ", "),
                    result.mode == explore::CheckMode::Enforce ? "denied; " : "", steps_of(v, result)));
  return lines;
}

std::string audit_line(const explore::CheckResult& result) {
  const auto& a = result.audit;
  if (!a.read) return "";
  if (a.lost)
    return fmt::format(
        "audit records incomplete: {}; the counts above are the recorder's, which loses nothing", a.why);
  return fmt::format("audit records agree: {} seccomp records for {} calls outside the profile", a.records,
                     a.expected);
}

std::string check_markdown(const explore::CheckResult& result) {
  std::string md = fmt::format("\n## Held-out check under the mined profile ({} mode): {}\n\n",
                               explore::to_string(result.mode), result.passed() ? "passed" : "FAILED");
  for (const auto& st : result.steps)
    md += fmt::format("- {} {}: {}\n", st.phase, st.name, st.ok ? "ok" : "failed: " + st.failure);
  if (result.violations.empty()) {
    md += "\nNo call outside the profile.\n";
  } else {
    md += "\n| arch | syscall or call | calls | processes | steps |\n|---|---|---:|---|---|\n";
    for (const auto& v : result.violations)
      md += fmt::format("| {} | {} | {} | {} | {} |\n", v.key.arch, v.label(), v.count,
                        fmt::join(v.processes, ", "), steps_of(v, result));
  }
  if (auto line = audit_line(result); !line.empty()) md += "\n" + line + "\n";
  if (!result.differs.empty()) {
    md += "\nThe container differs from what the profile was mined from:\n\n";
    for (const auto& line : result.differs) md += "- " + line + "\n";
  }
  return md;
}

}  // namespace sandmine::report
