#pragma once
// A starter spec for an image with a config (`sandmine init`, `sandmine mine
// --image`): its command, ready probe, stop and user from the config, the
// signals its main process handles (read from SigCgt of a briefly started
// container), a restart, and commented places for the user's own steps.

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "spec/image_config.h"
#include "spec/spec.h"
#include "util/result.h"

namespace sandmine::explore {

/// What the starter spec says, beyond the image's config.
struct StarterFacts {
  std::string name;                       ///< the spec's name
  spec::Image image;                      ///< as the spec names it (paths as they are to be written)
  std::string digest;                     ///< the config digest, for the header comment
  spec::ImageConfig config;               ///< the image's config
  spec::Spec resolved;                    ///< the spec with the config applied (command, user, ...)
  std::vector<int> signals;               ///< signal steps, ascending
  std::vector<std::string> skipped;       ///< one line per handled signal left out, and why
  std::optional<spec::ReadyProbe> ready;  ///< the probe to write (the config's, or given)
  std::vector<std::string> explore;       ///< the user's own commands (run steps), before the signal steps
  std::string stop_note;                  ///< how the brief container's stop went, when it was not clean
};

/// The starter spec's YAML: a header comment with what the image's config
/// gives (command, user, workdir, env, stop signal), name, image, ready, the
/// user's explore steps, one signal step per handled signal, a restart,
/// commented placeholders for the user's own explore and validate steps, and
/// stop. Strings are written as JSON strings (which YAML reads as they are).
std::string starter_yaml(const StarterFacts& facts);

/// The signals a /proc/PID/status text says its process catches (SigCgt).
std::set<int> caught_signals(std::string_view status);

/// A spec name for an image: the last path component of a reference without
/// tag or digest, of a layout directory, or of an archive without extension;
/// lower case, other characters as '-'; "image" when nothing is left.
std::string name_for_image(const spec::Image& image);

/// How starter_spec() works.
struct StarterOptions {
  std::string engine = "runc";
  engine::EngineOptions engine_options = {};
  std::string cache_dir;  ///< image cache; empty: the default
  std::string work_dir;   ///< the brief container's log and engine files
  /// The file the spec will be written to: layout and archive paths are
  /// written relative to its folder, and errors name it. Empty: absolute
  /// paths, and errors name the image.
  std::string spec_file;
  std::optional<spec::ReadyProbe> ready;  ///< replaces the config's probe
  std::vector<std::string> explore;       ///< the user's own commands, as run steps
  std::function<void(const std::string&)> progress = {};
};

/// The starter spec (its YAML, and that YAML parsed) for image, which must
/// have a config (ref, oci, archive). Fetches the image, starts it briefly
/// (unconfined, not recorded) until ready, reads the main process's SigCgt,
/// and sends it each caught signal but its stop signal and the fault signals
/// (SEGV, BUS, ILL, FPE, TRAP, SYS, ABRT) and real-time ones: a signal after
/// which the process is gone is left out (the container is started again).
struct Starter {
  std::string yaml;
  spec::Spec spec;
};
Result<Starter> starter_spec(const spec::Image& image, const StarterOptions& options);

/// A --ready argument: tcp:PORT or http:PORT[/PATH].
Result<spec::ReadyProbe> parse_ready_argument(const std::string& arg);

}  // namespace sandmine::explore
