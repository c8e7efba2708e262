#pragma once
// A Target over a program this process starts itself: in a network
// namespace and a cgroup (a recorder's target) of the caller's, armed as a
// recorded command is. Tests drive generators with it; it needs no engine.

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "explore/generate/target.h"

namespace sandmine::explore::generate {

/// What to run and how.
struct ProcessSpec {
  std::vector<std::string> argv;  ///< argv[0] a path
  std::string cgroup_dir;         ///< the absolute cgroup v2 directory it runs in (must exist)
  int netns_fd = -1;              ///< the network namespace it runs in (the caller keeps it open)
  int stop_signal = SIGTERM;
  std::chrono::milliseconds stop_timeout{5000};
  /// Waits until a start is ready (run after every start); empty: at once.
  std::function<Status(Target&)> ready;
  /// The recorder's total count, as RunHooks::syscalls.
  std::function<std::optional<std::uint64_t>()> syscalls;
  std::string log_file;  ///< its stdout and stderr; empty: inherited
};

class ProcessTarget final : public Target {
 public:
  /// Starts the program and waits until it is ready.
  static Result<std::unique_ptr<ProcessTarget>> start(ProcessSpec spec);
  /// Kills the program (SIGKILL) if it still runs, and reaps it.
  ~ProcessTarget() override;

  pid_t main_pid() const override { return pid_; }
  int netns_fd() const override { return spec_.netns_fd; }
  /// Runs argv in the same namespace and cgroup, armed the same way.
  Result<sys::CommandResult> exec(const std::vector<std::string>& argv,
                                  std::chrono::milliseconds timeout) override;
  Status signal(int sig) override;
  /// Stops it as stop() does and starts it again, then waits until ready.
  Status restart() override;
  /// The cgroup v2 freezer of its cgroup.
  Status pause() override;
  Status resume() override;
  bool running() const override;
  int stop_signal() const override { return spec_.stop_signal; }
  std::string cgroup_dir() const override { return spec_.cgroup_dir; }
  std::optional<std::uint64_t> syscalls_so_far() override {
    return spec_.syscalls ? spec_.syscalls() : std::nullopt;
  }

  /// The graceful stop: the stop signal, then SIGKILL after the stop
  /// timeout. Returns whether it ended within the timeout.
  Result<bool> stop();

 private:
  explicit ProcessTarget(ProcessSpec spec) : spec_(std::move(spec)) {}
  Status launch();
  ProcessSpec spec_;
  pid_t pid_ = -1;
};

}  // namespace sandmine::explore::generate
