#include "trace/trace.h"

#include <algorithm>
#include <fstream>
#include <fmt/format.h>
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
    const syscalls::ArgumentSpec* spec = syscalls::mined_arguments(key.arch, key.nr);
    if (spec && (!tally.values.empty() || tally.values_lost)) {
      for (const auto& rule : spec->rules)
        e.arguments.push_back(ArgumentField{.index = rule.index,
                                            .name = rule.argument,
                                            .struct_offset = rule.struct_offset,
                                            .compare = rule.compare,
                                            .mask = rule.record_mask(),
                                            .bits = rule.compare == syscalls::Compare::flags ? rule.mask : 0});
      for (const auto& [args, n] : tally.values) e.values.push_back(ValueEntry{.args = args, .count = n});
      e.values_lost = tally.values_lost;
    }
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const SyscallEntry& a, const SyscallEntry& b) {
    return std::tie(a.arch, a.name, a.nr) < std::tie(b.arch, b.name, b.nr);
  });
  return out;
}

void set_value_steps(std::vector<SyscallEntry>& entries, const FirstSteps& firsts, const std::string& otherwise) {
  for (auto& e : entries) {
    auto steps = firsts.find(SyscallKey{e.arch, e.nr});
    for (auto& v : e.values) {
      const std::string* step = nullptr;
      if (steps != firsts.end())
        if (auto it = steps->second.find(v.args); it != steps->second.end()) step = &it->second;
      v.first_step = step ? *step : otherwise;
    }
  }
}

std::vector<std::string> lost_values_report(const Trace& trace) {
  std::vector<std::string> out;
  for (const auto* list : {&trace.syscalls, &trace.unarmed})
    for (const auto& e : *list)
      if (e.values_lost)
        out.push_back(e.arch + " " + (e.name.empty() ? "#" + std::to_string(e.nr) : e.name) + (list == &trace.unarmed ? " (unarmed)" : "") +
                      ": argument values incomplete (" + describe_values_lost(e.values_lost) + ", " +
                      std::to_string(e.values.size()) + " distinct values kept): a profile allows it by name only");
  return out;
}

namespace {

// Values and masks are written as lower-case hex strings ("0x7e020000"):
// exact for all 64 bits, whatever reads the JSON.
std::string hex_string(std::uint64_t v) { return fmt::format("{:#x}", v); }

std::optional<std::uint64_t> hex_from(const json& j) {
  if (!j.is_string()) return std::nullopt;
  const std::string& s = j.get_ref<const std::string&>();
  if (!s.starts_with("0x") || s.size() < 3 || s.size() > 18) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : std::string_view(s).substr(2)) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<std::uint64_t>(d);
  }
  return v;
}

constexpr std::pair<std::uint8_t, const char*> kLostNames[] = {
    {kValuesMapFull, "map_full"}, {kValuesUnreadable, "unreadable"}, {kValuesNotStored, "not_stored"}};

void arguments_json(json& j, const SyscallEntry& e, bool with_step) {
  if (e.arguments.empty()) return;
  json fields = json::array();
  for (const auto& f : e.arguments) {
    json a = {{"index", f.index}, {"name", f.name}, {"compare", syscalls::to_string(f.compare)}, {"mask", hex_string(f.mask)}};
    if (f.struct_offset >= 0) a["struct_offset"] = f.struct_offset;
    if (f.compare == syscalls::Compare::flags) a["bits"] = hex_string(f.bits);
    fields.push_back(std::move(a));
  }
  j["arguments"] = std::move(fields);
  json values = json::array();
  for (const auto& v : e.values) {
    json args = json::array();
    for (auto x : v.args) args.push_back(hex_string(x));
    json value = {{"args", std::move(args)}, {"count", v.count}};
    if (with_step && !v.first_step.empty()) value["first_step"] = v.first_step;
    values.push_back(std::move(value));
  }
  j["values"] = std::move(values);
  j["values_complete"] = e.values_lost == 0;
  if (e.values_lost) {
    json lost = json::array();
    for (auto [bit, name] : kLostNames)
      if (e.values_lost & bit) lost.push_back(name);
    j["values_lost"] = std::move(lost);
  }
}

