// sandmine mine: mine a container's sandbox from a spec.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "command.h"
#include "engine/ulimit.h"
#include "explore/pipeline.h"
#include "explore/starter.h"
#include "image/fetch.h"
#include "profile/docker_json.h"
#include "reach/reach_json.h"
#include "report/check_report.h"
#include "report/html.h"
#include "report/index_page.h"
#include "report/summary.h"
#include "spec/spec.h"
#include "sys/files.h"
#include "sys/interrupt.h"
#include "syscalls/syscalls.h"
#include "trace/ebpf_recorder.h"
#include "trace/trace.h"
#include "work_dir.h"

namespace sandmine::cli {

namespace {

namespace fs = std::filesystem;

struct MineCliOptions {
  std::vector<std::string> specs;
  std::string engine = "runc";
  std::string output;
  std::string cache;
  std::vector<std::string> ulimits;
  std::string check_mode = "complain";
  std::string args = "safe";
  std::string allow = "seen";
  bool include_validate = false;
  int until_saturated = 0;
  int max_rounds = 5;
  std::string image;                 ///< --image: no spec file, init's starter spec
  std::string ready;                 ///< --ready with --image
  std::vector<std::string> explore;  ///< --explore with --image
  int jobs = 1;                      ///< -j: specs mined at once
};

// What a run shares with others mined at once (-j).
struct Concurrent {
  std::shared_ptr<trace::EbpfRecorder> recorder;  ///< null: the run opens its own
  std::string prefix;                             ///< before each of its lines: "[name] "
  bool own_interrupts = true;                     ///< false: the caller catches Ctrl-C for all runs
};

// What one mining run left for the index page.
struct Mined {
  std::optional<report::ReportInput> report;  ///< set once its trace was written
  std::string status;                         ///< one line when it did not fail outright
};

// bench.json when this run wrote it (one left from an earlier run would
// describe another profile).
std::optional<nlohmann::json> fresh_bench(const std::string& dir, fs::file_time_type started) {
  std::error_code ec;
  auto written = fs::last_write_time(dir + "/bench.json", ec);
  if (ec || written < started) return std::nullopt;
  auto doc = nlohmann::json::parse(sys::read_file(dir + "/bench.json").value_or(""), nullptr, false);
  if (doc.is_discarded()) return std::nullopt;
  return doc;
}

// Mines one spec into dir. Bad input and a failed run are a UserError
// (mined.report is filled in first when a trace was written); 1 when the
// held-out check failed.
int mine_one(const spec::Spec& spec, const std::string& dir, const MineCliOptions& o,
             const engine::EngineOptions& engine_options, Mined& mined, const Concurrent& with = {}) {
  auto say = [&](const std::string& line) { cli::say(with.prefix + line); };
  const auto started = fs::file_time_type::clock::now();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw UserError("cannot create output directory " + dir + ": " + ec.message());
  // Every output is checked writable before anything starts.
  auto trace_out = must(sys::OutputFile::create(dir + "/trace.json"));
  auto profile_out = must(sys::OutputFile::create(dir + "/profile.json"));
  auto summary_out = must(sys::OutputFile::create(dir + "/summary.md"));
  auto log_out = must(sys::OutputFile::create(dir + "/mine.log"));
  auto check_out = must(sys::OutputFile::create(dir + "/check.json"));
  auto report_out = must(sys::OutputFile::create(dir + "/report.html"));
  std::optional<sys::OutputFile> reach_out;
  if (o.allow == "reachable-safe") reach_out.emplace(must(sys::OutputFile::create(dir + "/reach.json")));
  std::error_code rm;
  fs::remove(dir + "/container.log", rm);

  std::string log;
  auto progress = [&](const std::string& line) {
    say(line);
    log += line + "\n";
  };
  std::optional<sys::InterruptGuard> interrupts;
  if (with.own_interrupts) interrupts.emplace();
  say(fmt::format("mining {} with {} ({} explore steps{})", spec.name, o.engine, spec.explore.size(),
                  o.until_saturated > 0
                      ? fmt::format(", in rounds until {} in a row add no syscall, at most {} rounds",
                                    o.until_saturated, o.max_rounds)
                      : ""));
  explore::PipelineOptions options{
      .mine = {.engine = o.engine,
               .engine_options = engine_options,
               .work_dir = dir,
               .cache_dir = o.cache,
               .until_saturated = o.until_saturated,
               .max_rounds = o.max_rounds,
               .progress = progress,
               .recorder = with.recorder},
      .check_mode = o.check_mode == "enforce" ? explore::CheckMode::Enforce : explore::CheckMode::Complain,
      .include_validate = o.include_validate,
      .profile_path = dir + "/profile.json",
      .args = *profile::args_mode_from_string(o.args),
      .allow_reachable_safe = o.allow == "reachable-safe"};
  auto outcome = must(explore::mine_and_check(spec, options, explore::real_stages(spec, options)));
  const auto& result = outcome.mined;
  const auto& held_out = outcome.held_out;

  for (const auto& step : result.steps) {
    if (!step.ok) log += "--- " + step.phase + " " + step.name + " FAILED: " + step.failure + "\n";
    if (!step.output.empty()) log += "--- output of " + step.phase + " " + step.name + "\n" + step.output;
  }
  if (held_out) {
    for (const auto& step : held_out->steps)
      if (!step.output.empty()) log += "--- output of validate " + step.name + "\n" + step.output;
    for (const auto& line : report::violation_lines(*held_out)) progress("held-out violation: " + line);
  }
  const auto trace_doc = trace::to_json(result.trace);
  must(trace_out.commit(trace_doc.dump(2) + "\n"));
  if (outcome.profile) must(profile_out.commit(profile::to_docker_json(*outcome.profile).dump(2) + "\n"));
  if (held_out)
    must(check_out.commit(report::check_json(spec.name, dir + "/profile.json", o.engine, *held_out).dump(2) +
                          "\n"));
  must(summary_out.commit(report::summary_markdown(
      spec, result, outcome.profile ? &*outcome.profile : nullptr, held_out ? &*held_out : nullptr)));
  must(log_out.commit(log));
  std::optional<nlohmann::json> reach_doc;
  if (outcome.reach) {
    reach_doc = reach::to_json(*outcome.reach, result.trace.target.image);
    must(reach_out->commit(reach_doc->dump(2) + "\n"));
  }
  // The report shows what the files say, so `sandmine report DIR` writes the same page again.
  report::ReportInput report_input{.trace = must(trace::trace_from_json(trace_doc, dir + "/trace.json"))};
  if (outcome.profile) report_input.profile = must(profile::read_profile(dir + "/profile.json"));
  if (held_out)
    report_input.check = report::check_json(spec.name, dir + "/profile.json", o.engine, *held_out);
  report_input.bench = fresh_bench(dir, started);
  report_input.reach = reach_doc;
  must(report_out.commit(report::report_html(report_input)));
  mined.report = std::move(report_input);

  if (int sig = sys::interrupt_signal())
    throw UserError(fmt::format(
        "interrupted by signal {}: the container was stopped and removed; partial trace in {}{}", sig,
        dir + "/trace.json", outcome.profile ? ", profile in " + dir + "/profile.json" : ""));
  if (result.failed)
    throw UserError(result.failure +
                    "; no profile written (a profile from a broken run would deny what "
                    "the container needs); partial trace in " +
                    dir + "/trace.json, log in " + dir + "/mine.log");
  if (!outcome.reach_error.empty())
    throw UserError(outcome.reach_error + "; the profile in " + dir +
                    "/profile.json is what was mined, without the additions, and was not checked");
  if (!outcome.check_error.empty())
    throw UserError("the held-out check could not run: " + outcome.check_error + "; the profile is in " +
                    dir + "/profile.json");
  say(fmt::format(
      "mined {} in {:.1f} s (image {:.1f} s): {} syscalls allowed; wrote {}/profile.json, trace.json, "
      "summary.md, report.html, mine.log",
      spec.name, result.mining_seconds, result.image_seconds,
      profile::permitted_names(*outcome.profile).size(), dir));
  if (held_out && !held_out->passed()) {
    for (const auto& step : held_out->steps)
      if (!step.ok) say("held-out check failed: " + step.phase + " " + step.name + ": " + step.failure);
    if (!held_out->violations.empty())
      say(
          fmt::format("held-out check failed: {} syscalls outside the profile (see {}/check.json; "
                      "--include-validate folds them in)",
                      held_out->violations.size(), dir));
    mined.status = held_out->violations.empty()
                       ? "held-out check failed: a validate step failed"
                       : fmt::format("held-out check failed: {} syscalls outside the profile",
                                     held_out->violations.size());
    return kExitFailed;
  }
  mined.status = "ok";
  if (held_out)
    say(fmt::format("held-out check passed: {} validate steps under the mined profile, no call outside it",
                    spec.validate.size()));
  return 0;
}

// Several specs: each into root/<name>, then root/index.html. A failing
// spec does not stop the others; the exit code is the worst of them.
int mine_several(const MineCliOptions& o, const engine::EngineOptions& engine_options) {
  std::string root = o.output.empty() ? "out" : o.output;
  std::vector<std::pair<std::string, Result<spec::Spec>>> specs;
  std::set<std::string> names;
  for (const auto& file : o.specs) {
    auto spec = spec::read_spec(file);
    std::string name = spec ? spec->name : fs::path(file).stem().string();
    if (spec && !names.insert(name).second)
      throw UserError(
          fmt::format("two specs are named {} (each is mined into {}/<name>): rename one", name, root));
    specs.emplace_back(name, std::move(spec));
  }
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) throw UserError("cannot create output directory " + root + ": " + ec.message());
  auto index_out = must(sys::OutputFile::create(root + "/index.html"));

