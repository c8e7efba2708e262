#include "sys/tracefs.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <sstream>

#include "sys/files.h"

namespace sandmine::sys {

namespace {
constexpr const char* kTracefsPath = "/sys/kernel/tracing";
constexpr const char* kStateDir = "/run/sandmine";
constexpr const char* kLockPath = "/run/sandmine/tracefs.users";
constexpr const char* kMutexPath = "/run/sandmine/tracefs.lock";
constexpr const char* kMarkerPath = "/run/sandmine/tracefs.mounted";

int flock_retrying(int fd, int op) {
  int r;
  while ((r = ::flock(fd, op)) != 0 && errno == EINTR) {
  }
  return r;
}
}  // namespace

std::optional<std::string> find_tracefs_mount(std::string_view mountinfo) {
  std::istringstream in{std::string(mountinfo)};
  std::string line;
  while (std::getline(in, line)) {
    auto sep = line.find(" - ");
    if (sep == std::string::npos) continue;
    std::istringstream tail(line.substr(sep + 3));
    std::string fstype;
    tail >> fstype;
    if (fstype != "tracefs") continue;
    std::istringstream head(line.substr(0, sep));
    std::string id, parent, dev, root, mountpoint;
    head >> id >> parent >> dev >> root >> mountpoint;
    return mountpoint;
  }
  return std::nullopt;
}

Result<Tracefs> Tracefs::ensure() {
  ::mkdir(kStateDir, 0755);
  // Mounting and unmounting happen under an exclusive lock on kMutexPath, held
  // only for those few calls; every user holds a shared lock on kLockPath for
  // as long as it uses tracefs.
  UniqueFd mutex(::open(kMutexPath, O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  UniqueFd lock(::open(kLockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!mutex.valid() || !lock.valid())
    return errno_error(std::string("cannot open the locks in ") + kStateDir);
  if (flock_retrying(mutex.get(), LOCK_EX) != 0) return errno_error(std::string("cannot lock ") + kMutexPath);
  auto text = read_file("/proc/self/mountinfo");
  if (!text) return text.error();
  bool ours = false;
  std::string path;
  if (auto mount = find_tracefs_mount(*text)) {
    path = *mount;
    ours = ::access(kMarkerPath, F_OK) == 0;  // another sandmine mounted it
  } else {
    if (::mount("nodev", kTracefsPath, "tracefs", 0, nullptr) != 0)
      return errno_error(std::string("tracefs is not mounted and mounting it at ") + kTracefsPath +
                         " failed (run as root)");
    UniqueFd marker(::open(kMarkerPath, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    path = kTracefsPath;
    ours = true;
  }
  if (flock_retrying(lock.get(), LOCK_SH) != 0) return errno_error(std::string("cannot lock ") + kLockPath);
  return Tracefs(path, ours, std::move(lock));  // closing mutex releases it
}

Tracefs::~Tracefs() {
  if (!ours_ || !lock_.valid()) return;
  UniqueFd mutex(::open(kMutexPath, O_RDWR | O_CLOEXEC));
  if (!mutex.valid() || flock_retrying(mutex.get(), LOCK_EX) != 0) return;
  // The last user unmounts; anyone else still holds its shared lock.
  if (::flock(lock_.get(), LOCK_EX | LOCK_NB) == 0) {
    ::umount2(path_.c_str(), MNT_DETACH);
    ::unlink(kMarkerPath);
  }
  lock_.reset();  // before the mutex: a waiting ensure() then takes its shared lock at once
}

}  // namespace sandmine::sys
