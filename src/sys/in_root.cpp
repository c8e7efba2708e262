#include "sys/in_root.h"

#include <fcntl.h>
#include <linux/openat2.h>
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
