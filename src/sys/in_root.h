#pragma once
// Files of another root file system (a container image's), opened as that
// root sees them: absolute symlinks and ".." resolve inside it, never to the
// host's files.

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>

#include "sys/fd.h"
#include "util/result.h"

namespace sandmine::sys {

/// Opens path for reading (close-on-exec), as this process sees it.
Result<UniqueFd> open_read(const std::string& path);

/// A directory taken as the root of a file system tree.
class RootDir {
 public:
  /// Opens dir (it must exist and be a directory).
  static Result<RootDir> open(const std::string& dir);
  /// The root file system process pid sees (/proc/PID/root, a container's).
  /// path_of is not available on it.
  static Result<RootDir> of_process(pid_t pid);
  RootDir(RootDir&&) noexcept = default;
  RootDir& operator=(RootDir&&) noexcept = default;

  const std::string& path() const { return path_; }
  /// Opens path (absolute, as a process chrooted to this root names it) for
  /// reading with openat2(RESOLVE_IN_ROOT): every symlink on the way resolves
  /// inside the root. ENOENT when it is not there.
  Result<UniqueFd> open_file(const std::string& path) const;
  /// The content of path (as open_file finds it) when it is a regular file of
  /// at most max_bytes; empty when it is another kind of file or larger.
  Result<std::optional<std::string>> read_regular(const std::string& path, std::size_t max_bytes) const;
  /// The path of an open file inside this root: where its symlinks led
  /// (from /proc/self/fd, with the root's own path taken off).
  Result<std::string> path_of(const UniqueFd& fd) const;

 private:
  RootDir(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;  // canonical host path of the root
  UniqueFd fd_;
};

}  // namespace sandmine::sys
