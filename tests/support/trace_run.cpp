#include "support/trace_run.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "sys/cgroup.h"
#include "sys/files.h"

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

// Whether a sandmine cgroup name (sandmine-<pid>, sandmine-ptrace-<pid>, ...)
// belongs to another process that is still running: not a leak, work in
// progress (other tests, other sandmine runs on this machine).
bool owned_by_another_live_process(const std::string& name) {
  auto dash = name.rfind('-');
  if (dash == std::string::npos) return false;
  std::string pid = name.substr(dash + 1);
  if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) return false;
  return std::stol(pid) != getpid() && std::filesystem::exists("/proc/" + pid);
}

std::vector<std::string> runc_leftovers(const std::string& root) {
  std::vector<std::string> out;
  std::istringstream names(run({"/usr/sbin/runc", "--root", root, "list", "-q"}).out);
  for (std::string name; std::getline(names, name);)
    if (!name.empty() && !owned_by_another_live_process(name)) out.push_back(name);
  return out;
}

namespace {

// The pids holding a BPF program (its fd or a link's fd), from fdinfo.
std::set<long> holders_of_prog(int id) {
  namespace fs = std::filesystem;
  std::set<long> out;
  std::string needle = "prog_id:\t" + std::to_string(id) + "\n";
  std::error_code ec;
  for (const auto& proc : fs::directory_iterator("/proc", ec)) {
    std::string pid = proc.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    for (const auto& fd : fs::directory_iterator(proc.path() / "fdinfo", ec)) {
      auto info = sys::read_file(fd.path().string());
      if (info && info->find(needle) != std::string::npos) out.insert(std::stol(pid));
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> leftovers_now() {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  std::vector<std::string> roots{"/sys/fs/cgroup"};
  if (auto v2 = sys::cgroup2_mount()) roots.push_back(*v2);
  auto check = [&](const fs::path& dir) {
    std::string name = dir.filename().string();
    if (name.rfind("sandmine", 0) == 0 && !owned_by_another_live_process(name))
      out.push_back("cgroup " + dir.string());
  };
  std::error_code ec;
  for (const auto& root : roots)
    for (const auto& dir : fs::directory_iterator(root, ec)) {
      if (!dir.is_directory(ec)) continue;
      check(dir.path());
      for (const auto& sub : fs::directory_iterator(dir.path(), ec))
        if (sub.is_directory(ec)) check(sub.path());
    }
  // Mounts made for a container (runc's overlay, in a folder named after
  // the container) that is not another running process's.
  if (auto info = sys::read_file("/proc/self/mountinfo")) {
    std::istringstream lines(*info);
    for (std::string line; std::getline(lines, line);) {
      std::istringstream fields(line);
      std::string id, parent, devices, root, point;
      fields >> id >> parent >> devices >> root >> point;
      for (const auto& part : fs::path(point))
        if (part.string().rfind("sandmine-", 0) == 0 && !owned_by_another_live_process(part.string())) {
          out.push_back("mount " + point);
          break;
        }
    }
  }
  // A recorder's program lives as long as a process holds it: one held by this
  // test process, or by nobody, is left behind; one held by another running
  // sandmine is not.
  Outcome progs = run({"/usr/sbin/bpftool", "-j", "prog", "list"});
  if (progs.exit_code == 0) {
    auto list = nlohmann::json::parse(progs.out, nullptr, false);
    if (list.is_array())
      for (const auto& p : list) {
        if (p.value("name", "") != "sys_enter") continue;
        auto holders = holders_of_prog(p.value("id", 0));
        if (holders.empty() || holders.count(getpid()))
          out.push_back("BPF program sys_enter id " + std::to_string(p.value("id", 0)));
      }
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
