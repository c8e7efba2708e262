#include "engine/client_engine.h"

#include <fcntl.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "profile/docker_json.h"
#include "sys/fd.h"
#include "sys/files.h"

namespace sandmine::engine {

namespace {

Result<sys::CommandResult> run_client(const ClientFlavor& flavor, const std::vector<std::string>& args,
                                      std::chrono::milliseconds timeout) {
  std::vector<std::string> cmd{flavor.client};
  cmd.insert(cmd.end(), flavor.global_args.begin(), flavor.global_args.end());
  cmd.insert(cmd.end(), args.begin(), args.end());
  return sys::run_command(cmd, {.timeout = timeout});
}

// --ulimit flags for defaults with given applied.
std::vector<std::string> ulimit_args(const std::vector<Ulimit>& defaults, const std::vector<Ulimit>& given) {
  std::vector<std::string> args;
  for (const auto& u : with_defaults(defaults, given)) args.insert(args.end(), {"--ulimit", to_string(u)});
  return args;
}

class ClientContainer final : public ProcessContainer {
 public:
  ClientContainer(const ClientFlavor& flavor, std::string name) : flavor_(flavor), name_(std::move(name)) {}
  ~ClientContainer() override {
    if (paused_) (void)resume();
    detach();
    (void)client({"rm", "-f", name_}, std::chrono::seconds(30));
  }

  Status started() {
    auto r = client({"inspect", "-f", "{{.State.Pid}}", name_});
    if (!r) return r.error();
    if (r->exit_code != 0) return Error{flavor_.name + " inspect " + name_ + " failed: " + r->last_line()};
    auto pid = static_cast<pid_t>(std::atol(r->output.c_str()));
    if (pid <= 0) return Error{"container " + name_ + " is not running (" + logs_tail() + ")"};
    return attach(pid);
  }

  std::string logs() const override {
    auto r = client({"logs", name_});
    return r ? r->output : "";
  }

  Result<sys::CommandResult> exec(const std::vector<std::string>& argv,
                                  std::chrono::milliseconds timeout) override {
    std::vector<std::string> args{"exec", name_};
    args.insert(args.end(), argv.begin(), argv.end());
    return client(args, timeout);
  }

  Status signal(int sig) override {
    auto r = client({"kill", "-s", std::to_string(sig), name_});
    if (!r) return r.error();
    if (r->exit_code != 0) return Error{flavor_.name + " kill " + name_ + " failed: " + r->last_line()};
    return {};
  }

  Result<bool> stop(int sig, std::chrono::milliseconds timeout) override {
    return stop_with_signal(*this, sig, timeout);
  }

  // `start` of the stopped container: the engine keeps its file system, its
  // --cgroup-parent and its profile.
  Status restart(int sig, std::chrono::milliseconds timeout) override {
    auto stopped = stop_with_signal(*this, sig, timeout);
    if (!stopped) return stopped.error();
    detach();
    if (auto st = wait_exited(); !st) return st;
    auto r = client({"start", name_});
    if (!r) return r.error();
    if (r->exit_code != 0) return Error{flavor_.name + " start " + name_ + " failed: " + r->last_line()};
    return started();
  }

  Status pause() override {
    if (auto st = client_verb("pause"); !st) return st;
    paused_ = true;
    return {};
  }
  Status resume() override {
    if (auto st = client_verb("unpause"); !st) return st;
    paused_ = false;
    return {};
  }

 private:
  Status client_verb(const std::string& verb) {
    auto r = client({verb, name_});
    if (!r) return r.error();
    if (r->exit_code != 0)
      return Error{flavor_.name + " " + verb + " " + name_ + " failed: " + r->last_line()};
    return {};
  }

  // The main process has ended, but the engine marks the container exited a
  // moment later, and `start` of a container it thinks still runs does nothing.
  Status wait_exited() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = client({"inspect", "-f", "{{.State.Running}}", name_});
      if (!r) return r.error();
      if (r->exit_code != 0) return Error{flavor_.name + " inspect " + name_ + " failed: " + r->last_line()};
      if (r->last_line() == "false") return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return Error{flavor_.name + " still reports container " + name_ +
                 " running 30 s after its main process ended"};
  }

  Result<sys::CommandResult> client(const std::vector<std::string>& args,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(60)) const {
    return run_client(flavor_, args, timeout);
  }
  std::string logs_tail() const {
    sys::CommandResult r;
    r.output = logs();
    return r.last_line();
  }
  const ClientFlavor& flavor_;
  std::string name_;
  bool paused_ = false;
};

}  // namespace

