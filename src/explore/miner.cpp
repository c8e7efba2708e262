#include "explore/miner.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "explore/coverage.h"
#include "explore/driver.h"
#include "sys/cgroup.h"
#include "sys/interrupt.h"
#include "syscalls/syscalls.h"
#include "trace/ebpf_recorder.h"

namespace sandmine::explore {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// "x86_64:read", as steps list syscalls.
std::string key_name(const trace::SyscallKey& key) {
  return key.arch + ":" + syscalls::name_of(key.arch, key.nr).value_or("#" + std::to_string(key.nr));
}

// One mining run's moving parts. Members are destroyed in reverse order: the
// container goes before the recorder's target.
class Run {
 public:
  Run(const spec::Spec& spec, const MineOptions& options) : spec_(spec), options_(options) {}

  Result<MineResult> go() {
    MineResult result;
    auto engine = engine::make_engine(options_.engine, options_.engine_options);
    if (!engine) return engine.error();
    engine_ = std::move(*engine);
    auto t_image = Clock::now();
    auto image = prepare_image(spec_, *engine_, options_.cache_dir, options_.progress);
    if (!image) return image.error();
    result.image_seconds = seconds_since(t_image);

    auto rec = trace::EbpfRecorder::open();
    if (!rec) return rec.error();
    recorder_ = std::move(*rec);
    auto target = recorder_->add_target(spec_.name);
    if (!target) return target.error();
    target_ = *target;
    // Ctrl-C kills the container at once; the loop then stops and what was
    // recorded is kept.
    std::string kill_path = target_->cgroup.path() + "/cgroup.kill";
    kill_fd_.reset(::open(kill_path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!kill_fd_.valid()) return errno_error("cannot open " + kill_path);
    sys::arm_interrupt_kill(kill_fd_.get());

    auto container =
        container_for(spec_, *image, "sandmine-" + spec_.name + "-" + std::to_string(::getpid()));
    container.cgroup_parent = target_->cgroup.relative_path();
    container.log_file = options_.work_dir + "/container.log";
    container.work_dir = options_.work_dir;
    driver_ = std::make_unique<Driver>(spec_, *engine_, std::move(container));
    // One line per step: start, the explore steps, stop.
    total_steps_ = spec_.explore.size() + 2;
    start_ = Clock::now();
    start_ns_ = trace::monotonic_ns();

    bool ok = step(
        "start", "start", [&] { return driver_->start(); }, result);
    if (ok) explore(result);
    if (driver_->started())
      step(
          "stop", "stop", [&] { return driver_->stop(); }, result);
    driver_->remove();
    sys::arm_interrupt_kill(-1);
    result.mining_seconds = seconds_since(start_);
    result.failed = !result.failure.empty() || sys::interrupt_signal() != 0;
    if (sys::interrupt_signal() && result.failure.empty()) result.failure = "interrupted";

    auto counts = recorder_->snapshot(*target_);
    if (!counts) return counts.error();
    if (auto st = recorder_->health(); !st) return st.error();
    (void)recorder_->remove_target(target_);
    fold_tail(*counts);
    result.trace = make_trace(*counts, image->id, result);
    return result;
  }

 private:
  // The explore steps once or, with until_saturated K, in rounds until K
  // explore steps in a row add no syscall or max_rounds have run; stops at a
  // failing step or an interrupt.
  void explore(MineResult& result) {
    const int k = options_.until_saturated;
    const int max_rounds = k > 0 ? std::max(options_.max_rounds, 1) : 1;
    trace::Saturation sat{.wanted = k, .max_rounds = max_rounds};
    bool ok = true;
    for (int round = 1; ok && round <= max_rounds && !sat.saturated; ++round) {
      sat.rounds = round;
      if (round > 1) {
        total_steps_ += spec_.explore.size();
        say(fmt::format(
            "round {} of at most {}: the {} explore steps again ({} in a row without a new syscall, "
            "{} wanted)",
            round, max_rounds, spec_.explore.size(), quiet_steps_, k));
      }
      for (const auto& s : spec_.explore) {
        if (sys::interrupt_signal()) {
          ok = false;
          break;
        }
        std::string name = round == 1 ? s.name : s.name + "#" + std::to_string(round);
        ok = step(
            name, "explore", [&] { return driver_->run(s); }, result);
        if (!ok) break;
        if (k > 0 && quiet_steps_ >= static_cast<std::size_t>(k)) {
          sat.saturated = true;
          sat.reason = fmt::format(
              "saturated: {} explore steps in a row added no syscall (the last: {}), in round {} of at "
              "most {}",
              k, name, round, max_rounds);
          break;
        }
      }
      if (spec_.explore.empty()) {
        sat.reason = "no explore steps to repeat";
        break;
      }
    }
    if (k <= 0) return;
    if (!ok)
      sat.reason = fmt::format("stopped in round {}: {}", sat.rounds,
                               sys::interrupt_signal() ? "interrupted" : "a step failed");
    else if (!sat.saturated && sat.reason.empty())
      sat.reason = fmt::format(
          "not saturated after {} rounds (--max-rounds): {} explore steps in a row without a new syscall "
          "at the end, {} wanted; {}",
          sat.rounds, quiet_steps_, k,
          last_new_step_.empty() ? "no explore step added one"
                                 : "the last new one came in " + last_new_step_);
    say(sat.reason);
    saturation_ = sat;
  }

  void say(const std::string& line) const {
    if (options_.progress) options_.progress(line);
  }

  // Runs one step, then snapshots the target: a syscall whose count grew was
  // used in it (its incidence); one seen for the first time is new in it.
  template <class F>
  bool step(const std::string& name, const std::string& phase, F&& body, MineResult& result) {
    ++step_index_;
    auto t = Clock::now();
    StepOutcome outcome = body();
    outcome.name = name;
    outcome.phase = phase;
    trace::StepRecord rec{.name = name, .phase = phase};
    rec.started_ms = std::chrono::duration<double, std::milli>(t - start_).count();
    rec.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - t).count();
    if (auto counts = recorder_->snapshot(*target_)) {
      for (const auto& [key, tally] : counts->armed) {
        if (auto before = last_counts_.find(key);
            before == last_counts_.end() || tally.count > before->second.count)
          rec.used.push_back(key_name(key));
        if (seen_.insert(key).second) {
          first_step_[key] = name;
          rec.new_syscalls.push_back(key_name(key));
        }
      }
      std::sort(rec.used.begin(), rec.used.end());
      rec.total = seen_.size();
      last_counts_ = std::move(counts->armed);
    }
    if (phase == "explore") {
      quiet_steps_ = rec.new_syscalls.empty() ? quiet_steps_ + 1 : 0;
      if (!rec.new_syscalls.empty()) last_new_step_ = name;
    }
    steps_.push_back(rec);
    if (options_.progress)
      options_.progress(fmt::format("[{}/{}] {} {}: {} ({:.2f} s, +{} syscalls, {} total, {:.1f} s elapsed)",
                                    step_index_, total_steps_, phase, name,
                                    outcome.ok ? "ok" : "FAILED: " + outcome.failure, rec.duration_ms / 1000,
                                    rec.new_syscalls.size(), rec.total, seconds_since(start_)));
    bool ok = outcome.ok;
    if (!ok && result.failure.empty()) result.failure = outcome.failure;
    result.steps.push_back(std::move(outcome));
    return ok;
  }

