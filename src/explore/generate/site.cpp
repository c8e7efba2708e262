#include "explore/generate/site.h"

#include <fmt/format.h>

#include <cstring>

namespace sandmine::explore::generate {

void Site::enqueue(CrawlItem item) {
  if (queued.insert(item.method + " " + item.path).second) frontier.push_back(std::move(item));
}

Site* Discovery::site(int port) {
  for (auto& s : sites)
    if (s.listener.port == port) return &s;
  return nullptr;
}

void note(StepOutcome& outcome, const std::string& line) {
  if (!outcome.output.empty() && outcome.output.back() != '\n') outcome.output += "\n";
  outcome.output += line + "\n";
}

StepOutcome settle(Target& target, StepOutcome outcome, const QuietRule& rule, Clock::time_point deadline) {
  auto q = wait_quiescent(target, rule, deadline);
  if (!q.quiet) note(outcome, fmt::format("not quiescent after {} ms: {}", q.waited.count(), q.busy));
  if (!target.running()) {
    if (auto st = target.restart(); !st) {
      outcome.ok = false;
      outcome.failure = "the container exited and could not be restarted: " + st.error().message;
      return outcome;
    }
    note(outcome, "the container exited; restarted");
    (void)wait_quiescent(target, rule, Clock::now() + rule.cap);
  }
  return outcome;
}

std::string signal_text(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

std::chrono::milliseconds left(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max(ms, std::chrono::milliseconds(1));
}

}  // namespace sandmine::explore::generate