  // -j N: up to N specs at once, one recorder for all (a target each), one
  // Ctrl-C handler for all; rows keep the specs' order.
  const size_t jobs = std::min(specs.size(), static_cast<size_t>(std::max(o.jobs, 1)));
  Concurrent shared;
  std::optional<sys::InterruptGuard> interrupts;
  if (jobs > 1) {
    interrupts.emplace();
    shared.recorder = must(trace::EbpfRecorder::open());
    shared.own_interrupts = false;
    say(fmt::format("mining {} specs, {} at once, on one recorder", specs.size(), jobs));
  }
  std::vector<std::optional<report::IndexRow>> done(specs.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; !sys::interrupt_signal() && (i = next++) < specs.size();) {
      auto& [name, spec] = specs[i];
      say(fmt::format("[spec {}/{}] {}", i + 1, specs.size(), name));
      Concurrent with = shared;
      if (jobs > 1) with.prefix = "[" + name + "] ";
      report::IndexRow row{.name = name, .dir = name};
      Mined mined;
      try {
        if (!spec) throw UserError(spec.error().message);
        row.exit_code = mine_one(*spec, (fs::path(root) / name).string(), o, engine_options, mined, with);
        row.status = mined.status;
      } catch (const std::exception& e) {  // UserError, or anything else that ended this run
        row.exit_code = kExitBadInput;
        row.status = e.what();
        say(with.prefix + e.what());
        if (i + 1 < specs.size() && !sys::interrupt_signal())
          say(fmt::format("{} failed; going on with the other specs", name));
      }
      row.run = std::move(mined.report);
      done[i] = std::move(row);
    }
  };
  if (jobs == 1) {
    work();
  } else {
    std::vector<std::thread> workers;
    for (size_t j = 0; j < jobs; ++j) workers.emplace_back(work);
    for (auto& w : workers) w.join();
  }
  std::vector<report::IndexRow> rows;
  int worst = 0;
  for (auto& row : done)
    if (row) {
      worst = std::max(worst, row->exit_code);
      rows.push_back(std::move(*row));
    }
  must(index_out.commit(report::index_html(rows)));
  auto count = [&](int code) {
    return std::count_if(rows.begin(), rows.end(), [&](const auto& r) { return r.exit_code == code; });
  };
  say(fmt::format("mined {} of {} specs: {} ok, {} failed the held-out check, {} failed; wrote {}/index.html",
                  rows.size(), specs.size(), count(0), count(kExitFailed), count(kExitBadInput), root));
  if (int sig = sys::interrupt_signal())
    throw UserError(fmt::format("interrupted by signal {}: {} of {} specs mined; index in {}/index.html", sig,
                                rows.size(), specs.size(), root));
  return worst;
}

