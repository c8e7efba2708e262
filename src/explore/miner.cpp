#include "explore/miner.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "explore/auto_explore.h"
#include "explore/container_run.h"
#include "explore/coverage.h"
#include "explore/ledger.h"
#include "sys/interrupt.h"
#include "trace/recorder.h"

namespace sandmine::explore {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// One mining run: the container run, and the ledger of its steps.
class Miner {
 public:
  Miner(const spec::Spec& spec, const MineOptions& options) : spec_(spec), options_(options) {}

  Result<MineResult> go() {
    MineResult result;
    auto run = ContainerRun::open(spec_, {.engine = options_.engine,
                                          .engine_options = options_.engine_options,
                                          .work_dir = options_.work_dir,
                                          .cache_dir = options_.cache_dir,
                                          .purpose = "mine",
                                          .watching = Watching::Counts,
                                          .progress = options_.progress,
                                          .recorder = options_.recorder});
    if (!run) return run.error();
    run_ = std::move(*run);
    result.image_seconds = run_->image_seconds();
    // One line per step: start, the explore steps, stop.
    total_steps_ = spec_.explore.size() + 2;
    start_ = Clock::now();
    start_ns_ = trace::monotonic_ns();

    const auto autos = std::count_if(spec_.explore.begin(), spec_.explore.end(),
                                     [](const spec::Step& s) { return s.kind == spec::Step::Kind::Auto; });
    if (autos > 0)
      auto_ = std::make_unique<AutoExplorer>(*run_, static_cast<std::size_t>(autos),
                                             [this](const std::string& line) { say(line); });

    bool ok = step(
        "start", "start", [&] { return run_->start(); }, result);
    result.mined_from = run_->mined_from();
    if (ok) explore(result);
    auto_.reset();  // a capture still running ends with the container it watches
    if (run_->started())
      step(
          "stop", "stop", [&] { return run_->stop(); }, result);
    run_->remove();
    result.mining_seconds = seconds_since(start_);
    result.failed = !result.failure.empty() || sys::interrupt_signal() != 0;
    if (sys::interrupt_signal() && result.failure.empty()) result.failure = "interrupted";

    auto counts = run_->snapshot();
    if (!counts) return counts.error();
    if (auto st = run_->health(); !st) return st.error();
    auto binaries = run_->binaries(start_ns_);  // every execve, and what was seen mapped
    if (!binaries) return binaries.error();
    ledger_.fold_tail(counts->armed);
    result.trace = make_trace(*counts, run_->image().id, result);
    result.trace.binaries = std::move(*binaries);
    run_.reset();
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
            round, max_rounds, spec_.explore.size(), ledger_.quiet_explore_steps(), k));
      }
      for (const auto& s : spec_.explore) {
        if (sys::interrupt_signal()) {
          ok = false;
          break;
        }
        if (s.kind == spec::Step::Kind::Auto) {
          // Generated once, in the first round: later rounds repeat what the spec wrote.
          if (round == 1) ok = generate(s, result);
          if (!ok) break;
          continue;
        }
        std::string name = round == 1 ? s.name : s.name + "#" + std::to_string(round);
        if (auto_) auto_->before_step();
        ok = step(
            name, "explore", [&] { return run_->run(s); }, result);
        if (auto_) auto_->after_step(s);
        if (!ok) break;
        if (k > 0 && ledger_.quiet_explore_steps() >= static_cast<std::size_t>(k)) {
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
          sat.rounds, ledger_.quiet_explore_steps(), k,
          ledger_.last_new_step().empty() ? "no explore step added one"
                                          : "the last new one came in " + ledger_.last_new_step());
    say(sat.reason);
    saturation_ = sat;
  }

  // An auto step: each generated step is a step of the run (its own
  // snapshot and ledger record), and the generator hears what it added.
  bool generate(const spec::Step& s, MineResult& result) {
    --total_steps_;  // the auto step itself is not one; each generated step is
    bool ok = true;
    auto record = [&](const std::string& name,
                      const std::function<StepOutcome()>& body) -> std::optional<generate::Feedback> {
      ++total_steps_;
      ok = step(name, "explore", body, result);
      if (!ok) return std::nullopt;
      return generate::Feedback{.new_syscalls = ledger_.steps().back().new_syscalls,
                                .new_values = ledger_.last_new_values()};
    };
    generated_.push_back(auto_->run(s, record));
    return ok && !sys::interrupt_signal();
  }

  void say(const std::string& line) const {
    if (options_.progress) options_.progress(line);
  }

  // Runs one step, then snapshots the target and hands the counts to the ledger.
  template <class F>
  bool step(const std::string& name, const std::string& phase, F&& body, MineResult& result) {
    ++step_index_;
    auto t = Clock::now();
    StepOutcome outcome = body();
    outcome.name = name;
    outcome.phase = phase;
    double started_ms = std::chrono::duration<double, std::milli>(t - start_).count();
    double duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - t).count();
    run_->sample_binaries();  // the libraries the running processes mapped
    auto counts = run_->snapshot();
    if (!counts && outcome.ok) {
      outcome.ok = false;
      outcome.failure = counts.error().message;
    }
    const auto& rec =
        ledger_.record(name, phase, started_ms, duration_ms, counts ? counts->armed : last_armed_);
    if (counts) last_armed_ = counts->armed;
    if (options_.progress)
      options_.progress(fmt::format("[{}/{}] {} {}: {} ({:.2f} s, +{} syscalls, {} total, {:.1f} s elapsed)",
                                    step_index_, total_steps_, phase, name,
                                    outcome.ok ? "ok" : "FAILED: " + outcome.failure, duration_ms / 1000,
                                    rec.new_syscalls.size(), rec.total, seconds_since(start_)));
    bool ok = outcome.ok;
    if (!ok && result.failure.empty()) result.failure = outcome.failure;
    result.steps.push_back(std::move(outcome));
    return ok;
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
    for (auto& e : t.syscalls) e.first_step = ledger_.first_step({e.arch, e.nr}).value_or("stop");
    trace::set_value_steps(t.syscalls, ledger_.first_values(), "stop");
    t.unarmed = trace::entries_from(counts.unarmed, start_ns_);
    t.steps = ledger_.steps();
    t.coverage = estimate_coverage(t.steps);
    t.coverage_by_family = estimate_coverage_by_family(t.steps);
    t.saturation = saturation_;
    t.generated = generated_;
    if (result.failed) {
      t.partial = true;
      t.partial_reason = sys::interrupt_signal() ? "interrupted" : "a step failed: " + result.failure;
    }
    return t;
  }

  const spec::Spec& spec_;
  const MineOptions& options_;
  std::unique_ptr<ContainerRun> run_;
  std::unique_ptr<AutoExplorer> auto_;
  std::vector<trace::AutoRecord> generated_;
  StepLedger ledger_;
  trace::Tallies last_armed_;
  Clock::time_point start_;
  std::uint64_t start_ns_ = 0;
  std::size_t step_index_ = 0, total_steps_ = 0;
  std::optional<trace::Saturation> saturation_;
};

}  // namespace

Result<MineResult> mine(const spec::Spec& spec, const MineOptions& options) {
  // The image's config fills in what the spec leaves out; fetching the image
  // for it is image time too.
  auto t_resolve = Clock::now();
  auto resolved = resolve_spec(spec, options.engine, options.cache_dir, options.progress);
  if (!resolved) return resolved.error();
  const double resolve_seconds = seconds_since(t_resolve);
  auto result = Miner(*resolved, options).go();
  if (result) result->image_seconds += resolve_seconds;
  return result;
}

}  // namespace sandmine::explore
