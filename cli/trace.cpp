// sandmine trace: record a command's syscalls.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "command.h"
#include "sys/files.h"
#include "sys/interrupt.h"
#include "sys/spawn.h"
#include "syscalls/argument_names.h"
#include "trace/ebpf_recorder.h"
#include "trace/ptrace_recorder.h"
#include "trace/trace.h"

namespace sandmine::cli {

namespace {

struct TraceOptions {
  std::string backend = "ebpf";
  std::string output;
  std::string btf = "/sys/kernel/btf/vmlinux";
  bool no_recording_filter = false;
  bool list = false;
  std::vector<std::string> command;
};

std::unique_ptr<trace::Recorder> open_recorder(const TraceOptions& o) {
  if (o.backend == "ptrace") return must(trace::PtraceRecorder::create());
  auto rec = must(trace::EbpfRecorder::open({o.btf}));
  if (rec->mounted_tracefs())
    say("tracefs was not mounted: mounted it at /sys/kernel/tracing for this run (unmounted at exit)");
  return rec;
}

int run(const TraceOptions& o) {
  if (o.command.empty()) throw UserError("no command given: sandmine trace [OPTIONS] -- CMD [ARGS...]");
  std::string executable = must(sys::find_executable(o.command[0]));

  std::optional<sys::OutputFile> out;
  if (!o.output.empty()) out.emplace(must(sys::OutputFile::create(o.output)));

  auto recorder = open_recorder(o);
  sys::InterruptGuard interrupts;
  auto rec = must(recorder->record(
      {.argv = o.command, .executable = executable, .recording_filter = !o.no_recording_filter}));

  trace::Trace t;
  t.backend = std::string(recorder->backend());
  t.target.command = o.command;
  if (rec.exit.signal)
    t.target.exit_signal = rec.exit.signal;
  else
    t.target.exit_code = rec.exit.code;
  t.target.duration_ms = static_cast<double>(rec.end_ns - rec.start_ns) / 1e6;
  t.syscalls = trace::entries_from(rec.counts.armed, rec.start_ns);
  t.unarmed = trace::entries_from(rec.counts.unarmed, rec.start_ns);
  for (const auto& e : rec.execs)
    t.binaries.push_back(
        {e.path, e.count, static_cast<double>(e.first_ns - std::min(e.first_ns, rec.start_ns)) / 1e6, {}});
  if (rec.interrupted_by) {
    t.partial = true;
    t.partial_reason =
        "interrupted by " + trace::ExitStatus::signal_name(rec.interrupted_by) + "; the command was stopped";
  }
  if (out) must(out->commit(trace::to_json(t).dump(2) + "\n"));

  if (o.list)
    for (const auto& e : t.syscalls) {
      fmt::print(stderr, "{:8} {:24} {:>10}\n", e.arch, e.name.empty() ? "#" + std::to_string(e.nr) : e.name,
                 e.count);
      // Argument values, one line each, named where the table of names has them.
      const syscalls::ArgumentSpec* spec = syscalls::argument_spec(e.name);
      for (const auto& v : e.values)
        fmt::print(stderr, "{:8}   {:<40} {:>10}\n", "",
                   spec && spec->rules.size() == v.args.size()
                       ? syscalls::format_call(*spec, v.args)
                       : fmt::format("{}({:#x})", e.name, fmt::join(v.args, ", ")),
                   v.count);
      if (e.values_lost)
        fmt::print(stderr, "{:8}   (values incomplete: {})\n", "",
                   trace::describe_values_lost(e.values_lost));
    }
  for (const auto& line : trace::lost_values_report(t)) say(line);
  std::set<std::string> arches;
  for (const auto& e : t.syscalls) arches.insert(e.arch);
  say(fmt::format("{} {} syscalls ({}) of {} in {:.2f} s{}", rec.interrupted_by ? "partial:" : "recorded",
                  t.syscalls.size(), fmt::join(arches, ", "), o.command[0], t.target.duration_ms / 1000,
                  out ? "; wrote " + o.output : std::string()));
  if (rec.interrupted_by)
    throw UserError("interrupted by " + trace::ExitStatus::signal_name(rec.interrupted_by) + ": stopped " +
                    o.command[0] +
                    (out ? "; partial trace (marked partial) written to " + o.output : std::string()));
  return rec.exit.shell_code();
}

}  // namespace

void add_trace(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<TraceOptions>();
  auto* cmd = app.add_subcommand("trace",
                                 "Run a command and record every syscall of it, its threads and descendants");
  cmd->add_option("--backend", o->backend, "Recorder: ebpf (exact, cheap) or ptrace (slow, the oracle)")
      ->check(CLI::IsMember({"ebpf", "ptrace"}))
      ->capture_default_str();
  cmd->add_option("-o,--output", o->output, "Write the trace (trace.json format) to this file");
  cmd->add_option("--btf", o->btf, "Kernel BTF for the eBPF recorder")->capture_default_str();
  cmd->add_flag("--no-recording-filter", o->no_recording_filter,
                "Do not install the allow-all recording filter before exec: then only threads that "
                "install a seccomp filter themselves count as armed");
  cmd->add_flag(
      "-l,--list", o->list,
      "Print the recorded syscalls (arch, name, count) to stderr, and under each syscall whose arguments "
      "are mined its distinct values (socket(AF_INET, SOCK_STREAM, 0)) with their counts");
  cmd->add_option("command", o->command, "The command to run, after --")->expected(-1);
  cmd->footer(
      "The command's stdin, stdout and stderr are untouched and sandmine exits with its exit status;\n"
      "sandmine's own messages go to stderr. A syscall counts for the profile (\"syscalls\") when the\n"
      "calling thread runs under a seccomp filter: sandmine installs an allow-all filter just before\n"
      "exec, where `sandmine run` installs the mined one. Ctrl-C stops the command, writes the trace\n"
      "marked partial and exits 2.\n\n"
      "For the syscalls in data/argument_rules.csv (socket, clone, clone3, ioctl, futex, ...), the\n"
      "arguments that pick kernel code are recorded too: every distinct value, exactly, with the calls\n"
      "that used it (native architecture only; docs/recording.md). A syscall whose values could not\n"
      "all be kept is named on stderr and falls back to a name-only rule.\n\n"
      "EXAMPLES:\n"
      "  sudo sandmine trace -o ls.json -- ls -l /\n"
      "  sudo sandmine trace --list -- sh -c 'echo hi | cat'\n"
      "  sudo sandmine trace --backend ptrace -o ls-ptrace.json -- ls -l /");
  cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace sandmine::cli
