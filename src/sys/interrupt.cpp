#include "sys/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>

namespace sandmine::sys {

namespace {

std::atomic<int> g_signal{0};
std::atomic<int> g_kill_fd{-1};
constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
struct sigaction g_previous[3];

void on_signal(int sig) {
  int expected = 0;
  g_signal.compare_exchange_strong(expected, sig);
  int fd = g_kill_fd.load();
  if (fd >= 0) (void)!::write(fd, "1", 1);
}

}  // namespace

InterruptGuard::InterruptGuard() {
  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking waits return EINTR
  for (int i = 0; i < 3; ++i) ::sigaction(kSignals[i], &sa, &g_previous[i]);
}

InterruptGuard::~InterruptGuard() {
  for (int i = 0; i < 3; ++i) ::sigaction(kSignals[i], &g_previous[i], nullptr);
  g_kill_fd = -1;
}

int interrupt_signal() { return g_signal.load(); }

void arm_interrupt_kill(int cgroup_kill_fd) { g_kill_fd = cgroup_kill_fd; }

}  // namespace sandmine::sys
