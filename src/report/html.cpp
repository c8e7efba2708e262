#include "report/html.h"
#include "report/reach_section.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "explore/coverage.h"
#include "profile/docker_json.h"
#include "profile/explain.h"
#include "report/run_files.h"
#include "util/json.h"

namespace sandmine::report {

using nlohmann::json;

namespace {

// ---- JSON read without exceptions. check.json and bench.json are validated
// when read from files (run_files.h); documents built in memory are rendered
// as far as their fields have the expected types.

std::string str(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}
std::optional<double> num(const json& j, const char* key) {
  if (j.is_object() && j.contains(key) && j[key].is_number()) return j[key].get<double>();
  return std::nullopt;
}
const json& arr(const json& j, const char* key) {
  static const json empty = json::array();
  return j.is_object() && j.contains(key) && j[key].is_array() ? j[key] : empty;
}
bool flag(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_boolean() && j[key].get<bool>();
}
// "a, b, c" from an array of strings.
std::string joined(const json& list) {
  std::string out;
  if (!list.is_array()) return out;
  for (const auto& v : list)
    if (v.is_string()) out += (out.empty() ? "" : ", ") + v.get<std::string>();
  return out;
}

// ---- charts

constexpr double kWidth = 720, kHeight = 280;
constexpr double kLeft = 60, kRight = 20, kTop = 24, kBottom = 60;
constexpr double kPlotW = kWidth - kLeft - kRight, kPlotH = kHeight - kTop - kBottom;

// A round axis maximum at or above v: 1, 2 or 5 times a power of ten per tick, four ticks or so.
std::pair<double, double> axis_max_and_tick(double v) {
  if (!(v > 0)) return {1, 1};
  double raw = v / 4, power = std::pow(10, std::floor(std::log10(raw))), m = raw / power;
  double tick = (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
  if (tick < 1 && v >= 1) tick = 1;
  return {std::ceil(v / tick) * tick, tick};
}

std::string number(double v) { return fmt::format("{:.4g}", v); }
std::string coord(double v) { return fmt::format("{:.1f}", v); }

double y_of(double v, double ymax) { return kTop + kPlotH - v / ymax * kPlotH; }

// Axes, horizontal grid lines with their values, and the axis titles.
std::string axes(double ymax, double tick, std::string_view x_title, std::string_view y_title) {
  std::string s;
  const int ticks = static_cast<int>(std::lround(ymax / tick));
  for (int i = 0; i <= ticks; ++i) {
    double v = tick * i, y = y_of(v, ymax);
    s += fmt::format(R"(<line class="grid" x1="{}" y1="{}" x2="{}" y2="{}"/>)", kLeft, coord(y),
                     kLeft + kPlotW, coord(y));
    s += fmt::format(R"(<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>)", kLeft - 6,
                     coord(y + 4), number(v));
  }
  s += fmt::format(R"(<line class="axis" x1="{0}" y1="{1}" x2="{0}" y2="{2}"/>)", kLeft, kTop, kTop + kPlotH);
  s += fmt::format(R"(<line class="axis" x1="{0}" y1="{1}" x2="{2}" y2="{1}"/>)", kLeft, kTop + kPlotH,
                   kLeft + kPlotW);
  s += fmt::format(R"(<text class="axis-title" x="{}" y="{}" text-anchor="middle">{}</text>)",
                   kLeft + kPlotW / 2, kHeight - 8, html_escape(x_title));
  s += fmt::format(
      R"svg(<text class="axis-title" x="14" y="{0}" text-anchor="middle" transform="rotate(-90 14 {0})">{1}</text>)svg",
      kTop + kPlotH / 2, html_escape(y_title));
  return s;
}

std::string svg_open(std::string_view chart, std::string_view label) {
  return fmt::format(
      R"(<svg data-chart="{}" viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="{}">)", chart,
      kWidth, kHeight, kWidth, kHeight, html_escape(label));
}

// Which of n x positions get a label: all when few, else every k-th and the last.
bool labelled(std::size_t i, std::size_t n) {
  std::size_t every = n <= 24 ? 1 : (n + 23) / 24;
  return i % every == 0 || i + 1 == n;
}

struct Bar {
  std::string label;  ///< under the bar
  double value = 0;
  std::string title;  ///< the tooltip
  std::string cls;    ///< extra class: "baseline"
};

std::string bar_chart(std::string_view chart, std::string_view aria, std::string_view x_title,
                      std::string_view y_title, const std::vector<Bar>& bars) {
  double top = 0;
  for (const auto& b : bars) top = std::max(top, b.value);
  auto [ymax, tick] = axis_max_and_tick(top);
  std::string s = svg_open(chart, aria) + axes(ymax, tick, x_title, y_title);
  double slot = kPlotW / static_cast<double>(std::max<std::size_t>(bars.size(), 1));
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const auto& b = bars[i];
    double h = std::max(0.0, b.value) / ymax * kPlotH,
           x = kLeft + slot * static_cast<double>(i) + slot * 0.15;
    s += fmt::format(R"(<rect class="bar{}" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>)",
                     b.cls.empty() ? "" : " " + b.cls, coord(x), coord(kTop + kPlotH - h), coord(slot * 0.7),
                     coord(h), html_escape(b.title));
    if (bars.size() <= 24)
      s += fmt::format(R"(<text class="value" x="{}" y="{}" text-anchor="middle">{}</text>)",
                       coord(x + slot * 0.35), coord(kTop + kPlotH - h - 4), number(b.value));
    if (labelled(i, bars.size()))
      s += fmt::format(R"(<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>)",
                       coord(x + slot * 0.35), kTop + kPlotH + 16, html_escape(b.label));
  }
  return s + "</svg>\n";
}

std::string discovery_chart(const std::vector<explore::DiscoveryPoint>& curve) {
  double top = curve.empty() ? 0 : static_cast<double>(curve.back().cumulative);
  auto [ymax, tick] = axis_max_and_tick(top);
  std::string s = svg_open("discovery", "distinct syscalls seen by the end of each step") +
                  axes(ymax, tick, "step", "distinct syscalls (cumulative)");
  std::size_t n = curve.size();
  auto x_of = [&](std::size_t i) {
    return n == 1 ? kLeft + kPlotW / 2 : kLeft + kPlotW * static_cast<double>(i) / static_cast<double>(n - 1);
  };
  std::string points, marks;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& p = curve[i];
    double x = x_of(i), y = y_of(static_cast<double>(p.cumulative), ymax);
    points += (i ? " " : "") + coord(x) + "," + coord(y);
    marks += fmt::format(R"(<circle class="point" cx="{}" cy="{}" r="3.5"><title>{}</title></circle>)",
                         coord(x), coord(y),
                         html_escape(fmt::format("{} ({}): {} in all, +{}, done at {:.2f} s", p.step, p.phase,
                                                 p.cumulative, p.added, p.end_ms / 1000)));
    if (labelled(i, n))
      marks += fmt::format(R"(<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>)", coord(x),
                           kTop + kPlotH + 16, i + 1);
  }
  s += fmt::format(R"(<polyline class="curve" points="{}"/>)", points) + marks;
  return s + "</svg>\n";
}

// ---- sections

std::string percent(double share) { return fmt::format("{:.0f}%", share * 100); }

std::string card(std::string_view label, std::string_view value, std::string_view note = {}) {
  return fmt::format(R"(<div class="card"><div class="label">{}</div><div class="value">{}</div>{}</div>)",
                     html_escape(label), html_escape(value),
                     note.empty() ? "" : fmt::format(R"(<div class="note">{}</div>)", html_escape(note)));
}

std::string cards(const ReportInput& in, const Headline& h) {
  std::string s = R"(<section id="headline" class="cards">)";
  if (h.allowed)
    s += card("syscalls allowed", std::to_string(*h.allowed),
              h.docker_share ? percent(*h.docker_share) + " of Docker's default (" +
                                   std::to_string(h.docker_default) + ")"
                             : "");
  else
    s += card("syscalls allowed", "no profile", in.trace.partial ? "the run did not complete" : "");
  s += card("mining time", fmt::format("{:.1f} s", h.mining_seconds),
            fmt::format("{} steps", in.trace.steps.size()));
  if (h.coverage && h.coverage->sample_coverage)
    s +=
        card("sample coverage", percent(*h.coverage->sample_coverage),
             fmt::format("Chao2: {:.1f} syscalls in all, {} seen", *h.coverage->chao2, h.coverage->observed));
  else
    s += card("sample coverage", "n/a", h.coverage ? h.coverage->note : "no per-step incidence in the trace");
  if (h.check_passed)
    s += card("held-out check", *h.check_passed ? "passed" : "FAILED",
              fmt::format("{} syscalls outside the profile", h.violations.value_or(0)));
  if (h.overhead_ratio)
    s += card("overhead", fmt::format("{:.3f}x", *h.overhead_ratio), "throughput vs unconfined");
  return s + "</section>\n";
}

std::string steps_section(const trace::Trace& t, const std::vector<explore::DiscoveryPoint>& curve) {
  std::string s = R"(<section id="steps"><h2>Discovery</h2>)";
  s += "<p>Distinct syscalls seen by the end of each step (start, the explore steps, stop). A curve that "
       "flattens out means more of the same steps finds little new.</p>\n";
  if (t.saturation) s += "<p class=\"note\">" + html_escape(t.saturation->reason) + "</p>\n";
  for (const auto& g : t.generated)
    s += "<p class=\"note\">" +
         html_escape(
             fmt::format("Generated exploration ({}): {} generated steps in {:.1f} s of a {:.0f} s budget; "
                         "stopped by {}: {}",
                         g.step, g.steps, g.seconds, g.budget_s, g.stop, g.detail)) +
         "</p>\n";
  s += discovery_chart(curve);
  std::vector<Bar> bars;
  for (std::size_t i = 0; i < curve.size(); ++i)
    bars.push_back({std::to_string(i + 1), static_cast<double>(curve[i].added),
                    fmt::format("{}: +{}", curve[i].step, curve[i].added), ""});
  s += "<h3>New syscalls per step</h3>\n" +
       bar_chart("new-per-step", "syscalls first seen in each step", "step", "new syscalls", bars);
  s += "<table class=\"steps\"><thead><tr><th>#</th><th>step</th><th>phase</th><th>done at (s)</th>"
       "<th>new</th><th>used</th><th>total</th><th>first seen here</th></tr></thead><tbody>\n";
  for (std::size_t i = 0; i < t.steps.size(); ++i) {
    const auto& st = t.steps[i];
    std::string news;
    for (const auto& n : st.new_syscalls) news += (news.empty() ? "" : ", ") + n;
    s += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{:.2f}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"names\">{}</td></tr>\n",
        i + 1, html_escape(st.name), html_escape(st.phase), curve[i].end_ms / 1000, st.new_syscalls.size(),
        st.used.size(), curve[i].cumulative, html_escape(news));
  }
  return s + "</tbody></table></section>\n";
}

