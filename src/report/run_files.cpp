#include "report/run_files.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "syscalls/syscalls.h"
#include "util/json.h"

namespace sandmine::report {

namespace {

// A string member that must be one of names.
bool one_of(const JsonValue& obj, std::string_view key, std::initializer_list<std::string_view> names,
            bool required) {
  auto v = required ? obj.required(key) : obj.optional(key);
  if (!v) return !required;  // a missing required one is an error already
  std::string s;
  if (!v->read(s)) return false;
  for (auto n : names)
    if (s == n) return true;
  std::string list;
  for (auto n : names) list += (list.empty() ? "" : ", ") + std::string(n);
  return v->fail("\"" + s + "\" is not one of " + list);
}

bool numbers(const JsonValue& obj, std::string_view key) {
  auto list = obj.optional(key);
  if (!list) return true;
  for (const auto& v : list->elements()) {
    double d = 0;
    if (!v.read(d, 0.0)) return false;
  }
  return true;
}

bool check_step(const JsonValue& s) {
  std::string text;
  bool ok = false;
  return s.get("name", text) && s.get("phase", text) && s.get("ok", ok) && s.get_if("failure", text) &&
         s.get_if("output", text);
}

bool check_violation(const JsonValue& v) {
  std::string arch, text;
  std::int64_t nr = 0;
  std::uint64_t count = 0;
  std::vector<std::string> processes;
  if (!(v.get("arch", arch) && v.get("nr", nr) && v.get("syscall", text) &&
        v.get("count", count, std::uint64_t{0}) && v.get("processes", processes) &&
        v.get("first_step", text)))
    return false;
  if (!syscalls::is_known_arch(arch))
    return v.required("arch")->fail("unknown architecture \"" + arch + "\"");
  auto steps = v.required("steps");
  if (!steps) return false;
  for (const auto& [name, calls] : steps->members())
    if (!calls.read(count)) return false;
  return true;
}

bool bench_result(const JsonValue& r) {
  std::optional<double> median, ratio;
  if (!(one_of(r, "config", {"unconfined", "default", "profile"}, true) && numbers(r, "throughputs") &&
        r.get_if("median", median, 0.0) && r.get_if("ratio", ratio, 0.0)))
    return false;
  if (auto steps = r.optional("steps"))
    for (const auto& s : steps->elements()) {
      std::string text;
      if (!(s.get("name", text) && s.get_if("unit", text) && numbers(s, "throughputs") &&
            s.get_if("median", median, 0.0) && s.get_if("ratio", ratio, 0.0)))
        return false;
    }
  if (auto runs = r.optional("runs"))
    for (const auto& run : runs->elements()) {
      int round = 0, position = 0;
      double throughput = 0;
      if (!(run.get("round", round, 1) && run.get("position", position, 1) &&
            run.get("throughput", throughput, 0.0)))
        return false;
      if (auto steps = run.optional("steps"))
        for (const auto& s : steps->elements()) {
          std::string text;
          double seconds = 0;
          if (!(s.get("name", text) && s.get_if("seconds", seconds, 0.0) &&
                s.get_if("throughput", throughput, 0.0) && s.get_if("output", text)))
            return false;
        }
    }
  return true;
}

Result<nlohmann::json> read_checked(const std::string& path, const std::string& noun,
                                    Status (*validate)(const nlohmann::json&, const std::string&)) {
  auto doc = read_json_file(path, noun);
  if (!doc) return doc.error();
  if (Status st = validate(*doc, path); !st) return st.error();
  return doc;
}

}  // namespace

Status validate_check_json(const nlohmann::json& doc, const std::string& source) {
  JsonReader reader(doc, source);
  JsonValue top = reader.root();
  std::string text;
  bool passed = false;
  if (top.expect_object() && top.get("spec", text) && top.get_if("profile", text) &&
      top.get("engine", text) && one_of(top, "mode", {"complain", "enforce"}, true) &&
      top.get("passed", passed)) {
    if (auto steps = top.required("steps"))
      for (const auto& s : steps->elements())
        if (!check_step(s)) break;
    if (auto violations = top.required("violations"))
      for (const auto& v : violations->elements())
        if (!check_violation(v)) break;
    if (auto audit = top.optional("audit")) {
      std::uint64_t n = 0;
      bool lost = false;
      audit->get("records", n) && audit->get("expected", n) && audit->get("lost", lost) &&
          audit->get("why", text);
    }
  }
  return reader.status();
}

Status validate_bench_json(const nlohmann::json& doc, const std::string& source) {
  JsonReader reader(doc, source);
  JsonValue top = reader.root();
  std::string text;
  int rounds = 0;
  std::optional<double> ratio;
  if (top.expect_object() && top.get_if("spec", text) && top.get_if("engine", text) &&
      top.get_if("rounds", rounds, 1) && top.get_if("unit", text) && top.get_if("default_profile", text) &&
      top.get_if("profile_vs_default", ratio, 0.0) && top.get_if("failure", text) &&
      one_of(top, "failed_under", {"unconfined", "default", "profile"}, false)) {
    if (auto results = top.required("results"))
      for (const auto& r : results->elements())
        if (!bench_result(r)) break;
  }
  return reader.status();
}

Result<nlohmann::json> read_check_json(const std::string& path) {
  return read_checked(path, "check result", validate_check_json);
}

Result<nlohmann::json> read_bench_json(const std::string& path) {
  return read_checked(path, "bench result", validate_bench_json);
}

}  // namespace sandmine::report
