#pragma once
// One container run, as mine, check and bench all need it: the engine, the
// image, a cgroup that is watched before the container exists (a recorder
// target, or a plain group when nothing is recorded), Ctrl-C killing that
// group, the container itself driven through the spec's steps, and the
// cleanup of all of it, in that order, whatever happens.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/engine.h"
#include "explore/driver.h"
#include "profile/profile.h"
#include "spec/spec.h"
#include "trace/counts.h"
#include "trace/ebpf_recorder.h"
#include "trace/trace.h"
#include "trace/violations.h"
#include "util/result.h"

namespace sandmine::explore {

/// What a run watches its containers with.
enum class Watching {
  Nothing,     ///< no recorder (bench: a recorder would tax every syscall it measures)
  Counts,      ///< the recorder counts every syscall (mine)
  Violations,  ///< and names calls outside a watched profile at sys_exit (check)
};

/// How to run.
struct RunOptions {
  std::string engine = "runc";
  engine::EngineOptions engine_options = {};
  std::string work_dir;   ///< container logs and engine files go here
  std::string cache_dir;  ///< image cache; empty: the default
  /// Names the run's cgroup and containers: sandmine-<spec>-<purpose>-<pid>.
  std::string purpose = "mine";
  Watching watching = Watching::Counts;
  std::function<void(const std::string&)> progress = {};
  /// The recorder to watch with, shared with other runs (sandmine mine -j:
  /// each run is a target of its own); null: the run opens its own.
  std::shared_ptr<trace::EbpfRecorder> recorder = {};
};

/// One container of a run.
struct ContainerOptions {
  std::string suffix;  ///< appended to the container's name, to tell several apart
  /// The profile it runs under (Seccomp::Profile); null: the allow-all
  /// recording profile.
  std::shared_ptr<const profile::Profile> profile;
  engine::ContainerSpec::Seccomp seccomp = engine::ContainerSpec::Seccomp::Profile;
  std::string log_name = "container.log";  ///< in the work directory
};

/// A run. Destruction removes the container, then the watched cgroup (with
/// whatever is left in it), and disarms Ctrl-C; nothing is left behind.
class ContainerRun {
 public:
  /// Makes the engine, builds or finds the image, and makes the watched
  /// cgroup; from then on Ctrl-C kills whatever runs in it. Errors are the
  /// environment's (no engine, no image, cannot record).
  static Result<std::unique_ptr<ContainerRun>> open(const spec::Spec& spec, const RunOptions& options);
  ~ContainerRun();
  ContainerRun(const ContainerRun&) = delete;
  ContainerRun& operator=(const ContainerRun&) = delete;

  const spec::Spec& spec() const { return spec_; }
  const PreparedImage& image() const { return image_; }
  double image_seconds() const { return image_seconds_; }

  /// Starts a container in the watched cgroup and waits until the spec's
  /// ready probe passes. One container at a time: remove() the last first.
  StepOutcome start(const ContainerOptions& container = {});
  /// Runs one explore, validate or bench step against the container.
  StepOutcome run(const spec::Step& step);
  /// The spec's graceful stop.
  StepOutcome stop();
  /// A warm restart, as a spec's restart step does it: the spec's stop, the
  /// same container started again (what it wrote kept), its ready probe.
  Status restart();
  /// Whether a container was started and not removed.
  bool started() const;
  /// Removes the container now (its cgroup stays watched).
  void remove();
  /// The running container; null when none.
  engine::Container* container();

  /// The recorder's counts of the watched cgroup as of now (Counts, Violations).
  Result<trace::Counts> snapshot();
  /// Names, from now on, the calls outside watch.allowed (Violations).
  Status watch(const trace::Watch& watch);
  /// The violations named so far (Violations).
  Result<trace::Violations> violations();
  /// Ok unless the recorder failed to count something.
  Status health() const;
  /// Notes the shared objects the container's processes map now (Counts,
  /// Violations): call after each step.
  void sample_binaries();
  /// What the container ran: every executed file and what was seen mapped
  /// (trace.json's binaries). start_ns: when the run started.
  Result<std::vector<trace::BinaryRecord>> binaries(std::uint64_t start_ns);
  /// What the container was started from (profile::MinedFrom): the image,
  /// command, environment, and the configuration files its processes read
  /// while it started (explore/mined_from.h), read once it was ready.
  /// Without a recorder, or before start, the files are missing (and the
  /// note says so).
  profile::MinedFrom mined_from() const;
  /// CPU time the watched cgroup has used, in microseconds (cpu.stat usage_usec).
  Result<std::uint64_t> cpu_usage_usec() const;
  /// The absolute cgroup v2 directory of the watched group, which holds the container.
  std::string cgroup_dir() const;
  /// Every call the recorder counted so far, armed and unarmed; nothing when
  /// this run records nothing or the snapshot failed.
  std::optional<std::uint64_t> calls_so_far();

  /// Waits until the container is quiet: no syscall of the watched cgroup (or,
  /// without a recorder, no CPU time) for window, for at most limit. Returns
  /// whether it got quiet.
  bool wait_quiet(std::chrono::milliseconds window, std::chrono::milliseconds limit);

 private:
  struct Impl;
  ContainerRun(const spec::Spec& spec, std::unique_ptr<Impl> impl);
  const spec::Spec& spec_;
  std::unique_ptr<Impl> impl_;
  PreparedImage image_;
  double image_seconds_ = 0;
};

}  // namespace sandmine::explore