std::string profile_section(const ReportInput& in, const Headline& h, const profile::Baseline& docker) {
  std::string s = R"(<section id="profile"><h2>The profile next to Docker's default</h2>)";
  std::vector<Bar> bars;
  if (h.allowed)
    bars.push_back({"this profile", static_cast<double>(*h.allowed),
                    fmt::format("this profile: {} syscalls on x86_64", *h.allowed), ""});
  else
    bars.push_back({"seen (no profile)", static_cast<double>(h.seen),
                    fmt::format("seen while mining: {} (the run wrote no profile)", h.seen), ""});
  bars.push_back({"Docker default", static_cast<double>(h.docker_default),
                  fmt::format("{}: {} syscalls on x86_64", docker.title, h.docker_default), "baseline"});
  s += bar_chart("profile-size", "syscalls allowed on x86_64: this profile and Docker's default", "",
                 "syscalls allowed (x86_64)", bars);
  s += fmt::format("<p>Docker's default: {} ({}).", html_escape(docker.title), html_escape(docker.source));
  if (in.profile && docker.surface) {
    auto cmp = profile::compare_x86_64(profile::surface_of(*in.profile), *docker.surface);
    s += fmt::format(" {} of the profile's {} are in Docker's default too.", cmp.common, cmp.profile_count);
    if (!cmp.only_in_profile.empty()) {
      std::string names;
      for (const auto& n : cmp.only_in_profile) names += (names.empty() ? "" : ", ") + n;
      s += " Allowed here but not by Docker's default: <span class=\"names\">" + html_escape(names) +
           "</span>.";
    }
  }
  return s + "</p></section>\n";
}

