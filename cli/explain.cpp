// sandmine explain: what a profile leaves open of the kernel, next to the engines' defaults.
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "command.h"
#include "profile/docker_json.h"
#include "profile/explain.h"

namespace sandmine::cli {

namespace {

struct ExplainOptions {
  std::string profile;
  bool json = false;
  std::string podman_default = "/usr/share/containers/seccomp.json";
};

int run(const ExplainOptions& o) {
  auto p = must(profile::read_profile(o.profile));
  auto e = profile::explain(p, {profile::docker_baseline(), profile::podman_baseline(o.podman_default)});
  if (o.json)
    fmt::print("{}\n", profile::explain_json(e).dump(2));
  else
    fmt::print("{}", profile::explain_text(e));
  return 0;
}

}  // namespace

void add_explain(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ExplainOptions>();
  auto* cmd = app.add_subcommand(
      "explain", "Attack surface of a seccomp profile next to Docker's and Podman's default profiles");
  cmd->add_option("profile", o->profile, "A Docker/OCI seccomp profile (JSON)")->required();
  cmd->add_flag("--json", o->json, "Print the same facts as JSON");
  cmd->add_option("--podman-default", o->podman_default,
                  "Podman's and CRI-O's default profile to compare with (containers-common)")
      ->capture_default_str();
  cmd->footer(
      "For the profile as it applies on this host (includes/excludes decided for this architecture,\n"
      "Docker's default capabilities and the running kernel), it prints:\n"
      "  - the syscalls it allows per architecture (* only for some argument values);\n"
      "  - how its x86_64 names compare with Docker 20.10's default (data/docker_default_x86_64.csv)\n"
      "    and with Podman's and CRI-O's default (the containers-common file; when it is not\n"
      "    installed, the output says so);\n"
      "  - the risky syscalls each lets through (data/risky_syscalls.csv: namespaces, mount, keyring,\n"
      "    bpf, perf, userfaultfd, io_uring, ptrace, module, kexec, ...), with the reasons;\n"
      "  - the kernel CVEs whose way in each leaves open (data/cves.csv): open when every syscall on\n"
      "    the path is allowed; cond when only through a syscall allowed for some argument values;\n"
      "  - what it was mined from, when sandmine mine wrote it: image, command, environment and the\n"
      "    configuration files read at start, as SHA-256 (the profile holds for that configuration).\n"
      "The tables are built into sandmine; each row names its source.\n\n"
      "EXAMPLES:\n"
      "  sandmine explain nginx-profile.json\n"
      "  sandmine explain nginx-profile.json --json | jq '.cves[] | select(.profile != \"no\") | .id'\n"
      "  sandmine explain /usr/share/containers/seccomp.json\n"
      "  sandmine explain out/nginx/profile.json --json | jq .mined_from.configFiles");
  cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace sandmine::cli
