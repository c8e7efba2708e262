#include "explore/bench.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "explore/container_run.h"
#include "profile/docker_json.h"
#include "sys/cgroup.h"
#include "sys/fd.h"
#include "sys/interrupt.h"
#include "syscalls/syscalls.h"
#include "util/json.h"
#include "util/regex_search.h"

namespace sandmine::explore {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// The step's output kept in bench.json: enough for the tool's summary.
constexpr size_t kOutputTail = 4096;

std::string tail(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(s.size() - n); }

std::string line_of_text(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

// One bench: its cgroup, engine and image, and the runs so far.
class Bench {
 public:
  Bench(const spec::Spec& spec, const BenchOptions& options) : spec_(spec), options_(options) {}

  Result<BenchResult> go(const profile::Profile& profile) {
    if (spec_.bench.empty())
      return Error{"spec " + spec_.file + ": no bench steps to run (add a bench: list)", EINVAL};
    if (options_.rounds < 1)
      return Error{fmt::format("--rounds {}: a bench needs at least one round", options_.rounds), EINVAL};
    profile_ = std::make_shared<const profile::Profile>(profile);

    if (auto st = default_profile(); !st) return st.error();
    // No recorder: it would tax every syscall the bench measures.
    auto opened = ContainerRun::open(spec_, {.engine = options_.engine,
                                             .engine_options = options_.engine_options,
                                             .work_dir = options_.work_dir,
                                             .cache_dir = options_.cache_dir,
                                             .purpose = "bench",
                                             .watching = Watching::Nothing,
                                             .progress = options_.progress});
    if (!opened) return opened.error();
    run_ = std::move(*opened);

    result_.unit = round_unit(spec_.bench);
    for (const auto& s : spec_.bench) {
      result_.step_names.push_back(s.name);
      result_.step_units.push_back(step_unit(s));
    }
    result_.rounds = options_.rounds;
    for (BenchConfig c : kBenchConfigs) result_.results.push_back(ConfigResult{.config = c});
    for (int round = 0; round < options_.rounds && result_.failure.empty(); ++round)
      for (int position = 0; BenchConfig config : round_order(round)) {
        if (sys::interrupt_signal()) interrupted();
        if (!result_.failure.empty()) break;
        run(config, round, ++position);
      }
    run_.reset();
    summarize(result_);
    return std::move(result_);
  }

 private:
  // What "default" is under this engine; runc has none, so it gets the
  // profile Podman applies by default, resolved as Podman resolves it.
  Status default_profile() {
    if (options_.engine == "docker" || options_.engine == "podman") {
      result_.default_profile = options_.engine + " default";
      return {};
    }
    if (!std::filesystem::exists(kContainersCommonProfile))
      return Error{std::string("runc has no default seccomp profile, and the one sandmine uses instead, ") +
                       kContainersCommonProfile +
                       " (Podman's default), is missing (apt-get install golang-github-containers-common)",
                   ENOENT};
    auto common = profile::read_profile(kContainersCommonProfile);
    if (!common) return common.error();
    default_ = std::make_shared<const profile::Profile>(std::move(*common));
    result_.default_profile = std::string("containers-common ") + kContainersCommonProfile;
    return {};
  }

  ContainerOptions container(BenchConfig config, int round) const {
    std::string id = fmt::format("{}-{}", to_string(config), round + 1);
    ContainerOptions c{.suffix = id, .log_name = "bench-" + id + ".log"};
    switch (config) {
      case BenchConfig::Unconfined:
        c.seccomp = engine::ContainerSpec::Seccomp::Unconfined;
        break;
      case BenchConfig::Default:
        if (default_)
          c.profile = default_;
        else
          c.seccomp = engine::ContainerSpec::Seccomp::EngineDefault;
        break;
      case BenchConfig::Profile:
        c.profile = profile_;
        break;
    }
    return c;
  }

  // One fresh container: start, ready, every bench step timed, then removed
  // (killed: how it stops is not measured, and nothing of it is kept).
  void run(BenchConfig config, int round, int position) {
    std::string at = fmt::format("round {}/{}, {}", round + 1, options_.rounds, to_string(config));
    struct Removal {
      ContainerRun& run;
      ~Removal() { run.remove(); }
    } removal{*run_};
    BenchRun r{.round = round + 1, .position = position};
    StepOutcome started = run_->start(container(config, round));
    if (!started.ok) return failed(config, at + ": start: " + started.failure, "");
    std::vector<double> throughputs;
    for (const auto& step : spec_.bench) {
      auto cpu0 = run_->cpu_usage_usec();
      auto t0 = Clock::now();
      StepOutcome outcome = run_->run(step);
      double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      auto cpu1 = run_->cpu_usage_usec();
      if (sys::interrupt_signal()) return interrupted();
      if (!outcome.ok) return failed(config, at + ": " + outcome.failure, outcome.output);
      auto throughput = step_throughput(step, outcome.output, seconds);
      if (!throughput) return failed(config, at + ": " + throughput.error().message, outcome.output);
      StepRun sr{.name = step.name,
                 .seconds = seconds,
                 .throughput = *throughput,
                 .output = tail(outcome.output, kOutputTail)};
      // The server's own CPU time (the client runs outside its cgroup) per
      // unit of work: what a filter changes, steadier than throughput here.
      if (cpu0 && cpu1 && *cpu1 >= *cpu0)
        sr.cpu_us_per_unit = cpu_per_unit(*cpu1 - *cpu0, *throughput, seconds);
      r.steps.push_back(std::move(sr));
      throughputs.push_back(*throughput);
    }
    r.throughput = round_throughput(throughputs);
    std::vector<double> costs;
    for (const auto& s : r.steps)
      if (s.cpu_us_per_unit && *s.cpu_us_per_unit > 0) costs.push_back(*s.cpu_us_per_unit);
    if (costs.size() == r.steps.size()) r.cpu_us_per_unit = round_throughput(costs);
    if (options_.progress) {
      std::string steps;
      for (size_t i = 0; r.steps.size() > 1 && i < r.steps.size(); ++i)
        steps += fmt::format("{}{} {:.6g} {}", i ? ", " : " (", r.steps[i].name, r.steps[i].throughput,
                             step_unit(spec_.bench[i]));
      if (!steps.empty()) steps += ")";
      double total = 0;
      for (const auto& s : r.steps) total += s.seconds;
      options_.progress(
          fmt::format("{}: {:.6g} {}{} in {:.1f} s", at, r.throughput, result_.unit, steps, total));
    }
    result_.of(config).runs.push_back(std::move(r));
  }

  void failed(BenchConfig config, const std::string& why, const std::string& output) {
    if (sys::interrupt_signal()) return interrupted();
    result_.failure = line_of_text(why);
    result_.failed_under = config;
    result_.failure_output = tail(output, kOutputTail);
  }

  void interrupted() {
    result_.interrupted = true;
    result_.failure = fmt::format("interrupted by signal {}", sys::interrupt_signal());
  }

  const spec::Spec& spec_;
  const BenchOptions& options_;
  std::shared_ptr<const profile::Profile> profile_;
  std::shared_ptr<const profile::Profile> default_;  // runc: the containers-common profile
  std::unique_ptr<ContainerRun> run_;
  BenchResult result_;
};

// The plain decimal number that is the whole of text.
std::optional<double> number(const std::string& text) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, std::chars_format::general);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

}  // namespace

