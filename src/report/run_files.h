#pragma once
// check.json (result.json) and bench.json read back, strictly: every field
// `sandmine check` and `sandmine bench` write is checked for its type and
// range when present (docs/formats.md), and the first that is wrong is named
// with its file: "out/check.json: violations[0].count: expected a non-negative
// integer, got the string \"many\"".

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "util/result.h"

namespace sandmine::report {

/// Checks a held-out check's result. Required: spec, engine, mode, passed,
/// steps and violations; profile and audit when present.
Status validate_check_json(const nlohmann::json& doc, const std::string& source);

/// Checks a bench result. Required: results, each with its config; the rest when present.
Status validate_bench_json(const nlohmann::json& doc, const std::string& source);

/// Reads path and validates it as check.json or bench.json.
Result<nlohmann::json> read_check_json(const std::string& path);
Result<nlohmann::json> read_bench_json(const std::string& path);

}  // namespace sandmine::report
