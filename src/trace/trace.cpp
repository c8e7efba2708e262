#include "trace/trace.h"

#include <fmt/format.h>
#include <algorithm>

#include <fstream>
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
    const syscalls::ArgumentSpec* spec = syscalls::mined_arguments(key.arch, key.nr);
    if (spec && (!tally.values.empty() || tally.values_lost)) {
      for (const auto& rule : spec->rules)
        e.arguments.push_back(
            ArgumentField{.index = rule.index,
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

void set_value_steps(std::vector<SyscallEntry>& entries, const FirstSteps& firsts,
                     const std::string& otherwise) {
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
        out.push_back(e.arch + " " + (e.name.empty() ? "#" + std::to_string(e.nr) : e.name) +
                      (list == &trace.unarmed ? " (unarmed)" : "") + ": argument values incomplete (" +
                      describe_values_lost(e.values_lost) + ", " + std::to_string(e.values.size()) +
                      " distinct values kept): a profile allows it by name only");
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
    json a = {{"index", f.index},
              {"name", f.name},
              {"compare", syscalls::to_string(f.compare)},
              {"mask", hex_string(f.mask)}};
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

// Times in a trace are milliseconds since the target started, written
// rounded to microseconds: far below this bound (31,000 years), whose
// thousandfold is still a finite double.
constexpr double kMaxMs = 1e15;

// A hex string ("0x2") of a value: what values, masks and bits are written as.
bool read_hex(const JsonValue& v, std::uint64_t& out, const char* what) {
  auto x = hex_from(v.json());
  if (!x) return v.fail(std::string("expected a hex string (") + what + ")");
  out = *x;
  return true;
}

// The arguments, values and values_complete of one entry; strict: every type,
// every value under its mask, counts that add up.
bool arguments_from_json(const JsonValue& j, SyscallEntry& e) {
  auto fields = j.optional("arguments");
  if (!fields) {
    for (const char* field : {"values", "values_complete", "values_lost"})
      if (j.has(field)) return j.optional(field)->fail("given without \"arguments\"");
    return true;
  }
  auto list = fields->elements();
  if (!fields->expect_array()) return false;
  if (list.empty()) return fields->fail("expected a non-empty array");
  if (list.size() > syscalls::kMaxMinedArguments)
    return fields->fail("more than " + std::to_string(syscalls::kMaxMinedArguments) + " arguments");
  for (const JsonValue& a : list) {
    ArgumentField f;
    std::string compare;
    if (!a.get("index", f.index, 0, 5) || !a.get("name", f.name) || !a.get("compare", compare)) return false;
    if (!e.arguments.empty() && f.index <= e.arguments.back().index)
      return a.required("index")->fail("arguments must be in increasing index order");
    if (f.name.empty()) return a.required("name")->fail("expected a non-empty string");
    auto c = syscalls::compare_from_string(compare);
    if (!c) return a.required("compare")->fail("expected \"exact\", \"masked\" or \"flags\"");
    f.compare = *c;
    auto mask = a.required("mask");
    if (!mask || !read_hex(*mask, f.mask, "\"0xffffffff\"")) return false;
    if (f.mask == 0) return mask->fail("expected a non-zero hex string (\"0xffffffff\")");
    if (f.compare == syscalls::Compare::flags) {
      auto bits = a.required("bits");
      if (!bits || !read_hex(*bits, f.bits, "\"0x80\"")) return false;
      if (f.bits == 0) return bits->fail("expected a non-zero hex string");
      if (f.bits & ~f.mask) return bits->fail("has bits outside the mask " + hex_string(f.mask));
    } else if (a.has("bits")) {
      return a.optional("bits")->fail("only a flags comparison has bits");
    }
    if (a.has("struct_offset")) {
      if (!a.get("struct_offset", f.struct_offset, 0, 4088)) return false;
      if (f.struct_offset % 8 != 0)
        return a.required("struct_offset")->fail("expected a multiple of 8 in 0..4088");
    }
    e.arguments.push_back(std::move(f));
  }
  bool complete = false;
  if (!j.get("values_complete", complete)) return false;
  if (auto lost = j.optional("values_lost")) {
    if (!lost->expect_array()) return false;
    for (const JsonValue& reason : lost->elements()) {
      std::string text;
      if (!reason.read(text)) return false;
      bool known = false;
      for (auto [bit, name] : kLostNames)
        if (text == name) {
          e.values_lost |= bit;
          known = true;
        }
      if (!known) return reason.fail("expected \"map_full\", \"unreadable\" or \"not_stored\"");
    }
  }
  if (complete != (e.values_lost == 0)) {
    if (complete) return j.optional("values_lost")->fail("given although values_complete is true");
    if (j.has("values_lost"))
      return j.optional("values_lost")->fail("must say why when values_complete is false");
    return j.required("values_complete")->fail("false needs values_lost to say why");
  }
  auto values = j.required("values");
  if (!values) return false;
  std::uint64_t total = 0;
  for (const JsonValue& v : values->elements()) {
    ValueEntry value;
    auto args = v.required("args");
    if (!args) return false;
    auto list = args->elements();
    if (!args->expect_array()) return false;
    if (list.size() != e.arguments.size())
      return args->fail("expected an array of " + std::to_string(e.arguments.size()) + " hex strings");
    for (std::size_t k = 0; k < list.size(); ++k) {
      std::uint64_t x = 0;
      if (!read_hex(list[k], x, "\"0x2\"")) return false;
      if (x & ~e.arguments[k].mask)
        return list[k].fail(hex_string(x) + " is out of range: it has bits outside the mask " +
                            hex_string(e.arguments[k].mask) + " of argument " + e.arguments[k].name);
      value.args.push_back(x);
    }
    if (!e.values.empty() && value.args <= e.values.back().args)
      return args->fail("values must be distinct and sorted");
    if (!v.get("count", value.count, std::uint64_t{1}) || !v.get_if("first_step", value.first_step))
      return false;
    total += value.count;
    e.values.push_back(std::move(value));
  }
  if (complete && total != e.count)
    return values->fail("the values count " + std::to_string(total) + " calls, the syscall " +
                        std::to_string(e.count) + " (complete values add up to count)");
  if (!complete && total > e.count)
    return values->fail("the values count more calls (" + std::to_string(total) + ") than the syscall (" +
                        std::to_string(e.count) + ")");
  return true;
}

// A list of syscall entries (syscalls, unarmed), checked against libseccomp's names.
std::vector<SyscallEntry> entries_from_json(const JsonValue& list) {
  std::vector<SyscallEntry> out;
  for (const JsonValue& j : list.elements()) {
    SyscallEntry e;
    std::optional<std::string> name;
    if (!j.get("arch", e.arch) || !j.get("nr", e.nr) || !j.get_if("name", name) ||
        !j.get("count", e.count, std::uint64_t{0}) ||
        !j.get_if("first_seen_ms", e.first_seen_ms, 0.0, kMaxMs) || !j.get_if("first_step", e.first_step))
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
        j.fail(e.arch + " " + e.name + " is number " + std::to_string(*known) + ", not " +
               std::to_string(e.nr));
        return out;
      }
    }
    if (!arguments_from_json(j, e)) return out;
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
  if (trace.coverage_by_family) doc["coverage_by_family"] = coverage_json(*trace.coverage_by_family);
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
    top.required("version")->fail("unsupported version " + std::to_string(t.version) +
                                  " (this sandmine reads 1)");
  top.get("backend", t.backend) && top.get_if("partial", t.partial) &&
      top.get_if("partial_reason", t.partial_reason);
  if (auto tg = top.optional("target")) {
    std::optional<int> exit_code;
    tg->get_if("kind", t.target.kind) && tg->get_if("command", t.target.command) &&
        tg->get_if("exit_code", exit_code, 0, 255) &&
        tg->get_if("exit_signal", t.target.exit_signal, 0, 64) &&
        tg->get_if("duration_ms", t.target.duration_ms, 0.0, kMaxMs) && tg->get_if("name", t.target.name) &&
        tg->get_if("engine", t.target.engine) && tg->get_if("image", t.target.image);
    t.target.exit_code = exit_code;
  }
  if (auto steps = top.optional("steps"))
    for (const JsonValue& st : steps->elements()) {
      StepRecord rec;
      if (!(st.get_if("name", rec.name) && st.get_if("phase", rec.phase) &&
            st.get_if("started_ms", rec.started_ms, 0.0, kMaxMs) &&
            st.get_if("duration_ms", rec.duration_ms, 0.0, kMaxMs) && st.get_if("exit_code", rec.exit_code) &&
            st.get_if("new_syscalls", rec.new_syscalls) && st.get_if("total", rec.total) &&
            st.get_if("used", rec.used)))
        break;
      t.steps.push_back(std::move(rec));
    }
  if (auto c = top.optional("coverage")) t.coverage = coverage_from_json(*c);
  if (auto c = top.optional("coverage_by_family")) t.coverage_by_family = coverage_from_json(*c);
  if (auto s = top.optional("saturation")) {
    Saturation sat;
    s->get_if("wanted", sat.wanted, 0) && s->get_if("max_rounds", sat.max_rounds, 0) &&
        s->get_if("rounds", sat.rounds, 0) && s->get_if("saturated", sat.saturated) &&
        s->get_if("reason", sat.reason);
    t.saturation = sat;
  }
  if (auto generated = top.optional("generated"))
    for (const JsonValue& g : generated->elements()) {
      AutoRecord rec;
      if (!(g.get_if("step", rec.step) && g.get_if("steps", rec.steps) &&
            g.get_if("budget_s", rec.budget_s, 0.0, kMaxMs) &&
            g.get_if("seconds", rec.seconds, 0.0, kMaxMs) && g.get_if("stop", rec.stop) &&
            g.get_if("detail", rec.detail) && g.get_if("captured", rec.captured)))
        break;
      t.generated.push_back(std::move(rec));
    }
  if (auto syscalls = top.required("syscalls")) t.syscalls = entries_from_json(*syscalls);
  if (auto unarmed = top.optional("unarmed")) t.unarmed = entries_from_json(*unarmed);
  if (auto binaries = top.optional("binaries"))
    for (const JsonValue& b : binaries->elements()) {
      BinaryRecord rec;
      std::optional<double> first_exec_ms;
      if (!(b.get("path", rec.path) && b.get_if("execs", rec.execs) &&
            b.get_if("first_exec_ms", first_exec_ms, 0.0, kMaxMs) && b.get_if("mapped", rec.mapped)))
        break;
      if (rec.path.empty() || rec.path[0] != '/') {
        b.required("path")->fail("expected an absolute path");
        break;
      }
      rec.first_exec_ms = first_exec_ms;
      t.binaries.push_back(std::move(rec));
    }
  if (!reader.ok()) return reader.error();
  return t;
}

Result<Trace> read_trace(const std::string& path) {
  auto doc = read_json_file(path, "trace");
  if (!doc) return doc.error();
  return trace_from_json(*doc, path);
}

}  // namespace sandmine::trace
