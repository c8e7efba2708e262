// Coverage estimates on small incidence tables, each number worked out by
// hand (docs/coverage.md has the formulas).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "explore/coverage.h"

namespace sandmine::explore {
namespace {

using Incidence = std::vector<std::vector<std::string>>;

TEST(Coverage, ChaoJostAndChao2WithDoubletons) {
  // a in 3 steps, b in 2, c d e in 1: T=3, U=8, Q1=3, Q2=1, S=5.
  // f0 = (2/3) * 3^2 / (2*1) = 3; Chao2 = 5 + 3 = 8.
  // C = 1 - (3/8) * (2*3) / (2*3 + 2*1) = 1 - 18/64 = 0.71875.
  auto c = estimate_coverage(Incidence{{"a", "b", "c"}, {"a", "b", "d"}, {"a", "e"}}, 5);
  EXPECT_EQ(c.steps, 3u);
  EXPECT_EQ(c.incidences, 8u);
  EXPECT_EQ(c.observed, 5u);
  EXPECT_EQ(c.observed_in_steps, 5u);
  EXPECT_EQ(c.q1, 3u);
  EXPECT_EQ(c.q2, 1u);
  ASSERT_TRUE(c.sample_coverage && c.unseen_estimate && c.chao2) << c.note;
  EXPECT_DOUBLE_EQ(*c.sample_coverage, 0.71875);
  EXPECT_DOUBLE_EQ(*c.unseen_estimate, 3.0);
  EXPECT_DOUBLE_EQ(*c.chao2, 8.0);
  EXPECT_TRUE(c.note.empty());
}

TEST(Coverage, BiasCorrectedWhenNoDoubletons) {
  // a in 4 steps, b c d in 1: T=4, U=7, Q1=3, Q2=0, S=4.
  // f0 = (3/4) * 3*2/2 = 2.25; Chao2 = 6.25.
  // C = 1 - (3/7) * (3*2) / (3*2 + 2) = 1 - 18/56 = 38/56.
  auto c = estimate_coverage(Incidence{{"a", "b"}, {"a", "c"}, {"a", "d"}, {"a"}}, 4);
  EXPECT_EQ(c.q1, 3u);
  EXPECT_EQ(c.q2, 0u);
  EXPECT_EQ(c.incidences, 7u);
  ASSERT_TRUE(c.sample_coverage) << c.note;
  EXPECT_DOUBLE_EQ(*c.sample_coverage, 38.0 / 56.0);
  EXPECT_DOUBLE_EQ(*c.unseen_estimate, 2.25);
  EXPECT_DOUBLE_EQ(*c.chao2, 6.25);
}

TEST(Coverage, NoSingletonsIsFullCoverage) {
  auto c = estimate_coverage(Incidence{{"a", "b"}, {"b", "a"}}, 2);
  EXPECT_EQ(c.q1, 0u);
  EXPECT_EQ(c.q2, 2u);
  EXPECT_DOUBLE_EQ(*c.sample_coverage, 1.0);
  EXPECT_DOUBLE_EQ(*c.unseen_estimate, 0.0);
  EXPECT_DOUBLE_EQ(*c.chao2, 2.0);
}

TEST(Coverage, OneSingletonAndNoDoubletonsEstimatesNothingUnseen) {
  // a in 3 steps, b in 1: Q1=1, Q2=0: f0 = (2/3) * 1*0/2 = 0, so C = 1 - (1/4) * 0 = 1.
  auto c = estimate_coverage(Incidence{{"a", "b"}, {"a"}, {"a"}}, 2);
  EXPECT_EQ(c.q1, 1u);
  EXPECT_EQ(c.q2, 0u);
  EXPECT_DOUBLE_EQ(*c.sample_coverage, 1.0);
  EXPECT_DOUBLE_EQ(*c.chao2, 2.0);
}

TEST(Coverage, ARepeatedNameCountsOnceInAStep) {
  auto c = estimate_coverage(Incidence{{"a", "a", "b"}, {"a"}}, 2);
  EXPECT_EQ(c.incidences, 3u);
  EXPECT_EQ(c.q1, 1u);
  EXPECT_EQ(c.q2, 1u);
}

TEST(Coverage, NotEstimableBelowTwoStepsOrWithoutIncidences) {
  auto one = estimate_coverage(Incidence{{"a", "b"}}, 7);
  EXPECT_EQ(one.steps, 1u);
  EXPECT_EQ(one.q1, 2u);
  EXPECT_EQ(one.observed, 7u);
  EXPECT_FALSE(one.sample_coverage);
  EXPECT_FALSE(one.chao2);
  EXPECT_EQ(one.note, "not estimable: needs at least 2 explore steps (sampling units), the run had 1");
  auto none = estimate_coverage(Incidence{{}, {}}, 3);
  EXPECT_FALSE(none.sample_coverage);
  EXPECT_EQ(none.note, "not estimable: the explore steps used no syscall");
  EXPECT_FALSE(estimate_coverage(Incidence{}, 0).sample_coverage);
}

trace::StepRecord step(std::string name, std::string phase, std::vector<std::string> used,
                       std::vector<std::string> added, double started_ms, double duration_ms) {
  trace::StepRecord s{.name = std::move(name), .phase = std::move(phase)};
  s.used = std::move(used);
  s.new_syscalls = std::move(added);
  s.started_ms = started_ms;
  s.duration_ms = duration_ms;
  return s;
}

// start {x, a}, explore {a, b} and {a, c}, stop {y}: start and stop are
// observed but are not sampling units. T=2, U=4, Q1=2 (b, c), Q2=1 (a),
// observed 5. f0 = (1/2) * 2^2 / 2 = 1; Chao2 = 5 + 1 = 6;
// C = 1 - (2/4) * (1*2) / (1*2 + 2) = 0.75.
std::vector<trace::StepRecord> mining_steps() {
  return {step("start", "start", {"x86_64:a", "x86_64:x"}, {"x86_64:a", "x86_64:x"}, 0, 100),
          step("one", "explore", {"x86_64:a", "x86_64:b"}, {"x86_64:b"}, 100, 20),
          step("two", "explore", {"x86_64:a", "x86_64:c"}, {"x86_64:c"}, 120, 30),
          step("stop", "stop", {"x86_64:y"}, {"x86_64:y"}, 150, 50)};
}

TEST(Coverage, StartAndStopAreObservedButNotSamplingUnits) {
  auto c = estimate_coverage(mining_steps());
  EXPECT_EQ(c.steps, 2u);
  EXPECT_EQ(c.incidences, 4u);
  EXPECT_EQ(c.observed, 5u);
  EXPECT_EQ(c.observed_in_steps, 3u);
  EXPECT_EQ(c.q1, 2u);
  EXPECT_EQ(c.q2, 1u);
  EXPECT_DOUBLE_EQ(*c.sample_coverage, 0.75);
  EXPECT_DOUBLE_EQ(*c.unseen_estimate, 1.0);
  EXPECT_DOUBLE_EQ(*c.chao2, 6.0);
  EXPECT_NE(c.method.find("Chao & Jost 2012"), std::string::npos);
}

TEST(Coverage, StepFamiliesGroupGeneratedStepsByNameUpToTheFirstSpace) {
  EXPECT_EQ(step_family("set and get"), "set and get");
  EXPECT_EQ(step_family("auto/http:80/method PROPFIND /dir/"), "auto/http:80/method");
  EXPECT_EQ(step_family("auto/tcp:11211/mutant 13 (number)"), "auto/tcp:11211/mutant");
  EXPECT_EQ(step_family("auto/tcp:5432/postgres vacuum and analyze"), "auto/tcp:5432/postgres");
  EXPECT_EQ(step_family("auto/signal/SIGHUP #2"), "auto/signal/SIGHUP");
  EXPECT_EQ(step_family("auto/signal/SIGUSR1"), "auto/signal/SIGUSR1");
  EXPECT_EQ(step_family("auto/edge/reset tcp:80 #3"), "auto/edge/reset");
}

TEST(Coverage, FamilyEstimateTakesEachFamilyAsOneSamplingUnit) {
  std::vector<trace::StepRecord> steps = {
      step("start", "start", {"x86_64:x"}, {"x86_64:x"}, 0, 10),
      step("set", "explore", {"x86_64:a", "x86_64:b"}, {"x86_64:a", "x86_64:b"}, 10, 1),
      step("get", "explore", {"x86_64:a", "x86_64:c"}, {"x86_64:c"}, 11, 1),
      step("auto/tcp:6379/mutant 1 (number)", "explore", {"x86_64:a", "x86_64:d"}, {"x86_64:d"}, 12, 1),
      step("auto/tcp:6379/mutant 2 (bit)", "explore", {"x86_64:a", "x86_64:b"}, {}, 13, 1),
      step("auto/tcp:6379/mutant 3 (bit)", "explore", {"x86_64:a"}, {}, 14, 1),
      step("auto/signal/SIGHUP", "explore", {"x86_64:a", "x86_64:e"}, {"x86_64:e"}, 15, 1),
      step("auto/http:80/method GET /", "explore", {"x86_64:a"}, {}, 16, 1),
      step("auto/http:80/method PUT /x", "explore", {"x86_64:f"}, {"x86_64:f"}, 17, 1),
  };
  // Units: set {a,b}, get {a,c}, mutant {a,b,d}, SIGHUP {a,e}, method {a,f}:
  // T=5, U=11; a in 5, b in 2, c d e f in 1: Q1=4, Q2=1.
  // f0 = (4/5) * 16/2 = 6.4; C = 1 - (4/11) * 16/(16+2) = 134/198.
  auto c = estimate_coverage_by_family(steps);
  EXPECT_EQ(c.steps, 5u);
  EXPECT_EQ(c.incidences, 11u);
  EXPECT_EQ(c.observed, 7u);
  EXPECT_EQ(c.observed_in_steps, 6u);
  EXPECT_EQ(c.q1, 4u);
  EXPECT_EQ(c.q2, 1u);
  ASSERT_TRUE(c.unseen_estimate && c.sample_coverage && c.chao2) << c.note;
  EXPECT_DOUBLE_EQ(*c.unseen_estimate, 6.4);
  EXPECT_DOUBLE_EQ(*c.sample_coverage, 134.0 / 198.0);
  EXPECT_DOUBLE_EQ(*c.chao2, 13.4);
  EXPECT_TRUE(c.method.starts_with("sampling units: step families")) << c.method;
  // Counted step by step the same run has T=8 and b in 2 steps of a family.
  EXPECT_EQ(estimate_coverage(steps).steps, 8u);
  // One family alone is not estimable, and says so in its own terms.
  auto one = estimate_coverage_by_family({steps[3], steps[4], steps[5]});
  EXPECT_FALSE(one.unseen_estimate);
  EXPECT_NE(one.note.find("2 step families"), std::string::npos) << one.note;
}

TEST(Coverage, DiscoveryCurveAddsUpWhatEachStepFoundFirst) {
  auto curve = discovery_curve(mining_steps());
  ASSERT_EQ(curve.size(), 4u);
  std::vector<std::size_t> added, cumulative;
  std::vector<double> end;
  for (const auto& p : curve) {
    added.push_back(p.added);
    cumulative.push_back(p.cumulative);
    end.push_back(p.end_ms);
  }
  EXPECT_EQ(added, (std::vector<std::size_t>{2, 1, 1, 1}));
  EXPECT_EQ(cumulative, (std::vector<std::size_t>{2, 3, 4, 5}));
  EXPECT_EQ(end, (std::vector<double>{100, 120, 150, 200}));
  EXPECT_EQ(curve[1].step, "one");
  EXPECT_EQ(curve[3].phase, "stop");
}

TEST(Coverage, TraceJsonRoundTripKeepsIncidenceEstimateAndRounds) {
  trace::Trace t;
  t.backend = "ebpf";
  t.target.kind = "container";
  t.target.name = "httpd";
  t.steps = mining_steps();
  t.coverage = estimate_coverage(t.steps);
  t.saturation =
      trace::Saturation{.wanted = 4, .max_rounds = 5, .rounds = 2, .saturated = true, .reason = "why"};
  auto doc = trace::to_json(t);
  EXPECT_EQ(doc["coverage"]["q1"], 2);
  EXPECT_EQ(doc["coverage"]["sample_coverage"], 0.75);
  EXPECT_EQ(doc["coverage"]["chao2"], 6.0);
  EXPECT_EQ(doc["steps"][1]["used"], nlohmann::json({"x86_64:a", "x86_64:b"}));
  EXPECT_EQ(doc["target"]["name"], "httpd");
  auto back = trace::trace_from_json(doc, "t.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->target.name, "httpd");
  EXPECT_EQ(back->steps[2].used, (std::vector<std::string>{"x86_64:a", "x86_64:c"}));
  ASSERT_TRUE(back->coverage);
  EXPECT_EQ(back->coverage->observed, 5u);
  EXPECT_EQ(back->coverage->q2, 1u);
  EXPECT_DOUBLE_EQ(*back->coverage->chao2, 6.0);
  EXPECT_EQ(back->coverage->method, t.coverage->method);
  ASSERT_TRUE(back->saturation);
  EXPECT_EQ(back->saturation->rounds, 2);
  EXPECT_TRUE(back->saturation->saturated);
  EXPECT_EQ(back->saturation->reason, "why");

  // Not estimable: null numbers and the note survive.
  t.coverage = estimate_coverage(Incidence{{"a"}}, 1);
  doc = trace::to_json(t);
  EXPECT_TRUE(doc["coverage"]["chao2"].is_null());
  back = trace::trace_from_json(doc, "t.json");
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->coverage->chao2);
  EXPECT_EQ(back->coverage->note, t.coverage->note);

  doc["coverage"]["q1"] = "three";
  auto bad = trace::trace_from_json(doc, "t.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message,
            "t.json: coverage.q1: expected a non-negative integer, got the string \"three\"");
}

}  // namespace
}  // namespace sandmine::explore
