// The starter spec of `sandmine init` and `mine --image`, as text: it parses
// back into the spec it describes.
#include "explore/starter.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace sandmine::explore {
namespace {

using Strings = std::vector<std::string>;

TEST(CaughtSignals, ReadsTheSigCgtMask) {
  // busybox httpd's: HUP (1), INT... as the kernel prints it: bit n-1 is signal n.
  EXPECT_EQ(caught_signals("Name:\tx\nSigIgn:\t0000000000000004\nSigCgt:\t0000000000014003\nCapInh:\t0\n"),
            (std::set<int>{1, 2, 15, 17}));
  EXPECT_EQ(caught_signals("SigCgt:\t0000000180000000\n"), (std::set<int>{32, 33}));
  EXPECT_EQ(caught_signals("SigCgt:\t0000000000000000\n"), std::set<int>{});
  EXPECT_EQ(caught_signals("no such line\n"), std::set<int>{});
}

TEST(NameForImage, LastComponentWithoutTagLowerCase) {
  EXPECT_EQ(name_for_image(spec::RefImage{"myorg/api:1.4"}), "api");
  EXPECT_EQ(name_for_image(spec::RefImage{"registry:5000/team/Web_App@sha256:abc"}), "web-app");
  EXPECT_EQ(name_for_image(spec::RefImage{"redis"}), "redis");
  EXPECT_EQ(name_for_image(spec::OciImage{"/tmp/layouts/My.Layout/", "v1"}), "my-layout");
  EXPECT_EQ(name_for_image(spec::ArchiveImage{"/tmp/api-1.4.tar"}), "api-1");
  EXPECT_EQ(name_for_image(spec::RefImage{"___"}), "image");
}

spec::ImageConfig config() {
  spec::ImageConfig c;
  c.entrypoint = {"/bin/sh", "-c"};
  c.cmd = {"httpd -f -p 8080 -h \"/www\"; echo 'done'"};
  c.env = {"PATH=/bin", "MODE=a: b # c"};
  c.user = "app";
  c.workdir = "/srv";
  c.stop_signal = "SIGQUIT";
  c.tcp_ports = {8080, 9090};
  return c;
}

StarterFacts facts() {
  StarterFacts f;
  f.name = "api";
  f.image = spec::OciImage{"../layouts/api", "v1"};
  f.digest = "sha256:0123";
  f.config = config();
  f.resolved.user = "1000:1000";
  f.resolved.additional_gids = {50};
  f.resolved.stop.signal = SIGQUIT;
  f.ready = spec::ReadyProbe{.kind = spec::ReadyProbe::Kind::Tcp, .port = 8080};
  f.signals = {SIGHUP, SIGUSR1};
  f.skipped = {"signal TERM is handled, but the main process ends on it"};
  f.explore = {"curl -sf \"http://127.0.0.1:8080/\" | grep -q 'ok: yes'"};
  return f;
}

TEST(StarterYaml, ParsesIntoTheSpecItDescribes) {
  std::string yaml = starter_yaml(facts());
  auto s = spec::parse_spec(yaml, "/work/specs/api.yaml");
  ASSERT_TRUE(s.ok()) << s.error().message << "\n" << yaml;
  EXPECT_EQ(s->name, "api");
  ASSERT_TRUE(std::holds_alternative<spec::OciImage>(s->image));
  EXPECT_EQ(std::get<spec::OciImage>(s->image).dir, "/work/layouts/api");
  EXPECT_EQ(std::get<spec::OciImage>(s->image).tag, "v1");
  // What the image's config gives stays out of the spec: the image decides it.
  EXPECT_TRUE(s->command.empty());
  EXPECT_TRUE(s->user.empty());
  EXPECT_TRUE(s->env.empty());
  EXPECT_TRUE(s->workdir.empty());
  ASSERT_TRUE(s->ready);
  EXPECT_EQ(s->ready->kind, spec::ReadyProbe::Kind::Tcp);
  EXPECT_EQ(s->ready->port, 8080);
  ASSERT_EQ(s->explore.size(), 5u);
  EXPECT_EQ(s->explore[0].kind, spec::Step::Kind::Run);
  EXPECT_EQ(s->explore[0].run, "curl -sf \"http://127.0.0.1:8080/\" | grep -q 'ok: yes'");
  EXPECT_EQ(s->explore[1].name, "signal HUP");
  EXPECT_EQ(s->explore[1].signal, SIGHUP);
  EXPECT_EQ(s->explore[2].signal, SIGUSR1);
  EXPECT_EQ(s->explore[3].kind, spec::Step::Kind::Restart);
  // Generated exploration last, after the steps whose traffic seeds it.
  EXPECT_EQ(s->explore[4].kind, spec::Step::Kind::Auto);
  EXPECT_EQ(s->explore[4].generate.budget, std::chrono::seconds(120));
  EXPECT_EQ(s->explore[4].generate.quiet, 40);
  EXPECT_TRUE(s->validate.empty());
  EXPECT_EQ(s->stop.signal, SIGQUIT);
  EXPECT_TRUE(s->stop.signal_given);
  // The header says what the config gives, one comment line each.
  EXPECT_NE(yaml.find("#   command: [\"/bin/sh\",\"-c\",\"httpd -f -p 8080 -h \\\"/www\\\"; echo 'done'\"]  "
                      "(Entrypoint and Cmd)\n"),
            std::string::npos)
      << yaml;
  EXPECT_NE(yaml.find("#   user: \"app\" = 1000:1000, groups 50  (User)\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("  # signal TERM is handled, but the main process ends on it\n"), std::string::npos)
      << yaml;
  EXPECT_NE(yaml.find("  tcp: 8080  # the image's lowest exposed TCP port\n"), std::string::npos) << yaml;
}

TEST(StarterYaml, WithoutAProbeOrSignalsTheRestartAndTheAutoStepRemain) {
  StarterFacts f = facts();
  f.ready.reset();
  f.signals.clear();
  f.explore.clear();
  f.image = spec::RefImage{"myorg/api:1.4"};
  std::string yaml = starter_yaml(f);
  auto s = spec::parse_spec(yaml, "api.yaml");
  ASSERT_TRUE(s.ok()) << s.error().message << "\n" << yaml;
  EXPECT_FALSE(s->ready);
  ASSERT_EQ(s->explore.size(), 2u);
  EXPECT_EQ(s->explore[0].kind, spec::Step::Kind::Restart);
  EXPECT_EQ(s->explore[1].kind, spec::Step::Kind::Auto);
  EXPECT_EQ(std::get<spec::RefImage>(s->image).ref, "myorg/api:1.4");
  EXPECT_EQ(yaml.find("When init stopped it"), std::string::npos) << yaml;
}

TEST(StarterYaml, SaysWhenTheStopSignalDidNotStopIt) {
  StarterFacts f = facts();
  f.stop_note = "did not stop within 10.0 s of signal 15; killed";
  std::string yaml = starter_yaml(f);
  EXPECT_TRUE(spec::parse_spec(yaml, "api.yaml").ok());
  EXPECT_NE(
      yaml.find("\n# When init stopped it, the main process did not stop within 10.0 s of signal 15; killed: "
                "if another signal stops it cleanly, give that signal here.\n"),
      std::string::npos)
      << yaml;
}

TEST(ReadyArgument, TcpAndHttp) {
  auto tcp = parse_ready_argument("tcp:8080");
  ASSERT_TRUE(tcp.ok());
  EXPECT_EQ(tcp->kind, spec::ReadyProbe::Kind::Tcp);
  EXPECT_EQ(tcp->port, 8080);
  auto http = parse_ready_argument("http:80/healthz");
  ASSERT_TRUE(http.ok());
  EXPECT_EQ(http->kind, spec::ReadyProbe::Kind::Http);
  EXPECT_EQ(http->path, "/healthz");
  EXPECT_EQ(parse_ready_argument("http:80")->path, "/");
  for (const char* bad : {"tcp:", "tcp:0", "tcp:65536", "8080", "udp:53", "http:x/y", "tcp:80 "})
    EXPECT_EQ(parse_ready_argument(bad).error().message,
              std::string("--ready ") + bad + ": expected tcp:PORT or http:PORT[/PATH], PORT 1..65535");
}

}  // namespace
}  // namespace sandmine::explore