// What the profile was mined from (profile::MinedFrom): what it holds for.
std::string mined_from_section(const profile::MinedFrom& m) {
  std::string s = R"(<section id="mined-from"><h2>Mined from</h2>)";
  s += "<p>The profile holds for this configuration; <code>sandmine check</code> warns when the container it "
       "starts differs.</p>\n<table class=\"mined-from\"><tbody>\n";
  std::string command;
  for (const auto& a : m.command) command += (command.empty() ? "" : " ") + a;
  s += fmt::format(
      "<tr><th>engine</th><td>{}</td></tr>\n<tr><th>image</th><td><code>{}</code></td></tr>\n"
      "<tr><th>command</th><td><code>{}</code></td></tr>\n",
      html_escape(m.engine), html_escape(m.image), html_escape(command));
  for (const auto& [name, digest] : m.env)
    s += fmt::format("<tr><th>env {}</th><td><code>{}</code></td></tr>\n", html_escape(name),
                     html_escape(digest));
  for (const auto& [path, digest] : m.config_files)
    s += fmt::format("<tr class=\"config-file\"><th>{}</th><td><code>{}</code></td></tr>\n",
                     html_escape(path), html_escape(digest));
  s += "</tbody></table>\n";
  s += fmt::format(
      "<p>{} configuration files read at start (values and contents as SHA-256).{}</p>\n",
      m.config_files.size(),
      m.config_files_note.empty() ? "" : " Incomplete: " + html_escape(m.config_files_note) + ".");
  return s + "</section>\n";
}

