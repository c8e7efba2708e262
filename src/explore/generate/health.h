#pragma once
// The health check an image declares (Dockerfile HEALTHCHECK), as the argv
// a generated step runs inside the container.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/result.h"

namespace sandmine::explore::generate {

/// The command of a health check's Test list: ["CMD", args...] is args,
/// ["CMD-SHELL", text] is /bin/sh -c text; ["NONE"], an empty list or
/// anything else is no command.
std::vector<std::string> health_check_command(const nlohmann::json& test);

/// The health check command in the output of `docker image inspect` or
/// `podman image inspect` (an array of images; Docker keeps it in
/// Config.Healthcheck, Podman also in HealthCheck), or in an OCI image
/// config (config.Healthcheck); empty when the image declares none.
std::vector<std::string> health_check_in(const nlohmann::json& inspected);

/// The health check of image ref in the store of client (docker, podman).
Result<std::vector<std::string>> image_health_check(const std::string& client, const std::string& ref);

}  // namespace sandmine::explore::generate
