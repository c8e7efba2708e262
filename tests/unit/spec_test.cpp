#include "spec/spec.h"

#include "support/spec_errors.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>

namespace sandmine::spec {
namespace {

using std::chrono::milliseconds;
using Strings = std::vector<std::string>;

// The error parse_spec gives, or a marker that fails any comparison with a message.
using test::error_of;

// Every field given, none at its default; the line numbers below refer to it.
constexpr std::string_view kComplete = R"y(name: web-1.test_a
image:
  debian: {suite: trixie, packages: [nginx-light, curl], variant: minbase}
command: [nginx, -g, "daemon off;"]
env: {MODE: prod, WORKERS: 4, DEBUG: false, EMPTY: ""}
user: "101:102"
workdir: /var/www
ready:
  http: {port: 8080, path: /healthz}
  timeout: 45s
explore:
  - name: index
    run: curl -sf http://127.0.0.1:8080/
    timeout: 500ms
    expect: 22
  - exec: [nginx, -t]
    expect: 1
  - signal: SIGUSR1
  - restart: true
    timeout: 2m
  - sleep: 3
validate:
  - name: index
    run: curl -sf http://127.0.0.1:8080/missing
    expect: 22
bench:
  - run: ab -n 1000 http://127.0.0.1:8080/
stop: {signal: quit, timeout: 20s}
)y";

TEST(SpecParse, CompleteSpecGivesEveryValue) {
  auto r = parse_spec(kComplete, "web.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Spec& s = *r;
  EXPECT_EQ(s.file, "web.yaml");
  EXPECT_EQ(s.name, "web-1.test_a");
  ASSERT_TRUE(std::holds_alternative<DebianImage>(s.image));
  const auto& debian = std::get<DebianImage>(s.image);
  EXPECT_EQ(debian.suite, "trixie");
  EXPECT_EQ(debian.packages, (Strings{"nginx-light", "curl"}));
  EXPECT_EQ(debian.variant, "minbase");
  EXPECT_EQ(s.command, (Strings{"nginx", "-g", "daemon off;"}));
  EXPECT_EQ(s.env, (std::map<std::string, std::string>{
                       {"MODE", "prod"}, {"WORKERS", "4"}, {"DEBUG", "false"}, {"EMPTY", ""}}));
  EXPECT_EQ(s.user, "101:102");
  EXPECT_EQ(s.workdir, "/var/www");

  ASSERT_TRUE(s.ready.has_value());
  EXPECT_EQ(s.ready->kind, ReadyProbe::Kind::Http);
  EXPECT_EQ(s.ready->port, 8080);
  EXPECT_EQ(s.ready->path, "/healthz");
  EXPECT_EQ(s.ready->timeout, milliseconds(45'000));
  EXPECT_EQ(s.ready->line, 9);  // the ready mapping starts at its first key

  ASSERT_EQ(s.explore.size(), 5u);
  const Step& run = s.explore[0];
  EXPECT_EQ(run.kind, Step::Kind::Run);
  EXPECT_EQ(run.name, "index");
  EXPECT_EQ(run.run, "curl -sf http://127.0.0.1:8080/");
  EXPECT_EQ(run.timeout, milliseconds(500));
  EXPECT_EQ(run.expect, 22);
  EXPECT_EQ(run.line, 12);
  const Step& exec = s.explore[1];
  EXPECT_EQ(exec.kind, Step::Kind::Exec);
  EXPECT_EQ(exec.name, "explore[1]");
  EXPECT_EQ(exec.exec, (Strings{"nginx", "-t"}));
  EXPECT_EQ(exec.timeout, milliseconds(60'000));
  EXPECT_EQ(exec.expect, 1);
  EXPECT_EQ(exec.line, 16);
  const Step& sig = s.explore[2];
  EXPECT_EQ(sig.kind, Step::Kind::Signal);
  EXPECT_EQ(sig.name, "explore[2]");
  EXPECT_EQ(sig.signal, SIGUSR1);
  EXPECT_EQ(sig.line, 18);
  const Step& restart = s.explore[3];
  EXPECT_EQ(restart.kind, Step::Kind::Restart);
  EXPECT_EQ(restart.restart_signal, 0);  // the spec's stop signal
  EXPECT_EQ(restart.timeout, milliseconds(120'000));
  EXPECT_EQ(restart.line, 19);
  const Step& sleep = s.explore[4];
  EXPECT_EQ(sleep.kind, Step::Kind::Sleep);
  EXPECT_EQ(sleep.sleep, milliseconds(3000));
  EXPECT_EQ(sleep.line, 21);

  // The same name in another list is fine: names are unique per list.
  ASSERT_EQ(s.validate.size(), 1u);
  EXPECT_EQ(s.validate[0].name, "index");
  EXPECT_EQ(s.validate[0].run, "curl -sf http://127.0.0.1:8080/missing");
  EXPECT_EQ(s.validate[0].expect, 22);
  EXPECT_EQ(s.validate[0].line, 23);
  ASSERT_EQ(s.bench.size(), 1u);
  EXPECT_EQ(s.bench[0].name, "bench[0]");
  EXPECT_EQ(s.bench[0].run, "ab -n 1000 http://127.0.0.1:8080/");
  EXPECT_EQ(s.bench[0].line, 27);

  EXPECT_EQ(s.stop.signal, SIGQUIT);
  EXPECT_EQ(s.stop.timeout, milliseconds(20'000));
}

// restart: true stops with the spec's stop signal; {signal: SIG} with its own
// (a server stopped by TERM from Kubernetes and by QUIT from its image's
// StopSignal takes two shutdown paths).
TEST(SpecParse, ARestartStepMayNameTheSignalThatStopsIt) {
  auto r = parse_spec(R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
explore:
  - restart: true
  - restart: {signal: TERM}
  - restart: {signal: 2}
validate:
  - restart: {signal: SIGQUIT}
stop: {signal: USR1}
)y",
                      "t.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->explore.size(), 3u);
  for (const auto& step : r->explore) EXPECT_EQ(step.kind, Step::Kind::Restart);
  EXPECT_EQ(r->explore[0].restart_signal, 0);
  EXPECT_EQ(r->explore[1].restart_signal, SIGTERM);
  EXPECT_EQ(r->explore[2].restart_signal, SIGINT);
  EXPECT_EQ(r->validate.at(0).restart_signal, SIGQUIT);
  EXPECT_EQ(r->stop.signal, SIGUSR1);
}

TEST(SpecParse, OmittedFieldsTakeTheirDefaults) {
  auto r = parse_spec(R"y(name: t
image:
  debian:
    packages: [curl]
command: [sleep, "100"]
explore:
  - run: "true"
)y",
                      "t.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& debian = std::get<DebianImage>(r->image);
  EXPECT_EQ(debian.suite, "bookworm");
  EXPECT_EQ(debian.variant, "apt");
  EXPECT_TRUE(r->env.empty());
  EXPECT_EQ(r->user, "");
  EXPECT_EQ(r->workdir, "");
  EXPECT_FALSE(r->ready.has_value());
  ASSERT_EQ(r->explore.size(), 1u);
  EXPECT_EQ(r->explore[0].name, "explore[0]");
  EXPECT_EQ(r->explore[0].run, "true");
  EXPECT_EQ(r->explore[0].timeout, milliseconds(60'000));
  EXPECT_EQ(r->explore[0].expect, 0);
  EXPECT_EQ(r->explore[0].line, 7);
  EXPECT_TRUE(r->validate.empty());
  EXPECT_TRUE(r->bench.empty());
  EXPECT_EQ(r->stop.signal, SIGTERM);
  EXPECT_EQ(r->stop.timeout, milliseconds(10'000));
}

// A spec whose only interesting part is `image:` on line 2.
Result<Spec> with_image(const std::string& image, const std::string& file = "t.yaml") {
  return parse_spec("name: t\nimage: " + image + "\ncommand: [sleep, \"100\"]\nexplore:\n  - run: \"true\"\n",
                    file);
}

TEST(SpecParse, BusyboxImageKeepsItsFiles) {
  auto r = with_image(R"y({busybox: {files: {/www/index.html: "hello\n", /etc/n: 5}}})y");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(std::holds_alternative<BusyboxImage>(r->image));
  EXPECT_EQ(std::get<BusyboxImage>(r->image).files,
            (std::map<std::string, std::string>{{"/www/index.html", "hello\n"}, {"/etc/n", "5"}}));

  auto empty = with_image("{busybox: {}}");
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_TRUE(std::get<BusyboxImage>(empty->image).files.empty());
}

TEST(SpecParse, RefImageKeepsTheReference) {
  auto r = with_image("{ref: docker.io/library/nginx:1.25}");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(std::holds_alternative<RefImage>(r->image));
  EXPECT_EQ(std::get<RefImage>(r->image).ref, "docker.io/library/nginx:1.25");
}

TEST(SpecParse, ImagesWithAConfigNeedNoCommand) {
  auto r =
      parse_spec("name: t\nimage: {ref: myorg/api:1.4}\nuser: app:staff\nexplore: [{sleep: 1s}]\n", "t.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(has_image_config(r->image));
  EXPECT_TRUE(r->command.empty());
  EXPECT_FALSE(r->args);
  EXPECT_EQ(r->user, "app:staff");
  EXPECT_EQ(r->user_line, 3);
  EXPECT_EQ(r->image_line, 2);
  EXPECT_FALSE(r->stop.signal_given);

  auto args = parse_spec(
      "name: t\nimage: {ref: a}\nargs: [serve, -v]\nstop: {signal: QUIT}\nexplore: [{sleep: 1s}]\n",
      "t.yaml");
  ASSERT_TRUE(args.ok()) << args.error().message;
  ASSERT_TRUE(args->args);
  EXPECT_EQ(*args->args, (Strings{"serve", "-v"}));
  EXPECT_TRUE(args->stop.signal_given);
  auto no_args = parse_spec("name: t\nimage: {ref: a}\nargs: []\nexplore: [{sleep: 1s}]\n", "t.yaml");
  ASSERT_TRUE(no_args.ok()) << no_args.error().message;
  ASSERT_TRUE(no_args->args);
  EXPECT_TRUE(no_args->args->empty());
  EXPECT_FALSE(has_image_config(BusyboxImage{}));
}

TEST(SpecParse, OciAndArchiveResolveAgainstTheSpecFolder) {
  auto plain = with_image("{oci: ./layouts/api}", "/srv/specs/web.yaml");
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  ASSERT_TRUE(std::holds_alternative<OciImage>(plain->image));
  EXPECT_EQ(std::get<OciImage>(plain->image).dir, "/srv/specs/layouts/api");
  EXPECT_EQ(std::get<OciImage>(plain->image).tag, "");
  auto tagged = with_image("{oci: {path: ../api, tag: v1.4}}", "/srv/specs/web.yaml");
  ASSERT_TRUE(tagged.ok()) << tagged.error().message;
  EXPECT_EQ(std::get<OciImage>(tagged->image).dir, "/srv/api");
  EXPECT_EQ(std::get<OciImage>(tagged->image).tag, "v1.4");
  auto archive = with_image("{archive: api.tar}", "/srv/specs/web.yaml");
  ASSERT_TRUE(archive.ok()) << archive.error().message;
  EXPECT_EQ(std::get<ArchiveImage>(archive->image).path, "/srv/specs/api.tar");
}

TEST(SpecParse, RootfsResolvesAgainstTheSpecFolder) {
  auto r = with_image("{rootfs: ./images/../rootfs.tar}", "/srv/specs/web.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(std::holds_alternative<RootfsImage>(r->image));
  EXPECT_EQ(std::get<RootfsImage>(r->image).tarball, "/srv/specs/rootfs.tar");

  auto relative_spec = with_image("{rootfs: rootfs.tar}", "specs/web.yaml");
  ASSERT_TRUE(relative_spec.ok()) << relative_spec.error().message;
  EXPECT_EQ(std::get<RootfsImage>(relative_spec->image).tarball,
            (std::filesystem::current_path() / "specs" / "rootfs.tar").string());

  auto absolute = with_image("{rootfs: /var/tmp/r.tar}", "/srv/specs/web.yaml");
  ASSERT_TRUE(absolute.ok()) << absolute.error().message;
  EXPECT_EQ(std::get<RootfsImage>(absolute->image).tarball, "/var/tmp/r.tar");
}

// A spec whose `ready:` is on line 4.
Result<Spec> with_ready(const std::string& ready) {
  return parse_spec("name: t\nimage: {busybox: {}}\ncommand: [sleep, \"100\"]\nready: " + ready +
                        "\nexplore:\n  - run: \"true\"\n",
                    "t.yaml");
}

TEST(SpecParse, ReadyProbes) {
  auto tcp = with_ready("{tcp: 6379}");
  ASSERT_TRUE(tcp.ok()) << tcp.error().message;
  EXPECT_EQ(tcp->ready->kind, ReadyProbe::Kind::Tcp);
  EXPECT_EQ(tcp->ready->port, 6379);
  EXPECT_EQ(tcp->ready->timeout, milliseconds(30'000));
  EXPECT_EQ(tcp->ready->line, 4);

  auto http = with_ready("{http: {port: 80}}");
  ASSERT_TRUE(http.ok()) << http.error().message;
  EXPECT_EQ(http->ready->kind, ReadyProbe::Kind::Http);
  EXPECT_EQ(http->ready->port, 80);
  EXPECT_EQ(http->ready->path, "/");

  auto exec = with_ready("{exec: [pg_isready, -q], timeout: 1m}");
  ASSERT_TRUE(exec.ok()) << exec.error().message;
  EXPECT_EQ(exec->ready->kind, ReadyProbe::Kind::Exec);
  EXPECT_EQ(exec->ready->exec, (Strings{"pg_isready", "-q"}));
  EXPECT_EQ(exec->ready->timeout, milliseconds(60'000));

  auto log = with_ready(R"y({log: "ready to accept connections( on port \\d+)?"})y");
  ASSERT_TRUE(log.ok()) << log.error().message;
  EXPECT_EQ(log->ready->kind, ReadyProbe::Kind::Log);
  EXPECT_EQ(log->ready->log, R"(ready to accept connections( on port \d+)?)");
}

// A spec whose single explore step is the given mapping, on line 5.
Result<Spec> with_step(const std::string& step) {
  return parse_spec("name: t\nimage: {busybox: {}}\ncommand: [sleep, \"100\"]\nexplore:\n  - " + step + "\n",
                    "t.yaml");
}

TEST(SpecParse, DurationForms) {
  const std::pair<std::string, long> cases[] = {{"500ms", 500},  {"1ms", 1},   {"10s", 10'000},
                                                {"2m", 120'000}, {"7", 7'000}, {"\"45\"", 45'000}};
  for (const auto& [text, ms] : cases) {
    auto r = with_step("{sleep: " + text + "}");
    ASSERT_TRUE(r.ok()) << text << ": " << r.error().message;
    EXPECT_EQ(r->explore[0].sleep, milliseconds(ms)) << text;
  }
}

TEST(SpecParse, SignalNamesComeInEveryCase) {
  const std::pair<std::string, int> cases[] = {{"HUP", SIGHUP},    {"SIGHUP", SIGHUP},     {"hup", SIGHUP},
                                               {"sigHup", SIGHUP}, {"1", SIGHUP},          {"TERM", SIGTERM},
                                               {"usr2", SIGUSR2},  {"SIGWINCH", SIGWINCH}, {"64", 64}};
  for (const auto& [text, number] : cases) {
    auto r = with_step("{signal: " + text + "}");
    ASSERT_TRUE(r.ok()) << text << ": " << r.error().message;
    EXPECT_EQ(r->explore[0].signal, number) << text;
  }
}

TEST(SpecParse, NamesUpToSixtyThreeCharacters) {
  std::string longest = "a" + std::string(62, '9');
  auto ok = parse_spec("name: " + longest + "\nimage: {busybox: {}}\ncommand: [x]\nexplore: [{sleep: 1s}]\n",
                       "t.yaml");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->name, longest);
  EXPECT_EQ(error_of("name: " + longest + "9\nimage: {busybox: {}}\ncommand: [x]\nexplore: [{sleep: 1s}]\n"),
            "spec t.yaml:1: name: \"" + longest +
                "9\" is not a valid name: 1 to 63 characters, runs of a-z and 0-9 joined by '.', '_', '__' "
                "or '-' (it "
                "names images: sandmine/<name>)");
}

TEST(SpecParse, NamesAreDockerImageNameComponents) {
  for (const char* good : {"web", "web-1", "a--b", "a__b", "a.b_c", "nginx-light.1"})
    EXPECT_EQ(error_of(std::string("name: ") + good +
                       "\nimage: {busybox: {}}\ncommand: [x]\nexplore: [{sleep: 1s}]\n"),
              "(parsed without error)")
        << good;
  for (const char* bad : {"web.", "web-", "a..b", "a.-b", "a___b", "_a", "Web", "a b"})
    EXPECT_NE(error_of(std::string("name: \"") + bad +
                       "\"\nimage: {busybox: {}}\ncommand: [x]\nexplore: [{sleep: 1s}]\n")
                  .find("is not a valid name"),
              std::string::npos)
        << bad;
}

struct BadSpec {
  const char* test_name;
  const char* yaml;
  const char* error;
};

class SpecError : public testing::TestWithParam<BadSpec> {};

TEST_P(SpecError, IsOneLineNamingFileLineAndField) { EXPECT_EQ(error_of(GetParam().yaml), GetParam().error); }

const BadSpec kBadSpecs[] = {
    {"SyntaxError", R"y(name: t
image: {busybox: {}}
command: [sleep, 100
explore:
  - run: "true"
)y",
     "spec t.yaml:4: YAML syntax error: end of sequence flow not found"},
    {"UnknownTopLevelField", R"y(name: t
image: {busybox: {}}
comand: [sleep, "100"]
explore:
  - run: "true"
)y",
     "spec t.yaml:3: comand: unknown field (expected one of name, image, command, args, env, user, workdir, "
     "ready, explore, validate, bench, stop)"},
    {"UnknownStepField", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
explore:
  - run: "true"
    timout: 5s
)y",
     "spec t.yaml:6: explore[0].timout: unknown field (expected one of name, run, exec, signal, restart, "
     "sleep, timeout, expect, auto)"},
    {"TwoActionsInAStep", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
explore:
  - run: "true"
  - name: both
    run: "true"
    exec: [ls]
)y",
     "spec t.yaml:6: explore[1]: more than one action (run and exec); a step has exactly one"},
    {"NoActionInAStep", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
explore:
  - name: idle
)y",
     "spec t.yaml:5: explore[0]: no action; a step has one of run, exec, signal, restart, sleep, auto"},
    {"MissingNameNamesTheParentLine", R"y(# a spec without a name
image: {busybox: {}}
command: [sleep, "100"]
explore:
  - run: "true"
)y",
     "spec t.yaml:2: name: required field is missing"},
    {"MissingPackagesNamesTheParentLine", R"y(name: t
image:
  debian:
    suite: bookworm
command: [sleep, "100"]
explore:
  - run: "true"
)y",
     "spec t.yaml:4: image.debian.packages: required field is missing"},
    {"MissingExplore", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
)y",
     "spec t.yaml:1: explore: required field is missing"},
    {"EmptyExplore", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
explore: []
)y",
     "spec t.yaml:4: explore: needs at least one step"},
    {"UppercaseName", R"y(name: Nginx
image: {busybox: {}}
command: [sleep, "100"]
explore: [{run: "true"}]
)y",
     "spec t.yaml:1: name: \"Nginx\" is not a valid name: 1 to 63 characters, runs of a-z and 0-9 joined by "
     "'.', '_', '__' or '-' (it names images: sandmine/<name>)"},
    {"NameStartingWithADot", R"y(name: .t
image: {busybox: {}}
command: [sleep, "100"]
explore: [{run: "true"}]
)y",
     "spec t.yaml:1: name: \".t\" is not a valid name: 1 to 63 characters, runs of a-z and 0-9 joined by "
     "'.', '_', '__' or '-' (it names images: sandmine/<name>)"},
    {"CommandAsAString", R"y(name: t
image: {busybox: {}}
command: nginx -g "daemon off;"
explore: [{run: "true"}]
)y",
     "spec t.yaml:3: command: use a list of strings like [program, arg, ...], not a single string"},
    {"ExecStepAsAString", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
explore:
  - exec: nginx -t
)y",
     "spec t.yaml:5: explore[0].exec: use a list of strings like [program, arg, ...], not a single string"},
    {"EmptyCommand", R"y(name: t
image: {busybox: {}}
command: []
explore: [{run: "true"}]
)y",
     "spec t.yaml:3: command: must not be empty"},
    {"CommandItemNotAString", R"y(name: t
image: {busybox: {}}
command:
  - sleep
  - [100]
explore: [{run: "true"}]
)y",
     "spec t.yaml:5: command[1]: expected a string"},
    {"BadSignal", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
explore:
  - signal: HUPP
)y",
     "spec t.yaml:5: explore[0].signal: unknown signal \"HUPP\"; use a name like HUP or SIGTERM, or a number "
     "1..64"},
    {"SignalNumberOutOfRange", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
explore: [{run: "true"}]
stop: {signal: 65}
)y",
     "spec t.yaml:5: stop.signal: unknown signal \"65\"; use a name like HUP or SIGTERM, or a number 1..64"},
    {"PortZero", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
ready: {tcp: 0}
explore: [{run: "true"}]
)y",
     "spec t.yaml:4: ready.tcp: expected a port 1..65535"},
    {"PortTooLarge", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
ready:
  http: {port: 65536}
explore: [{run: "true"}]
)y",
     "spec t.yaml:5: ready.http.port: expected a port 1..65535"},
    {"PortNotANumber", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
ready: {tcp: http}
explore: [{run: "true"}]
)y",
     "spec t.yaml:4: ready.tcp: expected a port 1..65535"},
    {"HttpWithoutPort", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
ready: {http: {path: /}}
explore: [{run: "true"}]
)y",
     "spec t.yaml:4: ready.http.port: required field is missing"},
    {"TwoProbes", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
ready: {tcp: 80, log: ready}
explore: [{run: "true"}]
)y",
     "spec t.yaml:4: ready: more than one probe (tcp and log); give exactly one"},
    {"NoProbe", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
ready: {timeout: 5s}
explore: [{run: "true"}]
)y",
     "spec t.yaml:4: ready: expected one of tcp, http, exec, log"},
    {"EmptyReadyNamesItsKeyLine", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
ready:
explore: [{run: "true"}]
)y",
     "spec t.yaml:4: ready: expected a mapping with one of tcp, http, exec, log (and optionally timeout)"},
    {"ExpectOnASignalStep", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
explore:
  - signal: HUP
    expect: 0
)y",
     "spec t.yaml:6: explore[0].expect: only run and exec steps have an exit status to expect"},
    {"ExpectOutOfRange", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
explore:
  - run: "false"
    expect: 256
)y",
     "spec t.yaml:6: explore[0].expect: expected an exit status 0..255"},
    {"RestartFalse", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
explore:
  - restart: false
)y",
     "spec t.yaml:5: explore[0].restart: expected true or {signal: SIG}"},
    {"RestartUnknownField", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
explore:
  - restart: {signal: TERM, timeout: 5s}
)y",
     "spec t.yaml:5: explore[0].restart.timeout: unknown field (expected signal)"},
    {"RestartWithoutSignal", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
explore:
  - restart: {}
)y",
     "spec t.yaml:5: explore[0].restart.signal: required field is missing"},
    {"RestartUnknownSignal", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
validate:
  - restart: {signal: STOPP}
explore: [{run: "true"}]
)y",
     "spec t.yaml:5: validate[0].restart.signal: unknown signal \"STOPP\"; use a name like HUP or SIGTERM, "
     "or a "
     "number 1..64"},
    {"UnknownImageKind", R"y(name: t
image: {docker: nginx}
command: [sleep, "100"]
explore: [{run: "true"}]
)y",
     "spec t.yaml:2: image.docker: unknown image kind (expected one of debian, rootfs, busybox, ref, oci, "
     "archive)"},
    {"TwoImageKinds", R"y(name: t
image: {busybox: {}, ref: nginx}
command: [sleep, "100"]
explore: [{run: "true"}]
)y",
     "spec t.yaml:2: image: more than one image kind (busybox and ref); give exactly one"},
    {"NoImageKind", R"y(name: t
image: {}
command: [sleep, "100"]
explore: [{run: "true"}]
)y",
     "spec t.yaml:2: image: expected one of debian, rootfs, busybox, ref, oci, archive"},
    {"EmptyPackageList", R"y(name: t
image:
  debian: {packages: []}
command: [sleep, "100"]
explore: [{run: "true"}]
)y",
     "spec t.yaml:3: image.debian.packages: must not be empty"},
    {"PackageWithASpace", R"y(name: t
image:
  debian:
    packages:
      - nginx
      - curl wget
command: [sleep, "100"]
explore: [{run: "true"}]
)y",
     "spec t.yaml:6: image.debian.packages[1]: \"curl wget\" is not a package name"},
    {"PackageWithANewlineStaysOneLine", R"y(name: t
image:
  debian: {packages: ["curl\nwget"]}
command: [sleep, "100"]
explore: [{run: "true"}]
)y",
     "spec t.yaml:3: image.debian.packages[0]: \"curl\\nwget\" is not a package name"},
    {"UnknownVariant", R"y(name: t
image:
  debian: {packages: [nginx], variant: tiny}
command: [sleep, "100"]
explore: [{run: "true"}]
)y",
     "spec t.yaml:3: image.debian.variant: unknown mmdebstrap variant \"tiny\" (expected one of extract, "
     "custom, "
     "essential, apt, required, minbase, buildd, important, debootstrap, -, standard)"},
    {"BusyboxRelativePath", R"y(name: t
image:
  busybox:
    files:
      /ok: fine
      www/index.html: hi
command: [sleep, "100"]
explore: [{run: "true"}]
)y",
     "spec t.yaml:6: image.busybox.files[\"www/index.html\"]: expected an absolute path in the image, "
     "without .. "
     "components"},
    {"BusyboxPathClimbingOut", R"y(name: t
image: {busybox: {files: {/www/../../etc/passwd: x}}}
command: [sleep, "100"]
explore: [{run: "true"}]
)y",
     "spec t.yaml:2: image.busybox.files[\"/www/../../etc/passwd\"]: expected an absolute path in the image, "
     "without .. components"},
    {"DuplicateStepNames", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
explore:
  - name: load
    run: "true"
  - sleep: 1s
    name: load
)y",
     "spec t.yaml:8: explore[1].name: duplicate step name \"load\" (first on line 5)"},
    {"GivenNameCollidesWithADefault", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
explore:
  - name: explore[1]
    run: "true"
  - sleep: 1s
)y",
     "spec t.yaml:7: explore[1].name: duplicate step name \"explore[1]\" (first on line 5)"},
    {"FieldGivenTwice", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
name: u
explore: [{run: "true"}]
)y",
     "spec t.yaml:4: name: given twice (first on line 1)"},
    {"EnvValueMissing", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
env:
  A: b
  B:
explore: [{run: "true"}]
)y",
     "spec t.yaml:6: env.B: expected a string (write \"\" for an empty value)"},
    {"UserByName", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
user: nginx
explore: [{run: "true"}]
)y",
     "spec t.yaml:4: user: expected \"uid\" or \"uid:gid\" in digits, each 0 to 2147483647 (what runc "
     "takes), "
     "like \"101:101\" (names need an image with its own config: ref, oci or archive)"},
    {"UserWithSpacesEvenWithAConfig", R"y(name: t
image: {ref: app:1}
user: "my user"
explore: [{run: "true"}]
)y",
     "spec t.yaml:3: user: expected \"user\", \"user:group\", \"uid\" or \"uid:gid\" (ids 0 to 2147483647, "
     "what "
     "runc takes), like \"app\" or \"101:101\""},
    {"CommandStillRequiredWithoutAConfig", R"y(name: t
image: {busybox: {}}
args: [x]
explore: [{run: "true"}]
)y",
     "spec t.yaml:1: command: required field is missing"},
    {"ArgsAsAString", R"y(name: t
image: {ref: app:1}
args: serve
explore: [{run: "true"}]
)y",
     "spec t.yaml:3: args: use a list of strings like [program, arg, ...], not a single string"},
    {"OciWithoutPath", R"y(name: t
image:
  oci: {tag: v1}
explore: [{run: "true"}]
)y",
     "spec t.yaml:3: image.oci.path: required field is missing"},
    {"OciTagWithColon", R"y(name: t
image:
  oci: {path: ./l, tag: "a:b"}
explore: [{run: "true"}]
)y",
     "spec t.yaml:3: image.oci.tag: a tag has no spaces or colons"},
    {"EmptyArchive", R"y(name: t
image: {archive: ""}
explore: [{run: "true"}]
)y",
     "spec t.yaml:2: image.archive: must not be empty"},
    {"GidAboveWhatRuncTakes", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
user: "2147483647:2147483648"
explore: [{run: "true"}]
)y",
     "spec t.yaml:4: user: expected \"uid\" or \"uid:gid\" in digits, each 0 to 2147483647 (what runc "
     "takes), "
     "like \"101:101\" (names need an image with its own config: ref, oci or archive)"},
    {"RelativeWorkdir", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
workdir: srv
explore: [{run: "true"}]
)y",
     "spec t.yaml:4: workdir: expected an absolute path"},
    {"UnknownStopField", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
explore: [{run: "true"}]
stop: {signal: TERM, grace: 5s}
)y",
     "spec t.yaml:5: stop.grace: unknown field (expected one of signal, timeout)"},
    {"ValidateNotAList", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
explore: [{run: "true"}]
validate: {run: "true"}
)y",
     "spec t.yaml:5: validate: expected a list of steps"},
    {"EmptyDocument", "",
     "spec t.yaml:1: top level: the spec is empty; it needs name, image, command and explore"},
    {"TopLevelList", "- name: t\n",
     "spec t.yaml:1: top level: expected a mapping of fields (name, image, command, explore, ...)"},
    {"TwoDocuments", R"y(name: t
image: {busybox: {}}
command: [sleep, "100"]
explore: [{run: "true"}]
---
name: u
)y",
     "spec t.yaml:6: top level: more than one YAML document; a spec is one document"},
};

