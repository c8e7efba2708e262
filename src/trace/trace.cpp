#include "trace/trace.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "syscalls/syscalls.h"
#include "util/json.h"

namespace sandmine::trace {

using nlohmann::json;

std::vector<SyscallEntry> entries_from(const Tallies& tallies, std::uint64_t start_ns) {
  std::vector<SyscallEntry> out;
  for (const auto& [key, tally] : tallies) {
    SyscallEntry e;
    e.arch = key.arch;
    e.nr = key.nr;
    e.name = syscalls::name_of(key.arch, key.nr).value_or("");
    e.count = tally.count;
    if (tally.first_ns > start_ns) e.first_seen_ms = static_cast<double>(tally.first_ns - start_ns) / 1e6;
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const SyscallEntry& a, const SyscallEntry& b) {
    return std::tie(a.arch, a.name, a.nr) < std::tie(b.arch, b.name, b.nr);
  });
  return out;
}

namespace {

json entries_json(const std::vector<SyscallEntry>& entries, bool with_step) {
  json out = json::array();
  for (const auto& e : entries) {
    json j = {{"arch", e.arch},
              {"name", e.name.empty() ? json(nullptr) : json(e.name)},
              {"nr", e.nr},
              {"count", e.count},
              {"first_seen_ms", std::round(e.first_seen_ms * 1000) / 1000}};
    if (with_step && !e.first_step.empty()) j["first_step"] = e.first_step;
    out.push_back(std::move(j));
  }
  return out;
}

// Times in a trace are milliseconds since the target started, written
// rounded to microseconds: far below this bound (31,000 years), whose
// thousandfold is still a finite double.
constexpr double kMaxMs = 1e15;

// A list of syscall entries (syscalls, unarmed), checked against libseccomp's names.
std::vector<SyscallEntry> entries_from_json(const JsonValue& list) {
  std::vector<SyscallEntry> out;
  for (const JsonValue& j : list.elements()) {
    SyscallEntry e;
    std::optional<std::string> name;
    if (!j.get("arch", e.arch) || !j.get("nr", e.nr) || !j.get_if("name", name) ||
        !j.get("count", e.count, std::uint64_t{0}) || !j.get_if("first_seen_ms", e.first_seen_ms, 0.0, kMaxMs) ||
        !j.get_if("first_step", e.first_step))
      return out;
    if (!syscalls::is_known_arch(e.arch)) {
      j.required("arch")->fail("unknown architecture \"" + e.arch +
                               "\" (libseccomp names: x86_64, x86, x32, aarch64, ...)");
      return out;
    }
    if (name) {
      e.name = *name;
      auto known = syscalls::number_of(e.arch, e.name);
      if (!known) {
        j.required("name")->fail("no syscall \"" + e.name + "\" on " + e.arch);
        return out;
      }
      if (*known != e.nr) {
        j.fail(e.arch + " " + e.name + " is number " + std::to_string(*known) + ", not " + std::to_string(e.nr));
        return out;
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

json optional_number(const std::optional<double>& v) {
  return v ? json(std::round(*v * 1e6) / 1e6) : json(nullptr);
}

json coverage_json(const CoverageEstimate& c) {
  json j = {{"steps", c.steps},
            {"incidences", c.incidences},
            {"observed", c.observed},
            {"observed_in_steps", c.observed_in_steps},
            {"q1", c.q1},
            {"q2", c.q2},
            {"sample_coverage", optional_number(c.sample_coverage)},
            {"unseen_estimate", optional_number(c.unseen_estimate)},
            {"chao2", optional_number(c.chao2)},
            {"method", c.method}};
  if (!c.note.empty()) j["note"] = c.note;
  return j;
}

CoverageEstimate coverage_from_json(const JsonValue& j) {
  CoverageEstimate c;
  j.get("steps", c.steps) && j.get("incidences", c.incidences) && j.get("observed", c.observed) &&
      j.get_if("observed_in_steps", c.observed_in_steps) && j.get("q1", c.q1) && j.get("q2", c.q2) &&
      j.get_if("sample_coverage", c.sample_coverage, 0.0, 1.0) &&
      j.get_if("unseen_estimate", c.unseen_estimate, 0.0) && j.get_if("chao2", c.chao2, 0.0) &&
      j.get_if("method", c.method) && j.get_if("note", c.note);
  return c;
}

}  // namespace

json to_json(const Trace& trace) {
  json target = {{"kind", trace.target.kind},
                 {"command", trace.target.command},
                 {"duration_ms", std::round(trace.target.duration_ms * 1000) / 1000}};
  if (trace.target.exit_code) target["exit_code"] = *trace.target.exit_code;
  if (trace.target.exit_signal) target["exit_signal"] = trace.target.exit_signal;
  if (!trace.target.name.empty()) target["name"] = trace.target.name;
  if (!trace.target.engine.empty()) target["engine"] = trace.target.engine;
  if (!trace.target.image.empty()) target["image"] = trace.target.image;
  json doc = {{"version", trace.version}, {"backend", trace.backend}, {"partial", trace.partial}};
  if (trace.partial) doc["partial_reason"] = trace.partial_reason;
  doc["target"] = std::move(target);
  doc["syscalls"] = entries_json(trace.syscalls, true);
  doc["steps"] = json::array();
  for (const auto& st : trace.steps)
    doc["steps"].push_back({{"name", st.name},
                            {"phase", st.phase},
                            {"started_ms", std::round(st.started_ms * 1000) / 1000},
                            {"duration_ms", std::round(st.duration_ms * 1000) / 1000},
                            {"exit_code", st.exit_code},
                            {"new_syscalls", st.new_syscalls},
                            {"total", st.total},
                            {"used", st.used}});
  if (trace.coverage) doc["coverage"] = coverage_json(*trace.coverage);
  if (const auto& s = trace.saturation)
    doc["saturation"] = {{"wanted", s->wanted},
                         {"max_rounds", s->max_rounds},
                         {"rounds", s->rounds},
                         {"saturated", s->saturated},
                         {"reason", s->reason}};
  doc["unarmed"] = entries_json(trace.unarmed, false);
  repair_utf8(doc);  // argv and names come from outside
  return doc;
}

Result<Trace> trace_from_json(const json& doc, const std::string& source) {
  JsonReader reader(doc, source);
  JsonValue top = reader.root();
  if (!doc.is_object())
    return Error{one_line(source + ": top level: expected a JSON object (a sandmine trace.json)"), EINVAL};
  Trace t;
  if (!doc.contains("version") || !doc["version"].is_number_integer())
    return Error{one_line(source + ": version: missing; is this a sandmine trace.json?"), EINVAL};
  if (!top.get("version", t.version)) return reader.error();
  if (t.version != 1)
    top.required("version")->fail("unsupported version " + std::to_string(t.version) + " (this sandmine reads 1)");
  top.get("backend", t.backend) && top.get_if("partial", t.partial) &&
      top.get_if("partial_reason", t.partial_reason);
  if (auto tg = top.optional("target")) {
    std::optional<int> exit_code;
    tg->get_if("kind", t.target.kind) && tg->get_if("command", t.target.command) &&
        tg->get_if("exit_code", exit_code, 0, 255) && tg->get_if("exit_signal", t.target.exit_signal, 0, 64) &&
        tg->get_if("duration_ms", t.target.duration_ms, 0.0, kMaxMs) && tg->get_if("name", t.target.name) &&
        tg->get_if("engine", t.target.engine) && tg->get_if("image", t.target.image);
    t.target.exit_code = exit_code;
  }
  if (auto steps = top.optional("steps"))
    for (const JsonValue& st : steps->elements()) {
      StepRecord rec;
      if (!(st.get_if("name", rec.name) && st.get_if("phase", rec.phase) &&
            st.get_if("started_ms", rec.started_ms, 0.0, kMaxMs) &&
            st.get_if("duration_ms", rec.duration_ms, 0.0, kMaxMs) &&
            st.get_if("exit_code", rec.exit_code) && st.get_if("new_syscalls", rec.new_syscalls) &&
            st.get_if("total", rec.total) && st.get_if("used", rec.used)))
        break;
      t.steps.push_back(std::move(rec));
    }
  if (auto c = top.optional("coverage")) t.coverage = coverage_from_json(*c);
  if (auto s = top.optional("saturation")) {
    Saturation sat;
    s->get_if("wanted", sat.wanted, 0) && s->get_if("max_rounds", sat.max_rounds, 0) &&
        s->get_if("rounds", sat.rounds, 0) && s->get_if("saturated", sat.saturated) &&
        s->get_if("reason", sat.reason);
    t.saturation = sat;
  }
  if (auto syscalls = top.required("syscalls")) t.syscalls = entries_from_json(*syscalls);
  if (auto unarmed = top.optional("unarmed")) t.unarmed = entries_from_json(*unarmed);
  if (!reader.ok()) return reader.error();
  return t;
}

Result<Trace> read_trace(const std::string& path) {
  auto doc = read_json_file(path, "trace");
  if (!doc) return doc.error();
  return trace_from_json(*doc, path);
}

}  // namespace sandmine::trace
