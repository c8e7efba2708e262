#pragma once
// The Target a mining run gives a generator: its engine::Container, with
// what only the run knows (how it restarts a container and waits for its
// ready probe, the recorder's counts, the recorder target's cgroup).

#include <signal.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "engine/engine.h"
#include "explore/generate/target.h"
#include "trace/counts.h"

namespace sandmine::explore::generate {

/// What the run adds to its container.
struct RunHooks {
  /// The run's restart: the container's restart(stop signal, stop timeout),
  /// then the spec's ready probe (Driver::run of a restart step does both).
  std::function<Status()> restart;
  /// The recorder's total count for the container so far (total_syscalls of
  /// a snapshot); empty: quiescence rests on the cgroup alone.
  std::function<std::optional<std::uint64_t>()> syscalls;
  /// The absolute cgroup v2 directory of the recorder's target, which holds
  /// the container (Target::cgroup.path()).
  std::string cgroup_dir;
  /// The spec's stop signal: never sent by the generator.
  int stop_signal = SIGTERM;
};

/// A Target over a running engine::Container. The container must outlive it.
class ContainerTarget final : public Target {
 public:
  ContainerTarget(engine::Container& container, RunHooks hooks)
      : container_(container), hooks_(std::move(hooks)) {}

  pid_t main_pid() const override { return container_.main_pid(); }
  int netns_fd() const override { return container_.netns_fd(); }
  Result<sys::CommandResult> exec(const std::vector<std::string>& argv,
                                  std::chrono::milliseconds timeout) override {
    return container_.exec(argv, timeout);
  }
  Status signal(int sig) override { return container_.signal(sig); }
  Status restart() override;
  Status pause() override { return container_.pause(); }
  Status resume() override { return container_.resume(); }
  bool running() const override { return container_.running(); }
  int stop_signal() const override { return hooks_.stop_signal; }
  std::string cgroup_dir() const override { return hooks_.cgroup_dir; }
  std::optional<std::uint64_t> syscalls_so_far() override {
    return hooks_.syscalls ? hooks_.syscalls() : std::nullopt;
  }
  std::string writable_layer() const override { return container_.writable_layer(); }

 private:
  engine::Container& container_;
  RunHooks hooks_;
};

/// Every call in counts, armed and unarmed: what quiescence watches grow.
std::uint64_t total_syscalls(const trace::Counts& counts);

}  // namespace sandmine::explore::generate
