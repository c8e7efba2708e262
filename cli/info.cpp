// sandmine info: what this host supports, one line each.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>

#include "command.h"
#include "engine/client_engine.h"
#include "sys/cgroup.h"
#include "sys/fd.h"
#include "sys/files.h"
#include "sys/net.h"
#include "sys/privilege.h"
#include "sys/spawn.h"
#include "sys/tracefs.h"
#include "syscalls/syscalls.h"
#include "trace/ebpf_recorder.h"

namespace sandmine::cli {

namespace {

void line(const std::string& what, const std::string& value) { fmt::print("{:<14} {}\n", what + ":", value); }

std::string first_line_of(const std::string& command) {
  std::unique_ptr<FILE, decltype(&pclose)> p(popen((command + " 2>/dev/null").c_str(), "r"), &pclose);
  if (!p) return "";
  char buf[256] = {};
  if (!fgets(buf, sizeof buf, p.get())) return "";
  std::string s(buf);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// The clients the engines use (Debian's), not whatever PATH finds first.
std::string engine(const std::string& name) {
  auto path = name == "docker"   ? Result<std::string>(engine::docker_flavor().client)
              : name == "podman" ? Result<std::string>(engine::podman_flavor().client)
                                 : sys::find_executable(name);
  if (!path || !sys::is_executable(*path)) return "not found";
  std::string version = first_line_of(*path + " --version");
  std::string out = *path + (version.empty() ? "" : " (" + version + ")");
  if (name == "docker")
    out += sys::unix_socket_answers("/var/run/docker.sock") ? "; daemon running"
                                                            : "; daemon not running (start dockerd)";
  return out;
}

struct InfoOptions {
  std::string btf = "/sys/kernel/btf/vmlinux";
};

int run(const InfoOptions& o) {
  std::vector<std::string> blockers;

  if (auto size = sys::file_size(o.btf))
    line("BTF", fmt::format("yes ({}, {:.1f} MB)", o.btf, static_cast<double>(*size) / 1e6));
  else {
    line("BTF", "no (" + o.btf + " missing: kernel without CONFIG_DEBUG_INFO_BTF; pass --btf FILE)");
    blockers.push_back("no kernel BTF");
  }

  bool root = sys::has_capability(21 /* CAP_SYS_ADMIN */);
  line("privileges", root ? "CAP_SYS_ADMIN (can record)" : "no CAP_SYS_ADMIN: recording needs root");
  if (!root) blockers.push_back("not root");

  auto mountinfo = sys::read_file("/proc/self/mountinfo");
  auto tracefs = mountinfo ? sys::find_tracefs_mount(*mountinfo) : std::nullopt;
  if (tracefs)
    line("tracefs", "mounted at " + *tracefs);
  else
    line("tracefs", root ? "not mounted; sandmine mounts it at /sys/kernel/tracing while recording"
                         : "not mounted; mounting it needs root");

  auto cg = sys::cgroup2_mount();
  if (cg) {
    bool hybrid = mountinfo && mountinfo->find(" - cgroup ") != std::string::npos;
    line("cgroup v2", *cg + (hybrid ? " (hybrid: v1 controllers mounted too)" : ""));
  } else {
    line("cgroup v2", "not mounted: " + cg.error().message);
    blockers.push_back("no cgroup v2");
  }

  auto actions = sys::read_file("/proc/sys/kernel/seccomp/actions_avail");
  if (actions) {
    std::string a = *actions;
    while (!a.empty() && a.back() == '\n') a.pop_back();
    line("seccomp", "filter mode; actions: " + a);
  } else {
    line("seccomp", "unavailable (kernel without CONFIG_SECCOMP_FILTER)");
    blockers.push_back("no seccomp filters");
  }

  std::string native = syscalls::native_arch();
  std::string arches = native + " (native)";
  for (int abi = 1; abi < 3; ++abi)
    if (auto a = syscalls::arch_for_abi(abi)) arches += ", " + *a;
  line("arches", arches + "; names from libseccomp");

  for (const char* e : {"runc", "crun", "docker", "podman"}) line(e, engine(e));

  if (blockers.empty() && root) {
    auto rec = trace::EbpfRecorder::open({o.btf});
    if (rec)
      line("recording", "works: the eBPF recorder loaded and attached (and was removed again)");
    else {
      line("recording", "impossible: " + rec.error().message);
      blockers.push_back(rec.error().message);
    }
  } else {
    line("recording", "impossible: " + fmt::format("{}", fmt::join(blockers, ", ")));
  }
  return blockers.empty() ? 0 : kExitBadInput;
}

}  // namespace

void add_info(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<InfoOptions>();
  auto* cmd = app.add_subcommand("info", "Show what this host supports for recording and enforcing");
  cmd->add_option("--btf", o->btf, "Kernel BTF to check")->capture_default_str();
  cmd->footer(
      "Exits 2 when recording is impossible here (no BTF, not root, no cgroup v2, no seccomp),\n"
      "after trying to load and attach the recorder for real.\n\n"
      "EXAMPLES:\n"
      "  sudo sandmine info");
  cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace sandmine::cli
