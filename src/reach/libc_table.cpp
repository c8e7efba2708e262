#include "reach/libc_table.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "sys/files.h"
#include "syscalls/syscalls.h"
#include "util/csv.h"

extern const char kLibcPathsCsv[];

namespace sandmine::reach {

using nlohmann::json;

const std::vector<LibcPath>& libc_paths() {
  static const std::vector<LibcPath> rows = [] {
    std::vector<LibcPath> out;
    auto parsed = parse_csv(kLibcPathsCsv, "data/libc_paths.csv");
    if (parsed)
      for (auto& r : *parsed) out.push_back({r["flavor"], r["function"], r["role"], r["source"]});
    return out;
  }();
  return rows;
}

std::string libc_flavor(const ElfObject& o) {
  if (o.soname == "libc.so.6") return "glibc";
  std::string file = std::filesystem::path(o.path).filename().string();
  bool exports_start = false, exports_cp = false;
  for (const auto& e : o.exports) {
    if (e.name == "__libc_start_main") exports_start = true;
    if (e.name == "__syscall_cp") exports_cp = true;
  }
  if (file.rfind("ld-musl-", 0) == 0 || file.rfind("libc.musl-", 0) == 0 || (exports_start && exports_cp))
    return "musl";
  return "";
}

std::string nr_name(const std::string& arch, std::int64_t nr) {
  if (auto n = syscalls::name_of(arch, nr)) return *n;
  return "#" + std::to_string(nr);
}

std::map<std::string, int> LibcTable::nr_param_functions() const {
  std::map<std::string, int> out;
  for (const auto& [name, f] : functions)
    if (f.nr_param >= 0) out[name] = f.nr_param;
  return out;
}

Result<LibcTable> build_libc_table(const ElfObject& libc) {
  auto begin = std::chrono::steady_clock::now();
  LibcTable t;
  t.analysis = kLibcAnalysis;
  t.build_id = libc.build_id;
  t.path = libc.path;
  t.flavor = libc_flavor(libc);
  if (t.flavor.empty())
    return Error{libc.path + ": not a C library sandmine knows (glibc's libc.so.6, musl)", EINVAL};
  // The functions data/libc_paths.csv names for this flavor, by role.
  std::map<std::string, std::vector<std::uint64_t>> role_addrs;
  for (const auto& p : libc_paths())
    if (p.flavor == t.flavor)
      for (const auto& e : libc.exports)
        if (e.name == p.function) role_addrs[p.role].push_back(e.addr);
  std::set<std::uint64_t> fatal_entries(role_addrs["fatal"].begin(), role_addrs["fatal"].end());
  auto graph = build_code_graph(libc, {}, true, fatal_entries);
  if (!graph) return graph.error();
  const auto n = graph->chunks.size();
  // Cancellation: what the unwinding entry (the function __pthread_unwind_next
  // calls) reaches is cut from the plain sets; pthread_cancel and pthread_exit
  // are marked, so a function that reaches them opens it.
  std::vector<bool> fatal(n, false), unwind(n, false), request(n, false);
  for (std::size_t i = 0; i < n; ++i) fatal[i] = graph->chunks[i].fatal;
  for (auto a : role_addrs["cancel_unwind"]) {
    auto c = graph->chunk_at(a);
    if (c == CodeGraph::npos || graph->chunks[c].start != a) continue;
    for (auto callee : graph->chunks[c].callees)
      if (!fatal[callee]) unwind[callee] = t.cancellation_found = true;
  }
  for (auto a : role_addrs["cancel_request"]) {
    auto c = graph->chunk_at(a);
    if (c != CodeGraph::npos && graph->chunks[c].start == a) request[c] = true;
  }
  ClosureOptions plain_options, cancel_options;
  plain_options.cut = fatal;
  for (std::size_t i = 0; i < n; ++i)
    if (unwind[i]) plain_options.cut[i] = true;
  plain_options.mark = request;
  cancel_options.cut = fatal;
  auto plain = closures(*graph, plain_options);
  auto with_cancel = closures(*graph, cancel_options);
  auto direct = closures(*graph, false);
  auto wide = closures(*graph, true);
  auto reach_of = [&](std::uint32_t chunk) {
    FunctionReach f;
    if (!fatal[chunk]) {
      f.native = plain[chunk].native;
      f.native_cancel = with_cancel[chunk].native & ~f.native;
      f.requests_cancel = plain[chunk].marked;
    }
    f.native_fatal = direct[chunk].native & ~f.native & ~f.native_cancel;
    NrSet all = direct[chunk].native;
    f.compat = direct[chunk].compat;
    f.native_indirect = wide[chunk].native & ~all;
    f.compat_indirect = wide[chunk].compat & ~f.compat;
    f.unresolved = direct[chunk].unresolved != 0;
    f.indirect_calls = direct[chunk].indirect_calls != 0;
    f.nr_param = graph->chunks[chunk].nr_param;
    return f;
  };
  auto merge = [](FunctionReach& into, const FunctionReach& f) {
    into.native |= f.native;
    into.native_cancel |= f.native_cancel;
    into.native_fatal |= f.native_fatal;
    into.native_cancel &= ~into.native;
    into.native_fatal &= ~into.native & ~into.native_cancel;
    into.requests_cancel = into.requests_cancel || f.requests_cancel;
    into.compat |= f.compat;
    into.native_indirect |= f.native_indirect;
    into.compat_indirect |= f.compat_indirect;
    into.native_indirect &= ~(into.native | into.native_cancel | into.native_fatal);
    into.compat_indirect &= ~into.compat;
    into.unresolved = into.unresolved || f.unresolved;
    into.indirect_calls = into.indirect_calls || f.indirect_calls;
  };
  std::set<std::string> fatal_names;
  for (const auto& e : libc.exports) {
    auto c = graph->chunk_at(e.addr);
    if (c == CodeGraph::npos || graph->chunks[c].start != e.addr) continue;  // not code we cut here
    if (fatal[c]) fatal_names.insert(e.name);
    auto it = t.functions.find(e.name);
    if (it == t.functions.end())
      t.functions.emplace(e.name, reach_of(c));
    else
      merge(it->second, reach_of(c));  // two versions of one name: either may be bound
  }
  // Its init and fini code, and what the dynamic loader calls in it by name.
  std::vector<std::uint64_t> starts = libc.entry_points;
  starts.insert(starts.end(), role_addrs["startup"].begin(), role_addrs["startup"].end());
  for (auto a : starts) {
    auto c = graph->chunk_at(a);
    if (c != CodeGraph::npos) merge(t.startup, reach_of(c));
  }
  t.instructions = graph->instructions;
  t.chunks = graph->chunks.size();
  t.fatal_functions.assign(fatal_names.begin(), fatal_names.end());
  t.fatal_chunks = static_cast<std::size_t>(std::count(fatal.begin(), fatal.end(), true));
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  return t;
}

namespace {

json names(const NrSet& s, const std::string& arch) {
  json out = json::array();
  for (std::size_t nr = 0; nr < s.size(); ++nr)
    if (s.test(nr)) out.push_back(nr_name(arch, static_cast<std::int64_t>(nr)));
  return out;
}

json reach_json(const FunctionReach& f) {
  json j = {{"syscalls", names(f.native, "x86_64")}};
  if (f.native_cancel.any()) j["cancellation"] = names(f.native_cancel, "x86_64");
  if (f.native_fatal.any()) j["fatal_path"] = names(f.native_fatal, "x86_64");
  if (f.requests_cancel) j["requests_cancel"] = true;
  if (f.compat.any()) j["compat"] = names(f.compat, "x86");
  if (f.native_indirect.any()) j["through_indirect"] = names(f.native_indirect, "x86_64");
  if (f.compat_indirect.any()) j["compat_through_indirect"] = names(f.compat_indirect, "x86");
  if (f.nr_param >= 0) j["nr_param"] = f.nr_param;
  if (f.unresolved) j["unresolved"] = true;
  if (f.indirect_calls) j["indirect_calls"] = true;
  return j;
}

Result<NrSet> names_from(const json& j, const char* field, const std::string& arch,
                         const std::string& where) {
  NrSet s;
  if (!j.contains(field)) return s;
  if (!j[field].is_array()) return Error{where + "." + field + ": expected an array", EINVAL};
  for (const auto& n : j[field]) {
    if (!n.is_string()) return Error{where + "." + field + ": expected names", EINVAL};
    std::string name = n;
    std::optional<std::int64_t> nr;
    if (!name.empty() && name[0] == '#')
      nr = std::stoll(name.substr(1));
    else
      nr = syscalls::number_of(arch, name);
    if (!nr || *nr < 0 || *nr >= kMaxNr)
      return Error{where + "." + field + ": no " + arch + " syscall " + name, EINVAL};
    s.set(static_cast<std::size_t>(*nr));
  }
  return s;
}

Result<FunctionReach> reach_from_json(const json& j, const std::string& where) {
  if (!j.is_object()) return Error{where + ": expected an object", EINVAL};
  FunctionReach f;
  for (auto [field, arch, into] :
       {std::tuple{"syscalls", "x86_64", &f.native}, std::tuple{"cancellation", "x86_64", &f.native_cancel},
        std::tuple{"fatal_path", "x86_64", &f.native_fatal}, std::tuple{"compat", "x86", &f.compat},
        std::tuple{"through_indirect", "x86_64", &f.native_indirect},
        std::tuple{"compat_through_indirect", "x86", &f.compat_indirect}}) {
    auto s = names_from(j, field, arch, where);
    if (!s) return s.error();
    *into = *s;
  }
  f.requests_cancel = j.value("requests_cancel", false);
  f.nr_param = j.value("nr_param", -1);
  f.unresolved = j.value("unresolved", false);
  f.indirect_calls = j.value("indirect_calls", false);
  return f;
}

}  // namespace

json to_json(const LibcTable& t) {
  json functions = json::object();
  for (const auto& [name, f] : t.functions) functions[name] = reach_json(f);
  return {{"version", t.version},
          {"analysis", t.analysis},
          {"build_id", t.build_id},
          {"path", t.path},
          {"flavor", t.flavor},
          {"arch", t.arch},
          {"instructions", t.instructions},
          {"chunks", t.chunks},
          {"fatal_functions", t.fatal_functions},
          {"fatal_chunks", t.fatal_chunks},
          {"cancellation_found", t.cancellation_found},
          {"seconds", std::round(t.seconds * 1000) / 1000},
          {"startup", reach_json(t.startup)},
          {"functions", std::move(functions)}};
}

Result<LibcTable> libc_table_from_json(const json& doc, const std::string& source) {
  if (!doc.is_object() || doc.value("version", 0) != 1)
    return Error{source + ": not a version 1 sandmine libc table", EINVAL};
  LibcTable t;
  t.analysis = doc.value("analysis", 0);
  t.build_id = doc.value("build_id", "");
  t.path = doc.value("path", "");
  t.flavor = doc.value("flavor", "");
  t.arch = doc.value("arch", "x86_64");
  t.instructions = doc.value("instructions", std::size_t{0});
  t.chunks = doc.value("chunks", std::size_t{0});
  t.fatal_functions = doc.value("fatal_functions", std::vector<std::string>{});
  t.fatal_chunks = doc.value("fatal_chunks", std::size_t{0});
  t.cancellation_found = doc.value("cancellation_found", false);
  t.seconds = doc.value("seconds", 0.0);
  if (t.arch != "x86_64")
    return Error{source + ": arch " + t.arch + ", sandmine reads x86_64 tables", EINVAL};
  if (!doc.contains("functions") || !doc["functions"].is_object())
    return Error{source + ": functions: expected an object", EINVAL};
  auto startup = reach_from_json(doc.value("startup", json::object()), source + ": startup");
  if (!startup) return startup.error();
  t.startup = *startup;
  for (const auto& [name, j] : doc["functions"].items()) {
    auto f = reach_from_json(j, source + ": functions." + name);
    if (!f) return f.error();
    t.functions.emplace(name, std::move(*f));
  }
  return t;
}

Result<LibcTable> libc_table(const ElfObject& libc, const std::string& cache_dir, bool* cached) {
  if (cached) *cached = false;
  std::string file =
      cache_dir.empty() || libc.build_id.empty() ? "" : cache_dir + "/" + libc.build_id + ".json";
  if (!file.empty()) {
    std::ifstream in(file);
    if (in) {
      json doc = json::parse(in, nullptr, false);
      if (!doc.is_discarded()) {
        auto t = libc_table_from_json(doc, file);
        // A table from an older sandmine or a damaged file is rebuilt, not trusted.
        if (t && t->build_id == libc.build_id && t->analysis == kLibcAnalysis) {
          if (cached) *cached = true;
          t->path = libc.path;
          return t;
        }
      }
    }
  }
  auto t = build_libc_table(libc);
  if (!t || file.empty()) return t;
  std::error_code ec;
  std::filesystem::create_directories(cache_dir, ec);
  if (ec) return Error{"cannot create the reach cache " + cache_dir + ": " + ec.message(), ec.value()};
  auto out = sys::OutputFile::create(file);
  if (!out) return out.error();
  if (auto st = out->commit(to_json(*t).dump(1) + "\n"); !st) return st.error();
  return t;
}

}  // namespace sandmine::reach
