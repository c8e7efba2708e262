// sandmine check: the held-out check of a profile on a spec's validate steps.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "command.h"
#include "engine/ulimit.h"
#include "explore/check.h"
#include "profile/docker_json.h"
#include "report/check_report.h"
#include "spec/spec.h"
#include "sys/files.h"
#include "sys/interrupt.h"
#include "work_dir.h"

namespace sandmine::cli {

namespace {

struct CheckCliOptions {
  std::string spec;
  std::string profile;
  std::string engine = "runc";
  std::string mode = "complain";
  std::string output;
  std::string cache;
  std::vector<std::string> ulimits;
};

int run(const CheckCliOptions& o) {
  const engine::EngineOptions engine_options{.ulimits = must(engine::parse_ulimits(o.ulimits))};
  auto spec = must(spec::read_spec(o.spec));
  auto profile = must(profile::read_profile(o.profile));  // a bad profile is an error before anything starts
  if (spec.validate.empty())
    throw UserError("spec " + spec.file + ": no validate steps to check (add a validate: list)");
  std::optional<sys::OutputFile> out;
  if (!o.output.empty()) out.emplace(must(sys::OutputFile::create(o.output)));
  WorkDir work("sandmine-check-");
  sys::InterruptGuard interrupts;
  auto mode = o.mode == "enforce" ? explore::CheckMode::Enforce : explore::CheckMode::Complain;
  say(fmt::format("checking {} under {} with {} ({} mode, {} validate steps)", spec.name, o.profile, o.engine,
                  o.mode, spec.validate.size()));
  auto result = must(explore::check(spec, profile,
                                    {.engine = o.engine,
                                     .engine_options = engine_options,
                                     .mode = mode,
                                     .work_dir = work.path(),
                                     .cache_dir = o.cache,
                                     .progress = [](const std::string& line) { say(line); }}));
  if (out) must(out->commit(report::check_json(spec.name, o.profile, o.engine, result).dump(2) + "\n"));
  if (int sig = sys::interrupt_signal())
    throw UserError(fmt::format("interrupted by signal {}: the container was stopped and removed{}", sig,
                                out ? "; what was seen is in " + o.output : ""));
  for (const auto& step : result.steps)
    if (!step.ok) {
      say("step failed: " + step.phase + " " + step.name + ": " + step.failure);
      if (!step.output.empty()) fmt::print(stderr, "{}", step.output);
    }
  for (const auto& line : report::violation_lines(result)) say("violation: " + line);
  if (auto line = report::audit_line(result); !line.empty()) say(line);
  if (!result.passed()) {
    say(fmt::format(
        "check failed: {} of {} steps failed, {} syscalls outside the profile",
        std::count_if(result.steps.begin(), result.steps.end(), [](const auto& s) { return !s.ok; }),
        result.steps.size(), result.violations.size()));
    return kExitFailed;
  }
  say(fmt::format("check passed: {} steps, no call outside the profile", result.steps.size()));
  return 0;
}

}  // namespace

void add_check(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<CheckCliOptions>();
  auto* cmd = app.add_subcommand(
      "check",
      "Start a spec's container under a profile, run its held-out validate steps, name every violation");
  cmd->add_option("spec", o->spec, "The spec (YAML; docs/spec.md)")->required();
  cmd->add_option("--profile", o->profile, "The Docker/OCI seccomp profile to check")->required();
  cmd->add_option("--engine", o->engine, "Container engine")
      ->check(CLI::IsMember({"runc", "docker", "podman"}))
      ->capture_default_str();
  cmd->add_option(
         "--mode", o->mode,
         "complain: denials become SCMP_ACT_LOG, the workload runs to the end; enforce: the profile as it is")
      ->check(CLI::IsMember({"complain", "enforce"}))
      ->capture_default_str();
  cmd->add_option("-o,--output", o->output, "Write the result as JSON here (docs/formats.md)");
  cmd->add_option("--cache", o->cache, "Image cache directory (default: /var/cache/sandmine/images)");
  cmd->add_option("--ulimit", o->ulimits,
                  "A resource limit of the container (repeat for more), as for sandmine mine; check with\n"
                  "the limits the profile was mined with")
      ->type_name("TYPE=SOFT:HARD")
      ->allow_extra_args(false);
  cmd->footer(
      "Starts the container under the profile, runs the spec's validate steps and its stop, and names\n"
      "every call outside the profile: syscall, architecture, process name, count, and the step during\n"
      "which it happened. The recorder counts them in the kernel (complain mode: at sys_enter, since the\n"
      "calls run; enforce mode: at sys_exit, where a denied call still returns its errno), so the list\n"
      "is exact. In complain mode the kernel's audit records (type=1326 in /dev/kmsg) are compared with\n"
      "those counts and any the kernel dropped (printk rate limit) are reported.\n"
      "When the profile says what it was mined from (sandmine mine writes it), a warning line names each\n"
      "way the container differs: image, command, a variable, a configuration file read at start\n"
      "(docs/formats.md); the verdict does not depend on them.\n\n"
      "Exit codes: 0 every step passed and no violation; 1 a step failed or a violation was seen;\n"
      "2 bad input or environment (or Ctrl-C).\n\n"
      "EXAMPLES:\n"
      "  sudo sandmine check examples/nginx.yaml --profile out/nginx/profile.json\n"
      "  sudo sandmine check examples/nginx.yaml --profile out/nginx/profile.json --mode enforce --engine "
      "docker");
  cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace sandmine::cli
