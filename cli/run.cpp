// sandmine run: run a command under a seccomp profile and name its violations.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "command.h"
#include "profile/docker_json.h"
#include "profile/filter.h"
#include "profile/judge.h"
#include "report/check_report.h"
#include "sys/files.h"
#include "sys/interrupt.h"
#include "sys/spawn.h"
#include "syscalls/syscalls.h"
#include "trace/ebpf_recorder.h"
#include "util/json.h"

namespace sandmine::cli {

namespace {

using nlohmann::json;

struct RunCliOptions {
  std::string profile;
  std::string mode = "enforce";
  std::string output;
  std::string btf = "/sys/kernel/btf/vmlinux";
  bool fail_on_violation = false;
  std::vector<std::string> command;
};

/// One reported violation: calls to one syscall (or with one set of argument
/// values) by one process name.
struct Reported {
  trace::SyscallKey key;
  std::string label;                        ///< "mkdir", or the call: "socket(AF_NETLINK, SOCK_RAW, 0)"
  std::vector<profile::CallArgument> args;  ///< for a call decided by its arguments
  std::string process;                      ///< "?" when no call returned (exit, exit_group)
  std::uint64_t count = 0;
  std::uint64_t denied = 0;
};

std::string syscall_name(const trace::SyscallKey& key) {
  return syscalls::name_of(key.arch, key.nr).value_or("#" + std::to_string(key.nr));
}

// Which calls were outside the profile (profile::judge, the rule `check`
// applies too). A call the profile decides by its arguments is named with
// them when its values are outside; then it ran in complain mode and was
// denied in enforce mode. Enforce: the rows of syscalls outside whatever
// their arguments, as the recorder saw them return. Complain: logged calls
// go through, so sys_enter counted each one (also exit and exit_group, which
// never return); the rows name who made them, and calls no row accounts for
// are "?".
std::vector<Reported> reported_violations(const trace::Recording& rec, const profile::Profile& prof,
                                          const trace::Watch& watch, profile::FilterMode mode) {
  std::vector<Reported> out;
  for (const auto& row : rec.violations.rows) {
    if (!row.args || profile::judge(prof, row.key, *row.args) != profile::Verdict::outside) continue;
    const auto& masks = watch.arguments.at(row.key);
    out.push_back({row.key, profile::describe_call(row.key, *row.args, masks),
                   profile::call_arguments(row.key, *row.args, masks), row.comm, row.count,
                   mode == profile::FilterMode::enforce ? row.denied : 0});
  }
  if (mode == profile::FilterMode::enforce) {
    for (const auto& row : rec.violations.rows)
      if (!row.args && profile::outside_by_name(prof, row.key))
        out.push_back({row.key, syscall_name(row.key), {}, row.comm, row.count, row.denied});
    return out;
  }
  std::map<trace::SyscallKey, std::vector<const trace::Violation*>> rows;
  for (const auto& row : rec.violations.rows)
    if (!row.args && profile::outside_by_name(prof, row.key)) rows[row.key].push_back(&row);
  std::set<trace::SyscallKey> keys;
  for (const auto& [key, tally] : rec.counts.armed)
    if (!watch.arguments.contains(key) && profile::outside_by_name(prof, key)) keys.insert(key);
  for (const auto& [key, list] : rows) keys.insert(key);
  for (const auto& key : keys) {
    auto entered = rec.counts.armed.count(key) ? rec.counts.armed.at(key).count : 0;
    const auto& list = rows[key];
    std::uint64_t returned = 0;
    for (const auto* row : list) returned += row->count;
    // Nothing is denied in complain mode: a call that returned the profile's
    // errno did so on its own.
    if (list.size() == 1) {
      out.push_back({key, syscall_name(key), {}, list[0]->comm, std::max(entered, returned), 0});
      continue;
    }
    for (const auto* row : list) out.push_back({key, syscall_name(key), {}, row->comm, row->count, 0});
    if (entered > returned) out.push_back({key, syscall_name(key), {}, "?", entered - returned, 0});
  }
  return out;
}

std::string outcome(const Reported& v, profile::FilterMode mode) {
  if (mode == profile::FilterMode::complain) return "logged";
  if (v.denied == v.count) return "denied";
  if (v.denied == 0) return "not denied";
  return fmt::format("{} of {} denied", v.denied, v.count);
}

int run(const RunCliOptions& o) {
  if (o.command.empty())
    throw UserError("no command given: sandmine run --profile P [OPTIONS] -- CMD [ARGS...]");
  auto mode = o.mode == "complain" ? profile::FilterMode::complain : profile::FilterMode::enforce;
  auto prof = must(profile::read_profile(o.profile));
  for (const auto& w : prof.warnings) say("warning: " + w);
  if (!prof.flags.empty())
    say(
        fmt::format("warning: profile {}: flags ({}) are not applied: they change what the kernel logs and "
                    "speculation mitigations, not what the profile allows",
                    o.profile, fmt::join(prof.flags, ", ")));
  auto filter = must(profile::compile_filter(prof, mode));
  auto allowed = profile::allowed_set(prof);
  auto watch = profile::watch_for(prof);
  std::string native = syscalls::native_arch();
  auto execve_nr = syscalls::number_of(native, "execve");
  if (mode == profile::FilterMode::enforce && execve_nr && !allowed.count({native, *execve_nr}))
    throw UserError("profile " + o.profile + " does not allow execve on " + native +
                    ": no command can start under it (allow execve, or use --mode complain)");
  std::string executable = must(sys::find_executable(o.command[0]));

  std::optional<sys::OutputFile> out;
  if (!o.output.empty()) out.emplace(must(sys::OutputFile::create(o.output)));

  auto recorder = must(trace::EbpfRecorder::open({.btf_path = o.btf, .violations = true}));
  if (recorder->mounted_tracefs())
    say("tracefs was not mounted: mounted it at /sys/kernel/tracing for this run (unmounted at exit)");
  sys::InterruptGuard interrupts;
  auto rec = must(recorder->record(
      {.argv = o.command, .executable = executable, .seccomp_filter = filter, .watch = watch}));

  auto violations = reported_violations(rec, prof, watch, mode);
  std::uint64_t calls = 0;
  for (const auto& v : violations) {
    calls += v.count;
    say(fmt::format("violation: {} {} by \"{}\" x{} ({})", v.key.arch, v.label, v.process, v.count,
                    outcome(v, mode)));
  }
  std::set<trace::SyscallKey> distinct;
  for (const auto& v : violations) distinct.insert(v.key);
  say(fmt::format("{} ran under {} ({} mode): {}", o.command[0], o.profile, profile::mode_name(mode),
                  distinct.empty() ? std::string("no violations")
                                   : fmt::format("{} call{} to {} syscall{} outside the profile", calls,
                                                 calls == 1 ? "" : "s", distinct.size(),
                                                 distinct.size() == 1 ? "" : "s")));

  if (out) {
    json list = json::array();
    for (const auto& v : violations) {
      json row = {{"arch", v.key.arch},
                  {"syscall", syscalls::name_of(v.key.arch, v.key.nr) ? json(syscall_name(v.key)) : json()},
                  {"nr", v.key.nr},
                  {"process", v.process},
                  {"count", v.count},
                  {"denied", v.denied}};
      if (!v.args.empty()) {
        row["call"] = v.label;
        row["args"] = report::call_arguments_json(v.args);
      }
      list.push_back(std::move(row));
    }
    json doc = {{"profile", o.profile},
                {"mode", profile::mode_name(mode)},
                {"command", o.command},
                {"exit", rec.exit.shell_code()},
                {"violations", list}};
    if (rec.interrupted_by) {
      doc["partial"] = true;
      doc["partial_reason"] = "interrupted by " + trace::ExitStatus::signal_name(rec.interrupted_by) +
                              "; the command was stopped";
    }
    repair_utf8(doc);  // argv and process names need not be UTF-8
    must(out->commit(doc.dump(2) + "\n"));
  }
  if (rec.interrupted_by)
    throw UserError("interrupted by " + trace::ExitStatus::signal_name(rec.interrupted_by) + ": stopped " +
                    o.command[0] +
                    (out ? "; partial result (marked partial) written to " + o.output : std::string()));
  if (o.fail_on_violation && !violations.empty()) return kExitFailed;
  return rec.exit.shell_code();
}

}  // namespace

void add_run(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<RunCliOptions>();
  auto* cmd = app.add_subcommand("run", "Run a command under a seccomp profile and name every violation");
  cmd->add_option("--profile", o->profile, "The seccomp profile (Docker/OCI JSON)")->required();
  cmd->add_option("--mode", o->mode,
                  "enforce: the profile as written (default); complain: everything it does not allow is "
                  "logged and goes through")
      ->check(CLI::IsMember({"enforce", "complain"}))
      ->capture_default_str();
  cmd->add_option("-o,--output", o->output,
                  "Write the result here: {profile, mode, command, exit, violations: [{arch, syscall, nr, "
                  "process, count, denied}]}");
  cmd->add_flag("--fail-on-violation", o->fail_on_violation,
                "Exit 1 when there was any violation, whatever the command's exit status");
  cmd->add_option("--btf", o->btf, "Kernel BTF for the eBPF recorder")->capture_default_str();
  cmd->add_option("command", o->command, "The command to run, after --")->expected(-1);
  cmd->footer(
      "The filter is installed just before exec, after no_new_privs, and is inherited by every thread\n"
      "and child. The default mode is enforce: the command really runs under the sandbox (`sandmine check`\n"
      "defaults to complain). Calls through an architecture the profile does not list (i386 int $0x80, x32)\n"
      "get the profile's default action, as do calls outside it.\n\n"
      "Every call outside the profile is named on stderr after the command ends, one line per syscall and\n"
      "process name: `sandmine: violation: x86_64 mkdir by \"busybox\" x3 (denied)`. Process \"?\" stands "
      "for\n"
      "calls that never return (exit, exit_group) in complain mode.\n\n"
      "stdin, stdout and stderr are the command's; sandmine's own lines go to stderr, prefixed \"sandmine: "
      "\".\n"
      "The exit status is the command's (128+N when signal N killed it): violations are reported, not "
      "turned\n"
      "into a failure, unless --fail-on-violation is given (then 1 when there was any). Bad input (missing\n"
      "or malformed profile, unknown syscall, no command) exits 2 with one line.\n\n"
      "EXAMPLES:\n"
      "  sudo sandmine run --profile curl-profile.json -- curl -s example.org\n"
      "  sudo sandmine run --profile p.json --mode complain -o result.json -- ./server --once\n"
      "  sudo sandmine run --profile p.json --fail-on-violation -- make test");
  cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace sandmine::cli
