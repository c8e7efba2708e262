#pragma once
// runc driven directly on OCI bundles, daemonless: the default engine.

#include "engine/engine.h"

namespace sandmine::engine {

/// Where runc keeps its bundles and state unless told otherwise.
inline constexpr const char* kRuncStateDir = "/run/sandmine";

/// runc engine. Bundles live under state_dir/<name>: config.json and an
/// overlay of the image's root file system (the image stays read-only).
class Runc final : public Engine {
 public:
  static Result<std::unique_ptr<Runc>> create(std::string state_dir = kRuncStateDir,
                                              const EngineOptions& options = {});
  std::string_view name() const override { return "runc"; }
  Result<std::unique_ptr<Container>> start(const ContainerSpec& spec) override;

  /// The OCI config.json for spec with the given root path (for tests and for
  /// showing what sandmine runs). spec.user is "uid[:gid]" in digits, each at
  /// most 2147483647 as runc takes them (start() refuses anything else before
  /// it makes a thing).
  std::string config_json(const ContainerSpec& spec, const std::string& root) const;

  /// The rlimits runc gives a container when no --ulimit says otherwise.
  static std::vector<Ulimit> default_ulimits();

 private:
  Runc(std::string runc, std::string state_dir, std::vector<Ulimit> ulimits)
      : runc_(std::move(runc)), state_dir_(std::move(state_dir)), ulimits_(std::move(ulimits)) {}
  std::string runc_;
  std::string state_dir_;
  std::vector<Ulimit> ulimits_;  ///< the defaults with the options' limits applied
};

}  // namespace sandmine::engine
