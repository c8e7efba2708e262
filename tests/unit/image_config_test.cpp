// An image's config as the default for what a spec leaves out, and users
// resolved through the image's own /etc/passwd and /etc/group.
#include "spec/image_config.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "explore/driver.h"
#include "support/spec_errors.h"

namespace sandmine::spec {
namespace {

using Strings = std::vector<std::string>;
using Gids = std::vector<unsigned>;

// As Docker 20.10 writes a config: Docker's own fields beside the OCI ones.
constexpr std::string_view kDockerConfig = R"j({
  "architecture": "amd64", "os": "linux",
  "config": {
    "Entrypoint": ["/bin/entry", "--flag"],
    "Cmd": ["serve", "--port", "8080"],
    "Env": ["PATH=/usr/bin:/bin", "MODE=image", "EMPTY=", "NOEQUALS", "=bad"],
    "User": "app",
    "WorkingDir": "/srv",
    "StopSignal": "SIGQUIT",
    "ExposedPorts": {"9090/tcp": {}, "53/udp": {}, "8080/tcp": {}, "7000": {}},
    "Healthcheck": {"Test": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/"], "Interval": 1000000000},
    "Labels": {"a": "b"}
  },
  "rootfs": {"type": "layers", "diff_ids": []}
})j";

constexpr std::string_view kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment\n"
    "app:x:1000:1001:App:/home/app:/bin/sh\n"
    "broken line\n"
    "web:x:33:33:www:/var/www:/bin/false\n";
constexpr std::string_view kGroup =
    "root:x:0:\n"
    "staff:x:50:app,web\n"
    "app:x:1001:\n"
    "audio:x:29:web,app\n"
    "wheel:x:10:root\n";

ImageFiles files() { return {std::string(kPasswd), std::string(kGroup)}; }

ImageConfig docker_config() {
  auto c = parse_image_config(kDockerConfig);
  EXPECT_TRUE(c.ok()) << c.error().message;
  return c.value_or({});
}

// A spec with an image.ref and nothing else the config could give.
Spec ref_spec(std::string_view more = "") {
  std::string yaml =
      "name: t\nimage: {ref: myorg/api:1.4}\n" + std::string(more) + "explore: [{sleep: 1s}]\n";
  auto s = parse_spec(yaml, "t.yaml");
  EXPECT_TRUE(s.ok()) << s.error().message;
  return s.value_or({});
}

TEST(ImageConfig, ParsesEveryField) {
  ImageConfig c = docker_config();
  EXPECT_EQ(c.entrypoint, (Strings{"/bin/entry", "--flag"}));
  EXPECT_EQ(c.cmd, (Strings{"serve", "--port", "8080"}));
  EXPECT_EQ(c.env, (Strings{"PATH=/usr/bin:/bin", "MODE=image", "EMPTY=", "NOEQUALS", "=bad"}));
  EXPECT_EQ(c.user, "app");
  EXPECT_EQ(c.workdir, "/srv");
  EXPECT_EQ(c.stop_signal, "SIGQUIT");
  // UDP left out; no protocol is TCP; ascending.
  EXPECT_EQ(c.tcp_ports, (std::vector<int>{7000, 8080, 9090}));
  EXPECT_EQ(c.healthcheck, (Strings{"CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/"}));
}

TEST(ImageConfig, NullsAndMissingFieldsAreEmpty) {
  auto c = parse_image_config(
      R"({"config": {"Entrypoint": null, "Cmd": null, "Healthcheck": {"Test": ["NONE"]}}})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->entrypoint.empty() && c->cmd.empty() && c->env.empty() && c->healthcheck.empty());
  auto none = parse_image_config(R"({"architecture": "amd64"})");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->user.empty() && none->tcp_ports.empty());
}

TEST(ImageConfig, BadConfigsSayWhat) {
  EXPECT_EQ(parse_image_config("not json").error().message, "the image config is not a JSON object");
  EXPECT_EQ(parse_image_config(R"({"config": {"Cmd": "serve"}})").error().message,
            "the image config's Cmd is not a list");
  EXPECT_EQ(parse_image_config(R"({"config": {"Env": [1]}})").error().message,
            "the image config's Env holds a non-string");
  EXPECT_EQ(parse_image_config(R"({"config": {"User": 0}})").error().message,
            "the image config's User is not a string");
}

TEST(ImageConfig, ReadyFromHealthcheckThenFirstTcpPort) {
  ImageConfig c = docker_config();
  auto shell = ready_from_config(c);
  ASSERT_TRUE(shell);
  EXPECT_EQ(shell->kind, ReadyProbe::Kind::Exec);
  EXPECT_EQ(shell->exec, (Strings{"/bin/sh", "-c", "wget -q -O /dev/null http://127.0.0.1:8080/"}));
  c.healthcheck = {"CMD", "/bin/check", "-q"};
  EXPECT_EQ(ready_from_config(c)->exec, (Strings{"/bin/check", "-q"}));
  c.healthcheck.clear();
  auto tcp = ready_from_config(c);
  ASSERT_TRUE(tcp);
  EXPECT_EQ(tcp->kind, ReadyProbe::Kind::Tcp);
  EXPECT_EQ(tcp->port, 7000);
  c.tcp_ports.clear();
  EXPECT_FALSE(ready_from_config(c));
}

TEST(ResolveUser, NamesAndIdsAsDockerResolvesThem) {
  struct Case {
    std::string user;
    unsigned uid, gid;
    Gids groups;
    std::string home;
  };
  const Case cases[] = {
      // Empty is root, whose supplementary groups count too (wheel lists root).
      {"", 0, 0, {10}, "/root"},
      {"app", 1000, 1001, {50, 29}, "/home/app"},
      {"1000", 1000, 1001, {50, 29}, "/home/app"},
      // An explicit group sets the gid and drops the supplementary groups.
      {"app:staff", 1000, 50, {}, "/home/app"},
      {"app:29", 1000, 29, {}, "/home/app"},
      {"web:4242", 33, 4242, {}, "/var/www"},
      // A uid not in passwd: gid 0, home /.
      {"4000", 4000, 0, {}, "/"},
      {"4000:4000", 4000, 4000, {}, "/"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.user);
    auto r = resolve_user(c.user, files());
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->uid, c.uid);
    EXPECT_EQ(r->gid, c.gid);
    EXPECT_EQ(r->additional_gids, c.groups);
    EXPECT_EQ(r->home, c.home);
  }
}

