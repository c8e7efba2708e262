#pragma once
// Lifecycle steps: each signal the main process catches, a pause and resume,
// the image's health check, a warm restart.

#include <chrono>
#include <string>
#include <vector>

#include "explore/generate/site.h"

namespace sandmine::explore::generate {

/// The signals to send one step each: every caught one but the stop
/// signal, SIGKILL and SIGSTOP (which cannot be caught), and 32 and 33,
/// which glibc keeps for itself (thread cancellation, set*id) and ignores
/// from another process.
std::vector<int> signals_to_send(const std::vector<int>& caught, int stop_signal);

/// "auto/signal/SIGHUP": sends sig to the main process.
Recipe signal_recipe(int sig);
/// "auto/pause": freezes the container for hold, then resumes it.
Recipe pause_recipe(std::chrono::milliseconds hold);
/// "auto/health": runs the health check command inside the container.
Recipe health_recipe(std::vector<std::string> argv);
/// "auto/restart": the run's warm restart.
Recipe restart_recipe();

}  // namespace sandmine::explore::generate
