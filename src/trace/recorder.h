#pragma once
// The recording backends' common interface: run a command as a target and
// count every syscall of its process tree.

#include <linux/filter.h>
#include <cstdint>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trace/counts.h"
#include "trace/violations.h"
#include "util/result.h"

namespace sandmine::trace {

/// How a process ended: exited with code, or killed by signal.
struct ExitStatus {
  int code = 0;
  int signal = 0;  ///< non-zero when killed by this signal
  /// The shell's convention: code, or 128 + signal.
  int shell_code() const { return signal ? 128 + signal : code; }
  /// From a waitpid() status.
  static ExitStatus from_wait(int wstatus);
  /// "SIGKILL" for a signal number, "signal N" when it has no name.
  static std::string signal_name(int sig);
};

/// A file a target's processes executed: the path as they named it, how
/// often, and when first (CLOCK_MONOTONIC nanoseconds).
struct ExecCount {
  std::string path;
  std::uint64_t count = 0;
  std::uint64_t first_ns = 0;
};

/// What to run.
struct RunOptions {
  std::vector<std::string> argv = {};  ///< passed to the command as is
  /// The file to execute (sys::find_executable resolves a name on PATH);
  /// empty: argv[0], which must then be a path.
  std::string executable = {};
  /// Install a permissive (allow-all) seccomp filter in the child just before
  /// execve, where `sandmine run` installs the mined one, so the command and
  /// all its descendants are armed from their first instruction. Off: only
  /// threads that install a filter themselves are armed.
  bool recording_filter = true;
  /// A seccomp filter to install in the child before execve instead of the
  /// recording filter (`sandmine run`: a profile, exported by libseccomp);
  /// no_new_privs is set first. Empty: recording_filter decides.
  std::vector<sock_filter> seccomp_filter = {};
  /// Name the violations of this profile (eBPF backend opened with
  /// EbpfOptions::violations only).
  std::optional<Watch> watch = {};
};

/// The outcome of recording one command.
struct Recording {
  Counts counts;
  std::uint64_t start_ns = 0;  ///< CLOCK_MONOTONIC just before the command was started
  std::uint64_t end_ns = 0;    ///< when the last process of the tree had exited
  ExitStatus exit;
  int interrupted_by = 0;  ///< the signal that interrupted sandmine, 0 if none
  Violations violations;   ///< with RunOptions::watch: calls outside the profile
  /// eBPF backend: the files the command's processes executed, sorted by
  /// path; the ptrace backend leaves it empty.
  std::vector<ExecCount> execs;
};

/// A recording backend. record() blocks; snapshot() may be called from another
/// thread while it runs.
class Recorder {
 public:
  virtual ~Recorder() = default;
  /// "ebpf" or "ptrace", as written in trace.json.
  virtual std::string_view backend() const = 0;
  /// Runs the command with stdio inherited and records it from its execve
  /// until every process of its tree has exited. An interrupt (SIGINT,
  /// SIGTERM, SIGHUP to sandmine) kills the tree and returns what was
  /// recorded so far, with interrupted_by set.
  virtual Result<Recording> record(const RunOptions& options) = 0;
  /// The counts of the command being recorded, as of now.
  virtual Result<Counts> snapshot() = 0;
};

/// The current CLOCK_MONOTONIC time in nanoseconds (bpf_ktime_get_ns's clock).
std::uint64_t monotonic_ns();

}  // namespace sandmine::trace
