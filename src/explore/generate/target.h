#pragma once
// What generated exploration may do to the running container, and the step
// source a run loop drives. The mining run implements Target (ContainerTarget
// does it over an engine::Container); tests implement it over a process of
// their own (ProcessTarget). See docs/explore-auto.md.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "explore/driver.h"
#include "sys/command.h"
#include "util/result.h"

namespace sandmine::explore::generate {

/// The running container, as a generator may drive it. Every call is made
/// from the run loop's thread, inside a step's body.
class Target {
 public:
  virtual ~Target() = default;

  /// The main process as the host sees it: its /proc entry says which
  /// signals it catches and (net/tcp, net/tcp6) which sockets listen in its
  /// network namespace.
  virtual pid_t main_pid() const = 0;
  /// An open descriptor of the container's network namespace: the
  /// generator's clients connect on its loopback.
  virtual int netns_fd() const = 0;
  /// Runs argv inside the container, as the engine's exec does.
  virtual Result<sys::CommandResult> exec(const std::vector<std::string>& argv,
                                          std::chrono::milliseconds timeout) = 0;
  /// Sends sig to the main process.
  virtual Status signal(int sig) = 0;
  /// A warm restart: the run's own stop (its signal and timeout), the same
  /// container started again (what it wrote kept), and its ready probe
  /// passed. main_pid() and netns_fd() are the new process's afterwards.
  virtual Status restart() = 0;
  /// Freezes every process of the container until resume().
  virtual Status pause() = 0;
  virtual Status resume() = 0;
  /// Whether the main process still runs.
  virtual bool running() const = 0;
  /// The signal the run stops the container with: the generator never sends it.
  virtual int stop_signal() const = 0;
  /// The absolute cgroup v2 directory holding every process of the
  /// container (the recorder's target, or the container's own group): its
  /// CPU time and its threads' states decide when the container is quiescent.
  virtual std::string cgroup_dir() const = 0;
  /// Every syscall the recorder has counted for the container so far (armed
  /// and unarmed), or nothing when the run cannot tell: then quiescence rests
  /// on the cgroup alone.
  virtual std::optional<std::uint64_t> syscalls_so_far() { return std::nullopt; }
  /// The container's writable layer when it is a tmpfs of its own (runc),
  /// which the ENOSPC edge makes full for one step; empty: the edge is skipped.
  virtual std::string writable_layer() const { return ""; }
};

/// One generated step: a name of its own (unique in the run) and a body that
/// drives the target. The body ends once the container is quiescent again,
/// never after the step's deadline (fixed when next() made it). It fails
/// only when the container cannot be kept running (it restarts a container
/// that an input made exit, and says so in the outcome's output).
struct GeneratedStep {
  std::string name;  ///< "auto/signal/SIGHUP", "auto/http:80/method PROPFIND /", ...
  std::string part;  ///< lifecycle, probe, http, tcp, edge
  std::function<StepOutcome(Target&)> body;
};

/// What the last step added to the run, from the recorder's snapshot after it.
struct Feedback {
  std::vector<std::string>
      new_syscalls;  ///< "x86_64:sysinfo": seen in this step for the first time in the run
  std::vector<std::string>
      new_values;  ///< argument values first seen in it (with argument rules; else empty)
  bool added() const { return !new_syscalls.empty() || !new_values.empty(); }
};

/// Why a step source has no next step.
enum class StopReason {
  Running,    ///< it has not stopped
  Budget,     ///< its time budget is spent
  Quiet,      ///< K generated steps in a row added nothing
  Exhausted,  ///< it had nothing more to generate
  Failed,     ///< a step failed: the container could not be kept running
};

/// "budget", "quiet", "exhausted", "failed", "running".
std::string to_string(StopReason reason);

/// Generated steps, one at a time. The run loop calls next(); when it gives a
/// step, the loop runs its body against the Target, snapshots the recorder,
/// and calls feedback() with what the step added, before it calls next()
/// again. next() gives nothing once the source has stopped; stop_reason()
/// and stop_detail() then say why.
class StepSource {
 public:
  virtual ~StepSource() = default;
  virtual std::optional<GeneratedStep> next() = 0;
  virtual void feedback(const Feedback& feedback) = 0;
  virtual StopReason stop_reason() const = 0;
  /// One line: "budget of 120.0 s spent after 412 generated steps", ...
  virtual std::string stop_detail() const = 0;
};

}  // namespace sandmine::explore::generate
