#pragma once
// Static reachability of a container's binaries: for every executable it
// ran, the syscalls its code can reach (its own syscall instructions, those
// of its dynamic loader and of every library in its DT_NEEDED closure, and
// the C library functions any of them import, through the C library's
// table), found in the image's own root file system, next to what mining saw.

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "reach/libc_table.h"
#include "trace/trace.h"
#include "util/result.h"

namespace sandmine::reach {

/// Syscall names per libseccomp architecture ("x86_64" -> {"read", ...}).
using NameSets = std::map<std::string, std::set<std::string>>;

/// One ELF object in a binary's closure.
struct ObjectInfo {
  std::string path;  ///< inside the root, symlinks resolved
  std::string kind;  ///< executable, loader, libc, library
  std::string build_id;
  NameSets own;                  ///< its own syscall instructions (all its code)
  std::uint32_t sites = 0;       ///< syscall instructions
  std::uint32_t unresolved = 0;  ///< ... whose number is no constant in reach
  std::size_t imports = 0;       ///< functions it imports
  std::string error;             ///< why it was not analysed (then own is empty)
};

/// A reachable syscall that mining did not see, and what it opens.
struct UnseenSyscall {
  std::string arch;
  std::string name;
  std::string risk;               ///< data/risky_syscalls.csv category, empty when not risky
  std::vector<std::string> cves;  ///< data/cves.csv entries whose path needs it
  /// Where code that reaches it starts: "fsync() from /usr/bin/redis-server"
  /// (a C library function an object imports), "a syscall instruction in
  /// /usr/lib/x86_64-linux-gnu/libcrypto.so.3", "the C library's start-up",
  /// ... The most specific first: by how many syscalls the source reaches
  /// (the call's own wrapper reaches one); among equals, binaries in order
  /// and, in each, the objects' own instructions, then the imports (the
  /// executable's first), then the start-up. At most kMaxVia; via_total says
  /// how many there are.
  std::vector<std::string> via;
  std::size_t via_total = 0;
};

/// The most sources an unseen syscall names (the rest are counted).
inline constexpr std::size_t kMaxVia = 8;

/// Where code that reaches a syscall starts (UnseenSyscall::via), and how
/// many syscalls that code reaches in all.
struct Source {
  std::size_t reaches = 0;
  std::string text;
};
/// Sources per architecture and syscall name, in the order they were found.
using Sources = std::map<std::string, std::map<std::string, std::vector<Source>>>;

/// One executable the container ran.
struct BinaryReach {
  std::string path;  ///< as exec'd (trace.json binaries[].path)
  std::uint64_t execs = 0;
  std::vector<ObjectInfo>
      objects;  ///< itself, its loader, its libraries (DT_NEEDED closure, then mapped ones)
  std::vector<std::string> missing;  ///< DT_NEEDED names found nowhere in the root
  NameSets reachable;
  NameSets seen;  ///< of the container (the recorder counts per container, not per process)
  std::vector<UnseenSyscall> unseen;  ///< reachable - seen, sorted by arch and name
  /// For each reachable syscall, where code that reaches it starts (see UnseenSyscall::via).
  Sources sources;
  /// Possible only if an indirect call inside the C library reaches any of its
  /// address-taken functions (not in reachable).
  NameSets through_indirect;
  /// Reachable only on paths into C library code that ends the process
  /// (abort, __stack_chk_fail, __assert_fail, ...: FunctionReach::native_fatal);
  /// not in reachable.
  NameSets fatal_path;
  /// It can request a thread cancellation (reaches pthread_cancel or
  /// pthread_exit): the C library's cancellation paths are then in reachable.
  bool can_cancel = false;
  /// Otherwise: what only those paths reach (not in reachable).
  NameSets cancellation;
  bool estimate = false;
  std::vector<std::string> estimate_reasons;  ///< why the result is an estimate, one line each
  std::string error;  ///< why it could not be analysed at all (then reachable is empty)
};

/// The whole analysis of one trace.
struct ReachReport {
  std::string rootfs;
  std::string libc_path, libc_flavor, libc_build_id;
  bool libc_cached = false;  ///< the libc table came from the cache
  double libc_seconds = 0;   ///< building it (0 when cached)
  double seconds = 0;        ///< the whole analysis
  std::vector<BinaryReach> binaries;
  NameSets reachable;                 ///< union over binaries
  NameSets seen;                      ///< the trace's armed syscalls
  std::vector<UnseenSyscall> unseen;  ///< reachable - seen
  /// Seen but in no binary's reachable set: a gap in the analysis (a binary
  /// or library it did not know of, an indirect path), reported, never hidden.
  NameSets seen_unreachable;
  /// Union over binaries of fatal_path, minus reachable.
  NameSets fatal_path;
  /// Union over binaries of cancellation, minus reachable.
  NameSets cancellation;
  /// Seen, and reachable only on a fatal path (a process ended through one,
  /// or the fatal code was found wrongly): reported, not in seen_unreachable.
  NameSets seen_fatal_path;
  /// Seen, in no binary's reachable set, and first made before the target's
  /// first exec of a file in its root file system: calls of the runtime itself (runc's init between
  /// installing the filter and executing the container's program, sandmine's child before execve), not of the
  /// container's code.
  NameSets before_first_exec;
  bool estimate = false;  ///< any binary's result is an estimate
};

/// How to analyse.
struct ReachOptions {
  std::string cache_dir = kDefaultReachCacheDir;  ///< libc tables; empty: no cache
  std::function<void(const std::string&)> progress = {};
};

/// Analyses every binary of trace.binaries in the root file system rootfs
/// (a directory: the image's rootfs, or "/" for a command traced on the host).
/// A binary that cannot be analysed (missing, not ELF, not x86_64) gets its
/// error and the report goes on; a trace without binaries is an error.
Result<ReachReport> analyse(const trace::Trace& trace, const std::string& rootfs,
                            const ReachOptions& options = {});

/// Analyses executables given by path inside rootfs (no trace: nothing seen).
Result<ReachReport> analyse_paths(const std::vector<std::string>& paths, const std::string& rootfs,
                                  const ReachOptions& options = {});

/// The reachable-but-unseen syscalls of report that allowed does not already
/// allow, that are not risky (data/risky_syscalls.csv) and on no kernel CVE
/// path (data/cves.csv): what `mine --allow reachable-safe` adds, marked as
/// added from static analysis. allowed: names per libseccomp architecture.
NameSets reachable_safe(const ReachReport& report, const NameSets& allowed);

/// The names of report.seen, from the trace's armed syscalls.
NameSets seen_names(const trace::Trace& trace);

}  // namespace sandmine::reach
