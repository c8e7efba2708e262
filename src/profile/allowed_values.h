#pragma once
// What the argument rules of a profile allow, per syscall, in the names a
// reader knows (AF_INET, SOCK_STREAM, CLONE_NEWNET, FUTEX_WAIT) from
// data/argument_rules.csv and data/argument_names.csv: `sandmine explain`
// lists them, and the systemd export maps what it can of them.
//
// A syscall's rules become a table: one column per argument (and mask) any
// of its rules compares, one row per rule. A rule that does not compare a
// column lets every value of it through ("any").

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "profile/profile.h"

namespace sandmine::profile {

/// One argument the rules of a syscall compare, under one mask.
struct ArgumentColumn {
  unsigned index = 0;
  /// Its name in data/argument_rules.csv ("domain"), or "argN" when the table
  /// has no row for it.
  std::string name;
  /// The bits compared: SCMP_CMP_MASKED_EQ's mask; all 64 for the other ops.
  std::uint64_t mask = ~std::uint64_t{0};
  /// How the column is headed: "domain" when the rule compares the argument
  /// as the table records it, else the mask too: "type&0xfff7f7ff",
  /// "flags&(CLONE_NEWNS|...)" (flag bits by name).
  std::string text;
  bool operator==(const ArgumentColumn&) const = default;
};

/// What one rule requires of one column.
struct ArgumentCell {
  /// SCMP_CMP_*; empty when the rule does not compare the column (any value).
  std::string op;
  /// What the column must equal (SCMP_CMP_MASKED_EQ's valueTwo, the other
  /// ops' value).
  std::uint64_t value = 0;
  /// "AF_INET", "SOCK_STREAM", "CLONE_NEWNET", "none" (no flag bit), "0x5401"
  /// (a value without a name), "!=0x5" (other ops), "any".
  std::string text;
  bool operator==(const ArgumentCell&) const = default;
};

/// One rule: its action when every cell holds.
struct ValueRule {
  Action action;
  std::vector<ArgumentCell> cells;  ///< one per column
  bool operator==(const ValueRule&) const = default;
};

/// The argument rules of one syscall.
struct SyscallValues {
  std::string syscall;
  std::vector<ArgumentColumn> columns;  ///< by argument index, then mask
  std::vector<ValueRule> rules;         ///< in the profile's order
};

/// A name every call of which gets ENOSYS when the default does not: clone3,
/// whose flags no filter can read, so that the C library falls back to clone.
struct AnsweredSyscall {
  std::string syscall;
  Action action;
  std::string comment;  ///< why, as the profile says it
};

/// Everything a profile's argument rules allow.
struct AllowedValues {
  Action otherwise;                       ///< what a call no rule matches gets (the default action)
  std::vector<SyscallValues> syscalls;    ///< the names argument rules decide, by name
  std::vector<AnsweredSyscall> answered;  ///< by name
};

/// The argument rules of a profile as tables.
AllowedValues allowed_values(const Profile& profile);

/// The same as JSON (docs/formats.md, `sandmine explain --json`,
/// "argument_rules").
nlohmann::json allowed_values_json(const AllowedValues& values);

}  // namespace sandmine::profile
