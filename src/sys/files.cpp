#include "sys/files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "sys/fd.h"
#include "sys/interrupt.h"

namespace sandmine::sys {

Result<std::string> read_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return errno_error("cannot open " + path);
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("cannot read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<UniqueFd> open_append(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!fd.valid()) return errno_error("cannot open " + path);
  return fd;
}

std::optional<std::uint64_t> file_size(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(st.st_size);
}

bool is_readable(const std::string& path) { return ::access(path.c_str(), R_OK) == 0; }

bool is_executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

Result<std::string> capture(const std::function<int(int fd)>& write_to, const std::string& what) {
  UniqueFd fd(::memfd_create("sandmine-capture", MFD_CLOEXEC));
  if (!fd.valid()) return errno_error("cannot create a memory file for " + what);
  if (int rc = write_to(fd.get()); rc != 0)
    return Error{"cannot write " + what + ": " + std::strerror(-rc), -rc};
  off_t size = ::lseek(fd.get(), 0, SEEK_END);
  if (size < 0) return errno_error("cannot size " + what);
  std::string out(static_cast<std::size_t>(size), '\0');
  for (off_t done = 0; done < size;) {
    ssize_t n = ::pread(fd.get(), out.data() + done, static_cast<std::size_t>(size - done), done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return errno_error("cannot read back " + what);
    done += n;
  }
  return out;
}

Result<TempDir> TempDir::create(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) return errno_error("cannot create a work directory " + tmpl);
  return TempDir(tmpl);
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Status write_file(const std::string& path, std::string_view data) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return errno_error("cannot open " + path);
  ssize_t n = ::write(fd.get(), data.data(), data.size());
  if (n < 0) return errno_error("cannot write " + path);
  return {};
}

Result<UniqueFd> open_write_only(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return errno_error("cannot open " + path);
  return fd;
}

}  // namespace sandmine::sys

namespace sandmine::sys {

Result<OutputFile> OutputFile::create(const std::string& path) {
  if (path.empty()) return Error{"empty output path", EINVAL};
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return Error{"cannot write " + path + ": it is a directory", EISDIR};
  std::string temp = path + ".tmp-XXXXXX";
  int fd = ::mkstemp(temp.data());
  if (fd < 0) return errno_error("cannot write " + path);
  ::fchmod(fd, 0644);
  ::close(fd);
  return OutputFile(path, temp);
}

OutputFile::~OutputFile() {
  if (!temp_.empty()) ::unlink(temp_.c_str());
}

Status OutputFile::commit(std::string_view content) {
  if (temp_.empty()) return Error{"output " + path_ + " already written", EINVAL};
  UniqueFd fd(::open(temp_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd.valid()) return errno_error("cannot write " + path_);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("cannot write " + path_);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return errno_error("cannot write " + path_);
  if (::rename(temp_.c_str(), path_.c_str()) != 0) return errno_error("cannot write " + path_);
  temp_.clear();
  return {};
}

}  // namespace sandmine::sys

namespace sandmine::sys {

Result<FileLock> FileLock::take(const std::string& path, const std::function<void()>& waiting) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return errno_error("cannot open the lock " + path);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return errno_error("cannot lock " + path);
    if (waiting) waiting();
    // Polled, not a blocking flock: a signal that came just before a blocking
    // call would not interrupt it, and Ctrl-C would wait for the other build.
    while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR) return errno_error("cannot lock " + path);
      if (int sig = interrupt_signal())
        return Error{"interrupted by signal " + std::to_string(sig) + " while waiting for the lock " + path,
                     EINTR};
      ::usleep(50'000);
    }
  }
  return FileLock(std::move(fd));
}

}  // namespace sandmine::sys
