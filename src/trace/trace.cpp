#include "trace/trace.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "syscalls/syscalls.h"

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

// Field access with errors that say where: "trace.json: syscalls[3].count: expected a number".
struct Reader {
  const std::string& source;
  Error fail(const std::string& where, const std::string& what) const {
    return Error{source + ": " + where + ": " + what, EINVAL};
  }
};

Result<std::vector<SyscallEntry>> entries_from_json(const json& doc, const char* field, const Reader& r) {
  std::vector<SyscallEntry> out;
  if (!doc.contains(field)) return out;
  const json& list = doc.at(field);
  if (!list.is_array()) return r.fail(field, "expected an array");
  for (size_t i = 0; i < list.size(); ++i) {
    const json& j = list[i];
    std::string where = std::string(field) + "[" + std::to_string(i) + "]";
    if (!j.is_object()) return r.fail(where, "expected an object");
    SyscallEntry e;
    if (!j.contains("arch") || !j["arch"].is_string()) return r.fail(where + ".arch", "expected a string");
    e.arch = j["arch"];
    if (!syscalls::is_known_arch(e.arch))
      return r.fail(where + ".arch", "unknown architecture \"" + e.arch +
                                         "\" (libseccomp names: x86_64, x86, x32, aarch64, ...)");
    if (!j.contains("nr") || !j["nr"].is_number_integer())
      return r.fail(where + ".nr", "expected an integer");
    e.nr = j["nr"];
    if (j.contains("name") && !j["name"].is_null()) {
      if (!j["name"].is_string()) return r.fail(where + ".name", "expected a string or null");
      e.name = j["name"];
      auto known = syscalls::number_of(e.arch, e.name);
      if (!known) return r.fail(where + ".name", "no syscall \"" + e.name + "\" on " + e.arch);
      if (*known != e.nr)
        return r.fail(where, e.arch + " " + e.name + " is number " + std::to_string(*known) + ", not " +
                                 std::to_string(e.nr));
    }
    if (!j.contains("count") || !j["count"].is_number_integer() || j["count"].get<std::int64_t>() < 0)
      return r.fail(where + ".count", "expected a non-negative integer");
    e.count = j["count"].get<std::uint64_t>();
    if (j.contains("first_seen_ms")) {
      if (!j["first_seen_ms"].is_number()) return r.fail(where + ".first_seen_ms", "expected a number");
      e.first_seen_ms = j["first_seen_ms"];
    }
    if (j.contains("first_step")) {
      if (!j["first_step"].is_string()) return r.fail(where + ".first_step", "expected a string");
      e.first_step = j["first_step"];
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

Result<std::size_t> count_field(const json& j, const char* field, const Reader& r) {
  if (!j.contains(field) || !j[field].is_number_integer() || j[field].get<std::int64_t>() < 0)
    return r.fail(std::string("coverage.") + field, "expected a non-negative integer");
  return j[field].get<std::size_t>();
}

Result<std::optional<double>> optional_number_field(const json& j, const char* field, const Reader& r) {
  if (!j.contains(field) || j[field].is_null()) return std::optional<double>{};
  if (!j[field].is_number()) return r.fail(std::string("coverage.") + field, "expected a number or null");
  return std::optional<double>(j[field].get<double>());
}

Result<CoverageEstimate> coverage_from_json(const json& j, const Reader& r) {
  if (!j.is_object()) return r.fail("coverage", "expected an object");
  CoverageEstimate c;
  for (auto [field, into] :
       {std::pair{"steps", &c.steps}, std::pair{"incidences", &c.incidences},
        std::pair{"observed", &c.observed}, std::pair{"q1", &c.q1}, std::pair{"q2", &c.q2}}) {
    auto v = count_field(j, field, r);
    if (!v) return v.error();
    *into = *v;
  }
  c.observed_in_steps = j.value("observed_in_steps", std::size_t{0});
  for (auto [field, into] :
       {std::pair{"sample_coverage", &c.sample_coverage}, std::pair{"unseen_estimate", &c.unseen_estimate},
        std::pair{"chao2", &c.chao2}}) {
    auto v = optional_number_field(j, field, r);
    if (!v) return v.error();
    *into = *v;
  }
  c.method = j.value("method", "");
  c.note = j.value("note", "");
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
  if (!trace.binaries.empty()) {
    doc["binaries"] = json::array();
    for (const auto& b : trace.binaries) {
      json j = {{"path", b.path}, {"execs", b.execs}, {"mapped", b.mapped}};
      if (b.first_exec_ms) j["first_exec_ms"] = std::round(*b.first_exec_ms * 1000) / 1000;
      doc["binaries"].push_back(std::move(j));
    }
  }
  return doc;
}

Result<Trace> trace_from_json(const json& doc, const std::string& source) {
  Reader r{source};
  if (!doc.is_object()) return r.fail("top level", "expected a JSON object (a sandmine trace.json)");
  Trace t;
  if (!doc.contains("version") || !doc["version"].is_number_integer())
    return r.fail("version", "missing; is this a sandmine trace.json?");
  t.version = doc["version"];
  if (t.version != 1)
    return r.fail("version", "unsupported version " + std::to_string(t.version) + " (this sandmine reads 1)");
  if (!doc.contains("backend") || !doc["backend"].is_string()) return r.fail("backend", "expected a string");
  t.backend = doc["backend"];
  if (doc.contains("partial")) {
    if (!doc["partial"].is_boolean()) return r.fail("partial", "expected true or false");
    t.partial = doc["partial"];
  }
  if (doc.contains("partial_reason") && doc["partial_reason"].is_string())
    t.partial_reason = doc["partial_reason"];
  if (doc.contains("target") && doc["target"].is_object()) {
    const json& tg = doc["target"];
    if (tg.contains("kind") && tg["kind"].is_string()) t.target.kind = tg["kind"];
    if (tg.contains("command") && tg["command"].is_array())
      for (const auto& a : tg["command"])
        if (a.is_string()) t.target.command.push_back(a);
    if (tg.contains("exit_code") && tg["exit_code"].is_number_integer())
      t.target.exit_code = tg["exit_code"].get<int>();
    if (tg.contains("exit_signal") && tg["exit_signal"].is_number_integer())
      t.target.exit_signal = tg["exit_signal"];
    if (tg.contains("duration_ms") && tg["duration_ms"].is_number()) t.target.duration_ms = tg["duration_ms"];
  }
  if (doc.contains("steps") && doc["steps"].is_array())
    for (const auto& st : doc["steps"]) {
      if (!st.is_object()) return r.fail("steps", "expected objects");
      StepRecord rec;
      rec.name = st.value("name", "");
      rec.phase = st.value("phase", "");
      rec.started_ms = st.value("started_ms", 0.0);
      rec.duration_ms = st.value("duration_ms", 0.0);
      rec.exit_code = st.value("exit_code", 0);
      rec.new_syscalls = st.value("new_syscalls", std::vector<std::string>{});
      rec.total = st.value("total", std::size_t{0});
      rec.used = st.value("used", std::vector<std::string>{});
      t.steps.push_back(std::move(rec));
    }
  if (doc.contains("coverage")) {
    auto c = coverage_from_json(doc["coverage"], r);
    if (!c) return c.error();
    t.coverage = std::move(*c);
  }
  if (doc.contains("saturation") && doc["saturation"].is_object()) {
    const json& s = doc["saturation"];
    t.saturation = Saturation{.wanted = s.value("wanted", 0),
                              .max_rounds = s.value("max_rounds", 0),
                              .rounds = s.value("rounds", 0),
                              .saturated = s.value("saturated", false),
                              .reason = s.value("reason", "")};
  }
  if (doc.contains("target") && doc["target"].is_object()) {
    t.target.name = doc["target"].value("name", "");
    t.target.engine = doc["target"].value("engine", "");
    t.target.image = doc["target"].value("image", "");
  }
  if (!doc.contains("syscalls")) return r.fail("syscalls", "missing");
  auto syscalls = entries_from_json(doc, "syscalls", r);
  if (!syscalls) return syscalls.error();
  t.syscalls = std::move(*syscalls);
  auto unarmed = entries_from_json(doc, "unarmed", r);
  if (!unarmed) return unarmed.error();
  t.unarmed = std::move(*unarmed);
  if (doc.contains("binaries")) {
    const json& list = doc["binaries"];
    if (!list.is_array()) return r.fail("binaries", "expected an array");
    for (size_t i = 0; i < list.size(); ++i) {
      const json& b = list[i];
      std::string where = "binaries[" + std::to_string(i) + "]";
      if (!b.is_object() || !b.contains("path") || !b["path"].is_string())
        return r.fail(where + ".path", "expected a string");
      BinaryRecord rec;
      rec.path = b["path"];
      if (rec.path.empty() || rec.path[0] != '/') return r.fail(where + ".path", "expected an absolute path");
      if (b.contains("execs")) {
        if (!b["execs"].is_number_unsigned()) return r.fail(where + ".execs", "expected a non-negative integer");
        rec.execs = b["execs"];
      }
      if (b.contains("first_exec_ms")) {
        if (!b["first_exec_ms"].is_number()) return r.fail(where + ".first_exec_ms", "expected a number");
        rec.first_exec_ms = b["first_exec_ms"].get<double>();
      }
      if (b.contains("mapped")) {
        if (!b["mapped"].is_array()) return r.fail(where + ".mapped", "expected an array of paths");
        for (const auto& m : b["mapped"]) {
          if (!m.is_string()) return r.fail(where + ".mapped", "expected an array of paths");
          rec.mapped.push_back(m);
        }
      }
      t.binaries.push_back(std::move(rec));
    }
  }
  return t;
}

Result<Trace> read_trace(const std::string& path) {
  std::ifstream in(path);
  if (!in) return errno_error("cannot read trace " + path);
  json doc = json::parse(in, nullptr, false);
  if (doc.is_discarded()) return Error{path + ": not valid JSON", EINVAL};
  return trace_from_json(doc, path);
}

}  // namespace sandmine::trace
