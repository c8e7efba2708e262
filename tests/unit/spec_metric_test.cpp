// The metric field of bench steps: where a step's throughput is in its
// output. Errors are one line naming the file, the line and the field.
#include <gtest/gtest.h>

#include <filesystem>

#include "spec/spec.h"
#include "support/spec_errors.h"

namespace sandmine::spec {
namespace {

// A spec whose bench list is `bench` (lines from 8 on).
std::string with_bench(const std::string& bench) {
  return "name: web\n"                            // 1
         "image:\n"                               // 2
         "  busybox: {}\n"                        // 3
         "command: [httpd]\n"                     // 4
         "explore:\n"                             // 5
         "  - run: curl -sf http://127.0.0.1/\n"  // 6
         "bench:\n" +                             // 7
         bench;
}

using test::error_of;

TEST(SpecMetric, ParsedWithItsRegexUnitAndLine) {
  auto r = parse_spec(with_bench("  - name: wrk\n"
                                 "    run: wrk http://127.0.0.1/\n"
                                 "    metric: {regex: 'Requests/sec:\\s+([0-9.]+)', unit: requests/s}\n"
                                 "  - exec: [ls]\n"
                                 "    metric:\n"
                                 "      regex: (\\d+) files\n"
                                 "      unit: files/s\n"
                                 "  - run: sleep 1\n"),
                      "t.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->bench.size(), 3u);
  ASSERT_TRUE(r->bench[0].metric);
  EXPECT_EQ(r->bench[0].metric->regex, "Requests/sec:\\s+([0-9.]+)");
  EXPECT_EQ(r->bench[0].metric->unit, "requests/s");
  EXPECT_EQ(r->bench[0].metric->line, 10);
  ASSERT_TRUE(r->bench[1].metric);
  EXPECT_EQ(r->bench[1].metric->regex, "(\\d+) files");
  EXPECT_EQ(r->bench[1].metric->unit, "files/s");
  EXPECT_EQ(r->bench[1].metric->line, 13);
  EXPECT_FALSE(r->bench[2].metric);
}

// Explore and validate steps have no metric field at all.
TEST(SpecMetric, OnlyOnBenchRunAndExecSteps) {
  EXPECT_EQ(
      error_of("name: web\nimage:\n  busybox: {}\ncommand: [httpd]\nexplore:\n"
               "  - run: curl -sf http://127.0.0.1/\n"
               "    metric: {regex: '(1)', unit: u}\n"),
      "spec t.yaml:7: explore[0].metric: unknown field (expected one of name, run, exec, signal, restart, "
      "sleep, timeout, expect, auto)");
  EXPECT_EQ(
      error_of("name: web\nimage:\n  busybox: {}\ncommand: [httpd]\nexplore:\n  - sleep: 1s\nvalidate:\n"
               "  - run: curl -sf http://127.0.0.1/\n"
               "    metric: {regex: '(1)', unit: u}\n"),
      "spec t.yaml:9: validate[0].metric: unknown field (expected one of name, run, exec, signal, restart, "
      "sleep, timeout, expect)");
  EXPECT_EQ(error_of(with_bench("  - sleep: 2s\n"
                                "    metric: {regex: '(1)', unit: u}\n")),
            "spec t.yaml:9: bench[0].metric: only run and exec steps have output to take a metric from");
}

TEST(SpecMetric, TheRegexNeedsACaptureGroupAndMustCompile) {
  EXPECT_EQ(error_of(with_bench("  - run: wrk http://127.0.0.1/\n"
                                "    metric: {regex: 'Requests/sec: [0-9.]+', unit: requests/s}\n")),
            "spec t.yaml:9: bench[0].metric.regex: no capture group: put parentheses around the number, like "
            "'Requests/sec: *([0-9.]+)'");
  std::string bad =
      error_of(with_bench("  - run: wrk http://127.0.0.1/\n"
                          "  - run: ab http://127.0.0.1/\n"
                          "    metric:\n"
                          "      regex: 'Requests ([0-9.]+'\n"
                          "      unit: requests/s\n"));
  EXPECT_EQ(bad.rfind("spec t.yaml:11: bench[1].metric.regex: not a valid regular expression: ", 0), 0u)
      << bad;
  EXPECT_EQ(bad.find('\n'), std::string::npos);
  EXPECT_EQ(error_of(with_bench("  - run: wrk\n"
                                "    metric: {regex: '', unit: requests/s}\n")),
            "spec t.yaml:9: bench[0].metric.regex: must not be empty");
}

TEST(SpecMetric, RegexAndUnitAreRequiredAndNothingElse) {
  EXPECT_EQ(error_of(with_bench("  - run: wrk\n"
                                "    metric: {regex: '([0-9]+)'}\n")),
            "spec t.yaml:9: bench[0].metric.unit: required field is missing");
  EXPECT_EQ(error_of(with_bench("  - run: wrk\n"
                                "    metric:\n"
                                "      unit: requests/s\n")),
            "spec t.yaml:10: bench[0].metric.regex: required field is missing");
  EXPECT_EQ(error_of(with_bench("  - run: wrk\n"
                                "    metric:\n"
                                "      regex: '([0-9]+)'\n"
                                "      unit: requests/s\n"
                                "      higher_is_better: true\n")),
            "spec t.yaml:12: bench[0].metric.higher_is_better: unknown field (expected one of regex, unit)");
  EXPECT_EQ(error_of(with_bench("  - run: wrk\n"
                                "    metric: 'Requests/sec: ([0-9.]+)'\n")),
            "spec t.yaml:9: bench[0].metric: expected a mapping with regex and unit, like {regex: "
            "'Requests/sec: *([0-9.]+)', unit: requests/s}");
  EXPECT_EQ(error_of(with_bench("  - run: wrk\n"
                                "    metric: {regex: '(1)', unit: \"\"}\n")),
            "spec t.yaml:9: bench[0].metric.unit: must not be empty");
  EXPECT_EQ(error_of(with_bench("  - run: wrk\n"
                                "    metric: {regex: '(1)', unit: [a]}\n")),
            "spec t.yaml:9: bench[0].metric.unit: expected a string");
}

TEST(SpecMetric, AnUnknownStepFieldListsMetric) {
  EXPECT_EQ(
      error_of(with_bench("  - run: wrk\n"
                          "    metrics: {regex: '(1)', unit: u}\n")),
      "spec t.yaml:9: bench[0].metrics: unknown field (expected one of name, run, exec, signal, restart, "
      "sleep, timeout, expect, metric)");
}

// Every example's bench step that names a metric parses, with a capture group.
TEST(SpecMetric, ExamplesParse) {
  int with_metric = 0;
  for (const auto& entry : std::filesystem::directory_iterator(EXAMPLES_DIR)) {
    if (entry.path().extension() != ".yaml") continue;
    auto r = read_spec(entry.path().string());
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_FALSE(r->bench.empty()) << entry.path();
    for (const auto& s : r->bench) with_metric += s.metric ? 1 : 0;
  }
  // wrk, ab (apache2, busybox-httpd), pgbench, redis-benchmark; memcslap and mysqlslap are timed.
  EXPECT_EQ(with_metric, 5);
}

}  // namespace
}  // namespace sandmine::spec
