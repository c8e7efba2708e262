// sandmine: mine seccomp sandboxes for Linux containers.
#include <fmt/core.h>

#include <cstdio>
#include <exception>
#include <string>

#include "command.h"

namespace sandmine::cli {

void say(const std::string& line) { fmt::print(stderr, "sandmine: {}\n", sandmine::one_line(line)); }

}  // namespace sandmine::cli

int main(int argc, char** argv) {
  using namespace sandmine::cli;
  CLI::App app{
      "sandmine: records the system calls a program or container really makes and turns them "
      "into a seccomp profile that Docker, Podman, runc and Kubernetes enforce as-is."};
  app.name("sandmine");
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("sandmine 0.1.0"));
  app.footer(
      "EXAMPLES:\n"
      "  sandmine info                                   what this host supports\n"
      "  sandmine mine examples/nginx.yaml -o out/nginx  mine a container (runc; --engine docker|podman)\n"
      "  sandmine init myorg/api:1.4 -o api.yaml        a starter spec from an image's own config\n"
      "  sandmine record -o out -- docker-compose up     a profile per container of your own workflow\n"
      "  sandmine check examples/nginx.yaml --profile out/nginx/profile.json --mode enforce\n"
      "  sandmine explain out/nginx/profile.json         attack surface and CVEs vs the defaults\n"
      "  sandmine reach out/nginx                        what its binaries can reach but never did\n"
      "  sandmine trace -o curl.json -- curl -s example.org\n"
      "  sandmine profile curl.json -o curl-profile.json\n"
      "  docker run --security-opt seccomp=curl-profile.json ...\n\n"
      "Exit codes: 0 success, 1 the checked property does not hold, 2 bad input or environment.\n"
      "For trace, the exit code is the traced command's.");
  int exit_code = 0;
  add_info(app, exit_code);
  add_trace(app, exit_code);
  add_profile(app, exit_code);
  add_init(app, exit_code);
  add_mine(app, exit_code);
  add_record(app, exit_code);
  add_run(app, exit_code);
  add_check(app, exit_code);
  add_bench(app, exit_code);
  add_explain(app, exit_code);
  add_diff(app, exit_code);
  add_merge(app, exit_code);
  add_export(app, exit_code);
  add_report(app, exit_code);
  add_reach(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    say(e.what() + std::string(" (see sandmine --help)"));
    return kExitBadInput;
  } catch (const UserError& e) {
    say(e.what());
    return kExitBadInput;
  } catch (const std::exception& e) {
    // What no check foresaw. The exception has unwound the stack on its way
    // here, so every container, mount, cgroup and recorder made so far was
    // removed by its destructor, as after Ctrl-C.
    say(std::string("internal error: ") + e.what() + " (please report this)");
    return kExitBadInput;
  } catch (...) {
    say("internal error: an unknown exception (please report this)");
    return kExitBadInput;
  }
  return exit_code;
}
