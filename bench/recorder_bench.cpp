// What recording costs a syscall-bound program, as ratios measured side by side.
//
// The program is tests/programs/syscall_loop: N raw getppid calls, timed by the
// program itself around the loop, so start-up, exec and the recorder's own
// set-up are excluded. Each round runs every condition once, in turn
// (alternated, so drift on a noisy VM hits all alike); the report gives the
// median ns per call of each condition over the rounds, and the goal ratios
// as medians of the ratios within each round.
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
//   ebpf names only  as ebpf inside, with argument recording off: against
//                    ebpf inside, what mining argument values costs (only
//                    syscalls in data/argument_rules.csv pay more than a bit
//                    test; run with --loop prog_mined_loop to measure one)
//   ptrace           the loop recorded by the ptrace backend (the oracle)
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <sched.h>
#include <sys/wait.h>
#include <CLI/CLI.hpp>
#include <algorithm>

#include <fstream>
#include <functional>
#include <map>
#include <ranges>
#include <string>
#include <thread>
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
  int rounds = 9;
  int cpu = -1;  // pin to this CPU (inherited by the loops); -1: the last one
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
  auto child = sys::spawn({.argv = loop_argv(c, c.calls, out), .allow_all_filter = filter});
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

// The floor: an attached raw_tp/sys_enter program that returns at once.
class EmptyProgram {
 public:
  EmptyProgram() : skel_(empty_bpf__open_and_load()) {
    if (!skel_ || empty_bpf__attach(skel_)) {
      empty_bpf__destroy(skel_);
      throw std::runtime_error("cannot load the empty raw_tp program");
    }
  }
  ~EmptyProgram() { empty_bpf__destroy(skel_); }
  EmptyProgram(const EmptyProgram&) = delete;
  EmptyProgram& operator=(const EmptyProgram&) = delete;

 private:
  empty_bpf* skel_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  CLI::App app{
      "Recorder overhead on a syscall-bound loop: ratios to untraced and to an empty raw_tp program"};
  app.add_option("--loop", c.loop, "The self-timed loop program")->capture_default_str();
  app.add_option("--calls", c.calls, "Calls per run")->capture_default_str();
  app.add_option("--ptrace-calls", c.ptrace_calls, "Calls per ptrace run")->capture_default_str();
  app.add_option("--rounds", c.rounds, "Alternated rounds; medians over them")->capture_default_str();
  app.add_option("--cpu", c.cpu,
                 "Pin the benchmark and its loops to this CPU (-1: the last; migrations between "
                 "vCPUs are the largest noise on a small VM)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (c.cpu < 0) c.cpu = static_cast<int>(std::thread::hardware_concurrency()) - 1;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(c.cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    fmt::print(stderr, "recorder_bench: cannot pin to CPU {}\n", c.cpu);
    return 2;
  }

  std::string out = "/tmp/sandmine-bench-" + std::to_string(getpid());
  // Each condition sets itself up and tears itself down (not timed: the loop
  // times itself), so the order can rotate from round to round.
  auto open_ebpf = [](bool arguments = true) {
    auto rec = trace::EbpfRecorder::open({.record_arguments = arguments});
    if (!rec) throw std::runtime_error(rec.error().message);
    return std::move(*rec);
  };
  const std::vector<std::pair<std::string, std::function<double()>>> conditions{
      {"untraced", [&] { return run_plain(c, out); }},
      {"filter", [&] { return run_plain(c, out, true); }},
      {"empty raw_tp",
       [&] {
         EmptyProgram e;
         return run_plain(c, out);
       }},
      {"empty + filter",
       [&] {
         EmptyProgram e;
         return run_plain(c, out, true);
       }},
      {"ebpf outside",
       [&] {
         auto rec = open_ebpf();
         return run_plain(c, out);
       }},
      {"ebpf inside",
       [&] {
         auto rec = open_ebpf();
         return run_recorded(*rec, c, c.calls, out);
       }},
      {"ebpf names only",
       [&] {
         auto rec = open_ebpf(false);
         return run_recorded(*rec, c, c.calls, out);
       }},
      {"ptrace",
       [&] {
         auto rec = trace::PtraceRecorder::create();
         if (!rec) throw std::runtime_error(rec.error().message);
         return run_recorded(**rec, c, c.ptrace_calls, out);
       }},
  };
  std::map<std::string, std::vector<double>> ns;
  try {
    for (int round = 0; round < c.rounds; ++round) {
      // Rotate which condition goes first, so none always follows the same one.
      for (size_t k = 0; k < conditions.size(); ++k) {
        const auto& [name, run] = conditions[(k + static_cast<size_t>(round)) % conditions.size()];
        ns[name].push_back(run());
      }
      std::vector<std::string> line;
      for (const auto& [name, run] : conditions)
        line.push_back(fmt::format("{} {:.0f} ns", name, ns[name].back()));
      fmt::print(stderr, "round {}/{}: {}\n", round + 1, c.rounds, fmt::join(line, ", "));
    }
  } catch (const std::exception& e) {
    std::remove(out.c_str());
    fmt::print(stderr, "recorder_bench: {}\n", e.what());
    return 2;
  }
  std::remove(out.c_str());
  std::vector<std::string> order;
  for (const auto& [name, run] : conditions) order.push_back(name);

  double base = median(ns["untraced"]), floor = median(ns["empty raw_tp"]);
  fmt::print("syscall-bound loop ({}), {} rounds alternated (rotating order), pinned to CPU {}, medians\n",
             c.loop.substr(c.loop.rfind('/') + 1), c.rounds, c.cpu);
  fmt::print("{:<16} {:>10} {:>12} {:>16}\n", "condition", "ns/call", "x untraced", "x empty raw_tp");
  for (const auto& k : order) {
    double m = median(ns[k]);
    fmt::print("{:<16} {:>10.1f} {:>12.2f} {:>16.2f}\n", k, m, m / base, m / floor);
  }
  // The recorder's own logic: each recorded condition against its floor (the
  // same hook with an empty program, the same seccomp state), as the median
  // of the ratios within each round: side by side, so drift cancels.
  auto ratio = [&](const std::string& a, const std::string& b) {
    std::vector<double> r;
    for (size_t i = 0; i < ns[a].size(); ++i) r.push_back(ns[a][i] / ns[b][i]);
    return median(r);
  };
  double outside = ratio("ebpf outside", "empty raw_tp");
  double inside = ratio("ebpf inside", "empty + filter");
  fmt::print("ebpf outside / empty raw_tp:            {:.2f}x (goal <= 1.10: {})\n", outside,
             outside <= 1.10 ? "met" : "NOT met");
  fmt::print("ebpf inside / (empty raw_tp + filter):  {:.2f}x (goal <= 1.10: {})\n", inside,
             inside <= 1.10 ? "met" : "NOT met");
  fmt::print("ebpf inside / empty raw_tp:             {:.2f}x (includes the recording filter)\n",
             ratio("ebpf inside", "empty raw_tp"));
  fmt::print("ebpf inside / ebpf names only:          {:.2f}x (what recording argument values adds)\n",
             ratio("ebpf inside", "ebpf names only"));
  return 0;
}