INSTANTIATE_TEST_SUITE_P(Spec, SpecError, testing::ValuesIn(kBadSpecs),
                         [](const testing::TestParamInfo<BadSpec>& info) { return info.param.test_name; });

TEST(SpecErrors, BadDurations) {
  const char* bad[] = {
      "10 s", "1.5s", "0s", "0", "-1", "10h", "s", "\"\"", "[10s]", "{}", "99999999999999999999s"};
  for (const char* text : bad) {
    EXPECT_EQ(
        error_of("name: t\nimage: {busybox: {}}\ncommand: [x]\nexplore:\n  - run: \"true\"\n    timeout: " +
                 std::string(text) + "\n"),
        "spec t.yaml:6: explore[0].timeout: expected a duration like 10s")
        << text;
  }
}

TEST(SpecErrors, BadSignals) {
  const char* unknown[] = {"0", "65", "-1", "SIG", "HUPP", "SIGSIGHUP", "RTMIN"};
  for (std::string text : unknown) {
    auto r = with_step("{signal: " + text + "}");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().message, "spec t.yaml:5: explore[0].signal: unknown signal \"" + text +
                                     "\"; use a name like HUP or SIGTERM, or a number 1..64");
  }
  EXPECT_EQ(
      with_step("{signal: [HUP]}").error().message,
      "spec t.yaml:5: explore[0].signal: expected a signal: a name like HUP or SIGTERM, or a number 1..64");
}

