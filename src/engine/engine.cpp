#include "engine/engine.h"

#include <fcntl.h>
#include <signal.h>

#include <thread>

#include "engine/client_engine.h"
#include "engine/runc.h"
#include "sys/files.h"
#include "sys/net.h"

namespace sandmine::engine {

const profile::Profile& profile_of(const ContainerSpec& spec) {
  static const profile::Profile recording = profile::Profile::allow_all();
  return spec.profile ? *spec.profile : recording;
}

bool process_running(pid_t pid) {
  auto stat = sys::read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  auto close = stat->rfind(')');
  return close != std::string::npos && close + 2 < stat->size() && (*stat)[close + 2] != 'Z';
}

bool ProcessContainer::running() const { return pid_ > 0 && process_running(pid_); }

Status ProcessContainer::attach(pid_t pid) {
  pid_ = pid;
  auto ns = sys::open_netns(pid);
  if (!ns)
    return Error{"cannot open the container's network namespace: " + ns.error().message, ns.error().errnum};
  netns_ = std::move(*ns);
  return {};
}

Result<bool> stop_with_signal(Container& container, int sig, std::chrono::milliseconds timeout) {
  if (!container.running()) return true;
  (void)container.signal(sig);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (container.running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!container.running()) return true;
  (void)container.signal(SIGKILL);
  for (int i = 0; i < 500 && container.running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (container.running()) return Error{"the container's main process survived SIGKILL"};
  return false;
}

Result<std::unique_ptr<Engine>> make_engine(std::string_view name, const EngineOptions& options) {
  if (name == "runc") {
    auto r = Runc::create(kRuncStateDir, options);
    if (!r) return r.error();
    return std::unique_ptr<Engine>(std::move(*r));
  }
  if (name == "docker" || name == "podman") {
    auto e = ClientEngine::create(name == "docker" ? docker_flavor(options.ulimits)
                                                   : podman_flavor(options.ulimits));
    if (!e) return e.error();
    return std::unique_ptr<Engine>(std::move(*e));
  }
  return Error{"unknown engine \"" + std::string(name) + "\" (sandmine drives runc, docker and podman)",
               EINVAL};
}

}  // namespace sandmine::engine