int run(const MineCliOptions& o) {
  // Bad flags are an error before any spec is read.
  const engine::EngineOptions engine_options{.ulimits = must(engine::parse_ulimits(o.ulimits))};
  if (!o.image.empty()) {
    // The spec `sandmine init` would write, plus the given steps.
    if (!o.specs.empty()) throw UserError("give a spec or --image, not both");
    auto image = must(image::image_from_argument(o.image));
    std::optional<spec::ReadyProbe> ready;
    if (!o.ready.empty()) ready = must(explore::parse_ready_argument(o.ready));
    explore::Starter starter;
    {
      WorkDir work("sandmine-init-");
      sys::InterruptGuard interrupts;
      starter = must(explore::starter_spec(image, {.engine = o.engine,
                                                   .engine_options = engine_options,
                                                   .cache_dir = o.cache,
                                                   .work_dir = work.path(),
                                                   .ready = ready,
                                                   .explore = o.explore,
                                                   .progress = [](const std::string& l) { say(l); }}));
    }
    if (sys::interrupt_signal()) throw UserError("interrupted while the image was started to write its spec");
    Mined mined;
    return mine_one(starter.spec, o.output.empty() ? "out/" + starter.spec.name : o.output, o, engine_options,
                    mined);
  }
  if (!o.ready.empty() || !o.explore.empty()) throw UserError("--ready and --explore go with --image");
  if (o.specs.empty()) throw UserError("give a spec file (or --image IMAGE)");
  if (o.specs.size() > 1) return mine_several(o, engine_options);
  auto spec = must(spec::read_spec(o.specs[0]));
  Mined mined;
  return mine_one(spec, o.output.empty() ? "out/" + spec.name : o.output, o, engine_options, mined);
}

}  // namespace

