// sandmine profile: a seccomp profile from one or more traces.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <ranges>
#include <set>

#include "command.h"
#include "profile/docker_json.h"
#include "profile/from_trace.h"
#include "profile/timing.h"
#include "sys/files.h"
#include "trace/trace.h"

namespace sandmine::cli {

namespace {

struct ProfileOptions {
  std::vector<std::string> traces;
  std::string output;
  bool allow_partial = false;
  bool exact = false;
  std::string args = "safe";
};

int run(const ProfileOptions& o) {
  std::optional<sys::OutputFile> out;
  if (!o.output.empty()) out.emplace(must(sys::OutputFile::create(o.output)));
  std::vector<trace::Trace> traces;
  for (const auto& path : o.traces) {
    auto t = must(trace::read_trace(path));
    if (t.partial && !o.allow_partial)
      throw UserError(path + " is a partial trace (" + t.partial_reason +
                      "): a profile from it may deny what the program needs; record again, or pass "
                      "--allow-partial");
    traces.push_back(std::move(t));
  }
  std::vector<std::string> warnings;
  const auto args = *profile::args_mode_from_string(o.args);
  auto sandbox = profile::from_traces(traces, warnings, {.args = args});
  if (!o.output.empty()) sandbox.source = o.output;
  for (const auto& w : warnings) say("warning: " + w);
  if (!o.exact) {
    bool container =
        std::any_of(traces.begin(), traces.end(), [](const auto& t) { return t.target.kind == "container"; });
    auto added = profile::add_timing_dependent(sandbox, container, args);
    if (!added.empty())
      say(
          fmt::format("added {} (needed depending on when signals arrive or the runtime schedules, which a "
                      "recording sees only by chance; --exact leaves them out)",
                      fmt::join(added, ", ")));
  }
  std::string text = profile::to_docker_json(sandbox).dump(2) + "\n";
  if (out) {
    must(out->commit(text));
    say(fmt::format("wrote {}: {} syscalls allowed on {}", o.output, profile::permitted_names(sandbox).size(),
                    fmt::join(sandbox.arches, ", ")));
  } else {
    fmt::print("{}", text);
  }
  return 0;
}

}  // namespace

void add_profile(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ProfileOptions>();
  auto* cmd =
      app.add_subcommand("profile", "Turn traces into a seccomp profile (Docker/OCI JSON), their union");
  cmd->add_option("traces", o->traces, "trace.json files from sandmine trace or mine")
      ->required()
      ->expected(-1);
  cmd->add_option("-o,--output", o->output, "Write the profile here (default: standard output)");
  cmd->add_flag("--allow-partial", o->allow_partial, "Accept traces that were interrupted");
  cmd->add_option("--args", o->args,
                  "Argument rules: off (names only), safe (the arguments a program's configuration\n"
                  "decides: socket families, namespace flags, PROT_EXEC, ...), strict (also ioctl\n"
                  "requests, prctl options, signals, ...; data/argument_rules.csv says which)")
      ->check(CLI::IsMember({"off", "safe", "strict"}))
      ->capture_default_str();
  cmd->add_flag("--exact", o->exact,
                "Allow exactly what the traces saw: do not add the timing-dependent syscalls "
                "(data/timing_dependent.csv)");
  cmd->footer(
      "The profile denies everything with EPERM (defaultAction SCMP_ACT_ERRNO, defaultErrnoRet 1)\n"
      "except the syscalls the traces saw, on the architectures they used; other ABIs (i386 via\n"
      "int $0x80, x32) are denied. It is accepted as-is by docker/podman run --security-opt seccomp=FILE\n"
      "and as linux.seccomp in a runc config.json.\n\n"
      "With --args safe (the default) or strict, a syscall whose arguments were mined\n"
      "(data/argument_rules.csv) is allowed only for the values seen, one rule per combination;\n"
      "clone3 returns ENOSYS (its flags are behind a pointer) and clone gets the flags seen in either.\n"
      "Syscalls whose values are incomplete are allowed by name, and said so.\n\n"
      "It also allows the few syscalls a program needs depending on when signals arrive rather than on\n"
      "what it does (rt_sigreturn, restart_syscall; data/timing_dependent.csv says why): a recording\n"
      "sees them only by chance, and a denied rt_sigreturn crashes the program. --exact leaves them out.\n\n"
      "EXAMPLES:\n"
      "  sandmine profile nginx.json -o nginx-profile.json\n"
      "  sandmine profile --args off nginx.json -o names-only.json\n"
      "  sandmine profile run1.json run2.json -o union.json");
  cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace sandmine::cli
