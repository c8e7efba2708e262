#include "sys/proc_maps.h"

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <sstream>

#include "sys/files.h"

namespace sandmine::sys {

namespace {

std::string strip(std::string path, const std::string& prefix) {
  if (!prefix.empty() && prefix != "/" && path.compare(0, prefix.size(), prefix) == 0 &&
      (path.size() == prefix.size() || path[prefix.size()] == '/'))
    path = path.size() == prefix.size() ? "/" : path.substr(prefix.size());
  return path;
}

}  // namespace

std::vector<int> pids_in_subtree(const std::string& dir) {
  std::vector<int> out;
  std::error_code ec;
  std::vector<std::string> dirs{dir};
  for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec)) dirs.push_back(it->path().string());
  for (const auto& d : dirs) {
    auto procs = read_file(d + "/cgroup.procs");
    if (!procs) continue;  // removed meanwhile
    std::istringstream in(*procs);
    int pid;
    while (in >> pid) out.push_back(pid);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<ProcessImage> process_image(int pid, const std::string& strip_prefix) {
  ProcessImage p;
  p.pid = pid;
  std::string base = "/proc/" + std::to_string(pid);
  char buf[PATH_MAX];
  ssize_t n = ::readlink((base + "/exe").c_str(), buf, sizeof buf - 1);
  if (n < 0) return errno_error("cannot read " + base + "/exe");
  p.exe = strip(std::string(buf, static_cast<size_t>(n)), strip_prefix);
  auto maps = read_file(base + "/maps");
  if (!maps) return maps.error();
  std::istringstream in(*maps);
  std::string line;
  while (std::getline(in, line)) {
    // address perms offset dev inode path
    std::istringstream fields(line);
    std::string range, perms, offset, dev, inode;
    fields >> range >> perms >> offset >> dev >> inode;
    if (perms.size() < 3 || perms[2] != 'x') continue;
    std::string path;
    std::getline(fields, path);
    auto b = path.find_first_not_of(' ');
    if (b == std::string::npos) continue;
    path = path.substr(b);
    if (path.empty() || path[0] != '/' || path.ends_with(" (deleted)")) continue;
    p.mapped.push_back(strip(path, strip_prefix));
  }
  std::sort(p.mapped.begin(), p.mapped.end());
  p.mapped.erase(std::unique(p.mapped.begin(), p.mapped.end()), p.mapped.end());
  if (p.exe.ends_with(" (deleted)")) p.exe.clear();
  return p;
}

}  // namespace sandmine::sys
