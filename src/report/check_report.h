#pragma once
// A held-out check's result as result.json, as lines for a terminal, and as
// the section summary.md gives it.

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "explore/check.h"

namespace sandmine::report {

/// A call's arguments as result.json lists them (docs/formats.md):
/// [{"index": 0, "name": "domain", "value": "0x10", "text": "AF_NETLINK"}, ...].
nlohmann::json call_arguments_json(const std::vector<profile::CallArgument>& args);

/// What the check saw, for result.json (format in docs/formats.md).
nlohmann::json check_json(const std::string& spec_name, const std::string& profile, const std::string& engine,
                          const explore::CheckResult& result);

/// One line per violation: "x86_64 mkdir x3 by nginx (validate-reload 3)", a
/// call decided by its arguments with them: "x86_64 socket(AF_NETLINK,
/// SOCK_RAW, 0) x1 by ip (start 1)".
std::vector<std::string> violation_lines(const explore::CheckResult& result);

/// The audit records' verdict in one line, or empty when none were read.
std::string audit_line(const explore::CheckResult& result);

/// The "Held-out check" section of summary.md.
std::string check_markdown(const explore::CheckResult& result);

}  // namespace sandmine::report
