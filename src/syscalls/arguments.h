#pragma once
// Which syscall arguments are mined and how their values are compared:
// data/argument_rules.csv, one row per syscall and argument index
// (docs/recording.md, "Argument values").

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace sandmine::syscalls {

/// The most arguments of one syscall the table may list (the recorder keeps
/// that many values per call: SM_ARGS_MAX in bpf/recorder.h).
constexpr std::size_t kMaxMinedArguments = 3;

/// How a rule compares an argument with the values seen.
enum class Compare {
  exact,   ///< the value itself: allowed when equal to a value seen
  masked,  ///< the value under mask: allowed when (arg & mask) equals a value seen under it
  flags,   ///< the bits in mask: a bit is allowed only when some call seen had it set
};

/// Which argument profile includes a rule: `safe` rules depend only on what a
/// program is configured to do; `strict` ones also on its environment or timing.
enum class Tier { safe, strict };

/// One row of the argument table.
struct ArgumentRule {
  std::string syscall;   ///< libseccomp's name
  int index = 0;         ///< the argument's position, 0..5
  std::string argument;  ///< its name in the man page ("domain")
  /// -1: the argument's own value (a register). n >= 0: the 64-bit word at byte
  /// offset n of the struct the argument points to, read from user memory at
  /// entry (clone3's flags). A seccomp filter cannot compare those.
  int struct_offset = -1;
  Compare compare = Compare::exact;
  /// masked: the bits compared; flags: the bits allowed only when seen; exact: 0.
  std::uint64_t mask = 0;
  /// The kernel reads the argument as a 32-bit int: the upper half of the
  /// register is ignored, so values are recorded, and rules compare, under 0xffffffff.
  bool is_int = false;
  Tier tier = Tier::safe;
  /// Values a rule allows whether or not they were seen (made depending on timing).
  std::vector<std::uint64_t> always;
  /// How values print (syscalls/argument_names.h): "enum:SET", "bits:SET",
  /// "clone:SET" (bits, the low byte a signal), or empty (hex). In SET, "{i}"
  /// stands for the value of argument i of the same call ("sockopt.{1}").
  std::string names;
  std::string reason;
  std::string source;

  /// The mask a value is recorded under: mask for masked rows, else the
  /// argument's width (0xffffffff for an int, all 64 bits otherwise).
  std::uint64_t record_mask() const;
};

/// The rows of one syscall, in index order. A recorded call gives one value per
/// row, in this order (trace::ArgValues).
struct ArgumentSpec {
  std::string syscall;
  std::vector<ArgumentRule> rules;
};

/// "exact", "masked", "flags"; "safe", "strict".
std::string to_string(Compare compare);
std::string to_string(Tier tier);
std::optional<Compare> compare_from_string(std::string_view text);

/// Parses an argument table (the CSV of data/argument_rules.csv); errors name
/// source, row and column. A syscall name must exist on some common
/// architecture; one the native architecture lacks is kept but never mined.
Result<std::vector<ArgumentSpec>> parse_argument_rules(std::string_view csv, const std::string& source);

/// The embedded table, parsed once.
const std::vector<ArgumentSpec>& argument_specs();

/// The spec of a syscall whose arguments are mined on arch, or nullptr. Only
/// the native architecture's calls are mined (x86_64 on x86_64 hosts): i386
/// (int $0x80, socketcall) and x32 calls are recorded by name only.
const ArgumentSpec* mined_arguments(std::string_view arch, std::int64_t nr);

/// The spec of a syscall by name (any architecture), or nullptr.
const ArgumentSpec* argument_spec(std::string_view syscall);

/// The positions (into ArgumentSpec::rules and so into a recorded value) of
/// the rows a profile of tier uses: safe takes the safe rows, strict all.
std::vector<std::size_t> positions_in_tier(const ArgumentSpec& spec, Tier tier);

/// Recorded values restricted to some positions (positions_in_tier): the
/// distinct combinations a rule set over those arguments must allow.
std::set<std::vector<std::uint64_t>> project(const std::set<std::vector<std::uint64_t>>& values,
                                             const std::vector<std::size_t>& positions);

}  // namespace sandmine::syscalls
