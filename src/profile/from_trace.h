#pragma once
// A profile from what was recorded: the union of traces' armed syscalls and,
// for the syscalls whose arguments are mined (data/argument_rules.csv), the
// argument values they were called with.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "profile/profile.h"
#include "syscalls/arguments.h"
#include "trace/trace.h"

namespace sandmine::profile {

/// Which argument rules a profile gets: none (names only, as before argument
/// mining), the safe tier (what a program's configuration decides), or every
/// mined argument (docs/recording.md says which rows are in which tier).
enum class ArgsMode { off, safe, strict };

/// "off", "safe", "strict".
std::string to_string(ArgsMode mode);
std::optional<ArgsMode> args_mode_from_string(std::string_view text);

/// What comments say of the rules argument mining wrote.
inline constexpr const char* kClone3Comment =
    "clone3's flags are behind a pointer a filter cannot read: ENOSYS makes the C library fall back to "
    "clone, which is allowed with the namespace flags seen in either";

/// How to build the profile.
struct FromTraceOptions {
  ArgsMode args = ArgsMode::safe;
  /// Rules per syscall above which it is allowed by name only (and said so):
  /// each rule costs the filter a few instructions on every call of it.
  std::size_t max_rules = 32;
};

/// A profile that allows the union of the traces' armed syscalls and denies
/// everything else with EPERM, on the architectures the traces used (the
/// native one first). With argument rules, a mined syscall is allowed only
/// for the combinations of values seen (and the table's always-allowed
/// ones), compared as the table says; it is allowed by name only when its
/// values are incomplete (a full map), when it was also called through
/// another architecture (only native calls are mined), or when its rules
/// would be too many; each of those is reported in warnings. clone3 gets
/// ENOSYS (kClone3Comment). Numbers libseccomp cannot name cannot be written
/// in a profile: each is reported in warnings.
Profile from_traces(const std::vector<trace::Trace>& traces, std::vector<std::string>& warnings,
                    const FromTraceOptions& options = {});

/// The rules a syscall gets whatever was recorded, under args: its
/// always-allowed values (data/argument_rules.csv) and, for a flags argument,
/// none of the flag bits. Empty when args is off, the syscall has no argument
/// of that tier, or it compares more than one argument (it is then allowed
/// by name when it must be allowed unseen).
std::vector<ArgRule> baseline_rules(const std::string& name, ArgsMode args);

/// The rule conditions of one combination of values of spec's rows at
/// positions: args[index] compared as the row says (an int under a 32-bit
/// mask, masked values under the mask, flag bits exactly as seen).
std::vector<ArgCondition> conditions_for(const syscalls::ArgumentSpec& spec,
                                         const std::vector<std::size_t>& positions,
                                         const std::vector<std::uint64_t>& values);

}  // namespace sandmine::profile
