#pragma once
// report.html: one mining run as a page a person opens. One self-contained
// file: inline CSS, charts as inline SVG drawn here, no script and nothing
// loaded from anywhere else. Every chart is an <svg data-chart="..."> whose
// marks carry classes (bar, curve, point), so tests can count them.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "profile/profile.h"
#include "trace/trace.h"
#include "util/result.h"

namespace sandmine::report {

/// What a report shows. Only the trace is required; the rest is left out when absent.
struct ReportInput {
  trace::Trace trace;                       ///< trace.json
  std::optional<profile::Profile> profile;  ///< profile.json (none: the run wrote none)
  std::optional<nlohmann::json> check;      ///< check.json: the held-out check (docs/formats.md)
  std::optional<nlohmann::json> bench;      ///< bench.json: the overhead measurement
  std::optional<nlohmann::json> reach;      ///< reach.json: static reachability (sandmine reach)
};

/// Reads dir/trace.json (required), dir/profile.json, dir/check.json and
/// dir/bench.json (each when present; none of them after a partial trace,
/// since such a run writes none and any there are an earlier run's). Errors
/// name the file.
Result<ReportInput> read_report_input(const std::string& dir);

/// The name a report goes by: the spec's name from the trace, else check.json's.
std::string report_name(const ReportInput& in);

/// A run's headline numbers, as the report and the index page give them.
struct Headline {
  std::optional<std::size_t> allowed;  ///< names the profile lets through on x86_64; none: no profile
  std::size_t seen = 0;                ///< distinct armed syscalls in the trace
  std::size_t docker_default = 0;      ///< names Docker's default lets through on x86_64
  std::optional<double> docker_share;  ///< allowed / docker_default
  double mining_seconds = 0;
  std::optional<trace::CoverageEstimate> coverage;  ///< the trace's, or estimated from its steps
  std::optional<bool> check_passed;                 ///< none: no held-out check ran
  std::optional<std::size_t> violations;            ///< held-out: syscalls outside the profile
  std::optional<double> overhead_ratio;             ///< bench.json: the profile's median over unconfined's
};

Headline headline(const ReportInput& in);

/// The start of a page (doctype, head with the shared inline CSS, body) and its end.
std::string page_start(std::string_view title);
std::string page_end();

/// The page. Charts: "discovery" (cumulative syscalls, one point per step),
/// "new-per-step" (one bar per step), "profile-size" (the profile and
/// Docker's default), "overhead" (one bar per configuration, with bench.json).
std::string report_html(const ReportInput& in);

/// Text made safe for HTML content and attribute values (& < > " ').
std::string html_escape(std::string_view text);

}  // namespace sandmine::report
