#pragma once
// Driving one container through a spec: its image, start and readiness, the
// steps (run, exec, signal, restart, sleep) and the graceful stop. Mining
// records around it; validation runs it under a profile.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "engine/engine.h"
#include "spec/spec.h"
#include "util/result.h"

namespace sandmine::explore {

/// What an engine runs for a spec: a root file system (runc) or a reference
/// in its store (docker, podman: imported once from the built root file system).
struct PreparedImage {
  std::string rootfs;
  std::string ref;
  /// The recipe hash of a built image; the config digest ("sha256:...") of an
  /// image with a config (ref, oci, archive), which is also ref under Docker
  /// and Podman.
  std::string id;
};

/// spec with what it leaves out taken from its image's config (docs/spec.md):
/// for ref, oci and archive images the image is fetched into the cache
/// (image::fetch, looked up first in engine's store) and
/// spec::apply_image_config fills in command, env, user (numeric, with its
/// supplementary groups), workdir, stop signal and ready, and image_digest.
/// Other images: args appended to command, nothing else. A spec resolved once
/// (image_digest set) is returned as it is.
Result<spec::Spec> resolve_spec(const spec::Spec& spec, const std::string& engine,
                                const std::string& cache_dir,
                                const std::function<void(const std::string&)>& progress);

/// Builds (or finds) the spec's image and makes it available to the engine:
/// a built image is imported into Docker's or Podman's store, an image with a
/// config is loaded there by digest (runc runs its unpacked layers).
Result<PreparedImage> prepare_image(const spec::Spec& spec, const engine::Engine& engine,
                                    const std::string& cache_dir,
                                    const std::function<void(const std::string&)>& progress);

/// The container of a spec as an engine runs it (command, environment,
/// image); where it goes, its profile and its log are the caller's to add.
engine::ContainerSpec container_for(const spec::Spec& spec, const PreparedImage& image,
                                    const std::string& name);

/// How one step ended.
struct StepOutcome {
  std::string name;
  std::string phase;
  bool ok = true;
  std::string failure;  ///< why it failed (or, for stop, a note), one line
  std::string output;   ///< the command's output (run, exec)
};

/// One container of a spec. Destruction removes the container.
class Driver {
 public:
  /// container: what to start (the spec's command, image, cgroup parent, profile).
  Driver(const spec::Spec& spec, engine::Engine& engine, engine::ContainerSpec container)
      : spec_(spec), engine_(engine), container_spec_(std::move(container)) {}

  /// Starts the container and waits until the spec's ready probe passes.
  StepOutcome start();
  /// Runs one explore, validate or bench step.
  StepOutcome run(const spec::Step& step);
  /// The spec's graceful stop (signal, then SIGKILL after its timeout).
  StepOutcome stop();
  /// Whether a container is there (started and not stopped).
  bool started() const { return container_ != nullptr; }
  /// The container's main process as seen from the host; -1 when none is there.
  pid_t main_pid() const { return container_ ? container_->main_pid() : -1; }
  /// Removes the container now.
  void remove() { container_.reset(); }
  /// The container; null when none.
  engine::Container* container() { return container_.get(); }
  /// Called after a signal step's signal was handled (no longer pending), to
  /// wait until what the handler set off is done; without it the step ends
  /// once the signal is handled.
  void on_signal(std::function<void()> settle) { settle_ = std::move(settle); }
  /// Where start() says that it waits for the ready probe (a server may take
  /// a while: the user sees why nothing happens).
  void on_progress(std::function<void(const std::string&)> progress) { progress_ = std::move(progress); }

 private:
  Status wait_ready(const spec::ReadyProbe& probe);
  std::string logs() const { return container_ ? container_->logs() : ""; }

  const spec::Spec& spec_;
  engine::Engine& engine_;
  engine::ContainerSpec container_spec_;
  std::unique_ptr<engine::Container> container_;
  std::function<void()> settle_;
  std::function<void(const std::string&)> progress_;
};

}  // namespace sandmine::explore