std::string check_section(const json& check) {
  bool passed = flag(check, "passed");
  std::string s = fmt::format(R"(<section id="check"><h2>Held-out check: <span class="{}">{}</span></h2>)",
                              passed ? "ok" : "bad", passed ? "passed" : "FAILED");
  s += fmt::format(
      "<p>The spec's validate steps with the container under the mined profile ({} mode, {}).</p>\n",
      html_escape(str(check, "mode")), html_escape(str(check, "engine")));
  s += "<ul class=\"check-steps\">";
  for (const auto& st : arr(check, "steps"))
    s += fmt::format("<li>{} {}: {}</li>", html_escape(str(st, "phase")), html_escape(str(st, "name")),
                     flag(st, "ok") ? "ok" : "failed: " + html_escape(str(st, "failure")));
  s += "</ul>\n";
  const json& violations = arr(check, "violations");
  if (violations.empty()) {
    s += "<p>No call outside the profile.</p>\n";
  } else {
    s += "<table class=\"violations\"><thead><tr><th>arch</th><th>syscall or "
         "call</th><th>calls</th><th>processes</th>"
         "<th>first step</th><th>calls per step</th></tr></thead><tbody>\n";
    for (const auto& v : violations) {
      std::string per_step;
      if (v.contains("steps") && v["steps"].is_object())
        for (const auto& [step, n] : v["steps"].items())
          per_step += (per_step.empty() ? "" : ", ") + step + " " + (n.is_number() ? n.dump() : "?");
      s += fmt::format(
          "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
          html_escape(str(v, "arch")), html_escape(str(v, v.contains("call") ? "call" : "syscall")),
          number(num(v, "count").value_or(0)), html_escape(joined(v.value("processes", json::array()))),
          html_escape(str(v, "first_step")), html_escape(per_step));
    }
    s += "</tbody></table>\n";
  }
  if (check.contains("differs_from_mined") && check["differs_from_mined"].is_array() &&
      !check["differs_from_mined"].empty()) {
    s += "<p class=\"bad\">The container differs from what the profile was mined from:</p>\n<ul "
         "class=\"differs\">";
    for (const auto& line : check["differs_from_mined"])
      if (line.is_string()) s += "<li>" + html_escape(line.get<std::string>()) + "</li>";
    s += "</ul>\n";
  }
  if (check.contains("audit") && check["audit"].is_object()) {
    const json& a = check["audit"];
    s += flag(a, "lost")
             ? "<p class=\"note\">Audit records incomplete: " + html_escape(str(a, "why")) +
                   "; the counts above are the recorder's.</p>\n"
             : fmt::format("<p class=\"note\">Audit records agree: {} records for {} calls.</p>\n",
                           number(num(a, "records").value_or(0)), number(num(a, "expected").value_or(0)));
  }
  return s + "</section>\n";
}

