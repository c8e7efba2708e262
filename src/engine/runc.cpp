#include "engine/runc.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <thread>

#include "profile/docker_json.h"
#include "sys/fd.h"
#include "sys/files.h"
#include "sys/mounts.h"
#include "sys/spawn.h"

namespace sandmine::engine {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Docker's default capabilities: a profile mined under runc must also start
// the container under Docker and Podman, which grant these.
const std::vector<std::string> kCapabilities = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE"};

class RuncContainer final : public ProcessContainer {
 public:
  RuncContainer(std::string runc, std::string root, std::string name, std::string bundle,
                std::unique_ptr<sys::TmpfsMount> layer, std::unique_ptr<sys::OverlayMount> overlay,
                std::string log_file)
      : runc_(std::move(runc)),
        root_(std::move(root)),
        name_(std::move(name)),
        bundle_(std::move(bundle)),
        log_file_(std::move(log_file)),
        layer_(std::move(layer)),
        overlay_(std::move(overlay)) {}

  ~RuncContainer() override {
    if (paused_) (void)resume();  // a frozen process would not die of SIGKILL
    if (running()) (void)stop(SIGKILL, std::chrono::milliseconds(5000));
    detach();
    (void)sys::run_command({runc_, "--root", root_, "delete", "--force", name_});
    overlay_.reset();
    layer_.reset();
    std::error_code ec;
    fs::remove_all(bundle_, ec);
  }

  // create, then start, as containerd drives runc: init waits on its exec
  // fifo in between, a path Docker takes too. The container's stdio is the log.
  Status launch() {
    auto log = sys::open_append(log_file_);
    if (!log) return Error{"cannot open the container log: " + log.error().message, log.error().errnum};
    std::string pid_file = bundle_ + "/pid";
    std::error_code ec;
    fs::remove(pid_file, ec);
    auto create = sys::spawn(
        {.argv = {runc_, "--root", root_, "create", "--bundle", bundle_, "--pid-file", pid_file, name_},
         .stdin_fd = -1,
         .stdout_fd = log->get(),
         .stderr_fd = log->get()});
    if (!create) return create.error();
    auto status = create->wait();
    if (!status) return status.error();
    if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
      auto text = sys::read_file(log_file_);
      std::string last = text ? text->substr(text->find_last_of('\n', text->size() - 2) + 1) : "";
      while (!last.empty() && last.back() == '\n') last.pop_back();
      return Error{"runc could not create container " + name_ + ": " + last};
    }
    auto pid_text = sys::read_file(pid_file);
    if (!pid_text) return pid_text.error();
    pid_t pid = 0;
    if (std::from_chars(pid_text->data(), pid_text->data() + pid_text->size(), pid).ec != std::errc() ||
        pid <= 0)
      return Error{"runc wrote no process id to " + pid_file + " for container " + name_, EINVAL};
    if (auto st = attach(pid); !st) return st.error();
    auto start = sys::run_command({runc_, "--root", root_, "start", name_});
    if (!start) return start.error();
    if (start->exit_code != 0)
      return Error{"runc could not start container " + name_ + ": " + start->last_line()};
    return {};
  }

  std::string logs() const override { return sys::read_file(log_file_).value_or(""); }

  Result<sys::CommandResult> exec(const std::vector<std::string>& argv,
                                  std::chrono::milliseconds timeout) override {
    std::vector<std::string> cmd{runc_, "--root", root_, "exec", name_};
    cmd.insert(cmd.end(), argv.begin(), argv.end());
    return sys::run_command(cmd, {.timeout = timeout});
  }

  Status signal(int sig) override {
    auto r = sys::run_command({runc_, "--root", root_, "kill", name_, std::to_string(sig)});
    if (!r) return r.error();
    if (r->exit_code != 0) return Error{"runc kill " + name_ + " failed: " + r->last_line()};
    return {};
  }

  Result<bool> stop(int sig, std::chrono::milliseconds timeout) override {
    return stop_with_signal(*this, sig, timeout);
  }

  // runc cannot start a stopped container: delete it (its state and cgroup)
  // and create it again from the same bundle. The overlay stays mounted, so
  // what the container wrote is still there, and config.json puts it in the
  // same cgroupsPath.
  Status restart(int sig, std::chrono::milliseconds timeout) override {
    auto stopped = stop_with_signal(*this, sig, timeout);
    if (!stopped) return stopped.error();
    detach();
    auto del = sys::run_command({runc_, "--root", root_, "delete", name_});
    if (!del) return del.error();
    if (del->exit_code != 0) return Error{"runc delete " + name_ + " failed: " + del->last_line()};
    return launch();
  }

