#include "explore/check.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "explore/container_run.h"
#include "explore/mined_from.h"
#include "profile/profile.h"
#include "sys/interrupt.h"
#include "sys/kmsg.h"

namespace sandmine::explore {

namespace {

// One check: the run, the audit reader (complain mode) and the ledger.
class CheckRun {
 public:
  CheckRun(const spec::Spec& spec, const CheckOptions& options) : spec_(spec), options_(options) {}

  Result<CheckResult> go(const profile::Profile& profile) {
    ledger_.emplace(options_.mode, profile);
    auto run = ContainerRun::open(spec_, {.engine = options_.engine,
                                          .engine_options = options_.engine_options,
                                          .work_dir = options_.work_dir,
                                          .cache_dir = options_.cache_dir,
                                          .purpose = "check",
                                          .watching = Watching::Violations,
                                          .progress = options_.progress,
                                          .recorder = options_.recorder});
    if (!run) return run.error();
    run_ = std::move(*run);
    if (auto st = run_->watch(ledger_->watch()); !st) return st.error();

    if (options_.mode == CheckMode::Complain) {
      if (auto st = sys::seccomp_log_enabled(); !st) return st.error();
      auto reader = sys::KmsgAuditReader::open();
      if (!reader) return reader.error();
      audit_ = std::make_unique<sys::KmsgAuditReader>(std::move(*reader));
    }

    // What the engine runs: in complain mode every denial turned into SCMP_ACT_LOG.
    auto engine_profile = std::make_shared<const profile::Profile>(
        options_.mode == CheckMode::Complain ? profile::complain_mode(profile) : profile);
    result_.mode = options_.mode;
    bool ok = step("start", "start", [&] {
      return run_->start({.profile = engine_profile, .log_name = "check-container.log"});
    });
    // The profile holds for what it was mined from: say how this container differs.
    if (ok && profile.mined_from) {
      result_.differs = differences(*profile.mined_from, run_->mined_from());
      if (options_.progress)
        for (const auto& line : result_.differs) options_.progress("warning: " + line);
    }
    for (const auto& s : spec_.validate) {
      if (!ok || sys::interrupt_signal()) break;
      ok = step(s.name, "validate", [&] { return run_->run(s); });
    }
    if (run_->started()) step("stop", "stop", [&] { return run_->stop(); });
    run_->remove();
    if (auto st = run_->health(); !st) return st.error();
    if (audit_) compare_with_audit();
    result_.violations = ledger_->violations();
    run_.reset();
    return std::move(result_);
  }

 private:
  template <class F>
  bool step(const std::string& name, const std::string& phase, F&& body) {
    StepOutcome outcome = body();
    outcome.name = name;
    outcome.phase = phase;
    // What is new since the last snapshot happened during this step.
    std::uint64_t during = 0;
    if (auto n = snapshot(name); !n) {
      if (outcome.ok) {
        outcome.ok = false;
        outcome.failure = n.error().message;
      }
    } else {
      during = *n;
    }
    if (options_.progress) {
      std::vector<std::string> calls;
      for (const auto& [label, n] : ledger_->last_step()) calls.push_back(fmt::format("{} x{}", label, n));
      options_.progress(fmt::format(
          "check {} {}: {}{}", phase, name, outcome.ok ? "ok" : "FAILED: " + outcome.failure,
          during ? fmt::format(" ({} calls outside the profile: {})", during, fmt::join(calls, ", ")) : ""));
    }
    bool ok = outcome.ok;
    result_.steps.push_back(std::move(outcome));
    return ok;
  }

  Result<std::uint64_t> snapshot(const std::string& step_name) {
    auto seen = run_->violations();
    if (!seen) return seen.error();
    trace::Counts counts;
    if (options_.mode == CheckMode::Complain) {
      auto c = run_->snapshot();
      if (!c) return c.error();
      counts = std::move(*c);
    }
    if (audit_) audit_->drain();  // keeps /dev/kmsg from overrunning on a long run
    return ledger_->record(step_name, counts, *seen);
  }

  // The audit records of this container's processes, against the recorder's
  // counts: fewer records means the kernel dropped some.
  void compare_with_audit() {
    auto& a = result_.audit;
    a.read = true;
    audit_->drain_settled(std::chrono::milliseconds(300));
    for (const auto& r : audit_->records())
      if (ledger_->pids().contains(r.pid)) ++a.records;
    // Records come only for processes that made a call outside the profile
    // and returned from one; exit and exit_group of other processes cannot
    // be attributed by pid.
    for (const auto& [key, n] : ledger_->totals()) a.expected += n;
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

  const spec::Spec& spec_;
  const CheckOptions& options_;
  std::optional<ViolationLedger> ledger_;
  std::unique_ptr<sys::KmsgAuditReader> audit_;
  std::unique_ptr<ContainerRun> run_;
  CheckResult result_;
};

}  // namespace

bool CheckResult::steps_passed() const {
  for (const auto& s : steps)
    if (!s.ok) return false;
  return true;
}

Result<CheckResult> check(const spec::Spec& spec, const profile::Profile& profile,
                          const CheckOptions& options) {
  // The image's config fills in what the spec leaves out.
  auto resolved = resolve_spec(spec, options.engine, options.cache_dir, options.progress);
  if (!resolved) return resolved.error();
  return CheckRun(*resolved, options).go(profile);
}

}  // namespace sandmine::explore
