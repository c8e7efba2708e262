// sandmine mine: mine a container's sandbox from a spec.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "engine/ulimit.h"
#include "explore/miner.h"
#include "profile/oci.h"
#include "profile/timing.h"
#include "report/check_report.h"
#include "report/summary.h"
#include "spec/spec.h"
#include "sys/files.h"
#include "sys/interrupt.h"
#include "syscalls/syscalls.h"
#include "trace/trace.h"

namespace sandmine::cli {

namespace {

namespace fs = std::filesystem;

struct MineCliOptions {
  std::string spec;
  std::string engine = "runc";
  std::string output;
  std::string cache;
  std::vector<std::string> ulimits;
  std::string check_mode = "complain";
  bool include_validate = false;
};

int run(const MineCliOptions& o) {
  const engine::EngineOptions engine_options{.ulimits = must(engine::parse_ulimits(o.ulimits))};
  auto spec = must(spec::read_spec(o.spec));
  std::string dir = o.output.empty() ? "out/" + spec.name : o.output;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw UserError("cannot create output directory " + dir + ": " + ec.message());
  // Every output is checked writable before anything starts.
  auto trace_out = must(sys::OutputFile::create(dir + "/trace.json"));
  auto profile_out = must(sys::OutputFile::create(dir + "/profile.json"));
  auto summary_out = must(sys::OutputFile::create(dir + "/summary.md"));
  auto log_out = must(sys::OutputFile::create(dir + "/mine.log"));
  auto check_out = must(sys::OutputFile::create(dir + "/check.json"));
  std::error_code rm;
  fs::remove(dir + "/container.log", rm);

  std::string log;
  auto progress = [&](const std::string& line) {
    say(line);
    log += line + "\n";
  };
  sys::InterruptGuard interrupts;
  say(fmt::format("mining {} with {} ({} explore steps)", spec.name, o.engine, spec.explore.size()));
  auto result = must(explore::mine(spec, {.engine = o.engine,
                                          .engine_options = engine_options,
                                          .work_dir = dir,
                                          .cache_dir = o.cache,
                                          .progress = progress}));

  for (const auto& step : result.steps) {
    if (!step.ok) log += "--- " + step.phase + " " + step.name + " FAILED: " + step.failure + "\n";
    if (!step.output.empty()) log += "--- output of " + step.phase + " " + step.name + "\n" + step.output;
  }
  must(trace_out.commit(trace::to_json(result.trace).dump(2) + "\n"));

  std::optional<profile::Sandbox> sandbox;
  if (!result.failed) {
    std::vector<std::string> warnings;
    sandbox = profile::from_traces({result.trace}, warnings);
    for (const auto& w : warnings) progress("warning: " + w);
    profile::add_timing_dependent(*sandbox, true);
    must(profile_out.commit(profile::to_oci_json(*sandbox).dump(2) + "\n"));
  }
  // The held-out check: the validate steps under the mined profile, every
  // call outside it named.
  std::optional<explore::CheckResult> held_out;
  auto mode = o.check_mode == "enforce" ? explore::CheckMode::Enforce : explore::CheckMode::Complain;
  auto check = [&] {
    progress(fmt::format("held-out check: {} validate steps under the profile with {} ({} mode)",
                         spec.validate.size(), o.engine, o.check_mode));
    held_out = must(explore::check(spec, dir + "/profile.json",
                                   {.engine = o.engine,
                                    .engine_options = engine_options,
                                    .mode = mode,
                                    .work_dir = dir,
                                    .cache_dir = o.cache,
                                    .progress = progress}));
    for (const auto& step : held_out->steps)
      if (!step.output.empty()) log += "--- output of validate " + step.name + "\n" + step.output;
    for (const auto& line : report::violation_lines(*held_out)) progress("held-out violation: " + line);
  };
  if (sandbox && !spec.validate.empty() && !sys::interrupt_signal()) {
    check();
    if (o.include_validate && !held_out->violations.empty() && !sys::interrupt_signal()) {
      // Folded in on request only, and said so in the profile itself.
      std::vector<std::string> names;
      for (const auto& v : held_out->violations) names.push_back(v.name);
      std::sort(names.begin(), names.end());
      names.erase(std::unique(names.begin(), names.end()), names.end());
      auto json = profile::to_oci_json(*sandbox);
      json["syscalls"].push_back({{"names", names},
                                  {"action", "SCMP_ACT_ALLOW"},
                                  {"comment", "added by --include-validate: seen only in the held-out validate steps"}});
      progress(fmt::format("--include-validate: allowing {} more ({}), then checking again", names.size(),
                           fmt::join(names, ", ")));
      for (const auto& n : names) sandbox->allowed[syscalls::native_arch()].insert(n);
      auto again = must(sys::OutputFile::create(dir + "/profile.json"));
      must(again.commit(json.dump(2) + "\n"));
      check();
    }
    must(check_out.commit(report::check_json(spec.name, dir + "/profile.json", o.engine, *held_out).dump(2) + "\n"));
  }
  must(summary_out.commit(report::summary_markdown(spec, result, sandbox ? &*sandbox : nullptr,
                                                   held_out ? &*held_out : nullptr)));
  must(log_out.commit(log));

  if (int sig = sys::interrupt_signal())
    throw UserError(
        fmt::format("interrupted by signal {}: the container was stopped and removed; partial trace in {}",
                    sig, dir + "/trace.json"));
  if (result.failed)
    throw UserError(result.failure +
                    "; no profile written (a profile from a broken run would deny what "
                    "the container needs); partial trace in " +
                    dir + "/trace.json, log in " + dir + "/mine.log");
  say(fmt::format(
      "mined {} in {:.1f} s (image {:.1f} s): {} syscalls allowed; wrote {}/profile.json, trace.json, "
      "summary.md, mine.log",
      spec.name, result.mining_seconds, result.image_seconds, profile::all_names(*sandbox).size(), dir));
  if (held_out && !held_out->passed()) {
    for (const auto& step : held_out->steps)
      if (!step.ok) say("held-out check failed: " + step.phase + " " + step.name + ": " + step.failure);
    if (!held_out->violations.empty())
      say(fmt::format("held-out check failed: {} syscalls outside the profile (see {}/check.json; "
                      "--include-validate folds them in)",
                      held_out->violations.size(), dir));
    return kExitFailed;
  }
  if (held_out)
    say(fmt::format("held-out check passed: {} validate steps under the mined profile, no call outside it",
                    spec.validate.size()));
  return 0;
}

}  // namespace

void add_mine(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<MineCliOptions>();
  auto* cmd = app.add_subcommand("mine",
                                 "Mine a container's seccomp profile: run it under the recorder and drive it "
                                 "with the spec's steps");
  cmd->add_option("spec", o->spec, "The spec (YAML; docs/spec.md)")->required();
  cmd->add_option("--engine", o->engine, "Container engine")
      ->check(CLI::IsMember({"runc", "docker", "podman"}))
      ->capture_default_str();
  cmd->add_option("-o,--output", o->output, "Output directory (default: out/<spec name>)");
  cmd->add_option("--cache", o->cache, "Image cache directory (default: /var/cache/sandmine/images)");
  cmd->add_option("--check-mode", o->check_mode,
                  "Mode of the held-out check: complain (denials only logged, every call outside the\n"
                  "profile named) or enforce (the profile as it is)")
      ->check(CLI::IsMember({"complain", "enforce"}))
      ->capture_default_str();
  cmd->add_flag("--include-validate", o->include_validate,
                "Fold calls the held-out check saw outside the profile into it (a rule whose comment\n"
                "says so), then check again; without it they are reported, never folded in");
  cmd->add_option("--ulimit", o->ulimits,
                  "A resource limit of the container, as docker run --ulimit takes it; repeat\n"
                  "for more. Every engine applies it: Docker's and Podman's --ulimit, runc's\n"
                  "process.rlimits (RLIMIT_<TYPE>). TYPE: core, cpu, data, fsize, locks, memlock,\n"
                  "msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack;\n"
                  "SOFT <= HARD; TYPE=N sets both. Defaults: nofile=1024:1024, and under podman\n"
                  "nproc=4096:4096 (Podman's own exceed common hard limits); a TYPE given\n"
                  "replaces its default. Example: --ulimit nofile=512:512")
      ->type_name("TYPE=SOFT:HARD")
      ->allow_extra_args(false);
  cmd->footer(
      "Builds the image (cached by recipe), starts the container in a cgroup the recorder already watches,\n"
      "under an allow-all profile so the runtime arms it exactly where it will install the mined one,\n"
      "waits until ready, runs the explore steps (snapshot after each), stops it (shutdown is recorded\n"
      "too), and writes DIR/profile.json (Docker/OCI seccomp), trace.json (each syscall's first step),\n"
      "summary.md and mine.log. A failing step stops mining: exit 2, partial trace, no profile.\n"
      "Then the held-out check (as `sandmine check`): the container under the mined profile runs the\n"
      "validate steps, every call outside the profile is named with its step (DIR/check.json, summary.md);\n"
      "exit 1 when a step fails or a call falls outside (the profile misses something the container\n"
      "needs). Such calls are reported, not folded in, unless --include-validate.\n\n"
      "EXAMPLES:\n"
      "  sudo sandmine mine examples/busybox-httpd.yaml -o out/httpd\n"
      "  docker run --security-opt seccomp=out/httpd/profile.json ...");
  cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace sandmine::cli
