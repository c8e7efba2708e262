#include "support/trace_run.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "sys/cgroup.h"

namespace sandmine::test {

namespace {
CountMap counts_of(const nlohmann::json& list) {
  CountMap out;
  for (const auto& e : list) {
    std::string name =
        e["name"].is_null() ? "#" + std::to_string(e["nr"].get<long>()) : e["name"].get<std::string>();
    out[{e["arch"], name}] += e["count"].get<std::uint64_t>();
  }
  return out;
}
}  // namespace

CountMap Traced::armed() const { return counts_of(doc["syscalls"]); }
CountMap Traced::unarmed() const { return counts_of(doc["unarmed"]); }

std::set<ArchName> Traced::armed_set() const {
  std::set<ArchName> out;
  for (const auto& [k, v] : armed()) out.insert(k);
  return out;
}

Traced trace(const std::string& backend, const std::vector<std::string>& argv,
             const std::vector<std::string>& extra, const std::string& input) {
  TempDir dir;
  std::vector<std::string> args{"trace", "--backend", backend, "-o", dir.file("t.json")};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back("--");
  args.insert(args.end(), argv.begin(), argv.end());
  Traced t;
  t.run = sandmine(args, input);
  if (std::filesystem::exists(dir.file("t.json"))) t.doc = read_json(dir.file("t.json"));
  return t;
}

std::string describe(const std::set<ArchName>& set) {
  std::string out;
  for (const auto& [arch, name] : set) out += arch + ":" + name + " ";
  return out;
}

std::string describe_names(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += n + " ";
  return out;
}

std::vector<std::string> leftovers_now() {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  std::vector<std::string> roots{"/sys/fs/cgroup"};
  if (auto v2 = sys::cgroup2_mount()) roots.push_back(*v2);
  std::error_code ec;
  for (const auto& root : roots)
    for (const auto& dir : fs::directory_iterator(root, ec)) {
      if (!dir.is_directory(ec)) continue;
      if (dir.path().filename().string().rfind("sandmine", 0) == 0)
        out.push_back("cgroup " + dir.path().string());
      for (const auto& sub : fs::directory_iterator(dir.path(), ec))
        if (sub.path().filename().string().rfind("sandmine", 0) == 0)
          out.push_back("cgroup " + sub.path().string());
    }
  Outcome progs = run({"/usr/sbin/bpftool", "-j", "prog", "list"});
  if (progs.exit_code == 0) {
    auto list = nlohmann::json::parse(progs.out, nullptr, false);
    if (list.is_array())
      for (const auto& p : list)
        if (p.value("name", "") == "sys_enter")
          out.push_back("BPF program sys_enter id " + std::to_string(p.value("id", 0)));
  }
  return out;
}

// The kernel frees a program after its last fd is closed, asynchronously: a
// program seen right after sandmine exited may be on its way out.
std::vector<std::string> leftovers() {
  std::vector<std::string> found;
  for (int i = 0; i < 40; ++i) {
    found = leftovers_now();
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    if (found.empty()) break;
    usleep(50'000);
  }
  return found;
}

}  // namespace sandmine::test