TEST(SpecErrors, BadRegularExpressionQuotesTheLibrary) {
  std::string library_says;
  try {
    std::regex check("ready (");
  } catch (const std::regex_error& e) {
    library_says = e.what();
  }
  ASSERT_FALSE(library_says.empty()) << "std::regex accepted \"ready (\"";
  EXPECT_EQ(
      error_of(
          "name: t\nimage: {busybox: {}}\ncommand: [x]\nready: {log: \"ready (\"}\nexplore: [{sleep: 1s}]\n"),
      "spec t.yaml:4: ready.log: not a valid regular expression: " + library_says);
}

TEST(SpecErrors, FileIsNamedAsGiven) {
  EXPECT_EQ(error_of("name: t\n", "examples/nginx/spec.yaml"),
            "spec examples/nginx/spec.yaml:1: image: required field is missing");
}

// The first yaml block of docs/spec.md, the complete example users copy.
TEST(SpecDocs, CompleteExampleParses) {
  std::filesystem::path doc = std::filesystem::path(__FILE__).parent_path() / "../../docs/spec.md";
  std::ifstream in(doc);
  ASSERT_TRUE(in) << "cannot read " << doc;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t begin = text.find("```yaml\n");
  ASSERT_NE(begin, std::string::npos);
  begin += 8;
  size_t end = text.find("```", begin);
  ASSERT_NE(end, std::string::npos);
  auto r = parse_spec(text.substr(begin, end - begin), "docs/spec.md");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->name, "nginx");
  EXPECT_EQ(r->command, (Strings{"nginx", "-g", "daemon off;"}));
  ASSERT_EQ(r->explore.size(), 7u);
  EXPECT_EQ(r->explore[3].kind, Step::Kind::Signal);
  EXPECT_EQ(r->explore[3].signal, SIGHUP);
  EXPECT_EQ(r->explore[6].name, "explore[6]");
  EXPECT_EQ(r->validate.size(), 1u);
  EXPECT_EQ(r->bench.size(), 1u);
  EXPECT_EQ(r->stop.signal, SIGQUIT);
}

