#pragma once
// The static reachability section (reach.json, docs/formats.md) of
// summary.md and report.html.

#include <string>

#include <nlohmann/json_fwd.hpp>

namespace sandmine::report {

/// The section as Markdown, starting with "## Static reachability".
std::string reach_markdown(const nlohmann::json& reach);

/// summary with its static reachability section replaced by (or, without
/// one, followed by) reach_markdown(reach).
std::string with_reach_section(const std::string& summary, const nlohmann::json& reach);

/// The section as HTML (a <section id="reach">).
std::string reach_html(const nlohmann::json& reach);

}  // namespace sandmine::report
