#pragma once
// sandmine record: run the user's own workflow (a `docker-compose up`, a CI
// script that starts containers and tests them) and record every container
// it starts, as mine records one: each in a cgroup the recorder already
// watches (a split target's child) and under the recording profile, from
// its runtime's first armed call. docs/record.md describes the design.
//
// The workflow's containers get the watched cgroup parent and the recording
// profile through the environment (kCgroupParentVar, kSeccompVar: what a
// compose file references) or, with docker_run, through a shim of the
// engine's client first on PATH that adds them to `run` and `create`.
// Containers are found through the recorder (a new cgroup below the parent)
// and the engine (inspect; start events for those that ran elsewhere).

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "profile/from_trace.h"
#include "profile/profile.h"
#include "trace/recorder.h"
#include "trace/trace.h"
#include "util/result.h"

namespace sandmine::explore {

/// The variables the workflow runs with: the watched cgroup parent (a cgroup
/// v2 path relative to the mount, as --cgroup-parent takes it) and the
/// recording profile's file.
inline constexpr const char* kCgroupParentVar = "SANDMINE_CGROUP_PARENT";
inline constexpr const char* kSeccompVar = "SANDMINE_SECCOMP";

/// How to record.
struct RecordOptions {
  std::string engine = "docker";     ///< docker or podman
  std::vector<std::string> command;  ///< the workflow: argv, argv[0] found on PATH
  /// After this long the workflow's process group gets SIGTERM (then SIGKILL
  /// 30 s later); 0: no limit.
  std::chrono::milliseconds timeout{0};
  /// Put a shim of the engine's client first on PATH that gives `run` and
  /// `create` the cgroup parent and the recording profile.
  bool docker_run = false;
  std::function<void(const std::string&)> progress = {};
};

/// One container the workflow ran under the watched parent and the recording profile.
struct RecordedContainer {
  std::string id;       ///< the engine's full container id
  std::string name;     ///< the container's name
  std::string service;  ///< its Compose service (label com.docker.compose.service); empty when none
  std::string dir;      ///< its output folder: the service, else the name (made unique)
  /// What it did: armed syscalls (with argument values), unarmed ones,
  /// executables, one step ("record") spanning its life.
  trace::Trace trace;
  profile::MinedFrom mined_from;  ///< image, command, environment digests
  bool still_running = false;     ///< it ran when the workflow ended (and was stopped by the cleanup)
};

/// A container whose recording would be wrong.
struct Refusal {
  std::string name;  ///< the container's name
  std::string line;  ///< "container NAME (ID) ran outside ...": what and why, one line
};

/// What came of it.
struct RecordResult {
  trace::ExitStatus exit;  ///< the workflow's own
  bool timed_out = false;  ///< it was ended by the timeout
  int interrupted_by = 0;  ///< the signal that interrupted sandmine (forwarded to the workflow), 0 if none
  double seconds = 0;      ///< the workflow's wall time
  /// Recorded containers, in the order they started.
  std::vector<RecordedContainer> containers;
  /// Containers whose recording would be wrong, one line each naming the
  /// container and why (outside the watched parent, another seccomp profile).
  std::vector<Refusal> refused;
};

/// Records the workflow. An Error when it cannot start (no engine, cannot
/// record, the command is not found); everything after that is in the
/// result. Ctrl-C (sys::InterruptGuard held by the caller) is forwarded to
/// the workflow's process group, which is then waited for. Everything made
/// for the recording is removed before it returns; the workflow's
/// containers are its own (one still running at the end is stopped by the
/// removal of the watched parent: RecordedContainer::still_running).
Result<RecordResult> record_workflow(const RecordOptions& options);

/// The shell script of the --docker-run shim for client (the real client's
/// path): `run` and `create` (also as `container run|create`) get
/// --cgroup-parent "$SANDMINE_CGROUP_PARENT" and --security-opt
/// "seccomp=$SANDMINE_SECCOMP" right after the subcommand; everything else
/// passes through unchanged.
std::string client_shim(const std::string& client);

/// Why a container's configuration would make a wrong recording, or empty
/// when it is right: inspect is the engine's inspect document of the
/// container, parent the watched parent, run the recording run's id (the
/// recording profile's "sandmine": {"recording": ...}).
std::string configuration_problem(const nlohmann::json& inspect, const std::string& parent,
                                  const std::string& run);

/// A profile from a recorded container: the armed syscalls with argument
/// rules (args), the timing-dependent additions, what it was mined from.
profile::Profile profile_of(const RecordedContainer& container, profile::ArgsMode args,
                            std::vector<std::string>& warnings);

}  // namespace sandmine::explore
