#pragma once
// What a profile costs a real workload: the spec's bench steps with the
// container under no seccomp filter at all, under the engine's default
// profile and under the profile, alternated round by round (the order
// rotates, so drift on a noisy machine hits all three alike), each run in a
// fresh container in its own cgroup. The answer is a ratio of medians, never
// an absolute time.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/engine.h"
#include "profile/profile.h"
#include "spec/spec.h"
#include "util/result.h"

namespace sandmine::explore {

/// The filters a bench compares, in the order of its first round.
enum class BenchConfig { Unconfined, Default, Profile };

/// The three, in that order.
inline constexpr BenchConfig kBenchConfigs[] = {BenchConfig::Unconfined, BenchConfig::Default,
                                                BenchConfig::Profile};

/// "unconfined", "default" or "profile".
std::string to_string(BenchConfig config);

/// The order of round r (0-based): the first round's order rotated r times
/// (ABC, BCA, CAB, ABC, ...).
std::vector<BenchConfig> round_order(int round);

/// The median of values: the middle one, or the mean of the middle two.
/// values must not be empty.
double median(std::vector<double> values);

/// The round-to-round spread of values: (max - min) / median. 0 for fewer than two.
double spread(const std::vector<double>& values);

/// A step's throughput (higher is better): with a metric, the number its
/// first capture group finds in output; without one, 1 / seconds. The error
/// is one line naming the step: no match, or not a positive number.
Result<double> step_throughput(const spec::Step& step, const std::string& output, double seconds);

/// The unit of a step's throughput: its metric's unit, or "runs/s".
std::string step_unit(const spec::Step& step);

/// The unit of a round's throughput: the steps' unit when they share one,
/// else "geometric mean of the steps".
std::string round_unit(const std::vector<spec::Step>& steps);

/// A round's throughput from its steps': the geometric mean (with one step,
/// its throughput). step_throughputs must not be empty.
double round_throughput(const std::vector<double>& step_throughputs);

/// One step of one run.
struct StepRun {
  std::string name;
  double seconds = 0;
  double throughput = 0;
  std::string output;  ///< the tail of the step's output, for the record
  /// The container's CPU time during the step (its cgroup's cpu.stat; the
  /// client runs outside it) per unit of work: cpu_per_unit(). Empty when
  /// it could not be read.
  std::optional<double> cpu_us_per_unit;
};

/// CPU microseconds per unit of work: usec / (throughput * seconds), the
/// units done in the step (requests, runs, ...). 0 when no work was done.
double cpu_per_unit(std::uint64_t usec, double throughput, double seconds);

/// One container of one configuration in one round.
struct BenchRun {
  int round = 0;     ///< 1-based
  int position = 0;  ///< 1-based: where in its round's order it ran
  std::vector<StepRun> steps;
  double throughput = 0;  ///< round_throughput() of the steps
  /// The steps' CPU cost per unit, combined as throughput is (geometric
  /// mean); empty when a step's could not be read.
  std::optional<double> cpu_us_per_unit;
};

/// Everything measured under one configuration.
struct ConfigResult {
  BenchConfig config = BenchConfig::Unconfined;
  std::vector<BenchRun> runs;  ///< in round order
  /// The runs' throughputs, in round order.
  std::vector<double> throughputs() const;
  /// One step's throughputs, in round order.
  std::vector<double> step_throughputs(size_t step) const;
  std::optional<double> median;  ///< of throughputs(); empty when nothing was measured
  std::optional<double> ratio;   ///< median / unconfined's median
  /// The runs' CPU costs per unit that were read, in round order.
  std::vector<double> cpu_costs() const;
  std::optional<double> cpu_median;  ///< of cpu_costs()
  std::optional<double> cpu_ratio;   ///< cpu_median / unconfined's (above 1: costlier)
};

/// A bench's outcome.
struct BenchResult {
  std::string unit;
  std::vector<std::string> step_names;  ///< the bench steps, in order
  std::vector<std::string> step_units;  ///< their units
  /// Which profile "default" is: "docker default", "podman default" or
  /// "containers-common <path>" (runc has none of its own).
  std::string default_profile;
  int rounds = 0;                            ///< rounds asked for
  std::vector<ConfigResult> results;         ///< unconfined, default, profile
  std::optional<double> profile_vs_default;  ///< profile's median / default's median
  /// profile's CPU cost per unit / default's (above 1: the profile costs more).
  std::optional<double> cpu_profile_vs_default;
  /// Why the bench stopped early (one line); empty when every run passed.
  std::string failure;
  /// The configuration under which it failed.
  std::optional<BenchConfig> failed_under;
  std::string failure_output;  ///< the tail of the failing step's output
  bool interrupted = false;

  const ConfigResult& of(BenchConfig config) const;
  ConfigResult& of(BenchConfig config);
};

/// Fills in the medians and ratios from the runs: each configuration's median
/// throughput and CPU cost per unit, their ratios to unconfined's, and
/// profile / default of both.
void summarize(BenchResult& result);

/// The goal of the overhead measurement: the profile keeps at least 0.97 of
/// the unconfined throughput and costs no more than the default profile.
struct BenchGoal {
  static constexpr double kMinRatio = 0.97;
  bool keeps_throughput = false;  ///< profile ratio >= kMinRatio
  bool no_costlier = false;       ///< profile_vs_default >= 1
  bool met() const { return keeps_throughput && no_costlier; }
};

/// The goal judged on summarized results; empty when a median is missing.
std::optional<BenchGoal> judge(const BenchResult& result);

/// How to bench.
struct BenchOptions {
  std::string engine = "runc";
  engine::EngineOptions engine_options = {};
  int rounds = 5;
  std::string work_dir;   ///< logs, the runc form of the default profile
  std::string cache_dir;  ///< image cache; empty: the default
  std::function<void(const std::string&)> progress = {};
};

/// Where runc's "default" comes from: the profile Podman applies by default.
inline constexpr const char* kContainersCommonProfile = "/usr/share/containers/seccomp.json";

/// Runs the bench of spec's bench steps with profile.
/// Bad input (no bench steps, fewer than one round) and
/// environment errors are an Error; a failing step, a metric that finds
/// nothing and Ctrl-C end the bench early and are in the result.
Result<BenchResult> bench(const spec::Spec& spec, const profile::Profile& profile,
                          const BenchOptions& options);

/// bench.json: {"spec", "engine", "rounds", "unit", "default_profile",
/// "results": [{"config", "throughputs", "median", "ratio", "cpu_us_per_unit",
/// "cpu_median", "cpu_ratio", "steps", "runs"}], "profile_vs_default",
/// "cpu_profile_vs_default"}, plus "failure" and "failed_under" when it
/// ended early. Medians and ratios not measured are null.
nlohmann::json bench_json(const std::string& spec_name, const std::string& engine, const BenchResult& result);

}  // namespace sandmine::explore