ClientFlavor docker_flavor(const std::vector<Ulimit>& ulimits) {
  return {.name = "docker",
          .client = "/usr/bin/docker",
          .run_args = ulimit_args({{.type = "nofile", .soft = 1024, .hard = 1024}}, ulimits),
          .daemon = true};
}

ClientFlavor podman_flavor(const std::vector<Ulimit>& ulimits) {
  return {.name = "podman",
          .client = "/usr/bin/podman",
          .global_args = {"--runtime", "runc", "--cgroup-manager", "cgroupfs"},
          .run_args = ulimit_args(
              {{.type = "nofile", .soft = 1024, .hard = 1024}, {.type = "nproc", .soft = 4096, .hard = 4096}},
              ulimits)};
}

Result<std::unique_ptr<ClientEngine>> ClientEngine::create(ClientFlavor flavor) {
  if (!std::filesystem::exists(flavor.client))
    return Error{"the " + flavor.name + " client " + flavor.client + " is not installed (apt-get install " +
                     (flavor.name == "docker" ? "docker.io" : flavor.name) + ")",
                 ENOENT};
  // `version` talks to the daemon (Docker) and fails when none answers.
  auto info = run_client(flavor, {"version"}, std::chrono::seconds(30));
  if (flavor.daemon && (!info || info->exit_code != 0))
    return Error{"the Docker daemon is not running (start it: dockerd &, or systemctl start docker)",
                 ECONNREFUSED};
  return std::unique_ptr<ClientEngine>(new ClientEngine(std::move(flavor)));
}

std::vector<std::string> ClientEngine::run_args(const ContainerSpec& spec,
                                                const std::string& seccomp_file) const {
  std::vector<std::string> args{"--detach", "--name", spec.name, "--label", "sandmine=1",
                                // loopback only: test traffic reaches it in its own namespace
                                "--network", "none", "--cgroup-parent", spec.cgroup_parent};
  if (spec.seccomp != ContainerSpec::Seccomp::EngineDefault)
    args.insert(args.end(), {"--security-opt", "seccomp=" + seccomp_file});
  args.insert(args.end(), flavor_.run_args.begin(), flavor_.run_args.end());
  if (!spec.user.empty()) args.insert(args.end(), {"--user", spec.user});
  for (unsigned gid : spec.additional_gids) args.insert(args.end(), {"--group-add", std::to_string(gid)});
  if (!spec.workdir.empty()) args.insert(args.end(), {"--workdir", spec.workdir});
  for (const auto& [k, v] : spec.env) args.insert(args.end(), {"--env", k + "=" + v});
  // command is the whole argv, whatever Entrypoint the image has: its first
  // word replaces the Entrypoint (which also drops the image's Cmd). Podman
  // reads a JSON list as the list itself, so a program name is never parsed.
  if (!spec.command.empty())
    args.insert(args.end(),
                {"--entrypoint", flavor_.name == "podman" ? nlohmann::json::array({spec.command[0]}).dump()
                                                          : spec.command[0]});
  args.push_back(spec.image);
  if (!spec.command.empty()) args.insert(args.end(), spec.command.begin() + 1, spec.command.end());
  return args;
}

Result<std::unique_ptr<Container>> ClientEngine::start(const ContainerSpec& spec) {
  std::string seccomp;
  if (spec.seccomp == ContainerSpec::Seccomp::Unconfined) {
    seccomp = "unconfined";
  } else if (spec.seccomp == ContainerSpec::Seccomp::Profile) {
    // The engine reads the profile from a file: the one writer's JSON.
    seccomp = spec.work_dir + "/" + spec.name + "-seccomp.json";
    std::ofstream out(seccomp);
    out << profile::to_docker_json(profile_of(spec)).dump(2) << "\n";
    if (!out) return Error{"cannot write " + seccomp + " (the container's seccomp profile)"};
  }
  auto container = std::make_unique<ClientContainer>(flavor_, spec.name);
  std::vector<std::string> args{"run"};
  auto more = run_args(spec, seccomp);
  args.insert(args.end(), more.begin(), more.end());
  auto r = run_client(flavor_, args, std::chrono::seconds(60));
  if (!r) return r.error();
  if (r->exit_code != 0)
    return Error{flavor_.name + " could not start container " + spec.name + ": " + r->last_line()};
  if (auto st = container->started(); !st) return st.error();
  return std::unique_ptr<Container>(std::move(container));
}

}  // namespace sandmine::engine