TEST(ResolveUser, UnknownNamesAreErrors) {
  EXPECT_EQ(resolve_user("nobody", files()).error().message, "no user \"nobody\" in the image's /etc/passwd");
  EXPECT_EQ(resolve_user("app:video", files()).error().message,
            "no group \"video\" in the image's /etc/group");
  // An image without the files: only ids.
  EXPECT_EQ(resolve_user("app", {}).error().message, "no user \"app\" in the image's /etc/passwd");
  auto root = resolve_user("", {});
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->uid, 0u);
  EXPECT_EQ(root->home, "/");
}

TEST(ApplyImageConfig, EverythingFromTheImage) {
  auto r = apply_image_config(ref_spec(), docker_config(), files());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->command, (Strings{"/bin/entry", "--flag", "serve", "--port", "8080"}));
  EXPECT_FALSE(r->args);
  EXPECT_EQ(r->user, "1000:1001");
  // The primary group last, as Docker and Podman add it.
  EXPECT_EQ(r->additional_gids, (Gids{50, 29, 1001}));
  EXPECT_EQ(r->env, (std::map<std::string, std::string>{
                        {"PATH", "/usr/bin:/bin"}, {"MODE", "image"}, {"EMPTY", ""}, {"HOME", "/home/app"}}));
  EXPECT_EQ(r->workdir, "/srv");
  EXPECT_EQ(r->stop.signal, SIGQUIT);
  ASSERT_TRUE(r->ready);
  EXPECT_EQ(r->ready->kind, ReadyProbe::Kind::Exec);
  EXPECT_EQ(r->ready->line, 2);  // the image's line, for messages
}

TEST(ApplyImageConfig, TheSpecWins) {
  Spec s = ref_spec(
      "command: [/bin/other]\n"
      "env: {MODE: spec, HOME: /tmp}\n"
      "user: \"web\"\n"
      "workdir: /data\n"
      "ready: {tcp: 1234}\n"
      "stop: {signal: INT}\n");
  auto r = apply_image_config(s, docker_config(), files());
  ASSERT_TRUE(r.ok()) << r.error().message;
  // command replaces Entrypoint and Cmd both.
  EXPECT_EQ(r->command, (Strings{"/bin/other"}));
  EXPECT_EQ(r->user, "33:33");
  EXPECT_EQ(r->additional_gids, (Gids{50, 29, 33}));
  EXPECT_EQ(r->env.at("MODE"), "spec");
  EXPECT_EQ(r->env.at("HOME"), "/tmp");
  EXPECT_EQ(r->workdir, "/data");
  EXPECT_EQ(r->stop.signal, SIGINT);
  EXPECT_EQ(r->ready->port, 1234);
}