  Status pause() override {
    if (auto st = runc_command("pause"); !st) return st;
    paused_ = true;
    return {};
  }

  Status resume() override {
    if (auto st = runc_command("resume"); !st) return st;
    paused_ = false;
    return {};
  }

  std::string writable_layer() const override { return layer_ ? layer_->target() : ""; }

 private:
  Status runc_command(const std::string& verb) {
    auto r = sys::run_command({runc_, "--root", root_, verb, name_});
    if (!r) return r.error();
    if (r->exit_code != 0) return Error{"runc " + verb + " " + name_ + " failed: " + r->last_line()};
    return {};
  }

  std::string runc_, root_, name_, bundle_, log_file_;
  std::unique_ptr<sys::TmpfsMount> layer_;
  std::unique_ptr<sys::OverlayMount> overlay_;
  bool paused_ = false;
};

// A uid or gid in decimal, 0..2147483647: runc refuses larger ones ("uids and
// gids must be in range 0-2147483647").
std::optional<std::uint32_t> parse_id(std::string_view s) {
  std::uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > INT32_MAX) return std::nullopt;
  return v;
}

// The numeric uid and gid of "uid[:gid]" (empty: root); none when it is not that.
std::optional<std::pair<std::uint32_t, std::uint32_t>> parse_user(std::string_view user) {
  if (user.empty()) return std::pair<std::uint32_t, std::uint32_t>{0, 0};
  auto colon = user.find(':');
  auto uid = parse_id(user.substr(0, colon));
  auto gid = colon == std::string_view::npos ? uid : parse_id(user.substr(colon + 1));
  if (!uid || !gid) return std::nullopt;
  return std::pair{*uid, *gid};
}

}  // namespace

Result<std::unique_ptr<Runc>> Runc::create(std::string state_dir, const EngineOptions& options) {
  auto runc = sys::find_executable("runc");
  if (!runc) return Error{"runc is not installed (apt-get install runc)", ENOENT};
  return std::unique_ptr<Runc>(
      new Runc(*runc, std::move(state_dir), with_defaults(default_ulimits(), options.ulimits)));
}

std::vector<Ulimit> Runc::default_ulimits() { return {{.type = "nofile", .soft = 1024, .hard = 1024}}; }