// A fresh directory under the test's temporary directory, removed at the end.
class SpecRead : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "spec_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(SpecRead, ReadsAFileAndResolvesRootfsBesideIt) {
  std::string path =
      write("web.yaml", "name: web\nimage: {rootfs: rootfs.tar}\ncommand: [httpd]\nexplore: [{sleep: 1s}]\n");
  auto r = read_spec(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->file, path);
  EXPECT_EQ(r->name, "web");
  EXPECT_EQ(std::get<RootfsImage>(r->image).tarball, (dir_ / "rootfs.tar").string());
}

TEST_F(SpecRead, ErrorsNameThePath) {
  std::string path =
      write("bad.yaml", "name: web\nimage: {rootfs: rootfs.tar}\ncommand: httpd\nexplore: [{sleep: 1s}]\n");
  auto r = read_spec(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(
      r.error().message,
      "spec " + path + ":3: command: use a list of strings like [program, arg, ...], not a single string");
}

TEST_F(SpecRead, MissingFile) {
  std::string path = (dir_ / "absent.yaml").string();
  auto r = read_spec(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "cannot read spec " + path + ": No such file or directory");
  EXPECT_EQ(r.error().errnum, ENOENT);
}

// Found by fuzz_spec: yaml-cpp 0.7's LoadAll hands out empty documents
// forever for a lone comma (and collects them until memory runs out); the
// spec is now an error at once.
TEST(SpecParse, ALoneCommaIsAnErrorNotAHang) {
  for (std::string text : {",", ",e|m n(wzb#\x8a", " ,\n", ",a|b"}) {
    auto r = parse_spec(text, "t.yaml");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().message,
              "spec t.yaml:1: top level: the spec is empty; it needs name, image, command and explore")
        << text;
  }
}

}  // namespace
}  // namespace sandmine::spec