json entries_json(const std::vector<SyscallEntry>& entries, bool with_step) {
  json out = json::array();
  for (const auto& e : entries) {
    json j = {{"arch", e.arch},
              {"name", e.name.empty() ? json(nullptr) : json(e.name)},
              {"nr", e.nr},
              {"count", e.count},
              {"first_seen_ms", std::round(e.first_seen_ms * 1000) / 1000}};
    if (with_step && !e.first_step.empty()) j["first_step"] = e.first_step;
    arguments_json(j, e, with_step);
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

// The arguments, values and values_complete of one entry; strict: every type,
// every value under its mask, counts that add up.
Status arguments_from_json(const json& j, SyscallEntry& e, const std::string& where, const Reader& r) {
  if (!j.contains("arguments")) {
    for (const char* field : {"values", "values_complete", "values_lost"})
      if (j.contains(field)) return r.fail(where + "." + field, "given without \"arguments\"");
    return {};
  }
  const json& fields = j["arguments"];
  if (!fields.is_array() || fields.empty()) return r.fail(where + ".arguments", "expected a non-empty array");
  if (fields.size() > syscalls::kMaxMinedArguments)
    return r.fail(where + ".arguments", "more than " + std::to_string(syscalls::kMaxMinedArguments) + " arguments");
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const json& a = fields[i];
    std::string at = where + ".arguments[" + std::to_string(i) + "]";
    if (!a.is_object()) return r.fail(at, "expected an object");
    ArgumentField f;
    if (!a.contains("index") || !a["index"].is_number_integer() || a["index"].get<std::int64_t>() < 0 ||
        a["index"].get<std::int64_t>() > 5)
      return r.fail(at + ".index", "expected an integer 0..5");
    f.index = a["index"].get<int>();
    if (!e.arguments.empty() && f.index <= e.arguments.back().index)
      return r.fail(at + ".index", "arguments must be in increasing index order");
    if (!a.contains("name") || !a["name"].is_string() || a["name"].get_ref<const std::string&>().empty())
      return r.fail(at + ".name", "expected a non-empty string");
    f.name = a["name"];
    auto compare = a.contains("compare") && a["compare"].is_string()
                       ? syscalls::compare_from_string(a["compare"].get_ref<const std::string&>())
                       : std::nullopt;
    if (!compare) return r.fail(at + ".compare", "expected \"exact\", \"masked\" or \"flags\"");
    f.compare = *compare;
    auto mask = a.contains("mask") ? hex_from(a["mask"]) : std::nullopt;
    if (!mask || *mask == 0) return r.fail(at + ".mask", "expected a non-zero hex string (\"0xffffffff\")");
    f.mask = *mask;
    if (f.compare == syscalls::Compare::flags) {
      auto bits = a.contains("bits") ? hex_from(a["bits"]) : std::nullopt;
      if (!bits || *bits == 0) return r.fail(at + ".bits", "expected a non-zero hex string");
      if (*bits & ~f.mask) return r.fail(at + ".bits", "has bits outside the mask " + hex_string(f.mask));
      f.bits = *bits;
    } else if (a.contains("bits")) {
      return r.fail(at + ".bits", "only a flags comparison has bits");
    }
    if (a.contains("struct_offset")) {
      const json& o = a["struct_offset"];
      if (!o.is_number_integer() || o.get<std::int64_t>() < 0 || o.get<std::int64_t>() % 8 != 0 ||
          o.get<std::int64_t>() >= 4096)
        return r.fail(at + ".struct_offset", "expected a multiple of 8 in 0..4088");
      f.struct_offset = o.get<int>();
    }
    e.arguments.push_back(std::move(f));
  }
  if (!j.contains("values_complete") || !j["values_complete"].is_boolean())
    return r.fail(where + ".values_complete", "expected true or false");
  bool complete = j["values_complete"];
  if (j.contains("values_lost")) {
    const json& lost = j["values_lost"];
    if (!lost.is_array()) return r.fail(where + ".values_lost", "expected an array");
    for (const auto& reason : lost) {
      bool known = false;
      for (auto [bit, name] : kLostNames)
        if (reason.is_string() && reason.get_ref<const std::string&>() == name) {
          e.values_lost |= bit;
          known = true;
        }
      if (!known) return r.fail(where + ".values_lost", "expected \"map_full\", \"unreadable\" or \"not_stored\"");
    }
  }
  if (complete != (e.values_lost == 0))
    return r.fail(where + ".values_lost", complete ? "given although values_complete is true"
                                                   : "must say why when values_complete is false");
  if (!j.contains("values") || !j["values"].is_array()) return r.fail(where + ".values", "expected an array");
  const json& values = j["values"];
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const json& v = values[i];
    std::string at = where + ".values[" + std::to_string(i) + "]";
    if (!v.is_object()) return r.fail(at, "expected an object");
    if (!v.contains("args") || !v["args"].is_array() || v["args"].size() != e.arguments.size())
      return r.fail(at + ".args", "expected an array of " + std::to_string(e.arguments.size()) + " hex strings");
    ValueEntry value;
    for (std::size_t k = 0; k < e.arguments.size(); ++k) {
      auto x = hex_from(v["args"][k]);
      std::string arg_at = at + ".args[" + std::to_string(k) + "]";
      if (!x) return r.fail(arg_at, "expected a hex string (\"0x2\")");
      if (*x & ~e.arguments[k].mask)
        return r.fail(arg_at, hex_string(*x) + " is out of range: it has bits outside the mask " +
                                  hex_string(e.arguments[k].mask) + " of argument " + e.arguments[k].name);
      value.args.push_back(*x);
    }
    if (!e.values.empty() && value.args <= e.values.back().args)
      return r.fail(at + ".args", "values must be distinct and sorted");
    if (!v.contains("count") || !v["count"].is_number_integer() || v["count"].get<std::int64_t>() < 1)
      return r.fail(at + ".count", "expected a positive integer");
    value.count = v["count"].get<std::uint64_t>();
    total += value.count;
    if (v.contains("first_step")) {
      if (!v["first_step"].is_string()) return r.fail(at + ".first_step", "expected a string");
      value.first_step = v["first_step"];
    }
    e.values.push_back(std::move(value));
  }
  if (complete && total != e.count)
    return r.fail(where + ".values", "the values count " + std::to_string(total) + " calls, the syscall " +
                                         std::to_string(e.count) + " (complete values add up to count)");
  if (!complete && total > e.count)
    return r.fail(where + ".values", "the values count more calls (" + std::to_string(total) + ") than the syscall (" +
                                         std::to_string(e.count) + ")");
  return {};
}

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
    if (auto st = arguments_from_json(j, e, where, r); !st) return st.error();
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
  if (!trace.generated.empty()) {
    doc["generated"] = json::array();
    for (const auto& g : trace.generated)
      doc["generated"].push_back({{"step", g.step},
                                  {"steps", g.steps},
                                  {"budget_s", std::round(g.budget_s * 1000) / 1000},
                                  {"seconds", std::round(g.seconds * 1000) / 1000},
                                  {"stop", g.stop},
                                  {"detail", g.detail},
                                  {"captured", g.captured}});
  }
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
  if (doc.contains("generated")) {
    if (!doc["generated"].is_array()) return r.fail("generated", "expected a list");
    for (const auto& g : doc["generated"]) {
      if (!g.is_object()) return r.fail("generated", "expected objects");
      t.generated.push_back(AutoRecord{.step = g.value("step", ""),
                                       .steps = g.value("steps", std::size_t{0}),
                                       .budget_s = g.value("budget_s", 0.0),
                                       .seconds = g.value("seconds", 0.0),
                                       .stop = g.value("stop", ""),
                                       .detail = g.value("detail", ""),
                                       .captured = g.value("captured", std::size_t{0})});
    }
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
