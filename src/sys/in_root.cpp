#include "sys/in_root.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

namespace sandmine::sys {

Result<UniqueFd> open_read(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return errno_error("cannot open " + path);
  return fd;
}

Result<RootDir> RootDir::open(const std::string& dir) {
  char real[PATH_MAX];
  if (!::realpath(dir.c_str(), real)) return errno_error("cannot open root file system " + dir);
  UniqueFd fd(::open(real, O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return errno_error("cannot open root file system " + dir);
  std::string path = real;
  if (path == "/") path.clear();  // path_of strips nothing
  return RootDir(std::move(path), std::move(fd));
}

Result<RootDir> RootDir::of_process(pid_t pid) {
  // Not through realpath: the magic link reads "/" from here, but opening it
  // gives the process's own root.
  std::string dir = "/proc/" + std::to_string(pid) + "/root";
  UniqueFd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return errno_error("cannot open the root file system of process " + std::to_string(pid));
  return RootDir(dir, std::move(fd));
}

Result<std::optional<std::string>> RootDir::read_regular(const std::string& path,
                                                         std::size_t max_bytes) const {
  auto fd = open_file(path);
  if (!fd) return fd.error();
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return errno_error("cannot stat " + path);
  if (!S_ISREG(st.st_mode) || static_cast<std::size_t>(st.st_size) > max_bytes)
    return std::optional<std::string>();
  std::string content;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd->get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("cannot read " + path);
    }
    if (n == 0) break;
    content.append(buf, static_cast<std::size_t>(n));
    if (content.size() > max_bytes) return std::optional<std::string>();
  }
  return std::optional<std::string>(std::move(content));
}

Result<UniqueFd> RootDir::open_file(const std::string& path) const {
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  // glibc 2.36 has no wrapper for openat2.
  long fd = ::syscall(SYS_openat2, fd_.get(), path.c_str(), &how, sizeof how);
  if (fd < 0) return errno_error("cannot open " + path + " in " + (path_.empty() ? "/" : path_));
  return UniqueFd(static_cast<int>(fd));
}

Result<std::string> RootDir::path_of(const UniqueFd& fd) const {
  std::string link = "/proc/self/fd/" + std::to_string(fd.get());
  char buf[PATH_MAX];
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  if (n < 0) return errno_error("cannot read " + link);
  std::string host(buf, static_cast<size_t>(n));
  if (path_.empty()) return host;
  if (host.compare(0, path_.size(), path_) != 0 || (host.size() > path_.size() && host[path_.size()] != '/'))
    return Error{"file " + host + " is outside root " + path_, EINVAL};
  std::string inside = host.substr(path_.size());
  return inside.empty() ? std::string("/") : inside;
}

}  // namespace sandmine::sys