std::string optional_number(const std::optional<double>& v, const char* format = "{:.3f}") {
  return v ? fmt::format(fmt::runtime(format), *v) : "n/a";
}

// How far to trust the estimates of this run, from what kind of units it had
// (docs/coverage.md measures the error against held-out workloads).
std::string coverage_trust(const trace::CoverageEstimate& c,
                           const std::optional<trace::CoverageEstimate>& family) {
  std::string s = "<p class=\"trust\"><strong>How far to trust it.</strong> ";
  if (!c.unseen_estimate) return s + "Not at all: there is no estimate (" + html_escape(c.note) + ").</p>\n";
  if (family && family->unseen_estimate && family->steps < c.steps)
    s += fmt::format(
        "Generated steps are many and alike, so read the estimate with step families as the units: "
        "{:.1f} not seen over {} families (per step: {:.1f} over {} steps). ",
        *family->unseen_estimate, family->steps, *c.unseen_estimate, c.steps);
  else if (c.steps < 10)
    s += fmt::format(
        "{} explore steps are few units: one step more or less moves the estimate a lot, so read a large "
        "value as \"too few steps to say\", not as a count. ",
        c.steps);
  return s +
         "Either way it estimates what the workload the steps sample would still use, never behaviour no "
         "step tried (an admin command, a rare error); the held-out check is the independent test "
         "(measured errors: docs/coverage.md).</p>\n";
}

