#pragma once
// The C library's table: for each function it exports, the syscalls that
// function can reach through the library's own call graph (direct calls and
// jumps, tail calls, local functions without symbols), computed from the
// library file itself and cached by its build id. Other binaries' imports are
// mapped through it.

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "reach/code_graph.h"
#include "reach/elf_object.h"
#include "util/result.h"

namespace sandmine::reach {

/// The analysis version written into new tables.
inline constexpr int kLibcAnalysis = 3;

/// Where libc tables are cached unless told otherwise.
inline constexpr const char* kDefaultReachCacheDir = "/var/cache/sandmine/reach";

/// Which C library an object is: "glibc", "musl", or empty for neither.
std::string libc_flavor(const ElfObject& o);

/// What one exported function (or the library's start-up code) can reach.
struct FunctionReach {
  NrSet native;  ///< x86_64 syscalls through direct calls and jumps
  NrSet compat;  ///< i386 syscalls (int $0x80) likewise
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
  FunctionReach startup;  ///< its init/fini code (DT_INIT, init and fini arrays): runs whenever it is loaded
  std::size_t instructions = 0;
  std::size_t chunks = 0;
  double seconds = 0;  ///< analysis time
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
