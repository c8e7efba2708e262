#pragma once
// runc driven directly on OCI bundles, daemonless: the default engine.

#include "engine/engine.h"

namespace sandmine::engine {

/// runc engine. Bundles live under state_dir/<name>: config.json and an
/// overlay of the image's root file system (the image stays read-only).
class Runc final : public Engine {
 public:
  static Result<std::unique_ptr<Runc>> create(std::string state_dir = "/run/sandmine");
  std::string_view name() const override { return "runc"; }
  Result<std::unique_ptr<Container>> start(const ContainerSpec& spec) override;

  /// The OCI config.json for spec with the given root path (for tests and for
  /// showing what sandmine runs).
  static std::string config_json(const ContainerSpec& spec, const std::string& root);

 private:
  Runc(std::string runc, std::string state_dir) : runc_(std::move(runc)), state_dir_(std::move(state_dir)) {}
  std::string runc_;
  std::string state_dir_;
};

}  // namespace sandmine::engine
