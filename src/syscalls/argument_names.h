#pragma once
// Symbolic names of argument values (AF_INET, SOCK_STREAM, CLONE_NEWUSER,
// FUTEX_WAIT, SIGTERM, ...): data/argument_names.csv, one row per (set, name,
// value). Every place that prints or reads an argument value goes through here.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "syscalls/arguments.h"
#include "util/result.h"

namespace sandmine::syscalls {

/// Whether data/argument_names.csv has a set of this name ("family").
bool has_name_set(std::string_view set);

/// The name of value in set ("family", 2 -> "AF_INET"), if it has one.
std::optional<std::string> name_in(std::string_view set, std::uint64_t value);

/// The value of a name in set ("family", "AF_INET" -> 2), if it has it.
std::optional<std::uint64_t> value_in(std::string_view set, std::string_view name);

/// How a value of rule prints by the rule's names column: "AF_INET",
/// "CLONE_VM|CLONE_FS|SIGCHLD", "PROT_READ|PROT_EXEC"; hex ("0x5401") for what
/// has no name, "0" for zero. call: the call's recorded values, for sets that
/// depend on another argument ("sockopt.{1}"); may be empty.
std::string format_value(const ArgumentSpec& spec, std::size_t position,
                         const std::vector<std::uint64_t>& call);

/// A recorded call: "socket(AF_INET, SOCK_STREAM, 0)" when the mined
/// arguments are the first ones, else by name: "ioctl(request=TCGETS)".
std::string format_call(const ArgumentSpec& spec, const std::vector<std::uint64_t>& values);

/// Reads a value written for rule: a name of its set ("SOCK_STREAM"), names
/// joined by | for bit sets ("CLONE_NEWUSER|CLONE_NEWNET"), hex ("0x10") or
/// decimal. Sets that depend on another argument take numbers only.
Result<std::uint64_t> parse_value(const ArgumentRule& rule, std::string_view text);

}  // namespace sandmine::syscalls
