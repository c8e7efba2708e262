#include "explore/generate/quiescence.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <deque>
#include <thread>
#include <vector>

#include "explore/generate/procfs.h"
#include "sys/cgroup.h"
#include "sys/files.h"

namespace sandmine::explore::generate {

namespace {

struct Sample {
  std::chrono::steady_clock::time_point at;
  std::uint64_t cpu_usec = 0;
  std::optional<std::uint64_t> syscalls;
  std::vector<pid_t> threads;  // sorted
  int busy_threads = 0;        // running (R) or in uninterruptible sleep (D)
};

Sample take(Target& target) {
  Sample s;
  s.at = std::chrono::steady_clock::now();
  const std::string dir = target.cgroup_dir();
  s.cpu_usec = sys::cgroup_cpu_usec(dir).value_or(0);
  s.syscalls = target.syscalls_so_far();
  s.threads = sys::cgroup_threads(dir).value_or(std::vector<pid_t>{});
  std::sort(s.threads.begin(), s.threads.end());
  for (pid_t tid : s.threads) {
    auto stat = sys::read_file("/proc/" + std::to_string(tid) + "/stat");
    if (!stat) continue;  // ended meanwhile: the next sample's set differs
    char state = stat_state(*stat);
    if (state == 'R' || state == 'D') ++s.busy_threads;
  }
  return s;
}

}  // namespace

Quiescence wait_quiescent(Target& target, const QuietRule& rule,
                          std::chrono::steady_clock::time_point deadline) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto until = std::min(deadline, start + rule.cap);
  std::deque<Sample> samples;
  std::string busy = "never sampled";
  for (;;) {
    samples.push_back(take(target));
    const Sample& now = samples.back();
    // Keep one sample at or before the window's start: it anchors the deltas.
    while (samples.size() > 1 && samples[1].at <= now.at - rule.window) samples.pop_front();
    const Sample& first = samples.front();
    if (now.at - first.at >= rule.window) {
      bool same_threads = std::all_of(samples.begin(), samples.end(),
                                      [&](const Sample& s) { return s.threads == now.threads; });
      int busy_threads = 0;
      for (const auto& s : samples) busy_threads = std::max(busy_threads, s.busy_threads);
      std::uint64_t cpu = now.cpu_usec - std::min(now.cpu_usec, first.cpu_usec);
      std::optional<std::uint64_t> calls;
      if (now.syscalls && first.syscalls) calls = *now.syscalls - std::min(*now.syscalls, *first.syscalls);
      if (same_threads && busy_threads == 0 && cpu <= rule.max_cpu_usec &&
          (!calls || *calls <= rule.max_syscalls))
        return {.quiet = true,
                .waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start)};
      std::vector<std::string> why;
      if (!same_threads) why.push_back("its threads changed");
      if (busy_threads) why.push_back(fmt::format("{} threads running", busy_threads));
      if (cpu > rule.max_cpu_usec) why.push_back(fmt::format("{} µs of CPU", cpu));
      if (calls && *calls > rule.max_syscalls) why.push_back(fmt::format("{} syscalls", *calls));
      busy = fmt::format("{} in the last {} ms", fmt::join(why, ", "), rule.window.count());
    }
    if (Clock::now() + rule.interval > until) break;
    std::this_thread::sleep_for(rule.interval);
  }
  return {.quiet = false,
          .waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start),
          .busy = busy};
}

}  // namespace sandmine::explore::generate
