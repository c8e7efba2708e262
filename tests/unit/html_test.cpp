// report.html and index.html from hand-made inputs: every string escaped,
// nothing loaded from elsewhere, one mark per step in each chart.
#include <gtest/gtest.h>

#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "explore/coverage.h"
#include "profile/docker_json.h"
#include "report/html.h"
#include "report/index_page.h"

namespace sandmine::report {
namespace {

using nlohmann::json;

// The markup of one chart: <svg data-chart="name" ...>...</svg>.
std::string chart(const std::string& html, const std::string& name) {
  auto start = html.find("<svg data-chart=\"" + name + "\"");
  if (start == std::string::npos) return "";
  return html.substr(start, html.find("</svg>", start) + 6 - start);
}

std::size_t count(const std::string& text, const std::string& pattern) {
  std::regex re(pattern);
  return static_cast<std::size_t>(
      std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
}

// The points of the chart's polyline.
std::size_t polyline_points(const std::string& svg) {
  std::smatch m;
  if (!std::regex_search(svg, m, std::regex(R"(<polyline class="curve" points="([^"]*)\")"))) return 0;
  return count(m[1].str(), R"([0-9.]+,[0-9.]+)");
}

trace::StepRecord step(const std::string& name, const std::string& phase, std::vector<std::string> used,
                       std::vector<std::string> added) {
  trace::StepRecord s{.name = name, .phase = phase};
  s.used = std::move(used);
  s.new_syscalls = std::move(added);
  return s;
}

ReportInput sample_input() {
  ReportInput in;
  auto& t = in.trace;
  t.backend = "ebpf";
  t.target.kind = "container";
  t.target.name = "web<1>";
  t.target.engine = "runc";
  t.target.command = {"/bin/sh", "-c", "echo \"a & b\" > 'x'"};
  t.syscalls = {{"x86_64", "read", 0, 10, 1, "start"},
                {"x86_64", "write", 1, 3, 2, "start"},
                {"x86_64", "openat", 257, 2, 3, "<script>alert(1)</script>"},
                {"x86_64", "sendfile", 40, 1, 4, "stop"}};
  t.steps = {
      step("start", "start", {"x86_64:read", "x86_64:write"}, {"x86_64:read", "x86_64:write"}),
      step("<script>alert(1)</script>", "explore", {"x86_64:openat", "x86_64:read"}, {"x86_64:openat"}),
      step("quiet", "explore", {"x86_64:read"}, {}),
      step("stop", "stop", {"x86_64:sendfile"}, {"x86_64:sendfile"})};
  for (std::size_t i = 0; i < t.steps.size(); ++i) {
    t.steps[i].started_ms = 100.0 * static_cast<double>(i);
    t.steps[i].duration_ms = 50;
  }
  t.coverage = explore::estimate_coverage(t.steps);
  auto profile = profile::parse_profile(
      json::parse(R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
                     "syscalls": [{"names": ["read", "write", "openat", "sendfile", "mount"],
                                   "action": "SCMP_ACT_ALLOW"}]})"),
      "p.json");
  EXPECT_TRUE(profile.ok()) << profile.error().message;
  in.profile = *profile;
  in.check = json::parse(R"({"spec": "web", "engine": "runc", "mode": "complain", "passed": false,
      "steps": [{"name": "start", "phase": "start", "ok": true},
                {"name": "get <b>", "phase": "validate", "ok": false, "failure": "exit 1 & \"more\""}],
      "violations": [{"arch": "x86_64", "nr": 83, "syscall": "mkdir", "count": 2, "processes": ["busy<box>"],
                      "first_step": "get <b>", "steps": {"get <b>": 2}},
                     {"arch": "x86_64", "nr": 84, "syscall": "rmdir", "count": 1, "processes": ["sh"],
                      "first_step": "start", "steps": {"start": 1}}]})");
  return in;
}

TEST(Html, EscapesTheFiveCharacters) {
  EXPECT_EQ(html_escape(R"(<a href="x">Tom & 'Jerry'</a>)"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
  EXPECT_EQ(html_escape("plain"), "plain");
}

TEST(Html, EveryStringFromTheTraceAndCheckIsEscaped) {
  std::string html = report_html(sample_input());
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("<title>sandmine: web&lt;1&gt;</title>"), std::string::npos);
  EXPECT_NE(html.find("echo &quot;a &amp; b&quot; &gt; &#39;x&#39;"), std::string::npos);
  EXPECT_NE(html.find("busy&lt;box&gt;"), std::string::npos);
  EXPECT_NE(html.find("exit 1 &amp; &quot;more&quot;"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
}

TEST(Html, LoadsNothingFromElsewhere) {
  ReportInput in = sample_input();
  in.bench = json::parse(R"({"spec": "web", "engine": "runc", "rounds": 3, "unit": "req/s",
      "results": [{"config": "unconfined", "median": 100, "ratio": 1.0}]})");
  for (const std::string& html : {report_html(in), index_html({{"web", "web", 0, "ok", in}})}) {
    EXPECT_EQ(count(html, R"((src|href)\s*=\s*["']?\s*[a-zA-Z][a-zA-Z0-9+.-]*:)"), 0u)
        << "a URL with a scheme in src or href";
    EXPECT_EQ(count(html, R"(\bsrc\s*=)"), 0u);
    EXPECT_EQ(count(html, R"(url\(|@import|<link|<script|<iframe|<img)"), 0u);
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_NE(html.find("<style>"), std::string::npos);
  }
}

TEST(Html, ChartsHaveOneMarkPerStep) {
  ReportInput in = sample_input();
  std::string html = report_html(in);
  std::string discovery = chart(html, "discovery");
  ASSERT_FALSE(discovery.empty());
  EXPECT_EQ(polyline_points(discovery), 4u);
  EXPECT_EQ(count(discovery, R"(<circle class="point")"), 4u);
  // y of the last point is the top of the data: 5 syscalls in all on a 0..5 axis.
  std::string per_step = chart(html, "new-per-step");
  EXPECT_EQ(count(per_step, R"(<rect class="bar[ "])"), 4u);
  EXPECT_EQ(count(per_step, R"(<title>quiet: \+0</title>)"), 1u);
  std::string size = chart(html, "profile-size");
  EXPECT_EQ(count(size, R"(<rect class="bar")"), 1u);
  EXPECT_EQ(count(size, R"(<rect class="bar baseline")"), 1u);
  EXPECT_NE(size.find("<title>this profile: 5 syscalls on x86_64</title>"), std::string::npos);
  EXPECT_TRUE(chart(html, "overhead").empty()) << "no bench.json, no overhead chart";

  in.bench = json::parse(R"({"spec": "web", "engine": "runc", "rounds": 3, "unit": "req/s",
      "results": [{"config": "unconfined", "median": 1000, "ratio": 1.0},
                  {"config": "default", "median": 980, "ratio": 0.98},
                  {"config": "profile", "median": 990, "ratio": 0.99}]})");
  html = report_html(in);
  std::string overhead = chart(html, "overhead");
  EXPECT_EQ(count(overhead, R"(<rect class="bar[ "])"), 3u);
  EXPECT_NE(overhead.find("<title>profile: 0.990x</title>"), std::string::npos);
}

TEST(Html, CheckTableCoverageAndCvesAreShown) {
  std::string html = report_html(sample_input());
  std::smatch m;
  std::string check = html.substr(html.find("<section id=\"check\">"));
  check = check.substr(0, check.find("</section>"));
  EXPECT_NE(check.find("FAILED"), std::string::npos);
  EXPECT_EQ(count(check, R"(<tr><td>x86_64</td>)"), 2u);
  EXPECT_NE(check.find("<td>mkdir</td><td class=\"num\">2</td><td>busy&lt;box&gt;</td>"), std::string::npos);
  // T=2 explore steps, {openat, read} and {read}: Q1=1, Q2=1, U=3.
  std::string coverage = html.substr(html.find("<section id=\"coverage\">"));
  EXPECT_NE(coverage.find("<tr><th>used in exactly one step (Q1)</th><td class=\"num\">1</td></tr>"),
            std::string::npos);
  EXPECT_NE(coverage.find("<tr><th>incidences (U)</th><td class=\"num\">3</td></tr>"), std::string::npos);
  EXPECT_NE(html.find("<section id=\"cves\">"), std::string::npos);
}

// The report says how far to trust the estimate: few hand-written steps are
// too few units; with generated steps, the family estimate is the one to read.
TEST(Html, TheCoverageSectionSaysHowFarToTrustTheEstimate) {
  ReportInput in = sample_input();
  auto section = [](const std::string& html) {
    std::string s = html.substr(html.find("<section id=\"coverage\">"));
    return s.substr(0, s.find("</section>"));
  };
  std::string few = section(report_html(in));
  EXPECT_NE(few.find("2 explore steps are few units: one step more or less moves the estimate a lot"),
            std::string::npos)
      << few;
  EXPECT_EQ(few.find("step families"), std::string::npos) << "no generated steps: no families row";

  // Three mutants of one family, each using what the others use but one:
  // per step Q1 = 3, as one family they are a single unit.
  auto& t = in.trace;
  t.steps.insert(t.steps.end() - 1,
                 {step("auto/tcp:80/mutant #1", "explore", {"x86_64:read", "x86_64:poll"}, {}),
                  step("auto/tcp:80/mutant #2", "explore", {"x86_64:read", "x86_64:ppoll"}, {}),
                  step("auto/tcp:80/mutant #3", "explore", {"x86_64:read", "x86_64:brk"}, {})});
  t.coverage = explore::estimate_coverage(t.steps);
  t.coverage_by_family = explore::estimate_coverage_by_family(t.steps);
  ASSERT_EQ(t.coverage->steps, 5u);
  ASSERT_EQ(t.coverage_by_family->steps, 3u);
  std::string generated = section(report_html(in));
  EXPECT_NE(generated.find("<tr><th>step families (units with generated steps grouped)</th><td "
                           "class=\"num\">3</td></tr>"),
            std::string::npos)
      << generated;
  EXPECT_NE(
      generated.find(fmt::format("read the estimate with step families as the units: {:.1f} not seen over 3 "
                                 "families (per step: {:.1f} over 5 steps)",
                                 *t.coverage_by_family->unseen_estimate, *t.coverage->unseen_estimate)),
      std::string::npos)
      << generated;
  EXPECT_NE(*t.coverage_by_family->unseen_estimate, *t.coverage->unseen_estimate);
}

TEST(Html, WhatTheProfileWasMinedFromAndHowTheCheckDiffered) {
  ReportInput in = sample_input();
  EXPECT_EQ(report_html(in).find("<section id=\"mined-from\">"), std::string::npos)
      << "the profile does not say";
  in.profile->mined_from = profile::MinedFrom{.name = "web",
                                              .engine = "runc",
                                              .image = "sha256:<1>",
                                              .command = {"/bin/sh", "-c", "a && b"},
                                              .env = {{"PORT", "sha256:<2>"}},
                                              .config_files = {{"/etc/app.conf", "sha256:<3>"}},
                                              .config_files_note = ""};
  (*in.check)["differs_from_mined"] = json::array({"environment variable <X> is set; it was not when ..."});
  std::string html = report_html(in);
  std::string from = html.substr(html.find("<section id=\"mined-from\">"));
  from = from.substr(0, from.find("</section>"));
  for (const char* row :
       {"<tr><th>engine</th><td>runc</td></tr>",
        "<tr><th>image</th><td><code>sha256:&lt;1&gt;</code></td></tr>",
        "<tr><th>command</th><td><code>/bin/sh -c a &amp;&amp; b</code></td></tr>",
        "<tr><th>env PORT</th><td><code>sha256:&lt;2&gt;</code></td></tr>",
        "<tr class=\"config-file\"><th>/etc/app.conf</th><td><code>sha256:&lt;3&gt;</code></td></tr>",
        "<p>1 configuration files read at start (values and contents as SHA-256).</p>"})
    EXPECT_NE(from.find(row), std::string::npos) << row << "\n" << from;
  EXPECT_NE(
      html.find(
          "<ul class=\"differs\"><li>environment variable &lt;X&gt; is set; it was not when ...</li></ul>"),
      std::string::npos);
}

TEST(Html, ReportWithoutProfileOrCheck) {
  ReportInput in = sample_input();
  in.profile.reset();
  in.check.reset();
  in.trace.partial = true;
  in.trace.partial_reason = "a step failed: <x>";
  std::string html = report_html(in);
  EXPECT_NE(html.find("Mining did not complete (a step failed: &lt;x&gt;)"), std::string::npos);
  EXPECT_EQ(html.find("<section id=\"check\">"), std::string::npos);
  EXPECT_EQ(html.find("<section id=\"cves\">"), std::string::npos);
  EXPECT_NE(chart(html, "profile-size").find("seen while mining: 4"), std::string::npos);
}

TEST(Html, MalformedCheckAndBenchFieldsDoNotThrow) {
  ReportInput in = sample_input();
  in.check =
      json::parse(R"({"passed": "yes", "steps": 3, "violations": [{"count": "many", "processes": 7}]})");
  in.bench = json::parse(R"({"results": [{"config": 1, "ratio": "fast"}, 5]})");
  std::string html;
  EXPECT_NO_THROW(html = report_html(in));
  EXPECT_NE(html.find("<section id=\"overhead\">"), std::string::npos);
}

TEST(Html, IndexHasARowAndARelativeLinkPerContainer) {
  ReportInput ok = sample_input();
  ok.bench = json::parse(R"({"results": [{"config": "profile", "median": 990, "ratio": 0.99}]})");
  std::string html =
      index_html({{"web", "web", 1, "held-out check failed: 2 syscalls outside the profile", ok},
                  {"broken", "broken", 2, "spec b.yaml:3: unknown field \"comand\"", std::nullopt}});
  EXPECT_EQ(count(html, R"(<tr><td)"), 2u);
  EXPECT_NE(html.find(R"(<a href="web/report.html">web</a>)"), std::string::npos);
  EXPECT_EQ(count(html, R"(href=)"), 1u) << "no link for a container without a report";
  EXPECT_NE(html.find("unknown field &quot;comand&quot;"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">2</td>"), std::string::npos) << "held-out violations";
  EXPECT_NE(html.find("<td class=\"num\">0.990x</td>"), std::string::npos) << "overhead";
}

}  // namespace
}  // namespace sandmine::report