std::string coverage_section(const std::optional<trace::CoverageEstimate>& c,
                             const std::optional<trace::CoverageEstimate>& family) {
  std::string s = R"(<section id="coverage"><h2>Coverage estimate</h2>)";
  if (!c) return s + "<p>The trace has no per-step incidence (it predates it).</p></section>\n";
  s += "<p>The explore steps are the sampling units; start and stop happen once per run and count as "
       "observed, not as units. Sample coverage estimates the share of the explore workload's syscall use "
       "that the steps already saw; Chao2 estimates how many distinct syscalls it uses in all. Both assume "
       "the steps are alike draws from one workload (docs/coverage.md).</p>\n";
  if (!c->note.empty()) s += "<p class=\"note\">" + html_escape(c->note) + "</p>\n";
  s += "<table class=\"coverage\"><tbody>\n";
  auto row = [&](std::string_view k, const std::string& v) {
    s += fmt::format("<tr><th>{}</th><td class=\"num\">{}</td></tr>\n", html_escape(k), html_escape(v));
  };
  row("explore steps (T)", std::to_string(c->steps));
  row("incidences (U)", std::to_string(c->incidences));
  row("syscalls observed (whole run)", std::to_string(c->observed));
  row("syscalls the explore steps used", std::to_string(c->observed_in_steps));
  row("used in exactly one step (Q1)", std::to_string(c->q1));
  row("used in exactly two steps (Q2)", std::to_string(c->q2));
  row("sample coverage", optional_number(c->sample_coverage, "{:.4f}"));
  row("estimated unseen", optional_number(c->unseen_estimate, "{:.2f}"));
  row("Chao2 (estimated total)", optional_number(c->chao2, "{:.2f}"));
  if (family && family->unseen_estimate && family->steps < c->steps) {
    row("step families (units with generated steps grouped)", std::to_string(family->steps));
    row("estimated unseen, by families", optional_number(family->unseen_estimate, "{:.2f}"));
  }
  s += "</tbody></table>\n<p class=\"note\">" + html_escape(c->method) + "</p>";
  s += coverage_trust(*c, family);
  return s + "</section>\n";
}

std::string bench_section(const json& bench) {
  std::string unit = str(bench, "unit");
  std::string s = R"(<section id="overhead"><h2>Overhead</h2>)";
  s += fmt::format(
      "<p>The spec's bench steps, {} rounds, throughput in {}; ratio: median over unconfined's "
      "median (1 = no cost). Default profile: {}.</p>\n",
      number(num(bench, "rounds").value_or(0)), html_escape(unit.empty() ? "?" : unit),
      html_escape(str(bench, "default_profile").empty() ? "the engine's" : str(bench, "default_profile")));
  std::vector<Bar> bars;
  std::string rows;
  for (const auto& r : arr(bench, "results")) {
    std::string config = str(r, "config");
    auto ratio = num(r, "ratio");
    if (ratio)
      bars.push_back({config, *ratio, fmt::format("{}: {:.3f}x", config, *ratio),
                      config == "profile" ? "" : "baseline"});
    rows += fmt::format("<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
                        html_escape(config), optional_number(num(r, "median"), "{:.4g}"),
                        optional_number(ratio, "{:.3f}"));
  }
  if (!bars.empty())
    s += bar_chart("overhead", "throughput relative to unconfined", "", "ratio to unconfined", bars);
  s +=
      "<table class=\"bench\"><thead><tr><th>filter</th><th>median</th><th>ratio</th></tr></thead><tbody>\n" +
      rows + "</tbody></table>\n";
  if (auto pd = num(bench, "profile_vs_default"))
    s += fmt::format("<p>Profile over the default profile: {:.3f}x.</p>\n", *pd);
  if (auto failure = str(bench, "failure"); !failure.empty())
    s += "<p class=\"bad\">The bench stopped early: " + html_escape(failure) + "</p>\n";
  return s + "</section>\n";
}

std::string allowance(profile::Allowance a) {
  switch (a) {
    case profile::Allowance::yes:
      return R"(<span class="bad">open</span>)";
    case profile::Allowance::conditional:
      return R"(<span class="warn">for some arguments</span>)";
    case profile::Allowance::no:
      break;
  }
  return R"(<span class="ok">closed</span>)";
}

std::string cve_section(const profile::Profile& p, const profile::Baseline& docker) {
  auto surface = profile::surface_of(p);
  std::string s = R"(<section id="cves"><h2>Kernel CVEs: is the way in open?</h2>)";
  s += "<p>Each CVE's vulnerable code is reached through the syscalls listed (data/cves.csv); "
       "open means the profile lets every one of them through.</p>\n";
  s += "<table class=\"cves\"><thead><tr><th>CVE</th><th>needs</th><th>this profile</th>"
       "<th>Docker default</th><th>what</th></tr></thead><tbody>\n";
  for (const auto& cve : profile::kernel_cves()) {
    std::string needs;
    for (const auto& alternatives : cve.needs) {
      std::string one;
      for (const auto& n : alternatives) one += (one.empty() ? "" : "/") + n;
      needs += (needs.empty() ? "" : " + ") + one;
    }
    if (cve.compat) needs += " (32-bit ABI)";
    s += fmt::format("<tr><td>{}</td><td class=\"names\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                     html_escape(cve.id), html_escape(needs), allowance(profile::reachable(cve, surface)),
                     docker.surface ? allowance(profile::reachable(cve, *docker.surface)) : "n/a",
                     html_escape(cve.description));
  }
  return s + "</tbody></table></section>\n";
}

