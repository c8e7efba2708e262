#pragma once
// The code of one ELF object cut into chunks (a function each: from one known
// function start to the next) and what each chunk does, from disassembly with
// capstone: the chunks and imports it calls or jumps to directly, the
// syscalls its own `syscall`, `int $0x80` and `sysenter` instructions make
// when a constant reaches %eax within reach (through moves, across the
// chunk's own branches), and whether it calls through pointers.
//
// A chunk whose syscall number comes from one of its arguments (libc's
// syscall(), internal helpers) is resolved at its call sites: the caller
// gets the constant it passes, or takes the number from its own argument in
// turn.

#include <bitset>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "reach/elf_object.h"
#include "util/result.h"

namespace sandmine::reach {

/// Numbers below this are tracked (x86_64 and i386 stay below 512).
inline constexpr int kMaxNr = 512;
using NrSet = std::bitset<kMaxNr>;

/// One function (or the code between two known function starts).
struct Chunk {
  std::uint64_t start = 0, end = 0;
  /// Chunks it calls or jumps to directly, or whose start address it loads
  /// (lea: it hands the function on, as a callback or a signal restorer); sorted, unique.
  std::vector<std::uint32_t> callees;
  std::vector<std::string> imports;  ///< imports it calls or jumps to through the GOT (sorted, unique)
  NrSet native;                      ///< x86_64 numbers: `syscall` sites and resolved callees
  NrSet compat;                      ///< i386 numbers: `int $0x80` and `sysenter` sites
  int nr_param = -1;                 ///< its syscall number is argument k (0 = %rdi), -1 none
  bool nr_param_compat = false;      ///< ... through int $0x80
  std::uint32_t sites = 0;           ///< syscall instructions in it
  std::uint32_t unresolved = 0;      ///< sites (or calls to nr-taking code) with no constant number
  std::uint32_t indirect_calls = 0;  ///< calls through a register or memory (not a GOT import)
  std::uint32_t indirect_jumps = 0;  ///< jumps through a register or memory (switch tables, tail calls)
  /// It ends the process and never returns: one of the fatal entries given to
  /// build_code_graph, or code whose every path calls or jumps to fatal code
  /// (no return, no indirect jump, no tail call to other code, no falling
  /// through into the next function), and at least one does.
  bool fatal = false;
};

/// An object's chunks.
struct CodeGraph {
  std::vector<Chunk> chunks;  ///< sorted by start
  /// Chunks whose start is stored in data or loaded with lea/mov: what an
  /// indirect call can reach.
  std::vector<std::uint32_t> address_taken;
  std::size_t instructions = 0;
  /// The chunk holding addr, or npos.
  std::uint32_t chunk_at(std::uint64_t addr) const;
  static constexpr std::uint32_t npos = ~0u;
};

/// Disassembles o's code (x86_64 only; anything else is an error) and
/// resolves nr-taking calls. nr_param_imports names imported functions that
/// take the syscall number as an argument (from the C library's table:
/// syscall -> 0): calls to them are resolved like local ones.
/// full: every chunk is decoded (callees, imports, indirect calls and
/// address-taken chunks are complete: what closures() needs). Otherwise only
/// the chunks whose bytes can hold a syscall instruction or a branch to
/// nr-taking code are (enough for whole(), and much faster on large
/// binaries); the others keep empty callees and zero counts.
/// fatal_entries: start addresses of functions known to end the process
/// (abort, __stack_chk_fail, ...: data/libc_paths.csv); with full, every
/// chunk that never returns because all its paths end in one of them (or in
/// such a chunk, transitively) is marked fatal too.
Result<CodeGraph> build_code_graph(const ElfObject& o,
                                   const std::map<std::string, int>& nr_param_imports = {}, bool full = true,
                                   const std::set<std::uint64_t>& fatal_entries = {});

/// What a set of chunks can reach, following direct calls and jumps (and,
/// with through_indirect, from any chunk with an indirect call or jump to
/// every address-taken chunk).
struct Closure {
  NrSet native, compat;
  std::set<std::string> imports;
  /// whole(): syscall sites with no constant number; closures(): 1 when it
  /// reaches any such site, else 0.
  std::uint32_t unresolved = 0;
  /// whole(): indirect calls; closures(): 1 when it reaches any, else 0.
  std::uint32_t indirect_calls = 0;
  std::uint32_t chunks = 0;  ///< chunks reached (an upper bound in closures())
  bool marked = false;       ///< closures(): it reaches a chunk of ClosureOptions::mark
};

/// How closures() walks the graph.
struct ClosureOptions {
  bool through_indirect = false;  ///< see closures()
  /// Chunks never entered (empty: none): a path stops before a call or jump to one.
  std::vector<bool> cut;
  /// Chunks to look for (empty: none): Closure::marked says whether one is reached.
  std::vector<bool> mark;
};

/// For every chunk, what it reaches. One pass over the graph's strongly
/// connected components.
std::vector<Closure> closures(const CodeGraph& graph, bool through_indirect);
std::vector<Closure> closures(const CodeGraph& graph, const ClosureOptions& options);

/// Everything in the object: the union over all chunks.
Closure whole(const CodeGraph& graph);

}  // namespace sandmine::reach
