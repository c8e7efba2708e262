#pragma once
// The C library's table: for each function it exports, the syscalls that
// function can reach through the library's own call graph (direct calls and
// jumps, tail calls, local functions without symbols), computed from the
// library file itself and cached by its build id. Other binaries' imports are
// mapped through it.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "reach/code_graph.h"
#include "reach/elf_object.h"
#include "util/result.h"

namespace sandmine::reach {

/// The analysis version written into new tables.
inline constexpr int kLibcAnalysis = 5;

/// Where libc tables are cached unless told otherwise.
inline constexpr const char* kDefaultReachCacheDir = "/var/cache/sandmine/reach";

/// One row of data/libc_paths.csv: a C library function whose role the
/// analysis uses. fatal: it ends the process and never returns (a seed of
/// the fatal code; what never returns but through such code is found by
/// analysis). startup: the dynamic loader calls it in every process
/// (counted with the init code). cancel_request: it makes a thread cancellation act
/// (pthread_cancel, pthread_exit). cancel_unwind: the function it calls is
/// where every cancellation goes (glibc's __pthread_unwind).
struct LibcPath {
  std::string flavor, function, role, source;
};

/// The rows of data/libc_paths.csv.
const std::vector<LibcPath>& libc_paths();

/// Which C library an object is: "glibc", "musl", or empty for neither.
std::string libc_flavor(const ElfObject& o);

/// What one exported function (or the library's start-up code) can reach.
/// The x86_64 syscalls come in three disjoint parts: native on the paths
/// that neither end the process nor act on a thread cancellation,
/// native_cancel only on cancellation paths (possible only in a process that
/// can request one: requests_cancel), native_fatal only on paths into code
/// that ends the process (abort, __stack_chk_fail, __assert_fail, and what
/// never returns but through them; data/libc_paths.csv).
struct FunctionReach {
  NrSet native;  ///< x86_64 syscalls through direct calls and jumps, fatal and cancellation paths left out
  NrSet native_cancel;  ///< more on thread-cancellation paths (the unwinder's)
  NrSet native_fatal;   ///< more only on paths that end the process
  /// It reaches pthread_cancel or pthread_exit: a cancellation can then act
  /// at any cancellation point of the process.
  bool requests_cancel = false;
  NrSet compat;  ///< i386 syscalls (int $0x80) on every path (fatal and cancellation ones too)
  /// Added when an indirect call on the way may go to any function of the
  /// library whose address is taken (vtables, callbacks, init arrays).
  NrSet native_indirect;
  NrSet compat_indirect;
  int nr_param = -1;            ///< the syscall number is argument k (syscall(): 0)
  bool unresolved = false;      ///< a syscall site on the way has no constant number
  bool indirect_calls = false;  ///< an indirect call is on the way (direct call graph)
};

/// A C library's table.
struct LibcTable {
  int version = 1;
  /// The analysis that made it: a cached table of another analysis is
  /// rebuilt (kLibcAnalysis; bumped whenever the analysis changes results).
  int analysis = 0;
  std::string build_id;  ///< the cache key
  std::string path;      ///< where it was read from (informational)
  std::string flavor;    ///< glibc, musl
  std::string arch = "x86_64";
  std::map<std::string, FunctionReach> functions;  ///< by exported name
  FunctionReach startup;  ///< its init/fini code (DT_INIT, init and fini arrays) and its startup functions of
                          ///< data/libc_paths.csv: run whenever it is loaded
  std::size_t instructions = 0;
  std::size_t chunks = 0;
  std::vector<std::string> fatal_functions;  ///< exported functions that end the process (sorted)
  std::size_t fatal_chunks = 0;              ///< functions (exported or not) that do
  bool cancellation_found = false;           ///< the unwinding path of data/libc_paths.csv was found
  double seconds = 0;                        ///< analysis time
  /// Exported functions that take the syscall number as an argument (name -> k).
  std::map<std::string, int> nr_param_functions() const;
};

/// Analyses a C library (glibc or musl, x86_64).
Result<LibcTable> build_libc_table(const ElfObject& libc);

nlohmann::json to_json(const LibcTable& table);
Result<LibcTable> libc_table_from_json(const nlohmann::json& doc, const std::string& source);

/// The table of libc: read from cache_dir/<build id>.json when there, else
/// built and written there (atomically; a library without a build id is
/// analysed every time). cached says which. Empty cache_dir: no cache.
Result<LibcTable> libc_table(const ElfObject& libc, const std::string& cache_dir, bool* cached = nullptr);

/// "read", or "#N" for a number libseccomp has no x86_64 (or x86) name for.
std::string nr_name(const std::string& arch, std::int64_t nr);

}  // namespace sandmine::reach
