#include "sys/interrupt.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <utility>

namespace sandmine::sys {

namespace {

constexpr int kSlots = 64;

std::atomic<int> g_signal{0};
// cgroup.kill descriptors the handler writes to; -1 is a free slot.
std::atomic<int> g_kill_fds[kSlots] = {};
std::atomic<bool> g_slots_ready{false};
// Handlers running now, on any thread: disarm waits for them before it
// closes a descriptor one of them may be writing to.
std::atomic<int> g_in_handler{0};
constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
struct sigaction g_previous[3];

void ensure_slots() {
  bool expected = false;
  if (g_slots_ready.compare_exchange_strong(expected, true))
    for (auto& fd : g_kill_fds) fd.store(-1);
}

void on_signal(int sig) {
  g_in_handler.fetch_add(1);
  int expected = 0;
  g_signal.compare_exchange_strong(expected, sig);
  for (auto& slot : g_kill_fds) {
    int fd = slot.load();
    if (fd >= 0) (void)!::write(fd, "1", 1);
  }
  g_in_handler.fetch_sub(1);
}

}  // namespace

InterruptGuard::InterruptGuard() {
  ensure_slots();
  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking waits return EINTR
  for (int i = 0; i < 3; ++i) ::sigaction(kSignals[i], &sa, &g_previous[i]);
}

InterruptGuard::~InterruptGuard() {
  for (int i = 0; i < 3; ++i) ::sigaction(kSignals[i], &g_previous[i], nullptr);
}

int interrupt_signal() { return g_signal.load(); }

Result<KillSwitch> KillSwitch::arm(const std::string& cgroup_path) {
  ensure_slots();
  std::string path = cgroup_path + "/cgroup.kill";
  KillSwitch k;
  k.fd_.reset(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!k.fd_.valid())
    return errno_error("cannot open " + path + " (the kernel needs cgroup.kill, Linux 5.14+)");
  for (int i = 0; i < kSlots; ++i) {
    int free = -1;
    if (g_kill_fds[i].compare_exchange_strong(free, k.fd_.get())) {
      k.slot_ = i;
      break;
    }
  }
  if (k.slot_ < 0) return Error{"more than 64 cgroups to kill on Ctrl-C at once", EMFILE};
  if (interrupt_signal()) (void)!::write(k.fd_.get(), "1", 1);
  return k;
}

KillSwitch::KillSwitch(KillSwitch&& o) noexcept : fd_(std::move(o.fd_)), slot_(std::exchange(o.slot_, -1)) {}

KillSwitch& KillSwitch::operator=(KillSwitch&& o) noexcept {
  if (this != &o) {
    disarm();
    fd_ = std::move(o.fd_);
    slot_ = std::exchange(o.slot_, -1);
  }
  return *this;
}

void KillSwitch::disarm() {
  if (slot_ < 0) return;
  // The handler must not write to the descriptor once it is closed (and its
  // number perhaps reused): no signal is handled here in between, and one a
  // handler on another thread (sandmine mine -j) took it before it was
  // cleared has finished with it.
  sigset_t block, old;
  sigemptyset(&block);
  for (int sig : kSignals) sigaddset(&block, sig);
  ::pthread_sigmask(SIG_BLOCK, &block, &old);
  g_kill_fds[slot_].store(-1);
  slot_ = -1;
  while (g_in_handler.load() != 0) ::sched_yield();
  fd_.reset();
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

}  // namespace sandmine::sys
