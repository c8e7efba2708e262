// sandmine bench: what a profile costs the spec's bench workload, against no
// filter and the engine's default profile.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "command.h"
#include "explore/bench.h"
#include "profile/docker_json.h"
#include "spec/spec.h"
#include "sys/files.h"
#include "sys/interrupt.h"
#include "work_dir.h"

namespace sandmine::cli {

namespace {

using explore::BenchConfig;

struct BenchCliOptions {
  std::string spec;
  std::string profile;
  std::string engine = "runc";
  int rounds = 5;
  std::string output;
  std::string cache;
};

std::string ratio_text(const std::optional<double>& r) { return r ? fmt::format("{:.3f}", *r) : "-"; }

std::string values_text(const std::vector<double>& v) {
  std::string out;
  for (double x : v) out += (out.empty() ? "" : " ") + fmt::format("{:.6g}", x);
  return out;
}

void print_table(const explore::BenchResult& r) {
  fmt::print("{:<11} {:>12} {:>10} {:>8} {:>14} {:>10}   {}\n", "config", "median", "x unconf.", "spread",
             "CPU us/unit", "x unconf.", "per round");
  for (const auto& c : r.results)
    fmt::print("{:<11} {:>12} {:>10} {:>7.1f}% {:>14} {:>10}   {}\n", to_string(c.config),
               c.median ? fmt::format("{:.6g}", *c.median) : "-", ratio_text(c.ratio),
               100 * explore::spread(c.throughputs()),
               c.cpu_median ? fmt::format("{:.4g}", *c.cpu_median) : "-", ratio_text(c.cpu_ratio),
               values_text(c.throughputs()));
  if (r.step_names.size() > 1) {
    // Each step on its own; the rounds' throughputs are their geometric means.
    for (size_t i = 0; i < r.step_names.size(); ++i) {
      std::string line;
      std::optional<double> base;
      for (const auto& c : r.results) {
        auto t = c.step_throughputs(i);
        if (t.empty()) continue;
        double m = explore::median(t);
        if (c.config == BenchConfig::Unconfined) base = m;
        line += fmt::format("  {} {:.6g}{}", to_string(c.config), m,
                            base ? fmt::format(" ({:.3f})", m / *base) : "");
      }
      fmt::print("  step {} ({}):{}\n", r.step_names[i], r.step_units[i], line);
    }
  }
  fmt::print("profile / default: throughput {}, CPU per unit {}\n", ratio_text(r.profile_vs_default),
             ratio_text(r.cpu_profile_vs_default));
}

int run(const BenchCliOptions& o) {
  auto spec = must(spec::read_spec(o.spec));
  if (spec.bench.empty())
    throw UserError("spec " + spec.file + ": no bench steps to run (add a bench: list)");
  auto profile = must(profile::read_profile(o.profile));  // a bad profile is an error before anything starts
  std::optional<sys::OutputFile> out;
  if (!o.output.empty()) out.emplace(must(sys::OutputFile::create(o.output)));
  WorkDir work("sandmine-bench-");
  sys::InterruptGuard interrupts;
  say(fmt::format(
      "bench {} under {} with {}: {} rounds of unconfined, default and profile, order rotated each "
      "round, a fresh container for every run",
      spec.name, o.profile, o.engine, o.rounds));
  auto result = must(explore::bench(spec, profile,
                                    {.engine = o.engine,
                                     .rounds = o.rounds,
                                     .work_dir = work.path(),
                                     .cache_dir = o.cache,
                                     .progress = [](const std::string& line) { say(line); }}));
  if (out) must(out->commit(explore::bench_json(spec.name, o.engine, result).dump(2) + "\n"));
  if (result.interrupted)
    throw UserError(result.failure + ": the container was removed" +
                    (out ? "; what was measured is in " + o.output : ""));
  if (!result.failure.empty()) {
    say("bench step failed: " + result.failure);
    if (!result.failure_output.empty()) fmt::print(stderr, "{}\n", result.failure_output);
    if (result.failed_under == BenchConfig::Profile) {
      say("the workload fails under the profile: the profile is missing something it needs "
          "(sandmine check names the calls)");
      return kExitFailed;
    }
    throw UserError(
        fmt::format("the workload fails without the profile ({}): fix the spec or the environment",
                    result.failed_under ? to_string(*result.failed_under) : "?"));
  }

  fmt::print("{} with {}: {} rounds, medians of {}; default is {}{}\n", spec.name, o.engine, o.rounds,
             result.unit, result.default_profile,
             o.engine == "runc" ? " (runc has no default profile of its own)" : "");
  print_table(result);
  if (auto goal = explore::judge(result))
    fmt::print(
        "goal (profile >= {:.2f} x unconfined, and no more costly than default): {} ({:.3f} x unconfined{}, "
        "{:.3f} x default{}); a measurement on a noisy machine, never a failure\n",
        explore::BenchGoal::kMinRatio, goal->met() ? "met" : "NOT met",
        *result.of(BenchConfig::Profile).ratio, goal->keeps_throughput ? "" : " too low",
        *result.profile_vs_default, goal->no_costlier ? "" : " costlier");
  return 0;
}

}  // namespace

void add_bench(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<BenchCliOptions>();
  auto* cmd = app.add_subcommand(
      "bench",
      "Measure what a profile costs a spec's bench workload, against no filter and the engine's default");
  cmd->add_option("spec", o->spec, "The spec (YAML; docs/spec.md); its bench steps are the workload")
      ->required();
  cmd->add_option("--profile", o->profile, "The Docker/OCI seccomp profile to measure")->required();
  cmd->add_option("--engine", o->engine, "Container engine")
      ->check(CLI::IsMember({"runc", "docker", "podman"}))
      ->capture_default_str();
  cmd->add_option("--rounds", o->rounds, "Rounds; each runs the three configurations once")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("-o,--output", o->output, "Write the measurements as JSON here (bench.json)");
  cmd->add_option("--cache", o->cache, "Image cache directory (default: /var/cache/sandmine/images)");
  cmd->footer(
      "Runs the spec's bench steps with the container under three configurations: unconfined (no\n"
      "seccomp filter at all), default (the engine's default profile: Docker's and Podman's own; runc has\n"
      "none, so the containers-common profile Podman uses, /usr/share/containers/seccomp.json) and profile\n"
      "(--profile). Each round runs all three, in an order rotated from round to round (ABC, BCA, CAB), and\n"
      "each run gets a fresh container in its own cgroup, started and ready before anything is timed.\n"
      "A step's throughput is the number its metric finds in its output (docs/spec.md), else 1 / wall time.\n"
      "Prints each configuration's median throughput and its ratio to unconfined, and profile / default;\n"
      "the goal (profile >= 0.97 x unconfined, no more costly than default) is reported, never enforced.\n\n"
      "Exit codes: 0 measured; 1 a bench step failed under the profile (it misses something the workload\n"
      "needs); 2 bad input or environment (no bench steps, a bad profile, a step failing without the\n"
      "profile too, Ctrl-C).\n\n"
      "EXAMPLES:\n"
      "  sudo sandmine bench examples/nginx.yaml --profile out/nginx/profile.json\n"
      "  sudo sandmine bench examples/redis.yaml --profile out/redis/profile.json --engine docker --rounds 9 "
      "-o bench.json");
  cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace sandmine::cli
