// sandmine init: a starter spec from an image's own config.
#include <fmt/format.h>

#include <cstdio>

#include "command.h"
#include "engine/ulimit.h"
#include "explore/starter.h"
#include "image/fetch.h"
#include "sys/files.h"
#include "sys/interrupt.h"
#include "work_dir.h"

namespace sandmine::cli {

namespace {

struct InitOptions {
  std::string image;
  std::string output;
  std::string engine = "runc";
  std::string cache;
  std::string ready;
  std::vector<std::string> ulimits;
};

int run(const InitOptions& o) {
  const engine::EngineOptions engine_options{.ulimits = must(engine::parse_ulimits(o.ulimits))};
  auto image = must(image::image_from_argument(o.image));
  std::optional<spec::ReadyProbe> ready;
  if (!o.ready.empty()) ready = must(explore::parse_ready_argument(o.ready));
  // Checked writable before the image is fetched and started.
  std::optional<sys::OutputFile> out;
  if (!o.output.empty()) out.emplace(must(sys::OutputFile::create(o.output)));
  WorkDir work("sandmine-init-");
  sys::InterruptGuard interrupts;
  auto starter = must(explore::starter_spec(image, {.engine = o.engine,
                                                    .engine_options = engine_options,
                                                    .cache_dir = o.cache,
                                                    .work_dir = work.path(),
                                                    .spec_file = o.output,
                                                    .ready = ready,
                                                    .progress = [](const std::string& l) { say(l); }}));
  if (out) {
    must(out->commit(starter.yaml));
    say(fmt::format(
        "wrote {}: {} explore steps; add your own test commands where it says, then: sandmine mine {}",
        o.output, starter.spec.explore.size(), o.output));
  } else {
    std::fputs(starter.yaml.c_str(), stdout);
  }
  return 0;
}

}  // namespace

void add_init(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<InitOptions>();
  auto* cmd = app.add_subcommand("init", "Write a starter spec from an image's own config");
  cmd->add_option("image", o->image,
                  "The image: a reference in Docker's or Podman's store (myorg/api:1.4), oci:DIR[:TAG]\n"
                  "(an OCI image layout), docker-archive:FILE or oci-archive:FILE (docker save, podman save)")
      ->required();
  cmd->add_option("-o,--output", o->output, "Where to write the spec (default: standard output)");
  cmd->add_option("--engine", o->engine, "Container engine that starts the image briefly")
      ->check(CLI::IsMember({"runc", "docker", "podman"}))
      ->capture_default_str();
  cmd->add_option("--cache", o->cache, "Image cache directory (default: /var/cache/sandmine/images)");
  cmd->add_option("--ready", o->ready,
                  "When the container is ready, replacing what the image's config implies:\n"
                  "tcp:PORT or http:PORT[/PATH]");
  cmd->add_option("--ulimit", o->ulimits, "A resource limit of the container, as for mine")
      ->type_name("TYPE=SOFT:HARD")
      ->allow_extra_args(false);
  cmd->footer(
      "Reads the image's config (Entrypoint, Cmd, Env, User, WorkingDir, StopSignal, ExposedPorts,\n"
      "Healthcheck), starts the image briefly (unconfined, not recorded) until it is ready, reads\n"
      "which signals its main process handles (SigCgt in /proc/PID/status), sends it each one but\n"
      "its stop signal, the fault and the real-time signals, and writes a spec with: a header\n"
      "saying what the config gives, the ready probe (Healthcheck, else the first exposed TCP port),\n"
      "one signal step per handled signal the process survives, a restart, an auto step (sandmine\n"
      "explores by itself for up to 120 s: docs/explore-auto.md), the stop, and commented places\n"
      "for your own explore and validate steps. It mines as it is; your own test commands make the\n"
      "profile cover what the container does in production. Layout and archive paths are\n"
      "written relative to the spec's folder.\n\n"
      "EXAMPLES:\n"
      "  sudo sandmine init myorg/api:1.4 -o api.yaml && sudo sandmine mine api.yaml\n"
      "  sudo sandmine init oci:./layout:v2 --ready http:8080/healthz -o api.yaml\n"
      "  docker save myorg/api:1.4 -o api.tar && sudo sandmine init docker-archive:api.tar");
  cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace sandmine::cli
