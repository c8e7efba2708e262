#include "report/summary.h"

#include "profile/explain.h"
#include "report/check_report.h"

#include <fmt/format.h>

namespace sandmine::report {

namespace {
// The "Coverage" section: the estimate's numbers and how they were made.
std::string coverage_markdown(const trace::CoverageEstimate& c) {
  std::string md = "\n## Coverage estimate\n\n";
  md += fmt::format(
      "- sampling units: {} explore steps (T), {} incidences (U); {} syscalls observed in the run, "
      "{} of them used by explore steps; Q1 = {} (used in one step), Q2 = {} (in two)\n",
      c.steps, c.incidences, c.observed, c.observed_in_steps, c.q1, c.q2);
  if (c.sample_coverage)
    md += fmt::format("- sample coverage {:.3f}; Chao2 estimate {:.1f} syscalls in all ({:.1f} not seen)\n",
                      *c.sample_coverage, *c.chao2, *c.unseen_estimate);
  else
    md += "- " + c.note + "\n";
  md += "- method: " + c.method + " (docs/coverage.md)\n";
  return md;
}

}  // namespace

std::string summary_markdown(const spec::Spec& spec, const explore::MineResult& result,
                             const profile::Profile* profile, const explore::CheckResult* held_out) {
  std::string md = fmt::format("# sandmine: {}\n\n", spec.name);
  md += fmt::format(
      "- engine: {}; image {}\n", result.trace.target.engine,
      // A config digest keeps its "sha256:" prefix: it is not a recipe hash.
      result.trace.target.image.substr(0, result.trace.target.image.starts_with("sha256:") ? 19 : 12));
  md += fmt::format("- mining time: {:.1f} s (container start to removal); image: {:.1f} s\n",
                    result.mining_seconds, result.image_seconds);
  md += fmt::format(
      "- syscalls seen (armed): {}; runtime set-up before the filter (unarmed, not in the profile): {}\n",
      result.trace.syscalls.size(), result.trace.unarmed.size());
  if (profile) {
    auto allowed = profile::permitted_names(*profile).size();
    auto docker = profile::docker_default_x86_64().size();  // data/docker_default_x86_64.csv
    md +=
        fmt::format("- profile: {} syscalls allowed; Docker's default allows {} on x86_64 ({:.0f}% of it)\n",
                    allowed, docker, 100.0 * static_cast<double>(allowed) / static_cast<double>(docker));
  } else {
    md += "- profile: none, the run did not complete (" + result.trace.partial_reason + ")\n";
  }
  md +=
      "\n| # | step | phase | result | time (s) | new syscalls | total "
      "|\n|---:|---|---|---|---:|---:|---:|\n";
  for (size_t i = 0; i < result.trace.steps.size(); ++i) {
    const auto& st = result.trace.steps[i];
    const auto& outcome = result.steps[i];
    md += fmt::format("| {} | {} | {} | {} | {:.2f} | {} | {} |\n", i + 1, st.name, st.phase,
                      outcome.ok ? "ok" : "failed: " + outcome.failure, st.duration_ms / 1000,
                      st.new_syscalls.size(), st.total);
  }
  if (const auto& sat = result.trace.saturation)
    md += fmt::format("\nRounds of the explore steps (--until-saturated {}): {}. {}\n", sat->wanted,
                      sat->rounds, sat->reason);
  for (const auto& g : result.trace.generated)
    md += fmt::format(
        "\nGenerated exploration ({}): {} generated steps in {:.1f} s of a {:.0f} s budget; stopped by {}: "
        "{}\n",
        g.step, g.steps, g.seconds, g.budget_s, g.stop, g.detail);
  if (const auto& c = result.trace.coverage) md += coverage_markdown(*c);
  if (const auto& c = result.trace.coverage_by_family; c && c->unseen_estimate)
    md += fmt::format(
        "- with step families as the sampling units ({} families, Q1 = {}, Q2 = {}): Chao2 {:.1f} "
        "({:.1f} not seen)\n",
        c->steps, c->q1, c->q2, *c->chao2, *c->unseen_estimate);
  if (held_out) md += check_markdown(*held_out);
  md += "\n## First seen per step\n\n";
  for (const auto& st : result.trace.steps) {
    if (st.new_syscalls.empty()) continue;
    md += "- **" + st.name + "**: ";
    for (size_t i = 0; i < st.new_syscalls.size(); ++i) md += (i ? ", " : "") + st.new_syscalls[i];
    md += "\n";
  }
  return md;
}

}  // namespace sandmine::report