void add_mine(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<MineCliOptions>();
  auto* cmd = app.add_subcommand("mine",
                                 "Mine a container's seccomp profile: run it under the recorder and drive it "
                                 "with the spec's steps");
  cmd->add_option(
      "spec", o->specs,
      "The spec (YAML; docs/spec.md). Several: each is mined into DIR/<name>, and DIR/index.html\n"
      "links their reports");
  cmd->add_option("--image", o->image,
                  "No spec file: mine the spec `sandmine init IMAGE` would write (the image's command,\n"
                  "ready probe, handled signals, a restart, its stop), plus --explore steps. IMAGE: a\n"
                  "reference in Docker's or Podman's store, oci:DIR[:TAG], docker-archive:FILE");
  cmd->add_option("--ready", o->ready,
                  "With --image: tcp:PORT or http:PORT[/PATH], replacing the config's probe");
  cmd->add_option("--explore", o->explore,
                  "With --image: a shell command run on the host in the container's network namespace\n"
                  "(as a run step), before the signal steps; repeat for more")
      ->type_name("CMD")
      ->allow_extra_args(false);
  cmd->add_option("--engine", o->engine, "Container engine")
      ->check(CLI::IsMember({"runc", "docker", "podman"}))
      ->capture_default_str();
  cmd->add_option("-j,--jobs", o->jobs,
                  "With several specs: mine up to N at once, each with its own image, container,\n"
                  "output and held-out check, all on one recorder (16 targets; a check takes one too)")
      ->type_name("N")
      ->check(CLI::Range(1, 8))
      ->capture_default_str();
  cmd->add_option("-o,--output", o->output,
                  "Output directory (default: out/<spec name>; with several specs, out)");
  cmd->add_option("--cache", o->cache, "Image cache directory (default: /var/cache/sandmine/images)");
  cmd->add_option("--check-mode", o->check_mode,
                  "Mode of the held-out check: complain (denials only logged, every call outside the\n"
                  "profile named) or enforce (the profile as it is)")
      ->check(CLI::IsMember({"complain", "enforce"}))
      ->capture_default_str();
  cmd->add_option("--args", o->args,
                  "Argument rules in the profile: off (names only), safe (socket families, namespace\n"
                  "flags, PROT_EXEC, futex's PI operations, ...), strict (also ioctl requests, prctl\n"
                  "options, signals, ...); data/argument_rules.csv says which argument is in which tier")
      ->check(CLI::IsMember({"off", "safe", "strict"}))
      ->capture_default_str();
  cmd->add_option("--allow", o->allow,
                  "What the profile allows: seen (what mining recorded, with the timing-dependent\n"
                  "calls), or reachable-safe (also what the binaries the container ran can reach\n"
                  "but mining never saw, when it is neither risky nor on a kernel CVE path: static\n"
                  "analysis as sandmine reach does it, in a rule whose comment says so; writes\n"
                  "DIR/reach.json)")
      ->check(CLI::IsMember({"seen", "reachable-safe"}))
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
  auto* until =
      cmd->add_option("--until-saturated", o->until_saturated,
                      "Repeat the explore steps in rounds (round r names them name#r) until K explore\n"
                      "steps in a row add no syscall, or --max-rounds have run; says why it stopped")
          ->type_name("K")
          ->check(CLI::Range(1, 1000));
  cmd->add_option("--max-rounds", o->max_rounds, "The most rounds --until-saturated runs")
      ->check(CLI::Range(1, 1000))
      ->needs(until)
      ->capture_default_str();
  cmd->footer(
      "Builds the image (cached by recipe), starts the container in a cgroup the recorder already watches,\n"
      "under an allow-all profile so the runtime arms it exactly where it will install the mined one,\n"
      "waits until ready, runs the explore steps (snapshot after each; an auto step's generated steps are\n"
      "steps of their own, docs/explore-auto.md), stops it (shutdown is recorded\n"
      "too), and writes DIR/profile.json (Docker/OCI seccomp), trace.json (each syscall's first step, each\n"
      "step's syscalls, the coverage estimate of docs/coverage.md), summary.md, report.html (charts, one\n"
      "self-contained file; `sandmine report DIR` writes it again) and mine.log. A failing step stops\n"
      "mining: exit 2, partial trace, no profile.\n"
      "Then the held-out check (as `sandmine check`): the container under the mined profile runs the\n"
      "validate steps, every call outside the profile is named with its step (DIR/check.json, summary.md);\n"
      "exit 1 when a step fails or a call falls outside (the profile misses something the container\n"
      "needs). Such calls are reported, not folded in, unless --include-validate.\n"
      "Several specs: each is mined into DIR/<name> in turn (a failing one does not stop the others) and\n"
      "DIR/index.html gets one row per container; the exit code is the worst of the runs (2 > 1 > 0).\n"
      "-j N mines up to N of them at once on one recorder (each line starts with [name]); the profiles\n"
      "are those mined one at a time; Ctrl-C stops every run and writes the index of those begun.\n"
      "The profile records what it was mined from (image, command, environment as digests, the\n"
      "configuration files read at start; `sandmine explain` shows it, `sandmine check` warns on a change).\n"
      "--image IMAGE instead of a spec: the spec `sandmine init IMAGE` would write (docs/commands.md),\n"
      "with each --explore command as a run step before its signal steps (and its auto step, which\n"
      "mutates their traffic); DIR defaults to out/<name>.\n\n"
      "EXAMPLES:\n"
      "  sudo sandmine mine examples/busybox-httpd.yaml -o out/httpd\n"
      "  sudo sandmine mine examples/busybox-httpd.yaml --until-saturated 4 -o out/httpd\n"
      "  sudo sandmine mine examples/nginx.yaml --args strict -o out/nginx-strict\n"
      "  sudo sandmine mine examples/redis.yaml --allow reachable-safe -o out/redis   # + reach.json\n"
      "  sudo sandmine mine examples/nginx.yaml examples/redis.yaml -o out   # out/index.html\n"
      "  sudo sandmine init myorg/api:1.4 -o api.yaml && sudo sandmine mine api.yaml   # + its auto step\n"
      "  sudo sandmine mine examples/*.yaml -j 3 -o out                      # three at a time\n"
      "  sudo sandmine mine --image myorg/api:1.4 --explore 'curl -sf http://127.0.0.1:8080/' -o out/api\n"
      "  docker run --security-opt seccomp=out/httpd/profile.json ...");
  cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace sandmine::cli
