#pragma once
// Running sandmine and test programs from tests, and reading what they wrote.

#include <sys/types.h>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

/// A process started in the background: input on its stdin, then closed;
/// its stdout and stderr captured.
class Background {
 public:
  explicit Background(const std::vector<std::string>& argv, const std::string& input = "");
  ~Background();
  pid_t pid() const { return pid_; }
  /// Waits for it to end and returns what it left.
  Outcome wait();

 private:
  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
};

/// Polls cond every 10 ms for up to timeout_ms; true once it holds.
bool wait_until(const std::function<bool()>& cond, int timeout_ms = 10000);

}  // namespace sandmine::test