std::string Runc::config_json(const ContainerSpec& spec, const std::string& root) const {
  // start() has checked the user.
  auto [uid, gid] = parse_user(spec.user).value_or(std::pair<std::uint32_t, std::uint32_t>{0, 0});
  // The environment Docker gives a container (PATH, HOSTNAME, HOME): programs
  // react to it (busybox sh calls uname when HOSTNAME is unset), and a profile
  // mined here must hold under Docker and Podman too. The spec's env wins.
  std::map<std::string, std::string> vars{
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"HOSTNAME", spec.name.substr(0, 63)},
      {"HOME", uid == 0 ? "/root" : "/"}};
  for (const auto& [k, v] : spec.env) vars[k] = v;
  json env = json::array();
  for (const auto& [k, v] : vars) env.push_back(k + "=" + v);
  json seccomp = profile::to_docker_json(profile_of(spec));
  json caps = kCapabilities;
  json rlimits = json::array();
  for (const auto& u : ulimits_)
    rlimits.push_back({{"type", oci_rlimit_type(u)}, {"hard", u.hard}, {"soft", u.soft}});
  // /etc/hosts, /etc/hostname and /etc/resolv.conf as Docker gives them (bind
  // mounts of files beside the rootfs): programs look up localhost and their
  // own name, and must take the same paths under every engine.
  std::string bundle = fs::path(root).parent_path().string();
  json etc = json::array();
  for (const char* f : {"hosts", "hostname", "resolv.conf"})
    etc.push_back({{"destination", std::string("/etc/") + f},
                   {"type", "bind"},
                   {"source", bundle + "/etc-" + f},
                   {"options", {"rbind", "rprivate"}}});
  json config = {
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", uid}, {"gid", gid}}},
        {"args", spec.command},
        {"env", env},
        {"cwd", spec.workdir.empty() ? "/" : spec.workdir},
        {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
        {"rlimits", rlimits},
        // As Docker runs containers: runc then installs the filter before it
        // drops privileges, and those last steps are recorded too.
        {"noNewPrivileges", false}}},
      {"root", {{"path", root}, {"readonly", false}}},
      {"hostname", spec.name.substr(0, 63)},
      {"mounts",
       json::array({{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
                    {{"destination", "/dev"},
                     {"type", "tmpfs"},
                     {"source", "tmpfs"},
                     {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
                    {{"destination", "/dev/pts"},
                     {"type", "devpts"},
                     {"source", "devpts"},
                     {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}}},
                    {{"destination", "/dev/shm"},
                     {"type", "tmpfs"},
                     {"source", "shm"},
                     {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
                    {{"destination", "/dev/mqueue"},
                     {"type", "mqueue"},
                     {"source", "mqueue"},
                     {"options", {"nosuid", "noexec", "nodev"}}},
                    {{"destination", "/sys"},
                     {"type", "sysfs"},
                     {"source", "sysfs"},
                     {"options", {"nosuid", "noexec", "nodev", "ro"}}}})},
      {"linux",
       {{"cgroupsPath", spec.cgroup_parent + "/" + spec.name},
        {"namespaces", json::array({{{"type", "pid"}},
                                    {{"type", "network"}},
                                    {{"type", "ipc"}},
                                    {{"type", "uts"}},
                                    {{"type", "mount"}}})},
        {"seccomp", seccomp},
        {"maskedPaths",
         {"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
          "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}},
        {"readonlyPaths",
         {"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}}};
  for (auto& m : etc) config["mounts"].push_back(std::move(m));
  if (!spec.additional_gids.empty()) config["process"]["user"]["additionalGids"] = spec.additional_gids;
  if (spec.seccomp == ContainerSpec::Seccomp::Unconfined) config["linux"].erase("seccomp");
  return config.dump(2);
}

Result<std::unique_ptr<Container>> Runc::start(const ContainerSpec& spec) {
  if (spec.seccomp == ContainerSpec::Seccomp::EngineDefault)
    return Error{"runc has no default seccomp profile: give one", EINVAL};
  if (!parse_user(spec.user))
    return Error{
        "container user \"" + spec.user + "\" is not \"uid\" or \"uid:gid\" in digits (0 to 2147483647)",
        EINVAL};
  std::string root = state_dir_ + "/runc";
  std::string bundle = state_dir_ + "/" + spec.name;
  std::error_code ec;
  for (const auto& dir : {root, bundle + "/layer", bundle + "/rootfs"}) {
    fs::create_directories(dir, ec);
    if (ec) return Error{"cannot create " + dir + ": " + ec.message()};
  }
  // The writable layer (the overlay's upper and work directories) is a tmpfs
  // of its own: a step can make it full (ENOSPC) by shrinking its limit to
  // what is in use, without filling the host's disk.
  auto layer = sys::TmpfsMount::mount(bundle + "/layer");
  if (!layer) {
    fs::remove_all(bundle, ec);
    return layer.error();
  }
  auto layer_mount = std::make_unique<sys::TmpfsMount>(std::move(*layer));
  for (const auto& dir : {bundle + "/layer/upper", bundle + "/layer/work"}) {
    fs::create_directories(dir, ec);
    if (ec) {
      layer_mount.reset();
      fs::remove_all(bundle, ec);
      return Error{"cannot create " + dir + ": " + ec.message()};
    }
  }
  auto overlay = sys::OverlayMount::mount(spec.rootfs, bundle + "/layer/upper", bundle + "/layer/work",
                                          bundle + "/rootfs");
  if (!overlay) {
    layer_mount.reset();
    fs::remove_all(bundle, ec);
    return overlay.error();
  }
  auto container = std::make_unique<RuncContainer>(runc_, root, spec.name, bundle, std::move(layer_mount),
                                                   std::make_unique<sys::OverlayMount>(std::move(*overlay)),
                                                   spec.log_file);
  std::string hostname = spec.name.substr(0, 63);
  std::ofstream(bundle + "/etc-hosts")
      << "127.0.0.1\tlocalhost " << hostname << "\n::1\tlocalhost ip6-localhost ip6-loopback\n";
  std::ofstream(bundle + "/etc-hostname") << hostname << "\n";
  std::ofstream(bundle + "/etc-resolv.conf") << sys::read_file("/etc/resolv.conf").value_or("");
  {
    std::ofstream out(bundle + "/config.json");
    out << config_json(spec, bundle + "/rootfs");
    if (!out) return Error{"cannot write " + bundle + "/config.json"};
  }

  if (auto st = container->launch(); !st) return st.error();
  return std::unique_ptr<Container>(std::move(container));
}

}  // namespace sandmine::engine
