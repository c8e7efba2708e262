#pragma once
// An image's own config (Entrypoint, Cmd, Env, User, WorkingDir, StopSignal,
// ExposedPorts, Healthcheck) as the default for what a spec leaves out, and
// user names resolved through the image's own /etc/passwd and /etc/group.
// Pure functions: the image module fetches the config and the files.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spec/spec.h"
#include "util/result.h"

namespace sandmine::spec {

/// What an image's config says about running it: the OCI image config's
/// "config" object, plus Docker's Healthcheck (kept in the config blobs
/// Docker writes).
struct ImageConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  ///< "NAME=value", in the config's order
  std::string user;              ///< as written: "", "app", "1000:1000", "app:staff"
  std::string workdir;
  std::string stop_signal;     ///< as written: "SIGQUIT", "3"; empty: none
  std::vector<int> tcp_ports;  ///< ExposedPorts "N/tcp" (or "N"), ascending, each once
  /// Healthcheck.Test as written: ["CMD", argv...] or ["CMD-SHELL", "command"];
  /// empty when there is none or it is ["NONE"].
  std::vector<std::string> healthcheck;
};

/// Parses an image config blob (OCI or Docker JSON). Errors say what is wrong.
Result<ImageConfig> parse_image_config(std::string_view json);

/// The readiness probe a config implies, if any: its Healthcheck as an exec
/// probe (CMD-SHELL through /bin/sh -c), else a TCP connect to its lowest
/// exposed TCP port.
std::optional<ReadyProbe> ready_from_config(const ImageConfig& config);

/// The config's Healthcheck as a command to run inside the container: CMD's
/// arguments, or CMD-SHELL's text through /bin/sh -c; empty when it has none.
std::vector<std::string> health_command(const ImageConfig& config);

/// The image's /etc/passwd and /etc/group ("" for a file it does not have).
struct ImageFiles {
  std::string passwd;
  std::string group;
};

/// A user resolved the way Docker and runc resolve `--user` (runc's
/// GetExecUser): a name must be in /etc/passwd, a uid need not be (then gid 0
/// and home /); an explicit group (name or gid) sets the gid, otherwise the
/// passwd entry's gid and, as supplementary groups, every /etc/group entry
/// listing the user by name (in file order).
struct ResolvedUser {
  unsigned uid = 0;
  unsigned gid = 0;
  std::vector<unsigned> additional_gids;
  std::string home = "/";
};

/// Resolves "user[:group]" ("" is root) through the image's files. The error
/// says which name was not found in which file.
Result<ResolvedUser> resolve_user(std::string_view user, const ImageFiles& files);

/// spec with every field it leaves out taken from the image's config
/// (docs/spec.md, "What the image's config gives"): command and args against
/// Entrypoint and Cmd, env over Env (the spec's entries win; HOME from the
/// user's passwd entry unless set), user (the spec's or the image's, resolved
/// to "uid:gid" plus additional_gids: its supplementary groups and its
/// primary group, each once, as Docker and Podman set them), workdir, stop
/// signal, ready, and the health check of every auto step that names none
/// (its Healthcheck, health_command). spec's
/// image must have a config. Errors are the spec's: file, line, field.
Result<Spec> apply_image_config(const Spec& spec, const ImageConfig& config, const ImageFiles& files);

}  // namespace sandmine::spec
