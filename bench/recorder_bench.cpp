// What recording costs a syscall-bound program, as ratios measured side by side.
//
// The program is tests/programs/syscall_loop: N raw getppid calls, timed by the
// program itself around the loop, so start-up, exec and the recorder's own
// set-up are excluded. Each round runs every condition once, in turn
// (alternated, so drift on a noisy VM hits all alike); the report gives the
// median ns per call of each condition over the rounds and its ratios.
//
//   untraced         nothing attached
//   filter           the loop under the allow-all recording filter only (what
//                    seccomp itself costs; any profile costs at least this)
//   empty raw_tp     a raw_tp/sys_enter program that returns at once: the
//                    floor, the cost of the hook itself
//   empty + filter   both: the floor for a recorded (armed) command
//   ebpf outside     the recorder attached, the loop outside its targets (what
//                    every other process on the host pays while mining);
//                    compare with empty raw_tp
//   ebpf inside      the loop is the recorded command (sandmine trace), under
//                    the recording filter; compare with empty + filter
//   ptrace           the loop recorded by the ptrace backend (the oracle)
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>
#include <map>
#include <ranges>
#include <sys/wait.h>
#include <string>
#include <vector>

#include "empty.skel.h"
#include "sys/interrupt.h"
#include "sys/spawn.h"
#include "trace/ebpf_recorder.h"
#include "trace/ptrace_recorder.h"

namespace {

using namespace sandmine;

struct Config {
  std::string loop = SYSCALL_LOOP;
  long calls = 2'000'000;
  long ptrace_calls = 40'000;
  int rounds = 7;
};

// The loop writes its result into a file: the recorders pass stdio through.
std::vector<std::string> loop_argv(const Config& c, long calls, const std::string& out) {
  return {c.loop, std::to_string(calls), out};
}

double ns_per_call(const std::string& out, long calls) {
  std::ifstream in(out);
  double ns = 0;
  if (!(in >> ns)) throw std::runtime_error("the loop wrote no result to " + out);
  return ns / static_cast<double>(calls);
}

double run_plain(const Config& c, const std::string& out, bool filter = false) {
  auto child = sys::spawn({loop_argv(c, c.calls, out), -1, filter});
  if (!child) throw std::runtime_error(child.error().message);
  int status = 0;
  while (waitpid(child->pid(), &status, 0) < 0 && errno == EINTR) {
  }
  return ns_per_call(out, c.calls);
}

double run_recorded(trace::Recorder& rec, const Config& c, long calls, const std::string& out) {
  auto r = rec.record({loop_argv(c, calls, out)});
  if (!r) throw std::runtime_error(r.error().message);
  return ns_per_call(out, calls);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  CLI::App app{"Recorder overhead on a syscall-bound loop: ratios to untraced and to an empty raw_tp program"};
  app.add_option("--loop", c.loop, "The self-timed loop program")->capture_default_str();
  app.add_option("--calls", c.calls, "getppid calls per run")->capture_default_str();
  app.add_option("--ptrace-calls", c.ptrace_calls, "getppid calls per ptrace run")->capture_default_str();
  app.add_option("--rounds", c.rounds, "Alternated rounds; medians over them")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::string out = "/tmp/sandmine-bench-" + std::to_string(getpid());
  std::map<std::string, std::vector<double>> ns;
  const std::vector<std::string> order{"untraced",     "filter",      "empty raw_tp", "empty + filter",
                                       "ebpf outside", "ebpf inside", "ptrace"};
  try {
    for (int round = 1; round <= c.rounds; ++round) {
      ns["untraced"].push_back(run_plain(c, out));
      ns["filter"].push_back(run_plain(c, out, true));

      empty_bpf* empty = empty_bpf__open_and_load();
      if (!empty || empty_bpf__attach(empty)) throw std::runtime_error("cannot load the empty raw_tp program");
      ns["empty raw_tp"].push_back(run_plain(c, out));
      ns["empty + filter"].push_back(run_plain(c, out, true));
      empty_bpf__destroy(empty);

      {
        auto rec = trace::EbpfRecorder::open();
        if (!rec) throw std::runtime_error(rec.error().message);
        ns["ebpf outside"].push_back(run_plain(c, out));
        ns["ebpf inside"].push_back(run_recorded(**rec, c, c.calls, out));
      }
      auto ptrace = trace::PtraceRecorder::create();
      if (!ptrace) throw std::runtime_error(ptrace.error().message);
      ns["ptrace"].push_back(run_recorded(**ptrace, c, c.ptrace_calls, out));
      fmt::print(stderr, "round {}/{}: {}\n", round, c.rounds,
                 fmt::join(order | std::views::transform([&](const auto& k) { return fmt::format("{} {:.0f} ns", k, ns[k].back()); }), ", "));
    }
  } catch (const std::exception& e) {
    std::remove(out.c_str());
    fmt::print(stderr, "recorder_bench: {}\n", e.what());
    return 2;
  }
  std::remove(out.c_str());

  double base = median(ns["untraced"]), floor = median(ns["empty raw_tp"]);
  fmt::print("syscall-bound loop (getppid), {} rounds alternated, medians\n", c.rounds);
  fmt::print("{:<16} {:>10} {:>12} {:>16}\n", "condition", "ns/call", "x untraced", "x empty raw_tp");
  for (const auto& k : order) {
    double m = median(ns[k]);
    fmt::print("{:<16} {:>10.1f} {:>12.2f} {:>16.2f}\n", k, m, m / base, m / floor);
  }
  // The recorder's own logic: each recorded condition against its floor, the
  // same hook with an empty program and the same seccomp state.
  double outside = median(ns["ebpf outside"]) / floor;
  double inside = median(ns["ebpf inside"]) / median(ns["empty + filter"]);
  fmt::print("ebpf outside / empty raw_tp:            {:.2f}x (goal <= 1.10: {})\n", outside,
             outside <= 1.10 ? "met" : "NOT met");
  fmt::print("ebpf inside / (empty raw_tp + filter):  {:.2f}x (goal <= 1.10: {})\n", inside,
             inside <= 1.10 ? "met" : "NOT met");
  fmt::print("ebpf inside / empty raw_tp:             {:.2f}x (includes the recording filter)\n",
             median(ns["ebpf inside"]) / floor);
  return 0;
}
