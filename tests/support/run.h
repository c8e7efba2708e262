#pragma once
// Running sandmine and test programs from tests, and reading what they wrote.

#include <sys/types.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

/// A test that cannot run here (no root, a tool missing) says why and skips;
/// with CI set (scripts/test.sh sets it), where everything it needs is
/// installed and started, it fails instead. CI also fails on any skip.
#define SKIP_OR_FAIL_IN_CI(why)             \
  do {                                      \
    if (std::getenv("CI")) FAIL() << (why); \
    GTEST_SKIP() << (why);                  \
  } while (0)

namespace sandmine::test {

/// What a finished process left: exit code (128+signal if killed) and output.
struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs argv (argv[0] a path) to completion, stdin from /dev/null or input.
Outcome run(const std::vector<std::string>& argv, const std::string& input = "");

/// Runs the sandmine binary under test with args.
Outcome sandmine(const std::vector<std::string>& args, const std::string& input = "");

/// Expects r to be bad input: exit 2 and one line on stderr, "sandmine: ..."
/// containing text.
void expect_one_line_error(const Outcome& r, const std::string& text);

/// Path of a test program (tests/programs): prog("rare_syscalls").
std::string prog(const std::string& name);

/// A fresh empty directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// Parses a JSON file (fails the test if it cannot).
nlohmann::json read_json(const std::string& path);

/// Writes text to a file.
void write_text(const std::string& path, const std::string& text);

/// Whether this process is root (integration tests need it; CI runs as root).
bool is_root();

}  // namespace sandmine::test

namespace sandmine::test {

/// A process started in the background: input on its stdin, then closed
/// (unless keep_stdin_open: then close_stdin() or the end closes it); its
/// stdout and stderr captured.
class Background {
 public:
  explicit Background(const std::vector<std::string>& argv, const std::string& input = "",
                      bool keep_stdin_open = false);
  ~Background();
  pid_t pid() const { return pid_; }
  /// Reads what it prints until its stdout or stderr holds text, it ends, or
  /// timeout_ms pass; true once the text is there. wait() returns all of it.
  bool wait_for_output(const std::string& text, int timeout_ms = 10000);
  void close_stdin();
  /// Waits for it to end and returns what it left.
  Outcome wait();

 private:
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
  std::string out_so_far_, err_so_far_;
};

/// Polls cond every 10 ms for up to timeout_ms; true once it holds.
bool wait_until(const std::function<bool()>& cond, int timeout_ms = 10000);

}  // namespace sandmine::test
