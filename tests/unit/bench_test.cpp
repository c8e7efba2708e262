// The arithmetic of sandmine bench: throughput from a step's output or time,
// medians, ratios of medians, the rotation of configurations, the goal, and
// bench.json.
#include "explore/bench.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace sandmine::explore {
namespace {

using Configs = std::vector<BenchConfig>;

spec::Step step_with(const std::string& name, const std::string& regex, const std::string& unit) {
  spec::Step s;
  s.name = name;
  s.run = "true";
  if (!regex.empty()) s.metric = spec::Metric{.regex = regex, .unit = unit, .line = 1};
  return s;
}

// The metric of an example's bench step, as the example gives it.
spec::Step example_step(const std::string& example) {
  auto spec = spec::read_spec(std::string(EXAMPLES_DIR) + "/" + example);
  if (!spec) throw std::runtime_error(spec.error().message);
  return spec->bench.at(0);
}

TEST(BenchMaths, MedianOfOddAndEvenCounts) {
  EXPECT_EQ(median({3.0}), 3.0);
  EXPECT_EQ(median({5.0, 1.0, 3.0}), 3.0);
  EXPECT_EQ(median({4.0, 1.0, 3.0, 2.0}), 2.5);
  EXPECT_EQ(median({10.0, 20.0}), 15.0);
  EXPECT_EQ(median({7.0, 7.0, 1.0, 100.0, 7.0}), 7.0);
}

TEST(BenchMaths, SpreadIsRangeOverMedian) {
  EXPECT_EQ(spread({100.0}), 0.0);
  EXPECT_EQ(spread({80.0, 100.0, 120.0}), 0.4);
  EXPECT_EQ(spread({50.0, 50.0}), 0.0);
}

TEST(BenchMaths, RoundOrderRotatesEachRound) {
  using enum BenchConfig;
  EXPECT_EQ(round_order(0), (Configs{Unconfined, Default, Profile}));
  EXPECT_EQ(round_order(1), (Configs{Default, Profile, Unconfined}));
  EXPECT_EQ(round_order(2), (Configs{Profile, Unconfined, Default}));
  EXPECT_EQ(round_order(3), (Configs{Unconfined, Default, Profile}));
  EXPECT_EQ(round_order(4), round_order(1));
}

TEST(BenchMaths, RoundThroughputIsTheGeometricMeanOfSteps) {
  EXPECT_EQ(round_throughput({1234.5}), 1234.5);
  EXPECT_DOUBLE_EQ(round_throughput({4.0, 9.0}), 6.0);
  EXPECT_DOUBLE_EQ(round_throughput({2.0, 4.0, 8.0}), 4.0);
}

BenchResult measured(const std::vector<double>& unconfined, const std::vector<double>& def,
                     const std::vector<double>& profile) {
  BenchResult r;
  for (auto [config, values] :
       {std::pair{BenchConfig::Unconfined, &unconfined}, std::pair{BenchConfig::Default, &def},
        std::pair{BenchConfig::Profile, &profile}}) {
    ConfigResult c{.config = config};
    for (size_t i = 0; i < values->size(); ++i)
      c.runs.push_back(BenchRun{.round = int(i) + 1,
                                .steps = {{.name = "s", .throughput = (*values)[i]}},
                                .throughput = (*values)[i]});
    r.results.push_back(std::move(c));
  }
  r.step_names = {"s"};
  r.step_units = {"requests/s"};
  summarize(r);
  return r;
}

TEST(BenchMaths, RatiosAreOfMedians) {
  BenchResult r = measured({300, 100, 200}, {160, 170, 150}, {150, 140, 190});
  EXPECT_EQ(*r.of(BenchConfig::Unconfined).median, 200.0);
  EXPECT_EQ(*r.of(BenchConfig::Default).median, 160.0);
  EXPECT_EQ(*r.of(BenchConfig::Profile).median, 150.0);
  EXPECT_EQ(*r.of(BenchConfig::Unconfined).ratio, 1.0);
  EXPECT_EQ(*r.of(BenchConfig::Default).ratio, 0.8);
  EXPECT_EQ(*r.of(BenchConfig::Profile).ratio, 0.75);
  EXPECT_EQ(*r.profile_vs_default, 0.9375);
  EXPECT_EQ(r.of(BenchConfig::Profile).throughputs(), (std::vector<double>{150, 140, 190}));
}

TEST(BenchMaths, EvenRoundsTakeTheMeanOfTheMiddleTwo) {
  BenchResult r = measured({100, 300}, {100, 200}, {150, 250});
  EXPECT_EQ(*r.of(BenchConfig::Unconfined).median, 200.0);
  EXPECT_EQ(*r.of(BenchConfig::Default).median, 150.0);
  EXPECT_EQ(*r.of(BenchConfig::Profile).median, 200.0);
  EXPECT_EQ(*r.of(BenchConfig::Profile).ratio, 1.0);
  EXPECT_EQ(*r.profile_vs_default, 200.0 / 150.0);
}

TEST(BenchMaths, NothingMeasuredLeavesNoMedianOrRatio) {
  BenchResult r = measured({100, 300}, {100}, {});
  EXPECT_EQ(*r.of(BenchConfig::Default).median, 100.0);
  EXPECT_EQ(*r.of(BenchConfig::Default).ratio, 0.5);
  EXPECT_FALSE(r.of(BenchConfig::Profile).median);
  EXPECT_FALSE(r.of(BenchConfig::Profile).ratio);
  EXPECT_FALSE(r.profile_vs_default);
  EXPECT_FALSE(judge(r));
}

TEST(BenchGoalTest, ProfileKeepsAtLeast097AndCostsNoMoreThanDefault) {
  auto goal = judge(measured({200}, {194}, {194}));  // 0.97 exactly, equal to default
  ASSERT_TRUE(goal);
  EXPECT_TRUE(goal->keeps_throughput);
  EXPECT_TRUE(goal->no_costlier);
  EXPECT_TRUE(goal->met());

  goal = judge(measured({200}, {190}, {193}));  // 0.965
  EXPECT_FALSE(goal->keeps_throughput);
  EXPECT_TRUE(goal->no_costlier);
  EXPECT_FALSE(goal->met());

  goal = judge(measured({200}, {199}, {198}));  // 0.99, but below default
  EXPECT_TRUE(goal->keeps_throughput);
  EXPECT_FALSE(goal->no_costlier);
  EXPECT_FALSE(goal->met());
}

TEST(BenchThroughput, WithoutMetricItIsRunsPerSecond) {
  auto s = step_with("loop", "", "");
  EXPECT_EQ(step_unit(s), "runs/s");
  EXPECT_EQ(*step_throughput(s, "anything", 0.25), 4.0);
  EXPECT_EQ(*step_throughput(s, "", 2.0), 0.5);
}

TEST(BenchThroughput, TheFirstCaptureGroupIsTheNumber) {
  auto s = step_with("x", R"(rate (\d+) and (\d+))", "things/s");
  EXPECT_EQ(step_unit(s), "things/s");
  EXPECT_EQ(*step_throughput(s, "rate 12 and 34\n", 99.0), 12.0);
  // The first match in the output counts.
  EXPECT_EQ(*step_throughput(s, "rate 5 and 6\nrate 7 and 8\n", 1.0), 5.0);
  auto e = step_with("x", "tps = ([0-9.eE+-]+)", "t/s");
  EXPECT_EQ(*step_throughput(e, "tps = 1.5e3\n", 1.0), 1500.0);
}

TEST(BenchThroughput, NoMatchOrNoPositiveNumberIsAnErrorNamingTheStep) {
  auto s = step_with("wrk", R"(Requests/sec:\s+([0-9.]+))", "requests/s");
  auto r = step_throughput(s, "unable to connect to 127.0.0.1:80 Connection refused\n", 1.0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            R"(step wrk: metric: nothing in the output matches Requests/sec:\s+([0-9.]+))");
  r = step_throughput(s, "Requests/sec:      0.00\n", 1.0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            R"(step wrk: metric: "0.00" (matched by Requests/sec:\s+([0-9.]+)) is not a positive number)");
  r = step_throughput(s, "Requests/sec:   1.2.3\n", 1.0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            R"(step wrk: metric: "1.2.3" (matched by Requests/sec:\s+([0-9.]+)) is not a positive number)");
  auto optional_group = step_with("x", "done( in ([0-9]+))?", "u");
  r = step_throughput(optional_group, "done\n", 1.0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "step x: metric: nothing in the output matches done( in ([0-9]+))?");
}

TEST(BenchThroughput, UnitOfARound) {
  auto a = step_with("a", "(1)", "requests/s"), b = step_with("b", "(2)", "requests/s"),
       t = step_with("t", "", "");
  EXPECT_EQ(round_unit({a}), "requests/s");
  EXPECT_EQ(round_unit({a, b}), "requests/s");
  EXPECT_EQ(round_unit({t}), "runs/s");
  EXPECT_EQ(round_unit({a, t}), "geometric mean of the steps");
}

// Real output of each example's tool on the CI machine (wrk 4.1.0, ab 2.3,
// pgbench 15, redis-benchmark 7.0 -q with its \r progress lines), cut short,
// and the number the example's metric must take from it.
TEST(BenchExamples, MetricsFindTheToolsThroughput) {
  EXPECT_EQ(*step_throughput(example_step("nginx.yaml"),
                             "Running 3s test @ http://127.0.0.1/\n"
                             "  2 threads and 16 connections\n"
                             "  Thread Stats   Avg      Stdev     Max   +/- Stdev\n"
                             "    Latency     1.88ms    2.39ms  20.14ms   84.65%\n"
                             "    Req/Sec     8.07k     1.96k   11.34k    65.00%\n"
                             "  48398 requests in 3.02s, 39.37MB read\n"
                             "Requests/sec:  16032.00\n"
                             "Transfer/sec:     13.04MB\n",
                             3.0),
            16032.0);
  const std::string ab =
      "Concurrency Level:      8\n"
      "Time taken for tests:   3.003 seconds\n"
      "Complete requests:      25221\n"
      "Failed requests:        0\n"
      "Keep-Alive requests:    24974\n"
      "Total transferred:      277697571 bytes\n"
      "HTML transferred:       269889921 bytes\n"
      "Requests per second:    8398.24 [#/sec] (mean)\n"
      "Time per request:       0.953 [ms] (mean)\n"
      "Time per request:       0.119 [ms] (mean, across all concurrent requests)\n";
  EXPECT_EQ(*step_throughput(example_step("apache2.yaml"), ab, 3.0), 8398.24);
  EXPECT_EQ(*step_throughput(example_step("busybox-httpd.yaml"), ab, 3.0), 8398.24);
  EXPECT_EQ(*step_throughput(
                example_step("postgres.yaml"),
                "200000 of 200000 tuples (100%) done (elapsed 0.04 s, remaining 0.00 s)\n"
                "vacuuming...\n"
                "creating primary keys...\n"
                "done in 0.43 s (drop tables 0.00 s, create tables 0.02 s, client-side generate 0.20 s, "
                "vacuum 0.07 s, primary keys 0.14 s).\n"
                "transaction type: <builtin: TPC-B (sort of)>\n"
                "number of transactions actually processed: 6104\n"
                "number of failed transactions: 0 (0.000%)\n"
                "latency average = 3.272 ms\n"
                "initial connection time = 20.994 ms\n"
                "tps = 1222.665298 (without initial connection time)\n",
                6.0),
            1222.665298);
  EXPECT_EQ(*step_throughput(
                example_step("redis.yaml"),
                "   \rPING_MBULK: rps=53203.2 (overall: 53377.4) avg_msec=0.098 (overall: 0.098)\r      "
                "\rPING_MBULK: 52770.45 requests per second, p50=0.095 msec\n"
                " \rSET: rps=37696.0 (overall: 50127.7) avg_msec=0.117 (overall: 0.117)\r       "
                "\rSET: 51150.89 requests per second, p50=0.103 msec\n"
                " \rGET: rps=8344.0 (overall: 45347.8) avg_msec=0.102 (overall: 0.102)\r     "
                "\rGET: 49140.05 requests per second, p50=0.111 msec\n",
                2.0),
            51150.89);
}

TEST(BenchJson, HoldsEveryConfigWithItsRoundsMedianAndRatio) {
  BenchResult r = measured({100, 300}, {100, 200}, {150, 250});
  r.unit = "requests/s";
  r.rounds = 2;
  r.default_profile = "docker default";
  auto j = bench_json("web", "docker", r);
  EXPECT_EQ(j["spec"], "web");
  EXPECT_EQ(j["engine"], "docker");
  EXPECT_EQ(j["rounds"], 2);
  EXPECT_EQ(j["unit"], "requests/s");
  EXPECT_EQ(j["default_profile"], "docker default");
  ASSERT_EQ(j["results"].size(), 3u);
  EXPECT_EQ(j["results"][0]["config"], "unconfined");
  EXPECT_EQ(j["results"][1]["config"], "default");
  EXPECT_EQ(j["results"][2]["config"], "profile");
  EXPECT_EQ(j["results"][2]["throughputs"], nlohmann::json({150.0, 250.0}));
  EXPECT_EQ(j["results"][2]["median"], 200.0);
  EXPECT_EQ(j["results"][2]["ratio"], 1.0);
  EXPECT_EQ(j["results"][1]["ratio"], 0.75);
  EXPECT_EQ(j["results"][2]["steps"][0]["name"], "s");
  EXPECT_EQ(j["results"][2]["steps"][0]["median"], 200.0);
  EXPECT_EQ(j["results"][2]["runs"][1]["round"], 2);
  EXPECT_EQ(j["profile_vs_default"], 200.0 / 150.0);
  EXPECT_FALSE(j.contains("failure"));
}

TEST(BenchJson, AnEarlyEndSaysWhyAndLeavesMissingMediansNull) {
  BenchResult r = measured({100}, {90}, {});
  r.failure = "round 1/3, profile: step ab: exit 1 (expected 0)";
  r.failed_under = BenchConfig::Profile;
  auto j = bench_json("web", "runc", r);
  EXPECT_EQ(j["failure"], "round 1/3, profile: step ab: exit 1 (expected 0)");
  EXPECT_EQ(j["failed_under"], "profile");
  EXPECT_TRUE(j["results"][2]["median"].is_null());
  EXPECT_TRUE(j["results"][2]["ratio"].is_null());
  EXPECT_TRUE(j["profile_vs_default"].is_null());
  EXPECT_EQ(j["results"][1]["ratio"], 0.9);
}

}  // namespace
}  // namespace sandmine::explore
