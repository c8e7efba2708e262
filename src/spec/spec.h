#pragma once
// A mining spec: what to run (image, command) and how to drive it (ready,
// explore, validate, bench, stop). Parsed from YAML; see docs/spec.md.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "util/result.h"

namespace sandmine::spec {

using Duration = std::chrono::milliseconds;

/// A root file system built from Debian packages with mmdebstrap.
struct DebianImage {
  std::string suite = "bookworm";
  std::vector<std::string> packages;
  std::string variant = "apt";  ///< mmdebstrap --variant
};

/// A root file system from a tarball (path resolved against the spec's folder).
struct RootfsImage {
  std::string tarball;
};

/// A tiny root file system: the host's busybox-static plus files (for tests
/// and examples that must build in milliseconds).
struct BusyboxImage {
  std::map<std::string, std::string> files;  ///< absolute path in the image -> content
};

/// An image in Docker's or Podman's store, by reference (name:tag, name@digest
/// or an image ID). Every engine runs it: runc from its unpacked layers.
struct RefImage {
  std::string ref;
};

/// An image in an OCI image layout directory (path resolved against the
/// spec's folder); tag: the org.opencontainers.image.ref.name to take, empty
/// when the layout holds one image.
struct OciImage {
  std::string dir;
  std::string tag;
};

/// An image in a `docker save` or `podman save` tarball (docker-archive or
/// oci-archive; path resolved against the spec's folder).
struct ArchiveImage {
  std::string path;
};

using Image = std::variant<DebianImage, RootfsImage, BusyboxImage, RefImage, OciImage, ArchiveImage>;

/// Whether the image has a config of its own (Entrypoint, Cmd, Env, User, ...)
/// that is the default for what a spec leaves out: ref, oci and archive.
bool has_image_config(const Image& image);

/// When the container is ready for steps.
struct ReadyProbe {
  enum class Kind { Tcp, Http, Exec, Log };
  Kind kind = Kind::Tcp;
  int port = 0;                   ///< tcp, http: on 127.0.0.1 in the container's network namespace
  std::string path = "/";         ///< http
  std::vector<std::string> exec;  ///< exec: argv inside the container, ready when it exits 0
  std::string log;                ///< log: a regular expression the container's output matches
  Duration timeout{30000};
  int line = 0;  ///< where it is in the spec, for messages
};

/// What a bench step's output says its throughput is: the first capture
/// group of regex (ECMAScript, searched in the output), a number; higher is
/// better.
struct Metric {
  std::string regex;
  std::string unit;  ///< e.g. "requests/s"
  int line = 0;      ///< where it is in the spec, for messages
};

/// Generated exploration (explore steps only; docs/explore-auto.md): steps
/// sandmine derives from the running container, within a time budget.
struct AutoExplore {
  Duration budget{120000};
  /// Stop after this many generated steps in a row added nothing; 0: never.
  int quiet = 40;
  Duration step_timeout{10000};  ///< the longest one generated step may take
  /// What to generate: lifecycle, http, tcp, edges (all by default).
  std::vector<std::string> parts = {"lifecycle", "http", "tcp", "edges"};
  int max_pages = 30;  ///< pages the crawler fetches per HTTP port
  int seed = 1;        ///< makes the fuzzer's mutations reproducible
  /// The image's health check command (run inside the container); empty: none.
  std::vector<std::string> health;
};

/// One step of explore, validate or bench.
struct Step {
  enum class Kind { Run, Exec, Signal, Restart, Sleep, Auto };
  Kind kind = Kind::Run;
  std::string name;               ///< given, or "explore[2]"
  std::string run;                ///< run: a shell command on the host, in the container's netns
  std::vector<std::string> exec;  ///< exec: argv inside the container
  int signal = 0;                 ///< signal: sent to the container's main process
  int restart_signal = 0;         ///< restart: the signal that stops it first; 0: the spec's stop signal
  Duration sleep{0};              ///< sleep
  Duration timeout{60000};
  int expect = 0;  ///< expected exit status of run and exec
  int line = 0;    ///< where it is in the spec, for messages
  /// Bench run and exec steps only; none: the throughput is 1 / wall time.
  std::optional<Metric> metric;
  AutoExplore generate;  ///< auto
};

/// How the container is stopped at the end (recorded too: shutdown paths
/// belong in the profile).
struct Stop {
  int signal = 15;  ///< SIGTERM
  Duration timeout{10000};
  bool signal_given = false;  ///< the spec said signal (else the image's StopSignal may set it)
};

/// A whole spec.
struct Spec {
  std::string file;  ///< the file it was read from
  std::string name;  ///< [a-z0-9][a-z0-9_.-]*: names containers, images and outputs
  Image image;
  /// The main process's argv. Empty only for an image with a config before
  /// resolve (explore::resolve_spec): then the image's Entrypoint and Cmd.
  std::vector<std::string> command;
  /// Replaces the image's Cmd (after command, or the image's Entrypoint).
  std::optional<std::vector<std::string>> args;
  std::map<std::string, std::string> env;
  /// "uid" or "uid:gid" in digits; with an image config also names
  /// ("name", "name:group", "uid:group"), resolved through the image's own
  /// /etc/passwd and /etc/group. Empty: the image's User (root).
  std::string user;
  /// Supplementary groups of user, filled in by resolving it through the
  /// image's /etc/group (as Docker does); never read from the YAML.
  std::vector<unsigned> additional_gids;
  std::string workdir;  ///< empty: the image's WorkingDir, else /
  std::optional<ReadyProbe> ready;
  std::vector<Step> explore;
  std::vector<Step> validate;
  std::vector<Step> bench;
  Stop stop;
  /// Where fields are in the file, for errors found when the image is
  /// resolved (0: not given).
  int image_line = 0;
  int user_line = 0;
  int command_line = 0;
  /// The config digest ("sha256:...") of an image with a config, once resolved.
  std::string image_digest;
};

/// Parses and validates a spec. Errors are one line naming the file, the line
/// and the field: "spec nginx.yaml:12: explore[3].timeout: expected a duration like 10s".
Result<Spec> parse_spec(std::string_view yaml, const std::string& file);

/// Reads and parses a spec file.
Result<Spec> read_spec(const std::string& path);

/// A signal as specs give it: "HUP", "SIGHUP", "hup" or "1" (1..64); names
/// are the C library's.
std::optional<int> parse_signal(std::string_view s);

/// The error of a spec, one line: "spec FILE:LINE: WHAT" (control characters escaped).
Error spec_error(const std::string& file, int line, const std::string& what);

}  // namespace sandmine::spec
