// sandmine export: a profile for Docker, runc, Kubernetes or systemd.
#include <fmt/core.h>

#include <optional>

#include "command.h"
#include "profile/docker_json.h"
#include "profile/export.h"
#include "sys/files.h"

namespace sandmine::cli {

namespace {

struct ExportOptions {
  std::string profile;
  std::string format;
  std::string output;
  std::string name;
};

int run(const ExportOptions& o) {
  auto format = must(profile::parse_export_format(o.format));
  std::optional<sys::OutputFile> out;
  if (!o.output.empty()) out.emplace(must(sys::OutputFile::create(o.output)));
  auto p = must(profile::read_profile(o.profile));
  std::vector<std::string> dropped;
  std::string text = must(profile::export_profile(p, format, {o.name, &dropped}));
  for (const auto& w : p.warnings) say("warning: " + w);
  for (const auto& w : dropped) say("warning: " + w);
  if (out) {
    must(out->commit(text));
    say(fmt::format("wrote {} ({})", o.output, o.format));
  } else {
    fmt::print("{}", text);
  }
  return 0;
}

}  // namespace

void add_export(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ExportOptions>();
  auto* cmd = app.add_subcommand("export", "A profile as Docker, runc (OCI), Kubernetes or systemd take it");
  cmd->add_option("profile", o->profile, "A Docker/OCI seccomp profile (JSON)")->required();
  cmd->add_option("-f,--format", o->format, "docker, oci, k8s or systemd")->required();
  cmd->add_option("-o,--output", o->output, "Write it here (default: standard output)");
  cmd->add_option("--name", o->name,
                  "k8s: the object's metadata.name (default: from the profile's file name)");
  cmd->footer(
      "The profile is taken as it applies on this host (includes/excludes decided, archMap resolved).\n"
      "  docker   the Docker seccomp JSON, normalised: docker/podman run --security-opt seccomp=FILE\n"
      "  oci      the linux.seccomp object of a runc config.json (the same fields, the same JSON):\n"
      "             jq --slurpfile s seccomp.json '.linux.seccomp = $s[0]' config.json\n"
      "  k8s      a Security Profiles Operator SeccompProfile (YAML), with a comment on using the plain\n"
      "           profile as a Localhost profile (securityContext.seccompProfile) without the operator\n"
      "  systemd  SystemCallArchitectures=, SystemCallFilter= and SystemCallErrorNumber= for a unit;\n"
      "           systemd's filter has no argument conditions: socket's domain rules become\n"
      "           RestrictAddressFamilies=, the namespace flags of clone/unshare/setns RestrictNamespaces=,\n"
      "           the other argument rules are dropped (their names allowed), said in comments and "
      "warnings\n\n"
      "EXAMPLES:\n"
      "  sandmine export nginx-profile.json --format k8s -o nginx-seccomp.yaml\n"
      "  sandmine export nginx-profile.json --format systemd -o "
      "/etc/systemd/system/nginx.service.d/seccomp.conf\n"
      "  sandmine export /usr/share/containers/seccomp.json --format oci");
  cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace sandmine::cli