  // Calls after the last step's snapshot (while the container was removed)
  // belong to that step.
  void fold_tail(const trace::Counts& counts) {
    if (steps_.empty()) return;
    auto& last = steps_.back();
    for (const auto& [key, tally] : counts.armed) {
      if (auto before = last_counts_.find(key);
          before != last_counts_.end() && tally.count <= before->second.count)
        continue;
      std::string name = key_name(key);
      if (std::find(last.used.begin(), last.used.end(), name) == last.used.end()) last.used.push_back(name);
      if (seen_.insert(key).second) {
        first_step_[key] = last.name;
        last.new_syscalls.push_back(name);
      }
    }
    std::sort(last.used.begin(), last.used.end());
    last.total = seen_.size();
  }

  trace::Trace make_trace(const trace::Counts& counts, const std::string& image_hash,
                          const MineResult& result) {
    trace::Trace t;
    t.backend = "ebpf";
    t.target.kind = "container";
    t.target.name = spec_.name;
    t.target.engine = options_.engine;
    t.target.image = image_hash;
    t.target.command = spec_.command;
    t.target.duration_ms = result.mining_seconds * 1000;
    t.syscalls = trace::entries_from(counts.armed, start_ns_);
    for (auto& e : t.syscalls) {
      auto it = first_step_.find({e.arch, e.nr});
      e.first_step = it == first_step_.end() ? "stop" : it->second;
    }
    t.unarmed = trace::entries_from(counts.unarmed, start_ns_);
    t.steps = steps_;
    t.coverage = estimate_coverage(t.steps);
    t.saturation = saturation_;
    if (result.failed) {
      t.partial = true;
      t.partial_reason = sys::interrupt_signal() ? "interrupted" : "a step failed: " + result.failure;
    }
    return t;
  }

  const spec::Spec& spec_;
  const MineOptions& options_;
  std::unique_ptr<trace::EbpfRecorder> recorder_;
  trace::Target* target_ = nullptr;
  sys::UniqueFd kill_fd_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<Driver> driver_;
  Clock::time_point start_;
  std::uint64_t start_ns_ = 0;
  std::size_t step_index_ = 0, total_steps_ = 0;
  std::set<trace::SyscallKey> seen_;
  std::map<trace::SyscallKey, std::string> first_step_;
  trace::Tallies last_counts_;   // armed counts at the last snapshot
  std::size_t quiet_steps_ = 0;  // explore steps in a row that added nothing
  std::string last_new_step_;
  std::optional<trace::Saturation> saturation_;
  std::vector<trace::StepRecord> steps_;
};

}  // namespace

Result<MineResult> mine(const spec::Spec& spec, const MineOptions& options) {
  // The image's config fills in what the spec leaves out; fetching the image
  // for it is image time too.
  auto t_resolve = Clock::now();
  auto resolved = resolve_spec(spec, options.engine, options.cache_dir, options.progress);
  if (!resolved) return resolved.error();
  const double resolve_seconds = seconds_since(t_resolve);
  Run run(*resolved, options);
  auto result = run.go();
  if (result) result->image_seconds += resolve_seconds;
  sys::arm_interrupt_kill(-1);
  return result;
}

}  // namespace sandmine::explore
