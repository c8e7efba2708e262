#include "explore/generate/lifecycle.h"

#include <signal.h>

#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "explore/generate/procfs.h"

namespace sandmine::explore::generate {

bool is_fault_signal(int sig) {
  return sig == SIGILL || sig == SIGTRAP || sig == SIGABRT || sig == SIGBUS || sig == SIGFPE ||
         sig == SIGSEGV || sig == SIGSYS;
}

std::vector<int> signals_to_send(const std::vector<int>& caught, int stop_signal) {
  std::vector<int> out;
  for (int sig : caught)
    if (sig != stop_signal && sig != SIGKILL && sig != SIGSTOP && sig != 32 && sig != 33 &&
        !is_fault_signal(sig))
      out.push_back(sig);
  return out;
}

std::optional<int> fault_signal_to_send(const std::vector<int>& caught, int stop_signal) {
  for (int sig : caught)
    if (is_fault_signal(sig) && sig != stop_signal) return sig;
  return std::nullopt;
}

Recipe signal_recipe(int sig) {
  return {.name = "auto/signal/" + signal_text(sig),
          .part = "lifecycle",
          .body = [sig](Target& t, Clock::time_point) {
            StepOutcome o;
            if (auto st = t.signal(sig); !st) note(o, "not sent: " + st.error().message);
            return o;
          }};
}

Recipe fault_signal_recipe(int sig, QuietRule rule) {
  return {.name = "auto/signal/" + signal_text(sig),
          .part = "lifecycle",
          .body = [sig, rule](Target& t, Clock::time_point deadline) {
            StepOutcome o;
            if (auto st = t.signal(sig); !st) {
              note(o, "not sent: " + st.error().message);
              return o;
            }
            (void)wait_quiescent(t, rule, deadline);
            if (!t.running()) return o;  // it ended: settle() restarts it
            if (auto st = t.restart(); !st) {
              o.ok = false;
              o.failure =
                  "the container could not be restarted after its crash handler ran: " + st.error().message;
              return o;
            }
            note(o, "restarted after its crash handler ran");
            return o;
          }};
}

Recipe pause_recipe(std::chrono::milliseconds hold) {
  return {.name = "auto/pause", .part = "lifecycle", .body = [hold](Target& t, Clock::time_point deadline) {
            StepOutcome o;
            if (auto st = t.pause(); !st) {
              note(o, "not paused: " + st.error().message);
              return o;
            }
            std::this_thread::sleep_for(std::min(hold, left(deadline) / 2));
            if (auto st = t.resume(); !st) {
              o.ok = false;
              o.failure = "the container could not be resumed: " + st.error().message;
            }
            return o;
          }};
}

Recipe health_recipe(std::vector<std::string> argv) {
  return {.name = "auto/health", .part = "lifecycle", .body = [argv](Target& t, Clock::time_point deadline) {
            StepOutcome o;
            auto r = t.exec(argv, std::min(left(deadline), std::chrono::milliseconds(30000)));
            if (!r) {
              note(o, "not run: " + r.error().message);
              return o;
            }
            o.output = r->output;
            note(o, r->timed_out ? std::string("timed out") : fmt::format("exit {}", r->exit_code));
            return o;
          }};
}

Recipe restart_recipe() {
  return {.name = "auto/restart", .part = "lifecycle", .body = [](Target& t, Clock::time_point) {
            StepOutcome o;
            if (auto st = t.restart(); !st) {
              o.ok = false;
              o.failure = "the warm restart failed: " + st.error().message;
            }
            return o;
          }};
}

std::optional<int> signal_from_inside(const std::vector<int>& to_send) {
  if (to_send.empty()) return std::nullopt;
  if (std::find(to_send.begin(), to_send.end(), SIGHUP) != to_send.end()) return SIGHUP;
  return to_send.front();
}

Recipe signal_from_inside_recipe(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  std::string kill = std::string("kill -s ") + (abbrev ? abbrev : std::to_string(sig));
  return {.name = "auto/exec/" + kill,
          .part = "lifecycle",
          .body = [kill](Target& t, Clock::time_point deadline) {
            StepOutcome o;
            // The main process as the container sees it (1 in a PID namespace of its own).
            auto pid = read_pid_in_own_namespace(t.main_pid());
            if (!pid) {
              note(o, "not run: " + pid.error().message);
              return o;
            }
            std::string command = kill + " " + std::to_string(*pid);
            auto r =
                t.exec({"/bin/sh", "-c", command}, std::min(left(deadline), std::chrono::milliseconds(5000)));
            if (!r) {
              note(o, command + ": not run: " + r.error().message);
              return o;
            }
            o.output = r->output;
            note(o, command +
                        (r->timed_out ? std::string(": timed out") : fmt::format(": exit {}", r->exit_code)));
            return o;
          }};
}

}  // namespace sandmine::explore::generate