std::string syscalls_section(const trace::Trace& t) {
  std::string s = R"(<section id="syscalls"><h2>Syscalls seen</h2>)";
  s += "<table class=\"syscalls\"><thead><tr><th>arch</th><th>syscall</th><th>nr</th><th>calls</th>"
       "<th>first step</th></tr></thead><tbody>\n";
  for (const auto& e : t.syscalls)
    s += fmt::format(
        "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
        html_escape(e.arch), html_escape(e.name.empty() ? "(no name)" : e.name), e.nr, e.count,
        html_escape(e.first_step));
  s += "</tbody></table>\n";
  if (!t.unarmed.empty())
    s += fmt::format(
        "<p class=\"note\">Not in the profile: {} syscalls of runtime set-up made before the filter "
        "was installed (trace.json: unarmed).</p>\n",
        t.unarmed.size());
  return s + "</section>\n";
}

constexpr const char* kCss = R"(
body { font: 15px/1.45 system-ui, sans-serif; color: #1d2430; background: #fff; margin: 0 auto; max-width: 980px; padding: 16px 24px; }
h1 { font-size: 26px; margin: 8px 0 4px; } h2 { font-size: 20px; margin: 28px 0 8px; border-bottom: 1px solid #dde2e8; }
h3 { font-size: 16px; margin: 18px 0 6px; }
.meta, .note { color: #5b6676; font-size: 13px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { border: 1px solid #dde2e8; border-radius: 6px; padding: 10px 14px; min-width: 150px; }
.card .label { color: #5b6676; font-size: 12px; text-transform: uppercase; }
.card .value { font-size: 24px; font-weight: 600; }
.card .note { max-width: 220px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border-bottom: 1px solid #e6e9ee; padding: 3px 8px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.names { font-family: ui-monospace, monospace; font-size: 12px; }
.ok { color: #1e7d3a; } .bad { color: #b42318; font-weight: 600; } .warn { color: #a15c00; }
svg { display: block; margin: 8px 0; max-width: 100%; height: auto; }
svg text { font: 11px system-ui, sans-serif; fill: #3d4754; }
svg .axis-title { font-size: 12px; fill: #1d2430; }
svg .axis { stroke: #3d4754; stroke-width: 1; }
svg .grid { stroke: #e6e9ee; stroke-width: 1; }
svg .bar { fill: #3b6fb6; } svg .bar.baseline { fill: #9aa5b1; }
svg .curve { fill: none; stroke: #c0392b; stroke-width: 2.5; }
svg .point { fill: #c0392b; }
a { color: #2357a5; }
)";

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  return out;
}

std::string page_start(std::string_view title) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n"
      "<style>{}</style>\n</head>\n<body>\n",
      html_escape(title), kCss);
}

std::string page_end() { return "<footer class=\"note\">Written by sandmine.</footer>\n</body>\n</html>\n"; }

Result<ReportInput> read_report_input(const std::string& dir) {
  namespace fs = std::filesystem;
  ReportInput in;
  auto trace = trace::read_trace(dir + "/trace.json");
  if (!trace) return trace.error();
  in.trace = std::move(*trace);
  // A partial run writes no profile and runs no check: files of those names are an earlier run's.
  if (in.trace.partial) return in;
  std::error_code ec;
  if (fs::exists(dir + "/profile.json", ec)) {
    auto p = profile::read_profile(dir + "/profile.json");
    if (!p) return p.error();
    in.profile = std::move(*p);
  }
  if (fs::exists(dir + "/check.json", ec)) {
    auto doc = read_check_json(dir + "/check.json");
    if (!doc) return doc.error();
    in.check = std::move(*doc);
  }
  if (fs::exists(dir + "/bench.json", ec)) {
    auto doc = read_bench_json(dir + "/bench.json");
    if (!doc) return doc.error();
    in.bench = std::move(*doc);
  }
  if (fs::exists(dir + "/reach.json", ec)) {
    auto doc = read_json_file(dir + "/reach.json", "reach.json");
    if (!doc) return doc.error();
    in.reach = std::move(*doc);
  }
  return in;
}

std::string report_name(const ReportInput& in) {
  if (!in.trace.target.name.empty()) return in.trace.target.name;
  return in.check ? str(*in.check, "spec") : "";
}

Headline headline(const ReportInput& in) {
  Headline h;
  auto docker = profile::docker_baseline();
  if (docker.surface) h.docker_default = docker.surface->arches["x86_64"].names().size();
  if (in.profile && docker.surface) {
    auto cmp = profile::compare_x86_64(profile::surface_of(*in.profile), *docker.surface);
    h.allowed = cmp.profile_count;
    h.docker_share = cmp.share;
  }
  h.seen = in.trace.syscalls.size();
  h.mining_seconds = in.trace.target.duration_ms / 1000;
  if (in.trace.coverage)
    h.coverage = in.trace.coverage;
  else if (std::any_of(in.trace.steps.begin(), in.trace.steps.end(),
                       [](const auto& s) { return !s.used.empty(); }))
    h.coverage = explore::estimate_coverage(in.trace.steps);
  if (in.check) {
    h.check_passed = flag(*in.check, "passed");
    h.violations = arr(*in.check, "violations").size();
  }
  if (in.bench)
    for (const auto& r : arr(*in.bench, "results"))
      if (str(r, "config") == "profile") h.overhead_ratio = num(r, "ratio");
  return h;
}

std::string report_html(const ReportInput& in) {
  const auto& t = in.trace;
  std::string name = report_name(in);
  Headline h = headline(in);
  auto docker = profile::docker_baseline();
  auto curve = explore::discovery_curve(t.steps);

  std::string s = page_start("sandmine: " + name);
  s += "<h1>sandmine: " + html_escape(name) + "</h1>\n";
  std::string command;
  for (const auto& a : t.target.command) command += (command.empty() ? "" : " ") + a;
  s += fmt::format("<p class=\"meta\">engine {} · image {} · command <code>{}</code></p>\n",
                   html_escape(t.target.engine.empty() ? "?" : t.target.engine),
                   html_escape(t.target.image.substr(0, t.target.image.starts_with("sha256:") ? 19 : 12)),
                   html_escape(command));
  if (t.partial)
    s += "<p class=\"bad\">Mining did not complete (" + html_escape(t.partial_reason) +
         "): the trace is a lower bound and no profile was written.</p>\n";
  s += cards(in, h);
  s += steps_section(t, curve);
  s += profile_section(in, h, docker);
  if (in.profile && in.profile->mined_from) s += mined_from_section(*in.profile->mined_from);
  if (in.check) s += check_section(*in.check);
  std::optional<trace::CoverageEstimate> family = in.trace.coverage_by_family;
  if (!family && h.coverage && !in.trace.coverage)
    family = explore::estimate_coverage_by_family(in.trace.steps);
  s += coverage_section(h.coverage, family);
  if (in.bench) s += bench_section(*in.bench);
  if (in.reach) s += reach_html(*in.reach);
  if (in.profile) s += cve_section(*in.profile, docker);
  s += syscalls_section(t);
  return s + page_end();
}

}  // namespace sandmine::report
