#include "engine/engine.h"

#include "engine/client_engine.h"
#include "engine/runc.h"
#include "sys/files.h"

namespace sandmine::engine {

bool process_running(pid_t pid) {
  auto stat = sys::read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  auto close = stat->rfind(')');
  return close != std::string::npos && close + 2 < stat->size() && (*stat)[close + 2] != 'Z';
}

Result<std::unique_ptr<Engine>> make_engine(std::string_view name) {
  if (name == "runc") {
    auto r = Runc::create();
    if (!r) return r.error();
    return std::unique_ptr<Engine>(std::move(*r));
  }
  if (name == "docker" || name == "podman") {
    auto e = ClientEngine::create(name == "docker" ? docker_flavor() : podman_flavor());
    if (!e) return e.error();
    return std::unique_ptr<Engine>(std::move(*e));
  }
  return Error{"unknown engine \"" + std::string(name) + "\" (sandmine drives runc, docker and podman)", EINVAL};
}

}  // namespace sandmine::engine
