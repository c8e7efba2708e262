#pragma once
// Running a helper command to completion: output captured, a deadline, and
// the whole process group killed when it passes.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "util/result.h"

namespace sandmine::sys {

/// How to run it.
struct CommandOptions {
  std::chrono::milliseconds timeout{60000};
  int netns_fd = -1;              ///< run inside this network namespace
  int cgroup_procs_fd = -1;       ///< cgroup.procs to move into before exec (a recorder's target), or -1
  bool allow_all_filter = false;  ///< with cgroup_procs_fd: armed like a recorded command
  std::string input = {};         ///< written to its stdin, then closed
  /// Called with each line of output as it arrives (a long build shows its steps).
  std::function<void(const std::string&)> on_line = {};
  /// Its own process group (a timeout kills all it started). false: it stays
  /// in ours, so a Ctrl-C reaches it too and it can clean up after itself.
  bool own_process_group = true;
};

/// How it ended. output holds stdout and stderr interleaved (the first 1 MiB).
struct CommandResult {
  int exit_code = 0;  ///< the shell's convention: 128 + signal when killed
  bool timed_out = false;
  std::string output;
  /// The last non-empty line of output, for one-line error messages.
  std::string last_line() const;
};

/// Runs argv (argv[0] found on PATH when it has no slash). Fails only when
/// it cannot be started; a non-zero exit is a result, not an error.
Result<CommandResult> run_command(const std::vector<std::string>& argv, const CommandOptions& options = {});

}  // namespace sandmine::sys