TEST(ApplyImageConfig, ArgsReplaceCmdOnly) {
  auto after_entrypoint = apply_image_config(ref_spec("args: [check, -v]\n"), docker_config(), files());
  ASSERT_TRUE(after_entrypoint.ok()) << after_entrypoint.error().message;
  EXPECT_EQ(after_entrypoint->command, (Strings{"/bin/entry", "--flag", "check", "-v"}));
  auto no_cmd = apply_image_config(ref_spec("args: []\n"), docker_config(), files());
  EXPECT_EQ(no_cmd->command, (Strings{"/bin/entry", "--flag"}));
  auto after_command =
      apply_image_config(ref_spec("command: [/bin/x]\nargs: [y]\n"), docker_config(), files());
  EXPECT_EQ(after_command->command, (Strings{"/bin/x", "y"}));
}

TEST(ApplyImageConfig, EachGroupOnceWithThePrimaryOne) {
  // staff lists app twice, and app's own group lists app.
  ImageFiles twice{std::string(kPasswd), "staff:x:50:app,app\napp:x:1001:app\n"};
  auto r = apply_image_config(ref_spec("user: app\n"), docker_config(), twice);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->additional_gids, (Gids{50, 1001}));
  auto root = apply_image_config(ref_spec("user: \"0\"\n"), docker_config(), twice);
  ASSERT_TRUE(root.ok()) << root.error().message;
  EXPECT_EQ(root->user, "0:0");
  EXPECT_EQ(root->additional_gids, (Gids{0}));
}

TEST(ApplyImageConfig, ErrorsNameTheSpecLineAndField) {
  ImageConfig empty;
  EXPECT_EQ(apply_image_config(ref_spec(), empty, files()).error().message,
            "spec t.yaml:2: command: the image has no Entrypoint or Cmd; give command (and optionally args)");
  EXPECT_EQ(apply_image_config(ref_spec("user: ghost\n"), docker_config(), files()).error().message,
            "spec t.yaml:3: user: no user \"ghost\" in the image's /etc/passwd");
  ImageConfig bad_user = docker_config();
  bad_user.user = "ghost:staff";
  EXPECT_EQ(
      apply_image_config(ref_spec(), bad_user, files()).error().message,
      "spec t.yaml:2: image: the image's User \"ghost:staff\": no user \"ghost\" in the image's /etc/passwd");
  ImageConfig bad_signal = docker_config();
  bad_signal.stop_signal = "SIGNOPE";
  EXPECT_EQ(apply_image_config(ref_spec(), bad_signal, files()).error().message,
            "spec t.yaml:2: image: the image's StopSignal \"SIGNOPE\" is not a signal");
  // The spec's own stop signal makes the image's irrelevant.
  EXPECT_TRUE(apply_image_config(ref_spec("stop: {signal: TERM}\n"), bad_signal, files()).ok());
}

TEST(ApplyImageConfig, NoHomeEntryIsSlashAndNumericStopSignalsWork) {
  ImageConfig c;
  c.cmd = {"/bin/sh"};
  c.user = "4000";
  c.stop_signal = "3";
  c.workdir = "relative";
  auto r = apply_image_config(ref_spec(), c, files());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->user, "4000:0");
  EXPECT_EQ(r->additional_gids, (Gids{0}));
  EXPECT_EQ(r->env.at("HOME"), "/");
  EXPECT_EQ(r->stop.signal, 3);
  EXPECT_EQ(r->workdir, "/relative");
  EXPECT_FALSE(r->ready);
}

TEST(ResolveSpec, ImagesWithoutAConfigOnlyTakeArgs) {
  auto s = parse_spec(
      "name: t\nimage: {busybox: {}}\ncommand: [/bin/sh, -c]\nargs: [\"echo hi\"]\nuser: \"7\"\n"
      "explore: [{sleep: 1s}]\n",
      "t.yaml");
  ASSERT_TRUE(s.ok()) << s.error().message;
  // No image is built or fetched for this: nothing else changes.
  auto r = explore::resolve_spec(*s, "runc", "/nonexistent-cache", {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->command, (Strings{"/bin/sh", "-c", "echo hi"}));
  EXPECT_FALSE(r->args);
  EXPECT_EQ(r->user, "7");
  EXPECT_TRUE(r->additional_gids.empty());
  EXPECT_TRUE(r->env.empty());
  EXPECT_FALSE(r->ready);
  EXPECT_TRUE(r->image_digest.empty());
}

}  // namespace
}  // namespace sandmine::spec
