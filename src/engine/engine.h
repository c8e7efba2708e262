#pragma once
// Container engines: start a container inside a watched cgroup, under a
// seccomp profile, and drive it (exec, signal, restart, stop): runc, Docker
// and Podman.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/ulimit.h"
#include "profile/profile.h"
#include "sys/command.h"
#include "sys/fd.h"
#include "util/result.h"

namespace sandmine::engine {

/// One container to run.
struct ContainerSpec {
  std::string name;  ///< unique; engines put "sandmine" in the container's name
  std::vector<std::string> command;
  std::map<std::string, std::string> env;
  std::string user;  ///< "uid[:gid]"; empty: root
  /// Supplementary groups (runc: process.user.additionalGids; Docker and
  /// Podman: --group-add). Empty: none.
  std::vector<unsigned> additional_gids;
  std::string workdir;  ///< empty: /
  std::string rootfs;   ///< image root file system directory (runc)
  std::string image;    ///< image reference in the engine's store (docker, podman)
  /// The seccomp profile (the engine writes it in its own form); null: the
  /// allow-all recording profile (profile::Profile::allow_all()), so the
  /// runtime arms the container where it would install the real one.
  std::shared_ptr<const profile::Profile> profile;
  /// Which filter the container gets: profile (as above), none at all
  /// (runc: no linux.seccomp; Docker, Podman: seccomp=unconfined), or the
  /// engine's own default (Docker, Podman: no --security-opt; runc has none).
  enum class Seccomp { Profile, Unconfined, EngineDefault };
  Seccomp seccomp = Seccomp::Profile;
  /// cgroup v2 path (relative to the v2 mount) to create the container's group
  /// under: the recorder's target.
  std::string cgroup_parent;
  std::string log_file;  ///< runc: the container's stdout and stderr go here
  std::string work_dir;  ///< where the engine may keep files for this container (e.g. the allow-all profile)
};

/// How an engine runs every container it starts.
struct EngineOptions {
  /// Resource limits on top of the engine's defaults (nofile=1024:1024 for
  /// all three; Podman also nproc=4096:4096, as its own defaults exceed this
  /// host's hard limits): a type given here replaces that type's default.
  std::vector<Ulimit> ulimits;
};

/// A running container. Destruction stops it if needed and removes it with
/// everything made for it (bundle, mounts, engine state).
class Container {
 public:
  virtual ~Container() = default;
  /// The container's main process, as seen from the host.
  virtual pid_t main_pid() const = 0;
  /// An open descriptor of the container's network namespace.
  virtual int netns_fd() const = 0;
  /// Runs argv inside the container (armed like its main process).
  virtual Result<sys::CommandResult> exec(const std::vector<std::string>& argv,
                                          std::chrono::milliseconds timeout) = 0;
  /// Sends a signal to the main process.
  virtual Status signal(int sig) = 0;
  /// Whether the main process still runs.
  virtual bool running() const = 0;
  /// What the container has printed so far (stdout and stderr).
  virtual std::string logs() const = 0;
  /// Graceful stop: sig, then SIGKILL after timeout. Returns whether it
  /// stopped within the timeout.
  virtual Result<bool> stop(int sig, std::chrono::milliseconds timeout) = 0;
  /// Stops the container as stop() does and starts the same container again,
  /// as `docker restart` does: its file system (what it wrote), name and
  /// cgroup parent stay; main_pid() and netns_fd() are then the new main
  /// process's. Returns once that process runs (not once it is ready).
  virtual Status restart(int sig, std::chrono::milliseconds timeout) = 0;
  /// Freezes every process of the container (the cgroup freezer), as
  /// `docker pause` does: they stay where they are until resume().
  virtual Status pause() = 0;
  /// Thaws a container pause() froze; its processes go on where they stopped.
  virtual Status resume() = 0;
  /// The container's writable layer when it is a file system of its own
  /// (runc: a tmpfs under the overlay's upper and work directories), which a
  /// step may make full; empty when the engine keeps it on shared storage.
  virtual std::string writable_layer() const { return ""; }
};

/// The profile a container spec asks for: its own, or the recording profile.
const profile::Profile& profile_of(const ContainerSpec& spec);

/// What every engine's container has: a main process seen from the host and
/// its network namespace, held open.
class ProcessContainer : public Container {
 public:
  pid_t main_pid() const override { return pid_; }
  int netns_fd() const override { return netns_.get(); }
  bool running() const override;

 protected:
  /// Records the main process and opens its network namespace.
  Status attach(pid_t pid);
  /// Closes the namespace (before the engine removes the container).
  void detach() { netns_.reset(); }

 private:
  pid_t pid_ = -1;
  sys::UniqueFd netns_;
};

/// An engine.
class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string_view name() const = 0;
  /// Creates and starts a container; returns once its main process runs.
  virtual Result<std::unique_ptr<Container>> start(const ContainerSpec& spec) = 0;
  /// The client that imports images into this engine's store; empty when it
  /// runs root file systems directly (runc).
  virtual std::string image_client() const { return ""; }
};

/// The graceful stop every engine shares: sig, up to timeout for the main
/// process to end, then SIGKILL. Returns whether it ended within the timeout.
Result<bool> stop_with_signal(Container& container, int sig, std::chrono::milliseconds timeout);

/// Whether the process pid exists and is not a zombie.
bool process_running(pid_t pid);

/// The engine called name (runc, docker, podman), running containers with
/// options; errors say what is missing.
Result<std::unique_ptr<Engine>> make_engine(std::string_view name, const EngineOptions& options = {});

}  // namespace sandmine::engine
