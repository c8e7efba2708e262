#pragma once
// Whole-file reads and writes for small kernel files (procfs, cgroupfs, sysfs).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "sys/fd.h"
#include "util/result.h"

namespace sandmine::sys {

/// The whole content of a file.
Result<std::string> read_file(const std::string& path);

/// Writes data to an existing file in one write(2), as kernel files expect.
Status write_file(const std::string& path, std::string_view data);

/// Opens path for appending (created with mode 0644 if missing), close-on-exec.
Result<UniqueFd> open_append(const std::string& path);

/// Whether path exists (any kind of file); its size in bytes when it does.
std::optional<std::uint64_t> file_size(const std::string& path);

/// Whether path can be executed by this process.
bool is_executable(const std::string& path);

/// Whether this process may read the file at path (access(R_OK)).
bool is_readable(const std::string& path);

/// What a writer puts into a descriptor, read back: write_to gets a fresh
/// anonymous memory file and returns 0 or a negative errno (as libseccomp's
/// exporters do).
Result<std::string> capture(const std::function<int(int fd)>& write_to, const std::string& what);

/// A fresh empty directory <tmp>/<prefix>XXXXXX, removed with everything in
/// it on destruction.
class TempDir {
 public:
  static Result<TempDir> create(const std::string& prefix);
  TempDir(TempDir&& o) noexcept : path_(std::exchange(o.path_, {})) {}
  TempDir& operator=(TempDir&&) = delete;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

/// Opens path for writing only (it must exist), close-on-exec: a cgroup.procs.
Result<UniqueFd> open_write_only(const std::string& path);

}  // namespace sandmine::sys

namespace sandmine::sys {

/// A file written whole or not at all. create() makes a temporary file beside
/// path, so an unwritable destination fails before any work is done; commit()
/// writes the content and renames it over path. Destruction without commit
/// removes the temporary.
class OutputFile {
 public:
  static Result<OutputFile> create(const std::string& path);
  OutputFile(OutputFile&& o) noexcept : path_(std::move(o.path_)), temp_(std::exchange(o.temp_, {})) {}
  OutputFile& operator=(OutputFile&&) = delete;
  OutputFile(const OutputFile&) = delete;
  ~OutputFile();

  const std::string& path() const { return path_; }
  Status commit(std::string_view content);

 private:
  OutputFile(std::string path, std::string temp) : path_(std::move(path)), temp_(std::move(temp)) {}
  std::string path_;
  std::string temp_;
};

}  // namespace sandmine::sys

namespace sandmine::sys {

/// An exclusive flock(2) on a file (created if missing) for as long as it lives.
class FileLock {
 public:
  /// Takes the lock; when another process holds it, calls waiting() once and blocks.
  static Result<FileLock> take(const std::string& path, const std::function<void()>& waiting = {});
  FileLock(FileLock&&) noexcept = default;
  FileLock& operator=(FileLock&&) noexcept = default;

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // closing it releases the lock
};

}  // namespace sandmine::sys
