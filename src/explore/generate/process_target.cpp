#include "explore/generate/process_target.h"

#include "engine/engine.h"
#include "sys/cgroup.h"
#include "sys/files.h"
#include "sys/process.h"
#include "sys/spawn.h"

namespace sandmine::explore::generate {

Result<std::unique_ptr<ProcessTarget>> ProcessTarget::start(ProcessSpec spec) {
  std::unique_ptr<ProcessTarget> t(new ProcessTarget(std::move(spec)));
  if (auto st = t->launch(); !st) return st.error();
  return t;
}

ProcessTarget::~ProcessTarget() {
  if (pid_ <= 0) return;
  (void)sys::freeze_cgroup(spec_.cgroup_dir, false);
  (void)sys::send_signal(pid_, SIGKILL);
  (void)sys::reap_child(pid_, 5000);
}

Status ProcessTarget::launch() {
  auto procs = sys::open_write_only(spec_.cgroup_dir + "/cgroup.procs");
  if (!procs) return procs.error();
  sys::UniqueFd log;
  if (!spec_.log_file.empty()) {
    auto opened = sys::open_append(spec_.log_file);
    if (!opened) return opened.error();
    log = std::move(*opened);
  }
  auto child = sys::spawn({.argv = spec_.argv,
                           .cgroup_procs_fd = procs->get(),
                           .allow_all_filter = true,
                           .netns_fd = spec_.netns_fd,
                           .stdout_fd = log.get(),
                           .stderr_fd = log.get()});
  if (!child) return child.error();
  pid_ = child->pid();
  if (auto st = child->exec_status(true); !st) {
    (void)sys::reap_child(pid_, 5000);
    pid_ = -1;
    return Error{"cannot run " + spec_.argv[0] + ": " + st.error().message, st.error().errnum};
  }
  if (spec_.ready) return spec_.ready(*this);
  return {};
}

Result<sys::CommandResult> ProcessTarget::exec(const std::vector<std::string>& argv,
                                               std::chrono::milliseconds timeout) {
  auto procs = sys::open_write_only(spec_.cgroup_dir + "/cgroup.procs");
  if (!procs) return procs.error();
  return sys::run_command(argv, {.timeout = timeout,
                                 .netns_fd = spec_.netns_fd,
                                 .cgroup_procs_fd = procs->get(),
                                 .allow_all_filter = true});
}

Status ProcessTarget::signal(int sig) { return sys::send_signal(pid_, sig); }

bool ProcessTarget::running() const { return pid_ > 0 && engine::process_running(pid_); }

Status ProcessTarget::pause() { return sys::freeze_cgroup(spec_.cgroup_dir, true); }

Status ProcessTarget::resume() { return sys::freeze_cgroup(spec_.cgroup_dir, false); }

Result<bool> ProcessTarget::stop() {
  if (pid_ <= 0) return true;
  bool graceful = true;
  if (running()) {
    (void)sys::send_signal(pid_, spec_.stop_signal);
    graceful = sys::reap_child(pid_, static_cast<int>(spec_.stop_timeout.count()));
  }
  if (!graceful) {
    (void)sys::send_signal(pid_, SIGKILL);
    if (!sys::reap_child(pid_, 5000)) return Error{"process " + std::to_string(pid_) + " survived SIGKILL"};
  } else {
    (void)sys::reap_child(pid_, 5000);
  }
  pid_ = -1;
  return graceful;
}

Status ProcessTarget::restart() {
  auto stopped = stop();
  if (!stopped) return stopped.error();
  return launch();
}

}  // namespace sandmine::explore::generate
