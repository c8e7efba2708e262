// sandmine record: record every container of a workflow the user already runs.
#include <fmt/format.h>

#include <filesystem>

#include "command.h"
#include "explore/miner.h"
#include "explore/record.h"
#include "profile/docker_json.h"
#include "report/html.h"
#include "report/index_page.h"
#include "report/summary.h"
#include "spec/spec.h"
#include "sys/files.h"
#include "sys/interrupt.h"

namespace sandmine::cli {

namespace {

namespace fs = std::filesystem;

struct RecordCliOptions {
  std::string engine = "docker";
  std::string output;
  double timeout = 0;
  bool docker_run = false;
  std::string args = "safe";
  std::vector<std::string> command;
};

// Writes one container's profile.json, trace.json, summary.md and
// report.html into root/<its dir>, with the writers mine uses.
report::IndexRow write_container(const std::string& root, const explore::RecordedContainer& c,
                                 profile::ArgsMode args) {
  const std::string dir = root + "/" + c.dir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw UserError("cannot create output directory " + dir + ": " + ec.message());
  auto trace_out = must(sys::OutputFile::create(dir + "/trace.json"));
  auto profile_out = must(sys::OutputFile::create(dir + "/profile.json"));
  auto summary_out = must(sys::OutputFile::create(dir + "/summary.md"));
  auto report_out = must(sys::OutputFile::create(dir + "/report.html"));
  for (const auto& line : trace::lost_values_report(c.trace)) say("[" + c.dir + "] " + line);
  std::vector<std::string> warnings;
  auto profile = explore::profile_of(c, args, warnings);
  profile.source = dir + "/profile.json";
  for (const auto& w : warnings) say("[" + c.dir + "] warning: " + w);
  const auto trace_doc = trace::to_json(c.trace);
  must(trace_out.commit(trace_doc.dump(2) + "\n"));
  must(profile_out.commit(profile::to_docker_json(profile).dump(2) + "\n"));
  // summary.md as mine writes it: a spec by the container's name and command, one step.
  spec::Spec spec;
  spec.name = c.dir;
  spec.command = c.trace.target.command;
  explore::MineResult mined{.trace = c.trace, .mining_seconds = c.trace.target.duration_ms / 1000};
  for (const auto& st : c.trace.steps)
    mined.steps.push_back({.name = st.name, .phase = st.phase, .ok = true});
  must(summary_out.commit(report::summary_markdown(spec, mined, &profile, nullptr)));
  report::ReportInput input{.trace = must(trace::trace_from_json(trace_doc, dir + "/trace.json")),
                            .profile = must(profile::read_profile(dir + "/profile.json"))};
  must(report_out.commit(report::report_html(input)));
  say(fmt::format("{}: {} syscalls allowed; wrote {}/profile.json, trace.json, summary.md, report.html{}",
                  c.dir, profile::allowed_names(profile).size(), dir,
                  c.still_running
                      ? " (it still ran when the command ended: recorded until then, then stopped "
                        "with the watched parent)"
                      : ""));
  return report::IndexRow{
      .name = c.dir, .dir = c.dir, .exit_code = 0, .status = "ok", .run = std::move(input)};
}

int run(const RecordCliOptions& o) {
  if (o.command.empty())
    throw UserError("give the command to record after --, e.g. sandmine record -o out -- docker-compose up");
  if (o.output.empty()) throw UserError("give an output directory: -o DIR");
  const auto args = *profile::args_mode_from_string(o.args);
  std::error_code ec;
  fs::create_directories(o.output, ec);
  if (ec) throw UserError("cannot create output directory " + o.output + ": " + ec.message());
  auto index_out = must(sys::OutputFile::create(o.output + "/index.html"));

  sys::InterruptGuard interrupts;
  auto result = must(explore::record_workflow(
      {.engine = o.engine,
       .command = o.command,
       .timeout = std::chrono::milliseconds(static_cast<long long>(o.timeout * 1000)),
       .docker_run = o.docker_run,
       .progress = [](const std::string& line) { say(line); }}));

  std::vector<report::IndexRow> rows;
  for (const auto& c : result.containers) rows.push_back(write_container(o.output, c, args));
  for (const auto& r : result.refused)
    rows.push_back({.name = r.name, .dir = "", .exit_code = kExitBadInput, .status = r.line});
  must(index_out.commit(report::index_html(rows)));
  say(fmt::format(
      "{} ended with exit code {} after {:.1f} s: {} containers recorded, {} refused; wrote {}/index.html",
      o.command[0], result.exit.shell_code(), result.seconds, result.containers.size(), result.refused.size(),
      o.output));

  const std::string written = result.containers.empty()
                                  ? "no profile written"
                                  : fmt::format("the profiles of the {} containers recorded well are in {}",
                                                result.containers.size(), o.output);
  if (!result.refused.empty()) {
    std::string line;
    for (const auto& r : result.refused) line += (line.empty() ? "" : "; ") + r.line;
    throw UserError(line + ": its profile would be wrong, none was written for it (" + written + ")");
  }
  if (result.interrupted_by)
    throw UserError(fmt::format("interrupted by signal {}: it was forwarded to {} and it ended with {}; {}",
                                result.interrupted_by, o.command[0], result.exit.shell_code(), written));
  if (result.timed_out)
    throw UserError(fmt::format("{} did not end within --timeout {} s and was stopped; {}", o.command[0],
                                o.timeout, written));
  if (result.exit.shell_code() != 0)
    throw UserError(fmt::format("{} failed with exit code {}; {} (recorded until it ended)", o.command[0],
                                result.exit.shell_code(), written));
  if (result.containers.empty())
    throw UserError(fmt::format(
        "{} started no container below the watched parent: give its containers ${} and ${} (docs/record.md), "
        "or use --docker-run",
        o.command[0], explore::kCgroupParentVar, explore::kSeccompVar));
  return 0;
}

}  // namespace

void add_record(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<RecordCliOptions>();
  auto* cmd = app.add_subcommand(
      "record",
      "Run a workflow you already have (docker-compose up, a CI script) and mine a profile for every "
      "container it starts");
  cmd->add_option("--engine", o->engine, "The engine the command's containers run on")
      ->check(CLI::IsMember({"docker", "podman"}))
      ->capture_default_str();
  cmd->add_option("-o,--output", o->output,
                  "Output directory: DIR/<service or name>/ per container, DIR/index.html")
      ->required();
  cmd->add_option("--timeout", o->timeout,
                  "Seconds the command may run; then its process group gets SIGTERM (SIGKILL 30 s later),\n"
                  "the profiles recorded so far are written, and sandmine exits 2 (default: no limit)")
      ->type_name("S")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--docker-run", o->docker_run,
                "Put a shim of the engine's client first on PATH: `docker run` and `docker create` (also\n"
                "`container run|create`; podman's with --engine podman) get --cgroup-parent and\n"
                "--security-opt seccomp= themselves; for scripts that call the client by name");
  cmd->add_option("--args", o->args, "Argument rules in the profiles: off, safe, strict (as mine --args)")
      ->check(CLI::IsMember({"off", "safe", "strict"}))
      ->capture_default_str();
  cmd->add_option("command", o->command, "The command to run, after --")->expected(-1);
  cmd->footer(
      "Makes a cgroup the recorder watches (each container made below it is counted apart) and the "
      "recording\n"
      "profile (allow-all, as mine uses), then runs the command with SANDMINE_CGROUP_PARENT and\n"
      "SANDMINE_SECCOMP set; its containers must get them: Compose's `cgroup_parent:\n"
      "${SANDMINE_CGROUP_PARENT}` and `security_opt: [\"seccomp=${SANDMINE_SECCOMP}\"]` (an override file\n"
      "such as docker-compose.record.yml, docs/record.md), `docker run --cgroup-parent ... --security-opt\n"
      "seccomp=...`, or --docker-run. Each container is found below the watched parent and inspected;\n"
      "when the command ends (or Ctrl-C, forwarded to its process group, or --timeout) each gets\n"
      "DIR/<Compose service, else container name>/profile.json, trace.json, summary.md and report.html,\n"
      "and DIR/index.html lists them. A container the command started outside the watched parent or\n"
      "without the recording profile is refused: exit 2, one line naming it (a profile from it would be\n"
      "wrong); the others' profiles are still written. The command's non-zero exit code is exit 2 as well,\n"
      "with the profiles recorded until then written. Everything sandmine made is removed at the end; the\n"
      "containers are the command's own (one still running is stopped with the watched parent).\n\n"
      "EXAMPLES:\n"
      "  sudo sandmine record -o out -- docker-compose -f docker-compose.yml -f docker-compose.record.yml "
      "\\\n"
      "      up --abort-on-container-exit\n"
      "  sudo sandmine record --docker-run -o out -- ./ci/integration-tests.sh\n"
      "  sudo sandmine record --engine podman --docker-run --timeout 300 -o out -- make e2e\n"
      "  sudo sandmine check spec.yaml --profile out/api/profile.json --mode enforce");
  cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace sandmine::cli
