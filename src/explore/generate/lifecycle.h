#pragma once
// Lifecycle steps: each signal the main process catches, a pause and resume,
// the image's health check, a warm restart.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "explore/generate/site.h"

namespace sandmine::explore::generate {

/// Whether sig reports a fault (SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE,
/// SIGSEGV, SIGSYS): a process that catches one runs its crash report.
bool is_fault_signal(int sig);

/// The signals to send one step each: every caught one but the stop
/// signal, SIGKILL and SIGSTOP (which cannot be caught), 32 and 33, which
/// glibc keeps for itself (thread cancellation, set*id) and ignores from
/// another process, and the fault signals (below).
std::vector<int> signals_to_send(const std::vector<int>& caught, int stop_signal);

/// The one fault signal to send: the lowest caught one (a process installs
/// one crash handler for all of them), if any and if not the stop signal.
std::optional<int> fault_signal_to_send(const std::vector<int>& caught, int stop_signal);

/// "auto/signal/SIGHUP": sends sig to the main process.
Recipe signal_recipe(int sig);
/// "auto/signal/SIGSEGV": sends a fault signal, lets its crash handler run
/// until the container is quiescent, then restarts the container within the
/// step: a crash handler leaves no process to explore (a redis that caught
/// SIGILL stopped answering).
Recipe fault_signal_recipe(int sig, QuietRule rule);
/// "auto/pause": freezes the container for hold, then resumes it.
Recipe pause_recipe(std::chrono::milliseconds hold);
/// "auto/health": runs the health check command inside the container.
Recipe health_recipe(std::vector<std::string> argv);
/// "auto/restart": the run's warm restart.
Recipe restart_recipe();
/// "auto/exec/kill -s HUP": a signal sent from inside the container to its
/// main process (by its PID in the container's PID namespace, 1 for an
/// engine's container), as an administrator's or a script's reload does
/// (`kill -HUP 1`, a server's own `-s reload`): the container's own kill(2),
/// which a signal from the engine never makes. Run with /bin/sh's kill; an
/// image without a shell gets a note, not a failure.
Recipe signal_from_inside_recipe(int sig);
/// Which caught signal to send from inside: SIGHUP (the conventional reload)
/// when it is among to_send, else the first of them; none when empty.
std::optional<int> signal_from_inside(const std::vector<int>& to_send);

}  // namespace sandmine::explore::generate
