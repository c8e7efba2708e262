#include "sys/cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "sys/files.h"

namespace sandmine::sys {

namespace fs = std::filesystem;

namespace {

// Mount points of whole hierarchies (root "/") of a filesystem type.
// mountinfo fields: id parent major:minor root mountpoint options [optional...] - fstype source super
std::vector<std::string> mounts_of_type(std::string_view mountinfo, std::string_view type) {
  std::vector<std::string> out;
  std::istringstream in{std::string(mountinfo)};
  std::string line;
  while (std::getline(in, line)) {
    auto sep = line.find(" - ");
    if (sep == std::string::npos) continue;
    std::istringstream tail(line.substr(sep + 3));
    std::string fstype;
    tail >> fstype;
    if (fstype != type) continue;
    std::istringstream head(line.substr(0, sep));
    std::string id, parent, dev, root, mountpoint;
    head >> id >> parent >> dev >> root >> mountpoint;
    if (root == "/") out.push_back(mountpoint);
  }
  return out;
}

}  // namespace

std::optional<std::string> find_cgroup2_mount(std::string_view mountinfo) {
  auto mounts = mounts_of_type(mountinfo, "cgroup2");
  if (mounts.empty()) return std::nullopt;
  return mounts.front();
}

std::vector<std::string> find_cgroup1_mounts(std::string_view mountinfo) {
  return mounts_of_type(mountinfo, "cgroup");
}

Result<std::string> cgroup2_mount() {
  auto text = read_file("/proc/self/mountinfo");
  if (!text) return text.error();
  auto mount = find_cgroup2_mount(*text);
  if (!mount)
    return Error{
        "no cgroup v2 hierarchy is mounted (looked in /proc/self/mountinfo); "
        "mount one with: mount -t cgroup2 none /sys/fs/cgroup/unified"};
  return *mount;
}

Result<std::uint64_t> cgroup_id(const std::string& path) {
  struct {
    struct file_handle fh;
    unsigned char bytes[sizeof(std::uint64_t)];
  } handle{};
  handle.fh.handle_bytes = sizeof(std::uint64_t);
  int mount_id = 0;
  if (name_to_handle_at(AT_FDCWD, path.c_str(), &handle.fh, &mount_id, 0) != 0)
    return errno_error("cannot read the cgroup id of " + path);
  std::uint64_t id = 0;
  std::memcpy(&id, handle.fh.f_handle, sizeof id);
  return id;
}

namespace {

// Removes dir and everything below it, deepest first; rmdir fails on a group
// that still holds processes, which is what we want.
bool remove_tree(const fs::path& dir) {
  std::vector<fs::path> dirs;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec)) dirs.push_back(it->path());
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) ::rmdir(it->c_str());
  return ::rmdir(dir.c_str()) == 0 || errno == ENOENT;
}

}  // namespace

std::vector<std::string> remove_stale_groups(const std::string& parent, const std::string& prefix) {
  std::vector<std::string> busy;
  // The same parent in the v2 tree and in every v1 hierarchy: engines create
  // their groups in all of them, and any of them can outlive the others.
  std::vector<fs::path> parents{parent};
  auto mountinfo = read_file("/proc/self/mountinfo");
  if (mountinfo)
    if (auto v2 = find_cgroup2_mount(*mountinfo))
      for (const auto& mount : find_cgroup1_mounts(*mountinfo))
        parents.push_back(fs::path(mount) / fs::path(parent).lexically_relative(*v2));
  std::error_code ec;
  for (const auto& dir : parents)
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      std::string name = entry.path().filename().string();
      if (name.rfind(prefix, 0) != 0 || !entry.is_directory(ec)) continue;
      std::string pid = name.substr(prefix.size());
      if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
      if (fs::exists("/proc/" + pid, ec)) continue;
      if (!remove_tree(entry.path())) busy.push_back(entry.path().string());
    }
  return busy;
}

Result<Cgroup> Cgroup::create(const std::string& parent, const std::string& name) {
  auto mount = cgroup2_mount();
  if (!mount) return mount.error();
  std::string path = parent + "/" + name;
  if (::mkdir(path.c_str(), 0755) != 0) return errno_error("cannot create cgroup " + path);
  auto id = cgroup_id(path);
  if (!id) {
    ::rmdir(path.c_str());
    return id.error();
  }
  auto rel = fs::path(path).lexically_relative(*mount);
  int level = 0;
  for (const auto& part : rel)
    if (part != ".") ++level;
  return Cgroup(path, *mount, *id, level);
}

Cgroup::Cgroup(Cgroup&& o) noexcept
    : path_(std::exchange(o.path_, {})), mount_(std::move(o.mount_)), id_(o.id_), level_(o.level_) {}

