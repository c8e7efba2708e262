#pragma once
// Docker and Podman through their clients. The container gets its own network
// namespace with only loopback (--network none), its cgroup under the
// recorder's target (--cgroup-parent) and the recording or mined profile.

#include "engine/engine.h"

namespace sandmine::engine {

/// What differs between the clients.
struct ClientFlavor {
  std::string name;                      ///< docker, podman
  std::string client;                    ///< the client binary
  std::vector<std::string> global_args;  ///< before the subcommand
  std::vector<std::string> run_args;     ///< extra `run` arguments
  bool daemon = false;                   ///< needs a daemon that answers `info`
};

/// Docker: /usr/bin/docker, dockerd must run. Containers get nofile=1024:1024
/// (as under runc and Podman, not dockerd's own limits), and ulimits on top.
ClientFlavor docker_flavor(const std::vector<Ulimit>& ulimits = {});
/// Podman with runc (crun fails on hybrid cgroups here), the cgroupfs manager
/// (so --cgroup-parent is a path) and rlimits within this host's hard limits
/// (nofile=1024:1024, nproc=4096:4096), and ulimits on top.
ClientFlavor podman_flavor(const std::vector<Ulimit>& ulimits = {});

class ClientEngine final : public Engine {
 public:
  /// Fails when the client is missing or (Docker) no daemon answers, saying how to fix it.
  static Result<std::unique_ptr<ClientEngine>> create(ClientFlavor flavor);
  std::string_view name() const override { return flavor_.name; }
  Result<std::unique_ptr<Container>> start(const ContainerSpec& spec) override;
  std::string image_client() const override { return flavor_.client; }

  /// The `run` arguments for spec (after "run"), with the seccomp file given.
  std::vector<std::string> run_args(const ContainerSpec& spec, const std::string& seccomp_file) const;

 private:
  explicit ClientEngine(ClientFlavor flavor) : flavor_(std::move(flavor)) {}
  ClientFlavor flavor_;
};

}  // namespace sandmine::engine