std::string to_string(BenchConfig config) {
  switch (config) {
    case BenchConfig::Unconfined:
      return "unconfined";
    case BenchConfig::Default:
      return "default";
    case BenchConfig::Profile:
      return "profile";
  }
  return "?";
}

std::vector<BenchConfig> round_order(int round) {
  constexpr size_t n = std::size(kBenchConfigs);
  std::vector<BenchConfig> order;
  for (size_t k = 0; k < n; ++k) order.push_back(kBenchConfigs[(k + static_cast<size_t>(round)) % n]);
  return order;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double spread(const std::vector<double>& values) {
  if (values.size() < 2) return 0;
  auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  return (*hi - *lo) / median(values);
}

Result<double> step_throughput(const spec::Step& step, const std::string& output, double seconds) {
  std::string at = "step " + step.name + ": ";
  if (!step.metric) {
    if (seconds <= 0) return Error{at + "took no measurable time", EINVAL};
    return 1.0 / seconds;
  }
  auto found = search_by_line(output, std::regex(step.metric->regex));
  if (!found) return Error{at + "metric: " + found.error().message, EINVAL};
  if (!*found || (*found)->groups.size() < 2 || !(*found)->groups[1])
    return Error{at + "metric: nothing in the output matches " + step.metric->regex, EINVAL};
  const std::string& text = *(*found)->groups[1];
  auto v = number(text);
  if (!v || !std::isfinite(*v) || *v <= 0)
    return Error{at + "metric: \"" + line_of_text(text) + "\" (matched by " + step.metric->regex +
                     ") is not a positive number",
                 EINVAL};
  return *v;
}

std::string step_unit(const spec::Step& step) { return step.metric ? step.metric->unit : "runs/s"; }

std::string round_unit(const std::vector<spec::Step>& steps) {
  if (steps.empty()) return "";
  std::string unit = step_unit(steps.front());
  for (const auto& s : steps)
    if (step_unit(s) != unit) return "geometric mean of the steps";
  return unit;
}

double round_throughput(const std::vector<double>& step_throughputs) {
  if (step_throughputs.size() == 1) return step_throughputs.front();
  double n = static_cast<double>(step_throughputs.size());
  double product = 1;
  for (double t : step_throughputs) product *= t;
  // The n-th root of the product is closer than exp(mean(log)); the logs
  // only where the product leaves the range of a double.
  if (std::isfinite(product) && product > 0) return std::pow(product, 1 / n);
  double logs = 0;
  for (double t : step_throughputs) logs += std::log(t);
  return std::exp(logs / n);
}

double cpu_per_unit(std::uint64_t usec, double throughput, double seconds) {
  double units = throughput * seconds;
  return units > 0 ? static_cast<double>(usec) / units : 0;
}

std::vector<double> ConfigResult::cpu_costs() const {
  std::vector<double> out;
  for (const auto& r : runs)
    if (r.cpu_us_per_unit) out.push_back(*r.cpu_us_per_unit);
  return out;
}

std::vector<double> ConfigResult::throughputs() const {
  std::vector<double> out;
  for (const auto& r : runs) out.push_back(r.throughput);
  return out;
}

std::vector<double> ConfigResult::step_throughputs(size_t step) const {
  std::vector<double> out;
  for (const auto& r : runs)
    if (step < r.steps.size()) out.push_back(r.steps[step].throughput);
  return out;
}

const ConfigResult& BenchResult::of(BenchConfig config) const {
  for (const auto& r : results)
    if (r.config == config) return r;
  throw std::logic_error("no result for " + to_string(config));
}

ConfigResult& BenchResult::of(BenchConfig config) {
  return const_cast<ConfigResult&>(static_cast<const BenchResult*>(this)->of(config));
}

void summarize(BenchResult& result) {
  for (auto& r : result.results) {
    r.median.reset();
    r.ratio.reset();
    r.cpu_median.reset();
    r.cpu_ratio.reset();
    if (!r.runs.empty()) r.median = median(r.throughputs());
    if (auto costs = r.cpu_costs(); !costs.empty()) r.cpu_median = median(costs);
  }
  auto median_of = [&](BenchConfig c) -> std::optional<double> {
    for (const auto& r : result.results)
      if (r.config == c) return r.median;
    return std::nullopt;
  };
  auto cpu_of = [&](BenchConfig c) -> std::optional<double> {
    for (const auto& r : result.results)
      if (r.config == c) return r.cpu_median;
    return std::nullopt;
  };
  auto base = median_of(BenchConfig::Unconfined), cpu_base = cpu_of(BenchConfig::Unconfined);
  for (auto& r : result.results) {
    if (base && r.median) r.ratio = *r.median / *base;
    if (cpu_base && r.cpu_median && *cpu_base > 0) r.cpu_ratio = *r.cpu_median / *cpu_base;
  }
  auto profile = median_of(BenchConfig::Profile), def = median_of(BenchConfig::Default);
  result.profile_vs_default.reset();
  if (profile && def) result.profile_vs_default = *profile / *def;
  auto cpu_profile = cpu_of(BenchConfig::Profile), cpu_def = cpu_of(BenchConfig::Default);
  result.cpu_profile_vs_default.reset();
  if (cpu_profile && cpu_def && *cpu_def > 0) result.cpu_profile_vs_default = *cpu_profile / *cpu_def;
}

std::optional<BenchGoal> judge(const BenchResult& result) {
  std::optional<double> ratio;
  for (const auto& r : result.results)
    if (r.config == BenchConfig::Profile) ratio = r.ratio;
  if (!ratio || !result.profile_vs_default) return std::nullopt;
  return BenchGoal{.keeps_throughput = *ratio >= BenchGoal::kMinRatio,
                   .no_costlier = *result.profile_vs_default >= 1.0};
}

Result<BenchResult> bench(const spec::Spec& spec, const profile::Profile& profile,
                          const BenchOptions& options) {
  // The image's config fills in what the spec leaves out.
  auto resolved = resolve_spec(spec, options.engine, options.cache_dir, options.progress);
  if (!resolved) return resolved.error();
  return Bench(*resolved, options).go(profile);
}

json bench_json(const std::string& spec_name, const std::string& engine, const BenchResult& result) {
  auto number_or_null = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  json results = json::array();
  for (const auto& r : result.results) {
    json runs = json::array();
    for (const auto& run : r.runs) {
      json steps = json::array();
      for (const auto& s : run.steps)
        steps.push_back({{"name", s.name},
                         {"seconds", s.seconds},
                         {"throughput", s.throughput},
                         {"cpu_us_per_unit", number_or_null(s.cpu_us_per_unit)},
                         {"output", s.output}});
      runs.push_back({{"round", run.round},
                      {"position", run.position},
                      {"throughput", run.throughput},
                      {"cpu_us_per_unit", number_or_null(run.cpu_us_per_unit)},
                      {"steps", steps}});
    }
    // Each step on its own, against the same step unconfined.
    json steps = json::array();
    for (size_t i = 0; i < result.step_names.size(); ++i) {
      auto step_median = [&](const ConfigResult& c) -> std::optional<double> {
        auto t = c.step_throughputs(i);
        return t.empty() ? std::nullopt : std::optional<double>(median(t));
      };
      std::optional<double> m = step_median(r), base, ratio;
      for (const auto& u : result.results)
        if (u.config == BenchConfig::Unconfined) base = step_median(u);
      if (m && base) ratio = *m / *base;
      steps.push_back({{"name", result.step_names[i]},
                       {"unit", result.step_units[i]},
                       {"throughputs", r.step_throughputs(i)},
                       {"median", number_or_null(m)},
                       {"ratio", number_or_null(ratio)}});
    }
    results.push_back({{"config", to_string(r.config)},
                       {"throughputs", r.throughputs()},
                       {"median", number_or_null(r.median)},
                       {"ratio", number_or_null(r.ratio)},
                       {"cpu_us_per_unit", r.cpu_costs()},
                       {"cpu_median", number_or_null(r.cpu_median)},
                       {"cpu_ratio", number_or_null(r.cpu_ratio)},
                       {"steps", steps},
                       {"runs", runs}});
  }
  json doc = {{"spec", spec_name},
              {"engine", engine},
              {"rounds", result.rounds},
              {"unit", result.unit},
              {"default_profile", result.default_profile},
              {"results", results},
              {"profile_vs_default", number_or_null(result.profile_vs_default)},
              {"cpu_profile_vs_default", number_or_null(result.cpu_profile_vs_default)}};
  if (!result.failure.empty()) {
    doc["failure"] = result.failure;
    if (result.failed_under) doc["failed_under"] = to_string(*result.failed_under);
  }
  repair_utf8(doc);  // a tool's output need not be UTF-8, and its tail may cut a character
  return doc;
}

}  // namespace sandmine::explore