Cgroup& Cgroup::operator=(Cgroup&& o) noexcept {
  if (this != &o) {
    (void)remove();
    path_ = std::exchange(o.path_, {});
    mount_ = std::move(o.mount_);
    id_ = o.id_;
    level_ = o.level_;
  }
  return *this;
}

Cgroup::~Cgroup() { (void)remove(); }

std::string Cgroup::relative_path() const {
  return "/" + fs::path(path_).lexically_relative(mount_).string();
}

Result<UniqueFd> Cgroup::open_procs() const {
  std::string file = path_ + "/cgroup.procs";
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return errno_error("cannot open " + file);
  return fd;
}

Result<bool> Cgroup::populated() const {
  auto text = read_file(path_ + "/cgroup.events");
  if (!text) return text.error();
  return text->find("populated 1") != std::string::npos;
}

Result<std::uint64_t> Cgroup::cpu_usage_usec() const {
  auto text = read_file(path_ + "/cpu.stat");
  if (!text) return Error{"cannot read " + path_ + "/cpu.stat: " + text.error().message, text.error().errnum};
  std::istringstream in(*text);
  std::string key;
  std::uint64_t value = 0;
  while (in >> key >> value)
    if (key == "usage_usec") return value;
  return Error{path_ + "/cpu.stat has no usage_usec", EINVAL};
}

Status Cgroup::kill() const { return write_file(path_ + "/cgroup.kill", "1"); }

Status Cgroup::remove(int timeout_ms) {
  if (path_.empty()) return {};
  (void)kill();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    auto busy = populated();
    if (!busy || !*busy) break;
    if (std::chrono::steady_clock::now() > deadline)
      return Error{"cgroup " + path_ + " still has processes after " + std::to_string(timeout_ms) + " ms"};
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  // Engines remove their containers' groups asynchronously (docker rm returns
  // before the shim has gone): a busy group gets until the deadline.
  auto remove_patiently = [&](const std::string& dir) {
    while (!remove_tree(dir)) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  };
  if (!remove_patiently(path_)) return errno_error("cannot remove cgroup " + path_);
  if (auto mountinfo = read_file("/proc/self/mountinfo"))
    for (const auto& v1 : find_cgroup1_mounts(*mountinfo))
      if (!remove_patiently(v1 + relative_path()))
        return errno_error("cannot remove cgroup " + v1 + relative_path());
  path_.clear();
  return {};
}

Status freeze_cgroup(const std::string& dir, bool frozen, int timeout_ms) {
  if (auto st = write_file(dir + "/cgroup.freeze", frozen ? "1" : "0"); !st) return st;
  std::string want = frozen ? "frozen 1" : "frozen 0";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    auto events = read_file(dir + "/cgroup.events");
    if (!events) return events.error();
    if (events->find(want) != std::string::npos) return {};
    if (std::chrono::steady_clock::now() > deadline)
      return Error{
          "cgroup " + dir + " did not become " + want + " within " + std::to_string(timeout_ms) + " ms",
          ETIMEDOUT};
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

Result<std::uint64_t> cgroup_cpu_usec(const std::string& dir) {
  auto text = read_file(dir + "/cpu.stat");
  if (!text) return text.error();
  auto at = text->find("usage_usec ");
  if (at == std::string::npos) return Error{dir + "/cpu.stat has no usage_usec", EPROTO};
  return std::strtoull(text->c_str() + at + 11, nullptr, 10);
}

namespace {

// The ids listed in file (cgroup.threads, cgroup.procs) of dir and every group below it.
Result<std::vector<pid_t>> ids_below(const std::string& dir, const char* file) {
  std::vector<pid_t> out;
  std::error_code ec;
  std::vector<fs::path> groups{dir};
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->is_directory(ec)) groups.push_back(it->path());
  if (ec) return Error{"cannot list the groups below " + dir + ": " + ec.message()};
  for (const auto& g : groups) {
    auto text = read_file((g / file).string());
    if (!text) continue;  // removed meanwhile
    const char* p = text->c_str();
    char* end = nullptr;
    for (long id = std::strtol(p, &end, 10); end != p; id = std::strtol(p, &end, 10)) {
      out.push_back(static_cast<pid_t>(id));
      p = end;
    }
  }
  return out;
}

}  // namespace

Result<std::vector<pid_t>> cgroup_threads(const std::string& dir) { return ids_below(dir, "cgroup.threads"); }

Result<std::vector<pid_t>> cgroup_processes(const std::string& dir) { return ids_below(dir, "cgroup.procs"); }

}  // namespace sandmine::sys
