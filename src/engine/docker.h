#pragma once
// Docker through its CLI (dockerd must run). The container gets its own
// network namespace with only loopback (--network none), its cgroup under the
// recorder's target (--cgroup-parent) and the recording or mined profile.

#include "engine/engine.h"

namespace sandmine::engine {

class Docker final : public Engine {
 public:
  /// Fails when the client is missing or no daemon answers, saying how to fix it.
  static Result<std::unique_ptr<Docker>> create(std::string client = "/usr/bin/docker");
  std::string_view name() const override { return "docker"; }
  Result<std::unique_ptr<Container>> start(const ContainerSpec& spec) override;
  std::string image_client() const override { return client_; }

  /// The `docker run` arguments for spec (after "run"), with the seccomp file given.
  static std::vector<std::string> run_args(const ContainerSpec& spec, const std::string& seccomp_file);

 private:
  explicit Docker(std::string client) : client_(std::move(client)) {}
  std::string client_;
};

}  // namespace sandmine::engine
