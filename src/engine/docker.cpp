#include "engine/docker.h"

#include <fcntl.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "sys/fd.h"
#include "sys/files.h"

namespace sandmine::engine {

namespace {

class DockerContainer final : public Container {
 public:
  DockerContainer(std::string client, std::string name) : client_(std::move(client)), name_(std::move(name)) {}
  ~DockerContainer() override { (void)sys::run_command({client_, "rm", "-f", name_}, {.timeout = std::chrono::seconds(30)}); }

  Status started() {
    auto r = sys::run_command({client_, "inspect", "-f", "{{.State.Pid}}", name_});
    if (!r) return r.error();
    if (r->exit_code != 0) return Error{"docker inspect " + name_ + " failed: " + r->last_line()};
    pid_ = static_cast<pid_t>(std::atol(r->output.c_str()));
    if (pid_ <= 0) return Error{"container " + name_ + " is not running (" + logs_tail() + ")"};
    std::string ns = "/proc/" + std::to_string(pid_) + "/ns/net";
    netns_.reset(::open(ns.c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns_.valid()) return errno_error("cannot open the container's network namespace " + ns);
    return {};
  }

  pid_t main_pid() const override { return pid_; }
  int netns_fd() const override { return netns_.get(); }
  bool running() const override { return pid_ > 0 && process_running(pid_); }

  std::string logs() const override {
    auto r = sys::run_command({client_, "logs", name_});
    return r ? r->output : "";
  }

  Result<sys::CommandResult> exec(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) override {
    std::vector<std::string> cmd{client_, "exec", name_};
    cmd.insert(cmd.end(), argv.begin(), argv.end());
    return sys::run_command(cmd, {.timeout = timeout});
  }

  Status signal(int sig) override {
    auto r = sys::run_command({client_, "kill", "-s", std::to_string(sig), name_});
    if (!r) return r.error();
    if (r->exit_code != 0) return Error{"docker kill " + name_ + " failed: " + r->last_line()};
    return {};
  }

  Result<bool> stop(int sig, std::chrono::milliseconds timeout) override {
    if (!running()) return true;
    (void)signal(sig);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!running()) return true;
    (void)signal(SIGKILL);
    for (int i = 0; i < 500 && running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (running()) return Error{"container " + name_ + " survived SIGKILL"};
    return false;
  }

 private:
  std::string logs_tail() const {
    sys::CommandResult r;
    r.output = logs();
    return r.last_line();
  }
  std::string client_, name_;
  sys::UniqueFd netns_;
  pid_t pid_ = -1;
};

}  // namespace

Result<std::unique_ptr<Docker>> Docker::create(std::string client) {
  if (!std::filesystem::exists(client))
    return Error{"the Docker client " + client + " is not installed (apt-get install docker.io)", ENOENT};
  auto info = sys::run_command({client, "info", "--format", "{{.ServerVersion}}"}, {.timeout = std::chrono::seconds(20)});
  if (!info || info->exit_code != 0)
    return Error{"the Docker daemon is not running (start it: dockerd &, or systemctl start docker)", ECONNREFUSED};
  return std::unique_ptr<Docker>(new Docker(std::move(client)));
}

std::vector<std::string> Docker::run_args(const ContainerSpec& spec, const std::string& seccomp_file) {
  std::vector<std::string> args{"--detach", "--name", spec.name, "--label", "sandmine=1",
                                // loopback only: test traffic reaches it in its own namespace
                                "--network", "none", "--cgroup-parent", spec.cgroup_parent, "--security-opt",
                                "seccomp=" + seccomp_file};
  if (!spec.user.empty()) args.insert(args.end(), {"--user", spec.user});
  if (!spec.workdir.empty()) args.insert(args.end(), {"--workdir", spec.workdir});
  for (const auto& [k, v] : spec.env) args.insert(args.end(), {"--env", k + "=" + v});
  args.push_back(spec.image);
  args.insert(args.end(), spec.command.begin(), spec.command.end());
  return args;
}

Result<std::unique_ptr<Container>> Docker::start(const ContainerSpec& spec) {
  std::string seccomp = spec.seccomp_profile;
  if (seccomp.empty()) {
    // The recording profile: allow everything, so runc arms the container where
    // it will install the mined profile.
    seccomp = spec.work_dir + "/allow-all.json";
    std::ofstream(seccomp) << R"({"defaultAction": "SCMP_ACT_ALLOW"})" << "\n";
  }
  auto container = std::make_unique<DockerContainer>(client_, spec.name);
  std::vector<std::string> cmd{client_, "run"};
  auto args = run_args(spec, seccomp);
  cmd.insert(cmd.end(), args.begin(), args.end());
  auto r = sys::run_command(cmd, {.timeout = std::chrono::seconds(60)});
  if (!r) return r.error();
  if (r->exit_code != 0) return Error{"docker could not start container " + spec.name + ": " + r->last_line()};
  if (auto st = container->started(); !st) return st.error();
  return std::unique_ptr<Container>(std::move(container));
}

}  // namespace sandmine::engine
