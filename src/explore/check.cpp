#include "explore/check.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "profile/export.h"
#include "profile/seccomp_profile.h"
#include "sys/interrupt.h"
#include "sys/kmsg.h"
#include "syscalls/syscalls.h"
#include "trace/ebpf_recorder.h"

namespace sandmine::explore {

namespace {

using Totals = std::map<trace::SyscallKey, std::uint64_t>;

// One check run's moving parts; members go in reverse order: the container
// before the recorder's target.
class CheckRun {
 public:
  CheckRun(const spec::Spec& spec, const CheckOptions& options) : spec_(spec), options_(options) {}

  Result<CheckResult> go(const std::string& profile_path) {
    auto profile = profile::read_seccomp_profile(profile_path);
    if (!profile) return profile.error();
    allowed_ = profile::allowed_set(*profile);
    std::string engine_profile = profile_path;
    if (options_.mode == CheckMode::Complain) {
      // What the engine runs: every denial turned into SCMP_ACT_LOG.
      engine_profile = options_.work_dir + "/profile-complain.json";
      std::ofstream out(engine_profile);
      out << profile::to_docker_json(profile::complain_mode(*profile)).dump(2) << "\n";
      if (!out) return Error{"cannot write " + engine_profile};
    }

    auto engine = engine::make_engine(options_.engine, options_.engine_options);
    if (!engine) return engine.error();
    engine_ = std::move(*engine);
    auto image = prepare_image(spec_, *engine_, options_.cache_dir, options_.progress);
    if (!image) return image.error();

    auto rec = trace::EbpfRecorder::open({.violations = true});
    if (!rec) return rec.error();
    recorder_ = std::move(*rec);
    auto target = recorder_->add_target("check-" + spec_.name);
    if (!target) return target.error();
    target_ = *target;
    if (auto st = recorder_->watch(*target_, trace::Watch{allowed_}); !st) return st.error();
    std::string kill_path = target_->cgroup.path() + "/cgroup.kill";
    kill_fd_.reset(::open(kill_path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!kill_fd_.valid()) return errno_error("cannot open " + kill_path);
    sys::arm_interrupt_kill(kill_fd_.get());

    if (options_.mode == CheckMode::Complain) {
      if (auto st = sys::seccomp_log_enabled(); !st) return st.error();
      auto reader = sys::KmsgAuditReader::open();
      if (!reader) return reader.error();
      audit_ = std::make_unique<sys::KmsgAuditReader>(std::move(*reader));
    }

    auto container =
        container_for(spec_, *image, "sandmine-" + spec_.name + "-check-" + std::to_string(::getpid()));
    container.seccomp_profile = engine_profile;
    container.cgroup_parent = target_->cgroup.relative_path();
    container.log_file = options_.work_dir + "/check-container.log";
    container.work_dir = options_.work_dir;
    Driver driver(spec_, *engine_, std::move(container));

    result_.mode = options_.mode;
    bool ok = step("start", "start", [&] { return driver.start(); });
    for (const auto& s : spec_.validate) {
      if (!ok || sys::interrupt_signal()) break;
      ok = step(s.name, "validate", [&] { return driver.run(s); });
    }
    if (driver.started()) step("stop", "stop", [&] { return driver.stop(); });
    driver.remove();
    sys::arm_interrupt_kill(-1);
    if (auto st = recorder_->health(); !st) return st.error();
    if (audit_) compare_with_audit();
    (void)recorder_->remove_target(target_);
    target_ = nullptr;
    finish();
    return std::move(result_);
  }

 private:
  template <class F>
  bool step(const std::string& name, const std::string& phase, F&& body) {
    StepOutcome outcome = body();
    outcome.name = name;
    outcome.phase = phase;
    // What is new since the last snapshot happened during this step.
    if (auto st = snapshot(name); !st && outcome.ok) {
      outcome.ok = false;
      outcome.failure = st.error().message;
    }
    if (options_.progress)
      options_.progress(fmt::format("check {} {}: {}{}", phase, name, outcome.ok ? "ok" : "FAILED: " + outcome.failure,
                                    step_news_ ? fmt::format(" ({} calls outside the profile)", step_news_) : ""));
    bool ok = outcome.ok;
    result_.steps.push_back(std::move(outcome));
    return ok;
  }

  // Calls outside the profile so far, per syscall, and the names of the
  // processes that made them.
  Status snapshot(const std::string& step_name) {
    auto seen = recorder_->violations(*target_);
    if (!seen) return seen.error();
    Totals totals;
    if (options_.mode == CheckMode::Complain) {
      // The calls ran: sys_enter counted every one, exit and exit_group too.
      auto counts = recorder_->snapshot(*target_);
      if (!counts) return counts.error();
      for (const auto& [key, tally] : counts->armed)
        if (!allowed_.contains(key)) totals[key] = tally.count;
      for (const auto& row : seen->rows)
        if (!allowed_.contains(row.key)) processes_[row.key].insert(row.comm);
    } else {
      // Denied calls never reach sys_enter; sys_exit saw each return its errno.
      for (const auto& row : seen->rows)
        if (row.denied) {
          totals[row.key] += row.denied;
          processes_[row.key].insert(row.comm);
        }
    }
    pids_ = seen->pids;
    if (audit_) audit_->drain();  // keeps /dev/kmsg from overrunning on a long run
    step_news_ = 0;
    for (const auto& [key, n] : totals) {
      std::uint64_t before = totals_.contains(key) ? totals_[key] : 0;
      if (n > before) {
        per_step_[key][step_name] += n - before;
        if (!first_step_.contains(key)) first_step_[key] = step_name;
        step_news_ += n - before;
      }
    }
    totals_ = std::move(totals);
    return {};
  }

  // The audit records of this container's processes, against the recorder's
  // counts: fewer records means the kernel dropped some.
  void compare_with_audit() {
    auto& a = result_.audit;
    a.read = true;
    audit_->drain_settled(std::chrono::milliseconds(300));
    std::map<trace::SyscallKey, std::uint64_t> by_key;
    for (const auto& r : audit_->records())
      if (pids_.contains(r.pid)) ++by_key[{r.arch, r.syscall}];
    for (const auto& [key, n] : by_key) a.records += n;
    // Records come only for processes that made a call outside the profile
    // and returned from one; exit and exit_group of other processes cannot
    // be attributed by pid.
    for (const auto& [key, n] : totals_) a.expected += n;
    // The recorder's counts are the verdict; the records only have to agree.
    // Messages the rate limit dropped may be other processes': they matter
    // only when this container's records fall short.
    if (a.records < a.expected) {
      a.lost = true;
      auto loss = audit_->loss();
      a.why = fmt::format("the kernel logged {} of the {} calls outside the profile{}", a.records, a.expected,
                          loss.lost ? " (" + loss.why + ")" : "");
    }
  }

  void finish() {
    for (const auto& [key, n] : totals_) {
      CheckViolation v{.key = key,
                       .name = syscalls::name_of(key.arch, key.nr).value_or("#" + std::to_string(key.nr)),
                       .count = n,
                       .processes = processes_[key],
                       .per_step = per_step_[key],
                       .first_step = first_step_[key]};
      if (v.processes.empty()) v.processes.insert("?");
      result_.violations.push_back(std::move(v));
    }
  }

  const spec::Spec& spec_;
  const CheckOptions& options_;
  std::set<trace::SyscallKey> allowed_;
  std::unique_ptr<trace::EbpfRecorder> recorder_;
  trace::Target* target_ = nullptr;
  sys::UniqueFd kill_fd_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<sys::KmsgAuditReader> audit_;
  CheckResult result_;
  Totals totals_;
  std::set<int> pids_;
  std::uint64_t step_news_ = 0;
  std::map<trace::SyscallKey, std::set<std::string>> processes_;
  std::map<trace::SyscallKey, std::map<std::string, std::uint64_t>> per_step_;
  std::map<trace::SyscallKey, std::string> first_step_;
};

}  // namespace

std::string to_string(CheckMode mode) { return mode == CheckMode::Complain ? "complain" : "enforce"; }

bool CheckResult::steps_passed() const {
  for (const auto& s : steps)
    if (!s.ok) return false;
  return true;
}

Result<CheckResult> check(const spec::Spec& spec, const std::string& profile_path, const CheckOptions& options) {
  // The image's config fills in what the spec leaves out.
  auto resolved = resolve_spec(spec, options.engine, options.cache_dir, options.progress);
  if (!resolved) return resolved.error();
  CheckRun run(*resolved, options);
  auto result = run.go(profile_path);
  sys::arm_interrupt_kill(-1);
  return result;
}

}  // namespace sandmine::explore
